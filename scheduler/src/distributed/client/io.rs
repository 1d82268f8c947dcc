//! The client's connection thread: one tokio runtime that talks to the scheduler,
//! gathers from workers, and reconnects and resubmits after a loss.

use super::command::{Cmd, Request, WhoHas};
use super::future::{err, lock, FutureHandle, Shared, Status};
use super::options::ClientOptions;
use crate::distributed::comm::{connect_announcing, read_batch, split, Outbox};
use crate::distributed::messages::{encoded, Incoming, Msg, Outgoing};
use crate::distributed::worker_server::{get_data, Dial, PeerConn};
use crate::distributed::WorkerInfo;
use crate::protocol::{Limits, Role};
use brisk_core::value::decode;
use brisk_core::{Key, Result, Value};
use rustc_hash::FxHashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

pub(super) async fn io_loop(
    address: String,
    options: ClientOptions,
    shared: Weak<Shared>,
    mut rx: mpsc::UnboundedReceiver<Cmd>,
    ready: std::sync::mpsc::Sender<Result<()>>,
) {
    // Whatever is still pending when the connection ends for good (closed, or
    // its runtime shut down under it) fails instead of waiting forever.
    let _fail_pending = FailPending(shared.clone());
    let mut ready = Some(ready);
    let peers: PeerPool = Arc::default();
    // Why the scheduler last closed the connection, for the error if it does not
    // come back.
    let mut last_goodbye: Option<String> = None;
    loop {
        let deadline = Instant::now() + options.reconnect;
        let mut wait = Duration::from_millis(20);
        let stream = loop {
            match connect_announcing(
                &address,
                Role::Client,
                options.token.as_deref(),
                options.tls.as_ref(),
                options.connect_timeout,
                &options.limits,
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
        let Some((stream, scheduler_limits)) = stream else {
            let why = match &last_goodbye {
                Some(reason) => {
                    format!("the scheduler is unreachable (it closed the connection: {reason})")
                }
                None => "the scheduler is unreachable".to_string(),
            };
            fail_all(&shared, &why);
            // Answer whatever is still asked, with an error.
            while let Some(cmd) = rx.recv().await {
                match cmd {
                    Cmd::Close => return,
                    Cmd::WhoHas { reply, .. } => drop(reply.send(Err(err(why.clone())))),
                    Cmd::Gather { reply, .. } => drop(reply.send(Err(err(why.clone())))),
                    Cmd::Workers { reply } => drop(reply.send(Err(err(why.clone())))),
                    Cmd::Request { reply, .. } => drop(reply.send(Err(err(why.clone())))),
                    Cmd::Diagnostics { reply, .. } => drop(reply.send(Err(err(why.clone())))),
                    Cmd::Send(_) => {}
                }
            }
            return;
        };
        let (mut r, w) = split(stream);
        let outbox = Outbox::spawn_for(w, true, scheduler_limits);
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
        let received = shared
            .upgrade()
            .map(|s| s.received.clone())
            .unwrap_or_default();
        let gathered = received.clone();
        let reader = tokio::spawn(async move {
            loop {
                match read_batch(&mut r, &limits).await {
                    Ok(Some(m)) => {
                        let bytes: usize = m.iter().flat_map(|i| &i.frames).map(Vec::len).sum();
                        received.fetch_add(bytes as u64, std::sync::atomic::Ordering::Relaxed);
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
        let mut pending_workers: FxHashMap<u64, oneshot::Sender<Result<Vec<WorkerInfo>>>> =
            FxHashMap::default();
        let mut pending_done: FxHashMap<u64, oneshot::Sender<Result<()>>> = FxHashMap::default();
        let mut pending_diagnostics: FxHashMap<u64, oneshot::Sender<Result<String>>> =
            FxHashMap::default();
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
                    Some(Cmd::Workers { reply }) => {
                        next_id += 1;
                        pending_workers.insert(next_id, reply);
                        let mut o = Outgoing::default();
                        o.push(Msg::Workers { id: next_id });
                        outbox.send(o);
                    }
                    Some(Cmd::Diagnostics { query, reply }) => {
                        next_id += 1;
                        pending_diagnostics.insert(next_id, reply);
                        let mut o = Outgoing::default();
                        o.push(Msg::Diagnostics { id: next_id, query });
                        outbox.send(o);
                    }
                    Some(Cmd::Request { what, reply }) => {
                        next_id += 1;
                        pending_done.insert(next_id, reply);
                        let mut o = Outgoing::default();
                        o.push(match what {
                            Request::Restart => Msg::Restart { id: next_id },
                            Request::Rebalance => Msg::Rebalance { id: next_id },
                            Request::RetireWorkers(workers) => Msg::RetireWorkers { id: next_id, workers },
                        });
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
                        let timeout = options.connect_timeout;
                        let gathered = gathered.clone();
                        tokio::spawn(async move {
                            let result = match rx.await {
                                Ok(Ok(who)) => {
                                    let dial = Dial { token: token.as_deref(), tls: tls.as_ref(), timeout };
                                    let got = gather_from_workers(&keys, who, &peers, dial, &limits).await;
                                    if let Ok(values) = &got {
                                        let bytes: usize = values.iter().map(|v| v.nbytes()).sum();
                                        gathered.fetch_add(bytes as u64, std::sync::atomic::Ordering::Relaxed);
                                    }
                                    got
                                }
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
                            if let Msg::Goodbye { reason } = &m.msg {
                                last_goodbye = Some(reason.clone());
                            }
                            if let Msg::Done { id, error } = &m.msg {
                                if let Some(tx) = pending_done.remove(id) {
                                    let _ = tx.send(match error {
                                        None => Ok(()),
                                        Some(e) => Err(err(e.clone())),
                                    });
                                }
                                continue;
                            }
                            if let Msg::DiagnosticsReply { id, json, error } = m.msg {
                                if let Some(tx) = pending_diagnostics.remove(&id) {
                                    let _ = tx.send(match error {
                                        None => Ok(json),
                                        Some(e) => Err(err(e)),
                                    });
                                }
                                continue;
                            }
                            gone |= on_message(&shared, m, &mut pending_who, &mut pending_workers);
                        }
                        if gone { break false; }
                    }
                    _ => break false,
                },
            }
        };
        reader.abort();
        pending_who.clear();
        pending_workers.clear();
        pending_done.clear();
        pending_diagnostics.clear();
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

struct FailPending(Weak<Shared>);

impl Drop for FailPending {
    fn drop(&mut self) {
        fail_all(
            &self.0,
            "the client's connection to the scheduler is closed",
        );
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
    pending_workers: &mut FxHashMap<u64, oneshot::Sender<Result<Vec<WorkerInfo>>>>,
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
        Msg::WorkersReply { id, workers } => {
            if let Some(tx) = pending_workers.remove(&id) {
                let _ = tx.send(Ok(workers));
            }
        }
        Msg::Goodbye { reason } => {
            tracing::warn!(target: "brisk::client", "the scheduler said goodbye: {reason}");
            return true;
        }
        _ => {}
    }
    false
}

type PeerPool = Arc<Mutex<FxHashMap<String, Arc<tokio::sync::Mutex<Option<PeerConn>>>>>>;

async fn gather_from_workers(
    keys: &[Key],
    (who, _): WhoHas,
    peers: &PeerPool,
    dial: Dial<'_>,
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
        let result = get_data(&mut guard, &addr, dial, limits, &ks, false).await;
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
