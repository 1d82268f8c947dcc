//! What each address of the dashboard answers.

use super::mirror::Mirror;
use super::pages;
use crate::distributed::messages::DiagnosticsQuery;
use crate::distributed::observe::{parse_key, Answer, WorkerLogs};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use std::convert::Infallible;
use std::sync::Arc;

/// Every route, behind the token check.
pub fn router(mirror: Arc<Mirror>, token: Option<String>) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/status") }))
        .route("/status", get(|| async { Html(pages::STATUS) }))
        .route("/workers", get(|| async { Html(pages::WORKERS) }))
        .route("/workers/{id}", get(|| async { Html(pages::WORKER) }))
        .route("/groups", get(|| async { Html(pages::GROUPS) }))
        .route("/story", get(|| async { Html(pages::STORY) }))
        .route(
            "/static/dashboard.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript")], pages::SCRIPT) }),
        )
        .route(
            "/static/dashboard.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css")], pages::STYLE) }),
        )
        .route("/api/v1/status", get(status))
        .route("/api/v1/workers", get(workers))
        .route("/api/v1/workers/{id}/logs", get(worker_logs))
        .route("/api/v1/groups", get(groups))
        .route("/api/v1/story", get(story))
        .route("/events", get(events))
        .route("/metrics", get(metrics))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(token),
            super::auth::require_token,
        ))
        .with_state(mirror)
}

type Shared = State<Arc<Mirror>>;

fn json_text(text: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], text).into_response()
}

fn json<T: serde::Serialize>(v: &T) -> Response {
    match serde_json::to_string(v) {
        Ok(t) => json_text(t),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

#[derive(Deserialize)]
struct Since {
    #[serde(default)]
    since: u64,
}

async fn status(State(m): Shared, Query(q): Query<Since>) -> Response {
    json(&m.status(q.since).await)
}

async fn workers(State(m): Shared) -> Response {
    json(&serde_json::json!({ "workers": m.status(u64::MAX).await.workers }))
}

async fn groups(State(m): Shared) -> Response {
    json(&serde_json::json!({ "groups": m.status(u64::MAX).await.groups }))
}

async fn worker_logs(State(m): Shared, Path(id): Path<u32>) -> Response {
    match m.ask(DiagnosticsQuery::WorkerLogs).await {
        Answer::Json(text) => match serde_json::from_str::<Vec<WorkerLogs>>(&text) {
            Ok(all) => match all.into_iter().find(|w| w.id == id) {
                Some(w) => json(&w),
                None => (StatusCode::NOT_FOUND, format!("no worker {id}\n")).into_response(),
            },
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        },
        other => error(other),
    }
}

#[derive(Deserialize)]
struct KeyQuery {
    #[serde(default)]
    key: String,
}

async fn story(State(m): Shared, Query(q): Query<KeyQuery>) -> Response {
    let Some(key) = parse_key(&q.key) else {
        return (StatusCode::BAD_REQUEST, "give a key: ?key=...\n").into_response();
    };
    let shown = key.to_string();
    match m.ask(DiagnosticsQuery::Story { keys: vec![key] }).await {
        Answer::Json(lines) => json_text(format!(
            "{{\"key\":{},\"lines\":{lines}}}",
            serde_json::to_string(&shown).unwrap_or_default()
        )),
        other => error(other),
    }
}

fn error(answer: Answer) -> Response {
    let why = match answer {
        Answer::Error(e) => e,
        _ => "an unexpected answer".into(),
    };
    (StatusCode::SERVICE_UNAVAILABLE, why).into_response()
}

async fn metrics(State(m): Shared) -> Response {
    let s = m.status(u64::MAX).await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        super::render_metrics(&s),
    )
        .into_response()
}

/// Live updates: a status at most every refresh period, each with the
/// task-stream records after the previous one's.
async fn events(State(m): Shared) -> Sse<impl futures::Stream<Item = Result<Event, Infallible>>> {
    let stream = futures::stream::unfold((m, 0u64, true), |(m, since, first)| async move {
        if !first {
            tokio::time::sleep(super::REFRESH).await;
        }
        let s = m.status(since).await;
        let next = s.stream_seq.max(since);
        let event = Event::default()
            .json_data(&s)
            .unwrap_or_else(|_| Event::default().comment("unencodable"));
        Some((Ok(event), (m, next, false)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
