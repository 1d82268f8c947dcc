//! The dashboard's thread: its own tokio runtime, an HTTP/1.1 server (hyper,
//! axum's router) over plain TCP or TLS, stopped when its handle is dropped.

use super::mirror::Mirror;
use crate::distributed::observe::AskFn;
use crate::distributed::tls::Tls;
use crate::error::{Error, Result};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// How a dashboard is served.
#[derive(Debug, Clone)]
pub struct DashboardOptions {
    /// `host:port`; an empty host is `default_host`; a port in use is replaced
    /// by a free one (with a warning), as Dask does.
    pub address: String,
    /// The host when `address` has none (the scheduler's).
    pub default_host: String,
    /// The cluster's token: pages and API ask for it.
    pub token: Option<String>,
    /// Serve HTTPS with the cluster's certificate.
    pub tls: Option<Tls>,
}

/// A running dashboard; dropping it stops it.
pub struct Dashboard {
    address: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Dashboard {
    /// Its address, e.g. `http://127.0.0.1:8787/status`.
    pub fn link(&self) -> &str {
        &self.address
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn bind(options: &DashboardOptions) -> Result<std::net::TcpListener> {
    let address = options
        .address
        .strip_prefix("tcp://")
        .unwrap_or(&options.address);
    let (host, port) = address.rsplit_once(':').unwrap_or((address, ""));
    let host = if host.is_empty() {
        options.default_host.as_str()
    } else {
        host
    };
    let port: u16 = if port.is_empty() {
        super::DEFAULT_PORT
    } else {
        port.parse().map_err(|_| Error::Config {
            reason: format!(
                "the dashboard address {} has no valid port",
                options.address
            ),
        })?
    };
    match std::net::TcpListener::bind((host, port)) {
        Ok(l) => Ok(l),
        Err(e) if port != 0 && e.kind() == std::io::ErrorKind::AddrInUse => {
            let l = std::net::TcpListener::bind((host, 0))?;
            tracing::warn!(
                target: "brisk::dashboard",
                "port {port} is in use: the dashboard listens on {} instead",
                l.local_addr()?
            );
            Ok(l)
        }
        Err(e) => Err(Error::Config {
            reason: format!("the dashboard cannot listen on {host}:{port}: {e}"),
        }),
    }
}

/// Starts a dashboard that asks the scheduler through `ask`.
pub fn start(options: DashboardOptions, ask: AskFn) -> Result<Dashboard> {
    let listener = bind(&options)?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    let scheme = if options.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let address = format!("{scheme}://{local}/status");
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("brisk-dashboard".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!(target: "brisk::dashboard", "no runtime for the dashboard: {e}");
                    return;
                }
            };
            rt.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::error!(target: "brisk::dashboard", "the dashboard cannot listen: {e}");
                        return;
                    }
                };
                let mirror = Arc::new(Mirror::new(ask));
                let router = super::routes::router(mirror, options.token.clone());
                let tls = options
                    .tls
                    .map(|t| tokio_rustls::TlsAcceptor::from(t.web.clone()));
                tokio::select! {
                    _ = stop_rx => {}
                    _ = accept_loop(listener, router, tls) => {}
                }
            });
        })?;
    tracing::info!(target: "brisk::dashboard", "dashboard at {address}");
    Ok(Dashboard {
        address,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let (tcp, _) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(target: "brisk::dashboard", "accept: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        while connections.try_join_next().is_some() {}
        let _ = tcp.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let tls = tls.clone();
        connections.spawn(async move {
            let http = hyper::server::conn::http1::Builder::new();
            let served = match tls {
                None => {
                    http.serve_connection(TokioIo::new(tcp), service)
                        .with_upgrades()
                        .await
                }
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await;
                    let Ok(Ok(stream)) = handshake else {
                        return;
                    };
                    http.serve_connection(TokioIo::new(stream), service)
                        .with_upgrades()
                        .await
                }
            };
            if let Err(e) = served {
                tracing::debug!(target: "brisk::dashboard", "connection: {e}");
            }
        });
    }
}
