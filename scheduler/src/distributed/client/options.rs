//! How a client connects ([`ClientOptions`]) and how one submission runs
//! ([`Submit`]).

use crate::protocol::Limits;
use std::time::Duration;

/// How a client connects.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The cluster's shared token.
    pub token: Option<String>,
    /// How long to keep trying to reach the scheduler (at connect and after a loss).
    pub reconnect: Duration,
    /// How long one attempt to reach the scheduler or a worker may take (TCP,
    /// TLS and hello); a server that accepts and never answers fails the attempt
    /// then, with an error saying it timed out.
    pub connect_timeout: Duration,
    /// What the scheduler and workers may send.
    pub limits: Limits,
    /// TLS for every connection.
    pub tls: Option<crate::distributed::tls::Tls>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            token: None,
            reconnect: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            limits: Limits::default(),
            tls: None,
        }
    }
}

/// Options of one submission.
#[derive(Debug, Clone, Copy)]
pub struct Submit {
    /// Higher runs first (Dask's `priority=`).
    pub priority: i32,
    /// `false` for side-effecting calls: the result gets a fresh key, so it is
    /// computed again rather than shared with an identical earlier call.
    pub pure: bool,
}

impl Default for Submit {
    fn default() -> Self {
        Submit {
            priority: 0,
            pure: true,
        }
    }
}
