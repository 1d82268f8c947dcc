//! Waiting on many futures: [`wait`] for all or the first of them, and
//! [`AsCompleted`] to take them in the order they finish (Dask's `wait` and
//! `as_completed`).
//!
//! Both listen for each future's settling (finished, erred or cancelled) through
//! its done callbacks, so they cost nothing while they wait and do not poll.

use super::future::{err, lock, Future};
use brisk_core::{Data, Result};
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// When [`wait`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnWhen {
    /// Once every future is settled (Dask's `ALL_COMPLETED`).
    AllCompleted,
    /// Once one future is settled (Dask's `FIRST_COMPLETED`).
    FirstCompleted,
}

/// The futures [`wait`] was given, split by whether they were settled when it
/// returned.
#[derive(Debug)]
pub struct Waited<T> {
    /// Finished, erred or cancelled.
    pub done: Vec<Future<T>>,
    /// Still pending.
    pub not_done: Vec<Future<T>>,
}

/// Waits until all of `futures`, or the first of them, are settled; with a
/// `timeout`, an error saying how many were done when it ran out.
///
/// Errors of the tasks themselves are not errors of the wait: read them with
/// [`Future::exception`] or [`Future::result`].
pub fn wait<T: 'static>(
    futures: &[Future<T>],
    return_when: ReturnWhen,
    timeout: Option<Duration>,
) -> Result<Waited<T>> {
    let needed = match return_when {
        ReturnWhen::AllCompleted => futures.len(),
        ReturnWhen::FirstCompleted => futures.len().min(1),
    };
    let settled = Arc::new((Mutex::new(0usize), Condvar::new()));
    for f in futures {
        let s = settled.clone();
        f.handle.on_done(Box::new(move || {
            *lock(&s.0) += 1;
            s.1.notify_all();
        }));
    }
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut count = lock(&settled.0);
    while *count < needed {
        count = match deadline {
            None => settled.1.wait(count).unwrap_or_else(|p| p.into_inner()),
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(err(format!(
                        "{} of {} futures were done after waiting {:?}",
                        *count,
                        futures.len(),
                        timeout.unwrap_or_default()
                    )));
                }
                settled
                    .1
                    .wait_timeout(count, left)
                    .map(|(g, _)| g)
                    .unwrap_or_else(|p| p.into_inner().0)
            }
        };
    }
    drop(count);
    let (done, not_done) = futures.iter().cloned().partition(|f| f.done());
    Ok(Waited { done, not_done })
}

/// Futures in the order they settle (Dask's `as_completed`): a blocking iterator
/// and an async stream. More can be added while iterating:
///
/// ```no_run
/// # fn demo(client: &brisk_scheduler::distributed::Client, first: Vec<brisk_scheduler::distributed::Future<i64>>) -> brisk_core::Result<()> {
/// use brisk_scheduler::distributed::client::AsCompleted;
/// let mut done = AsCompleted::new(first);
/// while let Some(f) = done.next() {
///     let x = f.result()?;
///     if x < 10 {
///         // done.add(client.submit(&next_step::delayed(x)?)?);
///     }
/// }
/// # Ok(()) }
/// ```
pub struct AsCompleted<T> {
    tx: mpsc::UnboundedSender<usize>,
    rx: mpsc::UnboundedReceiver<usize>,
    futures: Vec<Option<Future<T>>>,
    pending: usize,
}

impl<T: 'static> AsCompleted<T> {
    /// Takes `futures` as they settle.
    pub fn new(futures: impl IntoIterator<Item = Future<T>>) -> AsCompleted<T> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut me = AsCompleted {
            tx,
            rx,
            futures: Vec::new(),
            pending: 0,
        };
        for f in futures {
            me.add(f);
        }
        me
    }

    /// Adds a future (also while iterating).
    pub fn add(&mut self, f: Future<T>) {
        let index = self.futures.len();
        let tx = self.tx.clone();
        f.handle.on_done(Box::new(move || {
            let _ = tx.send(index);
        }));
        self.futures.push(Some(f));
        self.pending += 1;
    }

    /// How many futures are still to come.
    pub fn count(&self) -> usize {
        self.pending
    }

    /// Whether none is left to come.
    pub fn is_empty(&self) -> bool {
        self.pending == 0
    }

    fn take_index(&mut self, index: usize) -> Option<Future<T>> {
        let f = self.futures.get_mut(index)?.take()?;
        self.pending -= 1;
        Some(f)
    }

    /// The futures with their results, as they settle.
    pub fn with_results(self) -> impl Iterator<Item = (Future<T>, Result<T>)>
    where
        T: Data + Clone,
    {
        self.map(|f| {
            let r = f.result();
            (f, r)
        })
    }
}

/// Blocks until the next future settles; `None` once all have been taken. Call it
/// from ordinary code, not from inside an async runtime (use the stream there).
impl<T: 'static> Iterator for AsCompleted<T> {
    type Item = Future<T>;
    fn next(&mut self) -> Option<Future<T>> {
        while self.pending > 0 {
            let index = self.rx.blocking_recv()?;
            if let Some(f) = self.take_index(index) {
                return Some(f);
            }
        }
        None
    }
}

/// The same order as an async stream.
impl<T: 'static> futures::Stream for AsCompleted<T> {
    type Item = Future<T>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Future<T>>> {
        loop {
            if self.pending == 0 {
                return Poll::Ready(None);
            }
            match self.rx.poll_recv(cx) {
                Poll::Ready(Some(index)) => {
                    if let Some(f) = self.take_index(index) {
                        return Poll::Ready(Some(f));
                    }
                }
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
