//! The dashboard's door: with a cluster token, a request must carry it as a
//! cookie, a `token` query parameter (which sets the cookie and redirects to
//! the page without it) or an `Authorization: Bearer` header. Pages without it
//! get a form that asks for it; the API and `/metrics` get 401.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use std::sync::Arc;

/// The cookie that carries the token.
pub const COOKIE: &str = "brisk-token";

/// Compares without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn from_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

fn from_bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::to_string)
}

/// The query without its `token` parameter, and the token if there was one.
fn split_token(query: &str) -> (Option<String>, String) {
    let mut token = None;
    let rest: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .filter_map(|(k, v)| {
            if k == "token" {
                token = Some(v.into_owned());
                None
            } else {
                Some((k.into_owned(), v.into_owned()))
            }
        })
        .collect();
    let rest = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(rest)
        .finish();
    (token, rest)
}

/// Lets a request through when the cluster has no token or the request
/// carries it.
pub async fn require_token(
    State(token): State<Arc<Option<String>>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(expected) = token.as_deref() else {
        return next.run(request).await;
    };
    let path = request.uri().path().to_string();
    if path.starts_with("/static/") {
        return next.run(request).await;
    }
    let headers = request.headers();
    let carried = from_cookie(headers).or_else(|| from_bearer(headers));
    if carried.is_some_and(|t| same(t.as_bytes(), expected.as_bytes())) {
        return next.run(request).await;
    }
    let (given, rest) = split_token(request.uri().query().unwrap_or(""));
    let api = path.starts_with("/api/") || path == "/metrics" || path == "/events";
    match given {
        Some(t) if same(t.as_bytes(), expected.as_bytes()) => {
            let target = if rest.is_empty() {
                path
            } else {
                format!("{path}?{rest}")
            };
            let cookie = format!("{COOKIE}={t}; Path=/; HttpOnly; SameSite=Strict");
            let mut response = Redirect::to(&target).into_response();
            if let Ok(v) = cookie.parse() {
                response.headers_mut().insert(header::SET_COOKIE, v);
            }
            response
        }
        wrong if !api => (
            StatusCode::UNAUTHORIZED,
            Html(super::pages::login(&path, wrong.is_some())),
        )
            .into_response(),
        _ => (
            StatusCode::UNAUTHORIZED,
            "this cluster needs its token: a `token` parameter, a cookie or an Authorization: Bearer header\n",
        )
            .into_response(),
    }
}
