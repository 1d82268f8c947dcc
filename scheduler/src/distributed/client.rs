//! The client: submits graphs to a scheduler and hands back futures.
//!
//! A [`Client`] owns one background thread running a small tokio runtime that
//! talks to the scheduler (and to workers when gathering). The API is blocking, like
//! Dask's synchronous client; futures can also be awaited. A [`Future`] stands for
//! a result kept on the cluster: dropping the last future of a key lets the
//! scheduler release it. A future is also a lazy value ([`brisk_core::Lazy`]), so
//! it can be the input of further calls, which the scheduler resolves without
//! moving the data through the client.
//!
//! When the connection to the scheduler drops, the client connects again (for
//! `reconnect` at most) and resubmits the tasks behind every future it still
//! holds.

use super::comm::{connect, read_batch, split, Outbox};
use super::ids::{TaskSpec, WorkerId};
use super::messages::{encoded, wire_value, Incoming, Msg, Outgoing, WireTask};
use super::worker_server::{get_data, PeerConn};
use crate::protocol::{Limits, Role};
use brisk_core::executor::Executor;
use brisk_core::graph::{Graph, Task};
use brisk_core::op::{is_registered, Op};
use brisk_core::token::Hasher;
use brisk_core::value::{decode, take};
use brisk_core::{Data, Error, Key, Lazy, Result, Tokenize, Value};
use rustc_hash::FxHashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::task::Waker;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// How a client connects.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The cluster's shared token.
    pub token: Option<String>,
    /// How long to keep trying to reach the scheduler (at connect and after a loss).
    pub reconnect: Duration,
    /// What the scheduler and workers may send.
    pub limits: Limits,
    /// TLS for every connection.
    pub tls: Option<super::tls::Tls>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            token: None,
            reconnect: Duration::from_secs(30),
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

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn err(message: impl Into<String>) -> Error {
    Error::Other(message.into())
}

#[derive(Debug, Clone)]
enum Status {
    Pending,
    Finished(Option<Value>),
    Erred(String),
    Cancelled,
}

/// The shared state of every future of one key.
pub struct FutureHandle {
    key: Key,
    status: Mutex<Status>,
    cond: Condvar,
    wakers: Mutex<Vec<Waker>>,
    shared: Weak<Shared>,
}

impl FutureHandle {
    fn set(&self, s: Status) {
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
    }

    fn wait(&self) -> Status {
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

    fn poll_status(&self, waker: &Waker) -> Option<Status> {
        let s = lock(&self.status);
        if matches!(*s, Status::Pending) {
            lock(&self.wakers).push(waker.clone());
            None
        } else {
            Some(s.clone())
        }
    }

    /// Waits for the result and brings its value here.
    fn fetch(&self) -> Result<Value> {
        for _ in 0..3 {
            match self.wait() {
                Status::Finished(Some(v)) => return Ok(v),
                Status::Finished(None) => {}
                Status::Erred(e) => return Err(err(e)),
                Status::Cancelled => return Err(err(format!("{} was cancelled", self.key))),
                Status::Pending => unreachable!("wait() returns only when done"),
            }
            let shared = self
                .shared
                .upgrade()
                .ok_or_else(|| err("the client is closed"))?;
            let (tx, rx) = oneshot::channel();
            shared.send(Cmd::Gather {
                keys: vec![self.key.clone()],
                reply: tx,
            })?;
            match rx.blocking_recv() {
                Ok(Ok(mut values)) => return Ok(values.remove(0)),
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

    fn is_pending(&self) -> bool {
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
    handle: Arc<FutureHandle>,
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
    fn new(handle: Arc<FutureHandle>) -> Future<T> {
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
}

impl<T: Data + Clone> Future<T> {
    /// Waits for the result and brings it here.
    pub fn result(&self) -> Result<T> {
        take(&self.handle.fetch()?)
    }
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
            match status {
                Status::Finished(Some(v)) => return take(&v),
                Status::Erred(e) => return Err(err(e)),
                Status::Cancelled => return Err(err(format!("{} was cancelled", handle.key))),
                _ => {}
            }
            let shared = handle
                .shared
                .upgrade()
                .ok_or_else(|| err("the client is closed"))?;
            let (tx, rx) = oneshot::channel();
            shared.send(Cmd::Gather {
                keys: vec![handle.key.clone()],
                reply: tx,
            })?;
            let mut values = rx.await.map_err(|_| err("the client is closed"))??;
            take(&values.remove(0))
        })
    }
}

/// The stand-in task of a future inside a graph: the client leaves it out of what
/// it submits (the scheduler already has the key); run locally, it fetches the
/// value from the cluster.
struct RemoteOp {
    handle: Arc<FutureHandle>,
}

impl RemoteOp {
    const NAME: &'static str = "brisk::remote";
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

enum Cmd {
    Send(Outgoing),
    WhoHas {
        keys: Vec<Key>,
        reply: oneshot::Sender<Result<WhoHas>>,
    },
    Gather {
        keys: Vec<Key>,
        reply: oneshot::Sender<Result<Vec<Value>>>,
    },
    Close,
}

/// Holders by key, and the number of workers.
type WhoHas = (Vec<(Key, Vec<(WorkerId, String)>)>, u32);

struct Shared {
    cmd: mpsc::UnboundedSender<Cmd>,
    handles: Mutex<FxHashMap<Key, Weak<FutureHandle>>>,
    /// Every task submitted while futures exist, to resubmit after a reconnect.
    submitted: Mutex<FxHashMap<Key, WireTask>>,
}

impl Shared {
    fn send(&self, c: Cmd) -> Result<()> {
        self.cmd.send(c).map_err(|_| err("the client is closed"))
    }
}

/// A connection to a Brisk scheduler.
///
/// ```no_run
/// # fn main() -> brisk_core::Result<()> {
/// # use brisk_scheduler::distributed::Client;
/// let client = Client::connect("tcp://127.0.0.1:8786")?;
/// let data = client.scatter(vec![vec![1_i64, 2, 3]], false)?;
/// assert_eq!(data[0].result()?, vec![1, 2, 3]);
/// # Ok(()) }
/// ```
pub struct Client {
    shared: Arc<Shared>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    nonce: AtomicU64,
}

impl Client {
    /// Connects to the scheduler at `address` (`tcp://host:port` or `host:port`).
    pub fn connect(address: &str) -> Result<Client> {
        Client::connect_with(address, ClientOptions::default())
    }

    /// Connects with options (token, reconnect window, limits).
    pub fn connect_with(address: &str, options: ClientOptions) -> Result<Client> {
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            cmd: tx,
            handles: Mutex::default(),
            submitted: Mutex::default(),
        });
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let io_shared = Arc::downgrade(&shared);
        let address = address.to_string();
        let thread = std::thread::Builder::new()
            .name("brisk-client".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(err(e.to_string())));
                        return;
                    }
                };
                rt.block_on(io_loop(address, options, io_shared, rx, ready_tx));
            })
            .map_err(|e| err(e.to_string()))?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(err("the client's connection thread ended")),
        }
        Ok(Client {
            shared,
            thread: Mutex::new(Some(thread)),
            nonce: AtomicU64::new(0),
        })
    }

    /// Submits a lazy value (a `Delayed`, or anything built on futures) and
    /// returns a future for it.
    pub fn submit<L: Lazy>(&self, x: &L) -> Result<Future<L::Output>> {
        self.submit_with(x, Submit::default())
    }

    /// [`Client::submit`] with a priority or `pure: false`.
    pub fn submit_with<L: Lazy>(&self, x: &L, how: Submit) -> Result<Future<L::Output>> {
        let mut graph = x.graph().clone();
        let mut key = x.key().clone();
        if !how.pure {
            (graph, key) = self.impure(&graph, &key)?;
        }
        let handles = self.submit_graph(&graph, std::slice::from_ref(&key), how.priority)?;
        Ok(Future::new(handles.into_iter().next().expect("one key")))
    }

    /// Submits many lazy values in one graph; one future each.
    pub fn map<L: Lazy>(&self, xs: &[L]) -> Result<Vec<Future<L::Output>>> {
        let graph = Graph::merge(xs.iter().map(|x| x.graph()));
        let keys: Vec<Key> = xs.iter().map(|x| x.key().clone()).collect();
        Ok(self
            .submit_graph(&graph, &keys, 0)?
            .into_iter()
            .map(Future::new)
            .collect())
    }

    /// Brings the results of `futures` here, in order.
    pub fn gather<T: Data + Clone>(&self, futures: &[Future<T>]) -> Result<Vec<T>> {
        let handles: Vec<Arc<FutureHandle>> = futures.iter().map(|f| f.handle.clone()).collect();
        self.gather_values(&handles)?
            .iter()
            .map(take::<T>)
            .collect()
    }

    /// Sends values to the workers (to every worker with `broadcast`) and returns
    /// futures for them; their keys are their content tokens.
    pub fn scatter<T: Data + Tokenize>(
        &self,
        values: Vec<T>,
        broadcast: bool,
    ) -> Result<Vec<Future<T>>> {
        let mut o = Outgoing::default();
        let mut items = Vec::new();
        let mut frames = Vec::new();
        let mut handles = Vec::new();
        for v in values {
            let token = brisk_core::tokenize(&v)?;
            let key = Key::from_token("scatter", &token, &[]);
            let value: Value = Arc::new(v);
            let (wv, f) = wire_value(value.encode()?);
            items.push((key.clone(), wv));
            frames.extend(f);
            handles.push(self.handle(&key, Some(value)));
        }
        o.push_with(Msg::Scatter { items, broadcast }, frames);
        self.shared.send(Cmd::Send(o))?;
        Ok(handles.into_iter().map(Future::new).collect())
    }

    /// Asks for `n` copies of each result on distinct workers.
    pub fn replicate<T>(&self, futures: &[Future<T>], n: usize) -> Result<()> {
        for f in futures {
            if let Status::Erred(e) = f.handle.wait() {
                return Err(err(e));
            }
        }
        let mut o = Outgoing::default();
        o.push(Msg::ReplicateKeys {
            keys: futures.iter().map(|f| f.key().clone()).collect(),
            n: n as u32,
        });
        self.shared.send(Cmd::Send(o))?;
        // Like Dask's synchronous client, return once the copies exist (or as many
        // as there are workers).
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (who, nworkers) = self.ask_who_has(futures)?;
            let want = n.min(nworkers as usize);
            if who.iter().all(|(_, ws)| ws.len() >= want) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(err(format!(
                    "replicate: fewer than {want} copies after a minute"
                )));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Cancels the futures: their work stops if nothing else needs it.
    pub fn cancel<T>(&self, futures: &[Future<T>]) -> Result<()> {
        let mut o = Outgoing::default();
        o.push(Msg::Cancel {
            keys: futures.iter().map(|f| f.key().clone()).collect(),
        });
        for f in futures {
            f.handle.set(Status::Cancelled);
        }
        self.shared.send(Cmd::Send(o))
    }

    /// The addresses of the workers holding each result (empty while not in memory).
    pub fn who_has<T>(&self, futures: &[Future<T>]) -> Result<Vec<(Key, Vec<String>)>> {
        let (answer, _) = self.ask_who_has(futures)?;
        Ok(answer
            .into_iter()
            .map(|(k, ws)| (k, ws.into_iter().map(|(_, a)| a).collect()))
            .collect())
    }

    fn ask_who_has<T>(&self, futures: &[Future<T>]) -> Result<WhoHas> {
        let (tx, rx) = oneshot::channel();
        self.shared.send(Cmd::WhoHas {
            keys: futures.iter().map(|f| f.key().clone()).collect(),
            reply: tx,
        })?;
        rx.blocking_recv()
            .map_err(|_| err("the connection to the scheduler was lost"))?
    }

    /// Waits until at least `n` workers are connected (for `timeout` at most).
    pub fn wait_for_workers(&self, n: usize, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let (_, nworkers) = self.ask_who_has::<()>(&[])?;
            if nworkers as usize >= n {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(err(format!(
                    "only {nworkers} of {n} workers joined within {timeout:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Computes a lazy value on the cluster and returns its future (Dask's
    /// `client.compute`); `compute_with(&client)` on a collection returns values.
    pub fn compute<L: Lazy>(&self, x: &L) -> Result<Future<L::Output>> {
        self.submit(x)
    }

    /// Closes the connection; futures fail afterwards.
    pub fn close(&self) {
        let _ = self.shared.send(Cmd::Close);
        if let Some(t) = lock(&self.thread).take() {
            let _ = t.join();
        }
    }

    fn handle(&self, key: &Key, value: Option<Value>) -> Arc<FutureHandle> {
        let mut handles = lock(&self.shared.handles);
        if let Some(h) = handles.get(key).and_then(|w| w.upgrade()) {
            if let Some(v) = value {
                h.set(Status::Finished(Some(v)));
            }
            return h;
        }
        let h = Arc::new(FutureHandle {
            key: key.clone(),
            status: Mutex::new(match value {
                Some(v) => Status::Finished(Some(v)),
                None => Status::Pending,
            }),
            cond: Condvar::new(),
            wakers: Mutex::default(),
            shared: Arc::downgrade(&self.shared),
        });
        handles.insert(key.clone(), Arc::downgrade(&h));
        h
    }

    fn impure(&self, graph: &Graph, key: &Key) -> Result<(Graph, Key)> {
        let tg = graph.lower(std::slice::from_ref(key))?;
        let mut tasks = tg.tasks();
        let n = self.nonce.fetch_add(1, Ordering::Relaxed);
        let salt = brisk_core::tokenize(&(
            std::process::id() as u64,
            n,
            Instant::now().elapsed().as_nanos() as u64,
            format!("{:?}", std::time::SystemTime::now()),
        ))?;
        let fresh = Key::from_token(key.prefix(), &salt, key.index());
        for t in tasks.iter_mut() {
            if &t.key == key {
                t.key = fresh.clone();
            }
        }
        Ok((
            Graph::from_tasks(format!("impure-{}", fresh.name()), tasks),
            fresh,
        ))
    }

    /// Submits the part of `graph` that `keys` need; returns a handle per key.
    fn submit_graph(
        &self,
        graph: &Graph,
        keys: &[Key],
        priority: i32,
    ) -> Result<Vec<Arc<FutureHandle>>> {
        let tg = graph.lower(keys)?;
        let order = brisk_core::order(&tg);
        let mut tasks = Vec::with_capacity(tg.len());
        let mut held = Vec::new();
        for &t in tg.topological() {
            let op = tg.op(t);
            let key = tg.key(t);
            if op.name() == RemoteOp::NAME {
                held.push(key.clone());
                continue;
            }
            if op.is_local_only() || !is_registered(op.name()) {
                return Err(Error::LocalOnly {
                    key: key.clone(),
                    op: op.name().to_string(),
                });
            }
            tasks.push(WireTask {
                key: key.clone(),
                spec: TaskSpec {
                    op: op.name().to_string(),
                    params: op.params()?,
                },
                dependencies: tg
                    .dependencies(t)
                    .iter()
                    .map(|d| tg.key(*d).clone())
                    .collect(),
                order: order[t.idx()],
            });
        }
        let handles: Vec<Arc<FutureHandle>> = keys.iter().map(|k| self.handle(k, None)).collect();
        {
            let mut submitted = lock(&self.shared.submitted);
            for t in &tasks {
                submitted.insert(t.key.clone(), t.clone());
            }
        }
        let mut o = Outgoing::default();
        o.push(Msg::UpdateGraph {
            tasks,
            wanted: keys.to_vec(),
            user_priority: priority,
        });
        self.shared.send(Cmd::Send(o))?;
        drop(held);
        Ok(handles)
    }

    fn gather_values(&self, handles: &[Arc<FutureHandle>]) -> Result<Vec<Value>> {
        let mut out: Vec<Option<Value>> = vec![None; handles.len()];
        let mut missing = Vec::new();
        for (i, h) in handles.iter().enumerate() {
            match h.wait() {
                Status::Finished(Some(v)) => out[i] = Some(v),
                Status::Finished(None) => missing.push(i),
                Status::Erred(e) => return Err(err(e)),
                Status::Cancelled => return Err(err(format!("{} was cancelled", h.key))),
                Status::Pending => unreachable!("wait() returns only when done"),
            }
        }
        if !missing.is_empty() {
            let (tx, rx) = oneshot::channel();
            let keys = missing.iter().map(|i| handles[*i].key.clone()).collect();
            self.shared.send(Cmd::Gather { keys, reply: tx })?;
            match rx.blocking_recv() {
                Ok(Ok(values)) => {
                    for (i, v) in missing.iter().zip(values) {
                        out[*i] = Some(v);
                    }
                }
                // Lost meanwhile (a restart): one key at a time, with retries.
                _ => {
                    for i in missing {
                        out[i] = Some(handles[i].fetch()?);
                    }
                }
            }
        }
        Ok(out.into_iter().map(|v| v.expect("filled")).collect())
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.close();
    }
}

impl Executor for Client {
    fn get(&self, graph: &Graph, keys: &[Key]) -> Result<Vec<Value>> {
        let handles = self.submit_graph(graph, keys, 0)?;
        self.gather_values(&handles)
    }

    fn persist(&self, graph: &Graph, keys: &[Key]) -> Result<Graph> {
        let handles = self.submit_graph(graph, keys, 0)?;
        let mut tasks = Vec::with_capacity(handles.len());
        for h in handles {
            match h.wait() {
                Status::Erred(e) => return Err(err(e)),
                Status::Cancelled => return Err(err(format!("{} was cancelled", h.key))),
                _ => {}
            }
            tasks.push(Task::new(
                h.key.clone(),
                Arc::new(RemoteOp { handle: h }),
                vec![],
            ));
        }
        let name = match keys.first() {
            Some(k) => format!("persisted-{}", k.name()),
            None => "persisted".into(),
        };
        Ok(Graph::from_tasks(name, tasks))
    }
}

async fn io_loop(
    address: String,
    options: ClientOptions,
    shared: Weak<Shared>,
    mut rx: mpsc::UnboundedReceiver<Cmd>,
    ready: std::sync::mpsc::Sender<Result<()>>,
) {
    let mut ready = Some(ready);
    let peers: PeerPool = Arc::default();
    loop {
        let deadline = Instant::now() + options.reconnect;
        let mut wait = Duration::from_millis(20);
        let stream = loop {
            match connect(
                &address,
                Role::Client,
                options.token.as_deref(),
                options.tls.as_ref(),
            )
            .await
            {
                Ok(s) => break Some(s),
                Err(e) => {
                    let fatal = matches!(e, crate::error::Error::Handshake { .. });
                    if fatal || Instant::now() >= deadline {
                        if let Some(r) = ready.take() {
                            let _ = r.send(Err(err(format!(
                                "cannot connect to the scheduler at {address}: {e}"
                            ))));
                        }
                        break None;
                    }
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_millis(500));
                }
            }
        };
        let Some(stream) = stream else {
            fail_all(&shared, "the scheduler is unreachable");
            // Answer whatever is still asked, with an error.
            while let Some(cmd) = rx.recv().await {
                match cmd {
                    Cmd::Close => return,
                    Cmd::WhoHas { reply, .. } => {
                        drop(reply.send(Err(err("the scheduler is unreachable"))))
                    }
                    Cmd::Gather { reply, .. } => {
                        drop(reply.send(Err(err("the scheduler is unreachable"))))
                    }
                    Cmd::Send(_) => {}
                }
            }
            return;
        };
        let (mut r, w) = split(stream);
        let outbox = Outbox::spawn(w, true);
        let mut hello = Outgoing::default();
        hello.push(Msg::RegisterClient);
        let first_session = ready.is_some();
        if !first_session {
            hello.extend(resubmission(&shared));
        }
        outbox.send(hello);
        if let Some(r) = ready.take() {
            let _ = r.send(Ok(()));
        }
        let limits = options.limits;
        let (in_tx, mut in_rx) = mpsc::unbounded_channel::<Option<Vec<Incoming>>>();
        let reader = tokio::spawn(async move {
            loop {
                match read_batch(&mut r, &limits).await {
                    Ok(Some(m)) => {
                        if in_tx.send(Some(m)).is_err() {
                            return;
                        }
                    }
                    _ => {
                        let _ = in_tx.send(None);
                        return;
                    }
                }
            }
        });
        let mut pending_who: FxHashMap<u64, oneshot::Sender<Result<WhoHas>>> = FxHashMap::default();
        let mut next_id = 0u64;
        let closed = loop {
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    None | Some(Cmd::Close) => break true,
                    Some(Cmd::Send(o)) => { outbox.send(o); }
                    Some(Cmd::WhoHas { keys, reply }) => {
                        next_id += 1;
                        pending_who.insert(next_id, reply);
                        let mut o = Outgoing::default();
                        o.push(Msg::WhoHas { id: next_id, keys });
                        outbox.send(o);
                    }
                    Some(Cmd::Gather { keys, reply }) => {
                        next_id += 1;
                        let (tx, rx) = oneshot::channel();
                        pending_who.insert(next_id, tx);
                        let mut o = Outgoing::default();
                        o.push(Msg::WhoHas { id: next_id, keys: keys.clone() });
                        outbox.send(o);
                        let peers = peers.clone();
                        let token = options.token.clone();
                        let tls = options.tls.clone();
                        tokio::spawn(async move {
                            let result = match rx.await {
                                Ok(Ok(who)) => gather_from_workers(&keys, who, &peers, token.as_deref(), tls.as_ref(), &limits).await,
                                Ok(Err(e)) => Err(e),
                                Err(_) => Err(err("the connection to the scheduler was lost")),
                            };
                            let _ = reply.send(result);
                        });
                    }
                },
                batch = in_rx.recv() => match batch {
                    Some(Some(msgs)) => {
                        let mut gone = false;
                        for m in msgs {
                            gone |= on_message(&shared, m, &mut pending_who);
                        }
                        if gone { break false; }
                    }
                    _ => break false,
                },
            }
        };
        reader.abort();
        pending_who.clear();
        if closed {
            return;
        }
        // The scheduler went away: wait for it again; everything not yet here is
        // pending again (its data on the workers is gone).
        if let Some(s) = shared.upgrade() {
            let handles: Vec<Arc<FutureHandle>> = lock(&s.handles)
                .values()
                .filter_map(|w| w.upgrade())
                .collect();
            for h in handles {
                let mut st = lock(&h.status);
                if matches!(*st, Status::Finished(None)) {
                    *st = Status::Pending;
                }
            }
        }
    }
}

/// Everything needed to recompute the futures still held, after a reconnect.
fn resubmission(shared: &Weak<Shared>) -> Outgoing {
    let mut o = Outgoing::default();
    let Some(s) = shared.upgrade() else { return o };
    let handles: Vec<Arc<FutureHandle>> = lock(&s.handles)
        .values()
        .filter_map(|w| w.upgrade())
        .collect();
    let submitted = lock(&s.submitted);
    let mut wanted = Vec::new();
    let mut tasks = Vec::new();
    let mut seen = rustc_hash::FxHashSet::default();
    for h in &handles {
        if !h.is_pending() {
            continue;
        }
        if !submitted.contains_key(&h.key) {
            h.set(Status::Erred(format!(
                "{} was lost when the scheduler restarted and has no task to recompute it",
                h.key
            )));
            continue;
        }
        wanted.push(h.key.clone());
        let mut stack = vec![h.key.clone()];
        while let Some(k) = stack.pop() {
            if !seen.insert(k.clone()) {
                continue;
            }
            if let Some(t) = submitted.get(&k) {
                stack.extend(t.dependencies.iter().cloned());
                tasks.push(t.clone());
            }
        }
    }
    if !wanted.is_empty() {
        o.push(Msg::UpdateGraph {
            tasks,
            wanted,
            user_priority: 0,
        });
    }
    o
}

fn fail_all(shared: &Weak<Shared>, why: &str) {
    if let Some(s) = shared.upgrade() {
        let handles: Vec<Arc<FutureHandle>> = lock(&s.handles)
            .values()
            .filter_map(|w| w.upgrade())
            .collect();
        for h in handles {
            if h.is_pending() {
                h.set(Status::Erred(why.to_string()));
            }
        }
    }
}

/// Handles one message from the scheduler; true when it says goodbye.
fn on_message(
    shared: &Weak<Shared>,
    m: Incoming,
    pending_who: &mut FxHashMap<u64, oneshot::Sender<Result<WhoHas>>>,
) -> bool {
    let handle = |key: &Key| {
        shared
            .upgrade()
            .and_then(|s| lock(&s.handles).get(key).and_then(|w| w.upgrade()))
    };
    match m.msg {
        Msg::KeyInMemory { key, value, .. } => {
            if let Some(h) = handle(&key) {
                let value = value.and_then(|v| decode(encoded(v, m.frames)).ok());
                h.set(Status::Finished(value));
            }
        }
        Msg::KeyErred { key, error } => {
            if let Some(h) = handle(&key) {
                h.set(Status::Erred(error));
            }
        }
        Msg::KeyCancelled { key } => {
            if let Some(h) = handle(&key) {
                h.set(Status::Cancelled);
            }
        }
        Msg::WhoHasReply {
            id,
            who_has,
            nworkers,
        } => {
            if let Some(tx) = pending_who.remove(&id) {
                let _ = tx.send(Ok((who_has, nworkers)));
            }
        }
        Msg::Goodbye { .. } => return true,
        _ => {}
    }
    false
}

type PeerPool = Arc<Mutex<FxHashMap<String, Arc<tokio::sync::Mutex<Option<PeerConn>>>>>>;

async fn gather_from_workers(
    keys: &[Key],
    (who, _): WhoHas,
    peers: &PeerPool,
    token: Option<&str>,
    tls: Option<&super::tls::Tls>,
    limits: &Limits,
) -> Result<Vec<Value>> {
    let mut by_worker: Vec<(String, Vec<Key>)> = Vec::new();
    for (k, holders) in who {
        let Some((_, addr)) = holders.into_iter().next() else {
            return Err(err(format!(
                "{k} is not in memory on any worker (was it released or lost?)"
            )));
        };
        match by_worker.iter_mut().find(|(a, _)| *a == addr) {
            Some((_, ks)) => ks.push(k),
            None => by_worker.push((addr, vec![k])),
        }
    }
    let mut got: FxHashMap<Key, Value> = FxHashMap::default();
    for (addr, ks) in by_worker {
        let slot = lock(peers).entry(addr.clone()).or_default().clone();
        let mut guard = slot.lock().await;
        let result = get_data(&mut guard, &addr, token, tls, limits, &ks).await;
        if result.is_err() {
            *guard = None;
        }
        let (values, missing) = result.map_err(|e| err(format!("gathering from {addr}: {e}")))?;
        if let Some(k) = missing.first() {
            return Err(err(format!("{addr} no longer holds {k}")));
        }
        got.extend(values);
    }
    keys.iter()
        .map(|k| {
            got.remove(k)
                .ok_or_else(|| err(format!("{k} did not arrive")))
        })
        .collect()
}
