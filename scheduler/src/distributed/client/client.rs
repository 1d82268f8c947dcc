//! [`Client`]: a connection to a scheduler, and everything a program asks of it.

use super::command::{Cmd, Request, WhoHas};
use super::future::{err, lock, Future, FutureHandle, RemoteOp, Shared, Status};
use super::io::io_loop;
use super::options::{ClientOptions, Submit};
use crate::distributed::ids::{NewTask, TaskSpec};
use crate::distributed::messages::{value_frames, Msg, Outgoing};
use brisk_core::executor::Executor;
use brisk_core::graph::{Graph, Task};
use brisk_core::op::is_registered;
use brisk_core::value::take;
use brisk_core::{Data, Error, Key, Lazy, Result, Tokenize, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

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
    pub(super) shared: Arc<Shared>,
    driver: Mutex<Option<Driver>>,
    nonce: AtomicU64,
}

/// What runs the client's connection.
enum Driver {
    /// A thread of its own.
    Thread(std::thread::JoinHandle<()>),
    /// A task on a shared runtime; the channel closes when it ends.
    Task(std::sync::mpsc::Receiver<()>),
}

impl Client {
    /// Connects to the scheduler at `address` (`tcp://host:port` or `host:port`).
    pub fn connect(address: &str) -> Result<Client> {
        Client::connect_with(address, ClientOptions::default())
    }

    /// Connects with options (token, reconnect window, limits).
    pub fn connect_with(address: &str, options: ClientOptions) -> Result<Client> {
        Client::start(address, options, None)
    }

    /// Connects to the scheduler named in a scheduler file (written by
    /// `brisk-scheduler --scheduler-file PATH`; Dask's
    /// `Client(scheduler_file=...)`), waiting up to `options.reconnect` for the
    /// file to appear.
    pub fn from_scheduler_file(
        path: impl AsRef<std::path::Path>,
        options: ClientOptions,
    ) -> Result<Client> {
        let file =
            crate::distributed::cli::SchedulerFile::wait_for(path.as_ref(), options.reconnect)?;
        Client::connect_with(&file.address, options)
    }

    /// Connects with the connection running on an existing current-thread runtime
    /// (a [`super::LocalCluster`]'s, which also runs the scheduler) instead of a
    /// thread of its own.
    pub(in crate::distributed) fn connect_on(
        runtime: &tokio::runtime::Handle,
        address: &str,
        options: ClientOptions,
    ) -> Result<Client> {
        Client::start(address, options, Some(runtime))
    }

    fn start(
        address: &str,
        options: ClientOptions,
        runtime: Option<&tokio::runtime::Handle>,
    ) -> Result<Client> {
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            cmd: tx,
            handles: Mutex::default(),
            submitted: Mutex::default(),
            prune_at: Mutex::new(super::future::PRUNE_MIN),
            received: Arc::default(),
        });
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let io_shared = Arc::downgrade(&shared);
        let address = address.to_string();
        let io = io_loop(address, options, io_shared, rx, ready_tx.clone());
        let driver = match runtime {
            Some(rt) => {
                drop(ready_tx);
                let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
                rt.spawn(async move {
                    io.await;
                    drop(done_tx);
                });
                Driver::Task(done_rx)
            }
            None => Driver::Thread(
                std::thread::Builder::new()
                    .name("brisk-client".into())
                    .spawn(move || {
                        match tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                        {
                            Ok(rt) => rt.block_on(io),
                            Err(e) => drop(ready_tx.send(Err(err(e.to_string())))),
                        }
                    })
                    .map_err(|e| err(e.to_string()))?,
            ),
        };
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(err("the client's connection ended before it was ready")),
        }
        let source: Arc<dyn crate::diagnostics::report::ReportSource> = shared.clone();
        crate::diagnostics::report::register_source(Arc::downgrade(&source));
        Ok(Client {
            shared,
            driver: Mutex::new(Some(driver)),
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

    /// [`gather`](Self::gather), waiting `timeout` at most for the futures to
    /// finish: an error naming the first key still pending then.
    pub fn gather_timeout<T: Data + Clone>(
        &self,
        futures: &[Future<T>],
        timeout: Duration,
    ) -> Result<Vec<T>> {
        let deadline = Instant::now() + timeout;
        for f in futures {
            if f.handle.wait_until(deadline).is_none() {
                return Err(super::future::timed_out(f.key(), timeout));
            }
        }
        self.gather(futures)
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
            let (wv, f) = value_frames(&value)?;
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

    /// The workers connected, with what they report of themselves (Dask's
    /// `client.scheduler_info()["workers"]`): address, name, threads, memory
    /// limit, and counters as of their last heartbeat (values sent and received,
    /// tasks run).
    pub fn scheduler_info(&self) -> Result<Vec<crate::distributed::WorkerInfo>> {
        let (tx, rx) = oneshot::channel();
        self.shared.send(Cmd::Workers { reply: tx })?;
        rx.blocking_recv()
            .map_err(|_| err("the connection to the scheduler was lost"))?
    }

    /// Each worker's address with its number of threads (Dask's
    /// `Client.nthreads()`).
    pub fn nthreads(&self) -> Result<std::collections::BTreeMap<String, u32>> {
        Ok(self
            .scheduler_info()?
            .into_iter()
            .map(|w| (w.address, w.nthreads))
            .collect())
    }

    /// Restarts every worker through its nanny and cancels every task of every
    /// client (Dask's `Client.restart`): futures held become cancelled; returns
    /// once as many new workers joined. Workers without a nanny do not come back.
    pub fn restart(&self) -> Result<()> {
        self.request(Request::Restart)
    }

    /// Moves held results from workers holding more than the mean to workers
    /// holding less (Dask's `Client.rebalance`); returns once they are moved.
    pub fn rebalance(&self) -> Result<()> {
        self.request(Request::Rebalance)
    }

    /// Retires workers, by address or name (Dask's `Client.retire_workers`): they
    /// get no new tasks, the results only they hold move to other workers, then
    /// they exit (with their nannies); returns once they are gone. Nothing held
    /// is lost; retiring every worker is refused.
    pub fn retire_workers(&self, workers: &[&str]) -> Result<()> {
        self.request(Request::RetireWorkers(
            workers.iter().map(|w| w.to_string()).collect(),
        ))
    }

    fn request(&self, what: Request) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.shared.send(Cmd::Request { what, reply: tx })?;
        rx.blocking_recv()
            .map_err(|_| err("the connection to the scheduler was lost"))?
    }

    /// Bytes of values this client has received so far: the frames of results
    /// from the scheduler and the values it fetched from workers (what passed
    /// through this process).
    pub fn bytes_received(&self) -> u64 {
        self.shared.received.load(Ordering::Relaxed)
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
        match lock(&self.driver).take() {
            Some(Driver::Thread(t)) => drop(t.join()),
            Some(Driver::Task(done)) => drop(done.recv()),
            None => {}
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
            callbacks: Mutex::default(),
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
            tasks.push(NewTask {
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
        self.shared.prune_submitted();
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
            match h.wait().outcome(&h.key)? {
                Some(v) => out[i] = Some(v),
                None => missing.push(i),
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
        let _bar = super::ask::ClientProgress::start(&self.shared, graph, keys);
        let handles = self.submit_graph(graph, keys, 0)?;
        self.gather_values(&handles)
    }

    fn persist(&self, graph: &Graph, keys: &[Key]) -> Result<Graph> {
        let _bar = super::ask::ClientProgress::start(&self.shared, graph, keys);
        let handles = self.submit_graph(graph, keys, 0)?;
        let mut tasks = Vec::with_capacity(handles.len());
        for h in handles {
            h.wait().outcome(&h.key)?;
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
