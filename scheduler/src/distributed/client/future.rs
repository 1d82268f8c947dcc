//! Futures: the shared state of one key's result, the typed handle users hold,
//! the stand-in task a future becomes inside a graph, and the state every future
//! of a client shares with it.

use super::command::Cmd;
use crate::distributed::ids::NewTask;
use crate::distributed::messages::{Msg, Outgoing};
use brisk_core::graph::{Graph, Task};
use brisk_core::op::Op;
use brisk_core::token::Hasher;
use brisk_core::value::take;
use brisk_core::{Data, Error, Key, Lazy, Result, Tokenize, Value};
use rustc_hash::FxHashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::task::Waker;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub(super) fn err(message: impl Into<String>) -> Error {
    Error::Other(message.into())
}

pub(super) struct Shared {
    pub(super) cmd: mpsc::UnboundedSender<Cmd>,
    pub(super) handles: Mutex<FxHashMap<Key, Weak<FutureHandle>>>,
    /// The tasks submitted that the futures held may need, to resubmit after a
    /// reconnect (see [`Shared::prune_submitted`]).
    pub(super) submitted: Mutex<FxHashMap<Key, NewTask>>,
    /// The size of `submitted` at which it is pruned next.
    pub(super) prune_at: Mutex<usize>,
    /// Bytes of values received: frames from the scheduler, values from workers.
    pub(super) received: Arc<std::sync::atomic::AtomicU64>,
}

/// `submitted` is not pruned below this many tasks.
pub(super) const PRUNE_MIN: usize = 4096;

impl Shared {
    pub(super) fn send(&self, c: Cmd) -> Result<()> {
        self.cmd.send(c).map_err(|_| err("the client is closed"))
    }

    /// Keeps of the submitted tasks only those a held future needs: its own and
    /// everything it depends on. Pruning runs when the record has doubled since
    /// it was last pruned, so its cost is spread over the submissions; without
    /// it, one future held for a client's life would keep every task the client
    /// ever submitted.
    pub(super) fn prune_submitted(&self) {
        if lock(&self.submitted).len() < *lock(&self.prune_at) {
            return;
        }
        // The futures held (the handles' lock is taken before the record's, as
        // everywhere).
        let mut stack: Vec<Key> = lock(&self.handles)
            .iter()
            .filter(|(_, w)| w.strong_count() > 0)
            .map(|(k, _)| k.clone())
            .collect();
        let mut submitted = lock(&self.submitted);
        let mut keep = rustc_hash::FxHashSet::default();
        while let Some(k) = stack.pop() {
            if let Some(t) = submitted.get(&k) {
                if keep.insert(k) {
                    stack.extend(t.dependencies.iter().cloned());
                }
            }
        }
        submitted.retain(|k, _| keep.contains(k));
        *lock(&self.prune_at) = (2 * submitted.len()).max(PRUNE_MIN);
    }
}

#[derive(Debug, Clone)]
pub(super) enum Status {
    Pending,
    Finished(Option<Value>),
    Erred(String),
    Cancelled,
}

impl Status {
    /// What a settled future gives: its value when it is here, `None` when it
    /// is on the cluster (or not settled), an error when it failed or was cancelled.
    pub(super) fn outcome(self, key: &Key) -> Result<Option<Value>> {
        match self {
            Status::Finished(v) => Ok(v),
            Status::Pending => Ok(None),
            Status::Erred(e) => Err(err(e)),
            Status::Cancelled => Err(err(format!("{key} was cancelled"))),
        }
    }
}

/// The shared state of every future of one key.
pub struct FutureHandle {
    pub(super) key: Key,
    pub(super) status: Mutex<Status>,
    pub(super) cond: Condvar,
    pub(super) wakers: Mutex<Vec<Waker>>,
    /// Called once when the key is settled (finished, erred or cancelled).
    pub(super) callbacks: Mutex<Vec<DoneCallback>>,
    pub(super) shared: Weak<Shared>,
}

/// A function to call once a future is settled.
pub(super) type DoneCallback = Box<dyn FnOnce() + Send>;

impl FutureHandle {
    pub(super) fn set(&self, s: Status) {
        {
            let mut cur = lock(&self.status);
            *cur = match (&*cur, s) {
                // A report without the value does not drop one already here.
                (Status::Finished(Some(v)), Status::Finished(None)) => {
                    Status::Finished(Some(v.clone()))
                }
                (_, s) => s,
            };
        }
        self.cond.notify_all();
        for w in lock(&self.wakers).drain(..) {
            w.wake();
        }
        // The status is set before the callbacks are taken: a callback added
        // meanwhile either sees the new status (and runs at once) or is taken here.
        if !self.is_pending() {
            let callbacks: Vec<DoneCallback> = lock(&self.callbacks).drain(..).collect();
            for f in callbacks {
                f();
            }
        }
    }

    /// Calls `f` once the key is settled: now, when it is already.
    pub(super) fn on_done(&self, f: DoneCallback) {
        let mut callbacks = lock(&self.callbacks);
        if self.is_pending() {
            callbacks.push(f);
        } else {
            drop(callbacks);
            f();
        }
    }

    pub(super) fn wait(&self) -> Status {
        // Results of small tasks come back within a few hundred microseconds: spin
        // briefly before sleeping, since waking a sleeping thread costs tens of
        // microseconds on a virtual machine.
        let spin_until = Instant::now() + Duration::from_micros(300);
        while Instant::now() < spin_until {
            if let Ok(s) = self.status.try_lock() {
                if !matches!(*s, Status::Pending) {
                    return s.clone();
                }
            }
            std::thread::yield_now();
        }
        let mut s = lock(&self.status);
        while matches!(*s, Status::Pending) {
            s = self.cond.wait(s).unwrap_or_else(|p| p.into_inner());
        }
        s.clone()
    }

    /// [`wait`](Self::wait) until `deadline` at most: `None` when still pending then.
    pub(super) fn wait_until(&self, deadline: Instant) -> Option<Status> {
        let mut s = lock(&self.status);
        while matches!(*s, Status::Pending) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            s = self
                .cond
                .wait_timeout(s, left)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        Some(s.clone())
    }

    pub(super) fn poll_status(&self, waker: &Waker) -> Option<Status> {
        let s = lock(&self.status);
        if matches!(*s, Status::Pending) {
            lock(&self.wakers).push(waker.clone());
            None
        } else {
            Some(s.clone())
        }
    }

    /// Waits for the result and brings its value here.
    pub(super) fn fetch(&self) -> Result<Value> {
        for _ in 0..3 {
            if let Some(v) = self.wait().outcome(&self.key)? {
                return Ok(v);
            }
            let rx = self.ask_gather()?;
            match rx.blocking_recv() {
                Ok(Ok(mut values)) => {
                    return values
                        .pop()
                        .ok_or_else(|| err(format!("{} did not arrive", self.key)))
                }
                Ok(Err(e)) if self.is_pending() => {
                    let _ = e; // the scheduler restarted meanwhile: wait again
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => {}
            }
        }
        Err(err(format!(
            "could not gather {} from the cluster",
            self.key
        )))
    }

    /// Asks the connection thread to bring this key's value from its worker.
    fn ask_gather(&self) -> Result<oneshot::Receiver<Result<Vec<Value>>>> {
        let shared = self
            .shared
            .upgrade()
            .ok_or_else(|| err("the client is closed"))?;
        let (tx, rx) = oneshot::channel();
        shared.send(Cmd::Gather {
            keys: vec![self.key.clone()],
            reply: tx,
        })?;
        Ok(rx)
    }

    pub(super) fn is_pending(&self) -> bool {
        matches!(*lock(&self.status), Status::Pending)
    }
}

impl Drop for FutureHandle {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            {
                let mut handles = lock(&shared.handles);
                if handles
                    .get(&self.key)
                    .is_some_and(|w| w.strong_count() == 0)
                {
                    handles.remove(&self.key);
                }
                // Nothing left to resubmit after a reconnect.
                if handles.is_empty() {
                    lock(&shared.submitted).clear();
                }
            }
            let mut o = Outgoing::default();
            o.push(Msg::ReleaseKeys {
                keys: vec![self.key.clone()],
            });
            let _ = shared.send(Cmd::Send(o));
        }
    }
}

/// A result on the cluster, of type `T`.
pub struct Future<T> {
    pub(super) handle: Arc<FutureHandle>,
    graph: Graph,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for Future<T> {
    fn clone(&self) -> Self {
        Future {
            handle: self.handle.clone(),
            graph: self.graph.clone(),
            _t: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for Future<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Future({}, {})", self.handle.key, self.status())
    }
}

impl<T> Future<T> {
    pub(super) fn new(handle: Arc<FutureHandle>) -> Future<T> {
        let key = handle.key.clone();
        let op = Arc::new(RemoteOp {
            handle: handle.clone(),
        });
        let graph = Graph::from_tasks(
            format!("future-{}", key.name()),
            vec![Task::new(key, op, vec![])],
        );
        Future {
            handle,
            graph,
            _t: PhantomData,
        }
    }

    /// The key of the result.
    pub fn key(&self) -> &Key {
        &self.handle.key
    }

    /// `pending`, `finished`, `error` or `cancelled`, like Dask's `Future.status`.
    pub fn status(&self) -> &'static str {
        match *lock(&self.handle.status) {
            Status::Pending => "pending",
            Status::Finished(_) => "finished",
            Status::Erred(_) => "error",
            Status::Cancelled => "cancelled",
        }
    }

    /// Whether the result is ready (or failed).
    pub fn done(&self) -> bool {
        !self.handle.is_pending()
    }

    /// Waits until the task is settled and returns its error (with the task's
    /// key and what the worker reported), or `None` when it finished (Dask's
    /// `Future.exception()`).
    pub fn exception(&self) -> Option<Error> {
        match self.handle.wait() {
            Status::Erred(e) => Some(err(format!("{} failed: {e}", self.handle.key))),
            Status::Cancelled => Some(err(format!("{} was cancelled", self.handle.key))),
            Status::Finished(_) | Status::Pending => None,
        }
    }

    /// Calls `f` with this future once it is settled (at once when it is
    /// already). `f` runs on the client's connection thread, or here: keep it
    /// short, and do not wait on other futures inside it.
    pub fn add_done_callback(&self, f: impl FnOnce(&Future<T>) + Send + 'static)
    where
        T: 'static,
    {
        let me = self.clone();
        self.handle.on_done(Box::new(move || f(&me)));
    }
}

impl<T: Data + Clone> Future<T> {
    /// Waits for the result and brings it here.
    pub fn result(&self) -> Result<T> {
        take(&self.handle.fetch()?)
    }

    /// [`result`](Self::result), waiting `timeout` at most for the task to
    /// finish (Dask's `result(timeout=...)`): an error naming the key when it
    /// has not. The future stays valid and can be waited on again.
    pub fn result_timeout(&self, timeout: Duration) -> Result<T> {
        if self.handle.wait_until(Instant::now() + timeout).is_none() {
            return Err(timed_out(&self.handle.key, timeout));
        }
        self.result()
    }
}

/// The error of a wait that ran out of time.
pub(super) fn timed_out(key: &Key, timeout: Duration) -> Error {
    err(format!("{key} is not done after waiting {timeout:?}"))
}

impl<T> Lazy for Future<T> {
    type Output = T;
    fn key(&self) -> &Key {
        &self.handle.key
    }
    fn graph(&self) -> &Graph {
        &self.graph
    }
}

impl<T: Data + Clone> std::future::IntoFuture for Future<T> {
    type Output = Result<T>;
    type IntoFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T>> + Send>>;
    fn into_future(self) -> Self::IntoFuture {
        let handle = self.handle.clone();
        Box::pin(async move {
            let status = std::future::poll_fn(|cx| match handle.poll_status(cx.waker()) {
                Some(s) => std::task::Poll::Ready(s),
                None => std::task::Poll::Pending,
            })
            .await;
            if let Some(v) = status.outcome(&handle.key)? {
                return take(&v);
            }
            let rx = handle.ask_gather()?;
            let mut values = rx.await.map_err(|_| err("the client is closed"))??;
            let v = values
                .pop()
                .ok_or_else(|| err(format!("{} did not arrive", handle.key)))?;
            take(&v)
        })
    }
}

/// The stand-in task of a future inside a graph: the client leaves it out of what
/// it submits (the scheduler already has the key); run locally, it fetches the
/// value from the cluster.
pub(super) struct RemoteOp {
    pub(super) handle: Arc<FutureHandle>,
}

impl RemoteOp {
    pub(super) const NAME: &'static str = "brisk::remote";
}

impl Op for RemoteOp {
    fn name(&self) -> &str {
        Self::NAME
    }
    fn tokenize_params(&self, h: &mut Hasher) -> Result<()> {
        self.handle.key.tokenize(h)
    }
    fn params(&self) -> Result<Vec<u8>> {
        Err(err("a future's stand-in task never travels"))
    }
    fn call(&self, _inputs: &[Value]) -> Result<Value> {
        self.handle.fetch()
    }
    fn is_local_only(&self) -> bool {
        true
    }
}
