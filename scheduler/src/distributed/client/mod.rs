//! The client: submits graphs to a scheduler and hands back futures.
//!
//! A [`Client`] talks to the scheduler (and to workers when gathering) from a small
//! tokio runtime on a background thread of its own, or, for a client of a
//! [`super::LocalCluster`], as a task on the cluster's scheduler thread. The API is blocking, like
//! Dask's synchronous client; futures can also be awaited. A [`Future`] stands for
//! a result kept on the cluster: dropping the last future of a key lets the
//! scheduler release it. A future is also a lazy value ([`brisk_core::Lazy`]), so
//! it can be the input of further calls, which the scheduler resolves without
//! moving the data through the client.
//!
//! When the connection to the scheduler drops, the client connects again (for
//! `reconnect` at most) and resubmits the tasks behind every future it still
//! holds.
//!
//! Modules: `client` ([`Client`]), `options` ([`ClientOptions`], [`Submit`]),
//! [`future`] (futures and the state they share with their client), `command`
//! (what the connection thread is asked to do), `io` (the connection thread).

mod ask;
#[allow(clippy::module_inception)]
mod client;
mod command;
pub mod completion;
mod diagnostics;
pub mod future;
mod io;
mod options;

pub use client::Client;
pub use completion::{wait, AsCompleted, ReturnWhen, Waited};
pub use future::{Future, FutureHandle};
pub use options::{ClientOptions, Submit};
