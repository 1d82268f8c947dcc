//! A worker's peer port: it serves `GetData` from its store to other workers and
//! clients; and `get_data`, the asking side, shared by workers and clients.

use super::options::WorkerOptions;
use super::store::{Fetched, Store};
use crate::distributed::comm::{
    accept_announcing, connect_announcing, goodbye, next_connection, read_batch, split, turn_away,
    Reader, Writer,
};
use crate::distributed::messages::{encoded, value_frames, Incoming, Msg, Outgoing, WireValue};
use crate::distributed::worker_info::Counters;
use crate::error::{Error, Result};
use crate::protocol::{Limits, Role};
use brisk_core::value::decode;
use brisk_core::{Key, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// A kept connection to a peer's port.
pub(crate) struct PeerConn {
    r: Reader,
    w: Writer,
}

/// How to open a connection to a peer.
#[derive(Clone, Copy)]
pub(crate) struct Dial<'a> {
    pub(crate) token: Option<&'a str>,
    pub(crate) tls: Option<&'a crate::distributed::tls::Tls>,
    /// For one attempt: TCP, TLS and hello.
    pub(crate) timeout: Duration,
}

/// Asks a peer (worker) for `keys` over a kept connection; returns the values it
/// had and the keys it did not. A peer whose reply would exceed this process's
/// `limits` sends part of it and defers the rest, which is asked for again.
pub(crate) async fn get_data(
    conn: &mut Option<PeerConn>,
    address: &str,
    dial: Dial<'_>,
    limits: &Limits,
    keys: &[Key],
    decode_here: bool,
) -> Result<Fetched> {
    let mut values = Vec::with_capacity(keys.len());
    let mut missing = Vec::new();
    let mut asking = keys.to_vec();
    while !asking.is_empty() {
        let (got, lacking, deferred) =
            get_data_once(conn, address, dial, limits, &asking, decode_here).await?;
        if got.is_empty() && deferred.len() == asking.len() {
            return Err(Error::Malformed {
                reason: format!("{address} deferred every key of a data request"),
            });
        }
        values.extend(got);
        missing.extend(lacking);
        asking = deferred;
    }
    Ok((values, missing))
}

/// One request and its reply: values, keys not held, keys deferred.
async fn get_data_once(
    conn: &mut Option<PeerConn>,
    address: &str,
    dial: Dial<'_>,
    limits: &Limits,
    keys: &[Key],
    decode_here: bool,
) -> Result<(Vec<(Key, Value)>, Vec<Key>, Vec<Key>)> {
    if conn.is_none() {
        let (s, _) = connect_announcing(
            address,
            Role::Worker,
            dial.token,
            dial.tls,
            dial.timeout,
            limits,
        )
        .await?;
        let (r, w) = split(s);
        *conn = Some(PeerConn { r, w });
    }
    let c = conn.as_mut().expect("connected above");
    let mut ask = Outgoing::default();
    ask.push(Msg::GetData {
        id: 0,
        keys: keys.to_vec(),
    });
    crate::distributed::comm::write_batch(&mut c.w, &ask, false).await?;
    let reply = read_batch(&mut c.r, limits)
        .await?
        .ok_or(Error::Truncated { needed: 1, got: 0 })?;
    let (values, missing, deferred, frames) = match reply.into_iter().next() {
        Some(Incoming {
            msg:
                Msg::Data {
                    values,
                    missing,
                    deferred,
                    ..
                },
            frames,
        }) => (values, missing, deferred, frames),
        Some(Incoming {
            msg: Msg::Goodbye { reason },
            ..
        }) => {
            return Err(Error::Malformed {
                reason: format!("{address} refused a data request: {reason}"),
            })
        }
        _ => {
            return Err(Error::Malformed {
                reason: format!("{address} did not answer a data request with data"),
            })
        }
    };
    if let Some(k) = deferred.iter().find(|k| !keys.contains(k)) {
        return Err(Error::Malformed {
            reason: format!("{address} deferred {k}, which was not asked for"),
        });
    }
    let raw = RawData {
        values,
        frames,
        missing,
    };
    let bytes: usize = raw.frames.iter().map(Vec::len).sum();
    let (values, missing) = if decode_here || bytes < (1 << 20) {
        raw.decode()?
    } else {
        // Large values are decoded away from this thread (a client's may be the
        // scheduler's).
        tokio::task::spawn_blocking(move || raw.decode())
            .await
            .map_err(|e| Error::Malformed {
                reason: format!("decoding fetched data: {e}"),
            })??
    };
    Ok((values, missing, deferred))
}

/// A data reply before its values are decoded.
struct RawData {
    values: Vec<(Key, WireValue)>,
    frames: Vec<Vec<u8>>,
    missing: Vec<Key>,
}

impl RawData {
    fn decode(self) -> Result<Fetched> {
        let mut frames = self.frames.into_iter();
        let mut out = Vec::with_capacity(self.values.len());
        for (k, v) in self.values {
            let f = Incoming::take_frames(&mut frames, v.nframes)?;
            let value = decode(encoded(v, f)).map_err(|e| Error::Malformed {
                reason: e.to_string(),
            })?;
            out.push((k, value));
        }
        Ok((out, self.missing))
    }
}

/// Serves `GetData` requests from peers and clients.
pub(super) async fn serve_peers(
    listener: TcpListener,
    store: Store,
    counters: Arc<Counters>,
    options: WorkerOptions,
) {
    let WorkerOptions {
        token,
        tls,
        limits,
        handshake_timeout: handshake,
        max_connections,
        ..
    } = options;
    let max_connections = max_connections.max(1);
    let mut backoff = Duration::ZERO;
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let tcp = next_connection(&listener, &mut backoff).await;
        while connections.try_join_next().is_some() {}
        if connections.len() >= max_connections {
            let reason =
                format!("the worker has reached its limit of {max_connections} peer connections");
            turn_away(tcp, Role::Worker, reason, tls.is_none());
            continue;
        }
        let store = store.clone();
        let counters = counters.clone();
        let token = token.clone();
        let tls = tls.clone();
        connections.spawn(async move {
            let accepted = tokio::time::timeout(
                handshake,
                accept_announcing(tcp, Role::Worker, token.as_deref(), tls.as_ref(), &limits),
            )
            .await;
            let Ok(Ok((stream, hello))) = accepted else {
                return;
            };
            let asker = hello.peer_limits();
            let (mut r, mut w) = split(stream);
            loop {
                let msgs = match read_batch(&mut r, &limits).await {
                    Ok(Some(msgs)) => msgs,
                    Ok(None) => return,
                    Err(e) => {
                        let bye = goodbye(format!("{e}; closing the connection"));
                        let _ = crate::distributed::comm::write_batch(&mut w, &bye, false).await;
                        return;
                    }
                };
                for m in msgs {
                    let Msg::GetData { id, keys } = m.msg else {
                        let bye = goodbye(
                            "a worker's peer port answers GetData only; closing the connection",
                        );
                        let _ = crate::distributed::comm::write_batch(&mut w, &bye, false).await;
                        return;
                    };
                    // Spilled values are read from disk: off the network thread.
                    let reply = if keys.iter().any(|k| store.lock().is_spilled(k)) {
                        let store = store.clone();
                        match tokio::task::spawn_blocking(move || {
                            data_reply(&store, id, keys, &asker)
                        })
                        .await
                        {
                            Ok(r) => r,
                            Err(_) => return,
                        }
                    } else {
                        data_reply(&store, id, keys, &asker)
                    };
                    if let Some((Msg::Data { values, .. }, _)) = reply.msgs.first() {
                        counters.sent(values.len() as u64, reply.approx_bytes() as u64);
                    }
                    if crate::distributed::comm::write_batch(&mut w, &reply, false)
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
        });
    }
}

/// The reply to a data request: the values held, as many as fit what the asker
/// accepts ([`Limits::batch_budget`]),
/// the keys not held, and the keys deferred to another request. The first value
/// always goes, so every request makes progress.
fn data_reply(store: &Store, id: u64, keys: Vec<Key>, asker: &Limits) -> Outgoing {
    let (max_frames, max_bytes) = asker.batch_budget();
    let mut values = Vec::new();
    let mut frames = Vec::new();
    let mut missing = Vec::new();
    let mut deferred = Vec::new();
    let mut bytes = 0usize;
    for k in keys {
        if !deferred.is_empty() {
            deferred.push(k);
            continue;
        }
        // A spill file that cannot be read back counts as not held.
        let v = store.get(&k).ok().flatten();
        match v.map(|v| value_frames(&v)) {
            Some(Ok((wv, f))) => {
                let size: usize =
                    f.iter().map(|x| x.as_slice().len()).sum::<usize>() + wv.header.len() + 64;
                let full = frames.len() + f.len() > max_frames || bytes + size > max_bytes;
                if full && !values.is_empty() {
                    deferred.push(k);
                    continue;
                }
                bytes += size;
                values.push((k, wv));
                frames.extend(f);
            }
            _ => missing.push(k),
        }
    }
    let mut reply = Outgoing::default();
    reply.push_with(
        Msg::Data {
            id,
            values,
            missing,
            deferred,
        },
        frames,
    );
    reply
}
