//! Connections on tokio: the handshake, a reader that yields batches of typed
//! messages, and a writer task that batches whatever queued while it was writing
//! (an idle connection flushes at once; a busy one sends many messages per write).

use super::messages::{split_batch, Frame, Incoming, Msg, Outgoing};
use super::tls::{server_name, Tls};
use crate::error::{Error, Result};
use crate::protocol::{
    check_hello, decode, encode, frame_count, parse_table, table_end, unpack_frame, Hello, Limits,
    Role,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Notify};

/// A connection: plain TCP or TLS over TCP.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Stream for T {}

/// A connection of either kind.
pub type BoxStream = Box<dyn Stream>;
/// Its reading half.
pub type Reader = ReadHalf<BoxStream>;
/// Its writing half.
pub type Writer = WriteHalf<BoxStream>;

/// Splits a connection into halves that can be used from different tasks.
pub fn split(s: BoxStream) -> (Reader, Writer) {
    tokio::io::split(s)
}

/// Compressed frames that inflate to this many bytes or more are inflated on a
/// blocking thread: the reader may share its thread with the scheduler's event
/// loop, which must not stall while a large frame inflates.
const INFLATE_ELSEWHERE: usize = 1 << 20;

/// Reads one wire message; `None` when the peer closed between messages. The body
/// is allocated only after its announced length, and the size its frames inflate
/// to, passed the limits; large compressed frames inflate off this thread.
pub async fn read_batch<R: AsyncRead + Unpin>(
    r: &mut R,
    limits: &Limits,
) -> Result<Option<Vec<Incoming>>> {
    let mut prefix = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        let n = r.read(&mut prefix[got..]).await?;
        if n == 0 {
            if got == 0 {
                return Ok(None);
            }
            return Err(Error::Truncated {
                needed: 4,
                got: got as u64,
            });
        }
        got += n;
    }
    let len = u32::from_le_bytes(prefix) as usize;
    if len > limits.max_message {
        return Err(Error::TooLarge {
            what: "a message",
            size: len as u64,
            limit: limits.max_message as u64,
        });
    }
    // The frame table first, then each frame read straight into its own buffer
    // (no copy out of a whole-message buffer).
    let mut first = [0u8; 3];
    if len < 3 {
        return Err(Error::Malformed {
            reason: format!("a body of {len} bytes is too short"),
        });
    }
    read_exact(r, &mut first, len).await?;
    let n = frame_count(&first, limits)?;
    let mut head = vec![0u8; table_end(n)];
    head[..3].copy_from_slice(&first);
    if len < head.len() {
        return Err(Error::Malformed {
            reason: "the frame table is cut short".into(),
        });
    }
    read_exact(r, &mut head[3..], len).await?;
    let entries = parse_table(&head, len, limits)?;
    let mut frames = Vec::with_capacity(entries.len());
    for e in entries {
        let mut buf = Vec::with_capacity(e.wire_len);
        let got = (&mut *r)
            .take(e.wire_len as u64)
            .read_to_end(&mut buf)
            .await?;
        if got < e.wire_len {
            return Err(Error::Truncated {
                needed: len as u64,
                got: got as u64,
            });
        }
        let frame = if e.codec != 0 && e.raw_len >= INFLATE_ELSEWHERE {
            tokio::task::spawn_blocking(move || unpack_frame(e, buf))
                .await
                .map_err(|j| Error::Malformed {
                    reason: format!("inflating a frame: {j}"),
                })??
        } else {
            unpack_frame(e, buf)?
        };
        frames.push(frame);
    }
    let mut frames = frames.into_iter();
    let header = frames.next().unwrap_or_default();
    split_batch(&header, frames.collect()).map(Some)
}

async fn read_exact<R: AsyncRead + Unpin>(r: &mut R, buf: &mut [u8], len: usize) -> Result<()> {
    r.read_exact(buf).await.map(|_| ()).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            Error::Truncated {
                needed: len as u64,
                got: 0,
            }
        } else {
            Error::Io(e)
        }
    })
}

/// Messages up to this size are copied into one buffer and written at once.
const COALESCE_LIMIT: usize = 256 * 1024;

/// Writes one batch as one wire message.
pub async fn write_batch<W: AsyncWrite + Unpin>(
    w: &mut W,
    batch: &Outgoing,
    compress: bool,
) -> Result<()> {
    let header = batch.header()?;
    let frames: Vec<&[u8]> = batch.frames.iter().map(|f| f.as_slice()).collect();
    let pieces = encode(&header, &frames, compress)?;
    let total: usize = pieces.iter().map(|p| p.len()).sum();
    if pieces.len() == 1 {
        w.write_all(&pieces[0]).await?;
    } else if total <= COALESCE_LIMIT {
        // One write, so the peer wakes once for the whole message rather than
        // once for its header and again for each frame.
        w.write_all(&pieces.concat()).await?;
    } else {
        for p in &pieces {
            w.write_all(p).await?;
        }
    }
    w.flush().await?;
    Ok(())
}

/// The sending side of a connection: queue batches; a task writes them, merging
/// whatever queued meanwhile into messages within the peer's announced limits
/// (and splitting a batch that would exceed them). The bytes queued and not yet
/// written are counted, so an owner can bound what a slow reader costs it.
#[derive(Clone)]
pub struct Outbox {
    tx: mpsc::UnboundedSender<Queued>,
    queued: Arc<AtomicUsize>,
    abort: Arc<Notify>,
}

enum Queued {
    /// A batch and its [`Outgoing::approx_bytes`], counted once when queued.
    Batch(Outgoing, usize),
    /// The last batch: the writer sends it and closes the connection.
    Last(Outgoing),
}

impl Outbox {
    /// Starts the writer task on the current runtime, for a peer that accepts
    /// the default [`Limits`].
    pub fn spawn(w: impl AsyncWrite + Unpin + Send + 'static, compress: bool) -> Outbox {
        Outbox::spawn_for(w, compress, Limits::default())
    }

    /// Starts the writer task for a peer that accepts `peer` (what its hello
    /// announced): no message written exceeds its frames or bytes.
    pub fn spawn_for(
        mut w: impl AsyncWrite + Unpin + Send + 'static,
        compress: bool,
        peer: Limits,
    ) -> Outbox {
        let (tx, mut rx) = mpsc::unbounded_channel::<Queued>();
        let queued = Arc::new(AtomicUsize::new(0));
        let abort = Arc::new(Notify::new());
        let (count, stop) = (queued.clone(), abort.clone());
        tokio::spawn(async move {
            let aborted = {
                let writing = write_queued(&mut w, &mut rx, compress, peer, &count);
                tokio::select! {
                    () = writing => false,
                    () = stop.notified() => true,
                }
            };
            // An aborted writer may be stuck on a peer that does not read: drop
            // the connection rather than wait to shut it down.
            if !aborted {
                let _ = w.shutdown().await;
            }
        });
        Outbox { tx, queued, abort }
    }

    /// Queues a batch; false when the connection is gone.
    pub fn send(&self, batch: Outgoing) -> bool {
        let n = batch.approx_bytes();
        self.queued.fetch_add(n, Ordering::Relaxed);
        let sent = self.tx.send(Queued::Batch(batch, n)).is_ok();
        if !sent {
            self.queued.fetch_sub(n, Ordering::Relaxed);
        }
        sent
    }

    /// Queues a last batch (a goodbye saying why): once it is written the
    /// connection is shut down, whoever else holds this outbox.
    pub fn close(&self, batch: Outgoing) -> bool {
        self.tx.send(Queued::Last(batch)).is_ok()
    }

    /// Drops the connection now, with whatever is still queued (for a peer that
    /// stopped reading: its queue would otherwise grow without bound).
    pub fn abort(&self) {
        self.abort.notify_one();
    }

    /// Bytes queued and not yet written (approximate: values' frames and an
    /// estimate of their headers).
    pub fn queued_bytes(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// Resolves when the writer has stopped (after [`Outbox::close`], a failed
    /// write or [`Outbox::abort`]): the reading side can stop too.
    pub async fn closed(&self) {
        self.tx.closed().await
    }
}

/// The writer task's loop: everything queued since the last write goes out
/// together, in as few messages as the peer's limits allow.
async fn write_queued<W: AsyncWrite + Unpin>(
    w: &mut W,
    rx: &mut mpsc::UnboundedReceiver<Queued>,
    compress: bool,
    peer: Limits,
    queued: &AtomicUsize,
) {
    while let Some(first) = rx.recv().await {
        let (mut batch, mut counted, mut last) = match first {
            Queued::Batch(b, n) => (b, n, false),
            Queued::Last(b) => (b, 0, true),
        };
        while !last {
            match rx.try_recv() {
                Ok(Queued::Batch(more, n)) => {
                    counted += n;
                    batch.extend(more);
                }
                Ok(Queued::Last(more)) => {
                    batch.extend(more);
                    last = true;
                }
                Err(_) => break,
            }
        }
        let mut failed = false;
        for part in fit(batch, &peer) {
            if write_batch(w, &part, compress).await.is_err() {
                failed = true;
                break;
            }
        }
        queued.fetch_sub(
            counted.min(queued.load(Ordering::Relaxed)),
            Ordering::Relaxed,
        );
        if failed || last {
            break;
        }
    }
}

/// Splits `batch` into batches that each fit `peer`'s limits
/// ([`Limits::batch_budget`]). A single message over the limits goes alone: the
/// peer refuses it with an error saying so.
pub fn fit(batch: Outgoing, peer: &Limits) -> Vec<Outgoing> {
    let (max_frames, max_bytes) = peer.batch_budget();
    if batch.frames.len() <= max_frames && batch.approx_bytes() <= max_bytes {
        return vec![batch];
    }
    let mut parts = Vec::new();
    let mut cur = Outgoing::default();
    let mut cur_bytes = 0usize;
    let mut frames = batch.frames.into_iter();
    for (msg, n) in batch.msgs {
        let f: Vec<Frame> = frames.by_ref().take(n as usize).collect();
        let bytes = msg_bytes(&msg, &f);
        if !cur.msgs.is_empty()
            && (cur.frames.len() + f.len() > max_frames || cur_bytes + bytes > max_bytes)
        {
            parts.push(std::mem::take(&mut cur));
            cur_bytes = 0;
        }
        cur.push_with(msg, f);
        cur_bytes += bytes;
    }
    if !cur.msgs.is_empty() {
        parts.push(cur);
    }
    parts
}

fn msg_bytes(msg: &Msg, frames: &[Frame]) -> usize {
    msg.approx_header_bytes() + frames.iter().map(|f| f.as_slice().len()).sum::<usize>()
}

/// A batch of one [`Msg::Goodbye`] saying why the connection ends.
pub fn goodbye(reason: impl Into<String>) -> Outgoing {
    let mut o = Outgoing::default();
    o.push(Msg::Goodbye {
        reason: reason.into(),
    });
    o
}

/// Opens a connection (TLS when `tls` is given) and says hello; the peer must
/// answer with a hello of its own within `timeout` (from the start of the TCP
/// connect), or the attempt fails with [`Error::TimedOut`].
pub async fn connect(
    address: &str,
    role: Role,
    token: Option<&str>,
    tls: Option<&Tls>,
    timeout: Duration,
) -> Result<BoxStream> {
    let own = Limits::default();
    connect_announcing(address, role, token, tls, timeout, &own)
        .await
        .map(|(s, _)| s)
}

/// [`connect`], announcing `own` (what this process accepts) in the hello;
/// returns the connection and what the peer accepts.
pub async fn connect_announcing(
    address: &str,
    role: Role,
    token: Option<&str>,
    tls: Option<&Tls>,
    timeout: Duration,
    own: &Limits,
) -> Result<(BoxStream, Limits)> {
    match tokio::time::timeout(timeout, connect_now(address, role, token, tls, own)).await {
        Ok(result) => result,
        Err(_) => Err(Error::TimedOut {
            what: format!("connecting to {address} (TCP, TLS and hello)"),
            after: timeout,
        }),
    }
}

async fn connect_now(
    address: &str,
    role: Role,
    token: Option<&str>,
    tls: Option<&Tls>,
    own: &Limits,
) -> Result<(BoxStream, Limits)> {
    let addr = address
        .strip_prefix("tcp://")
        .or_else(|| address.strip_prefix("tls://"))
        .unwrap_or(address);
    let tcp = TcpStream::connect(addr).await.map_err(|e| {
        Error::Io(std::io::Error::new(
            e.kind(),
            format!("cannot connect to {address}: {e}"),
        ))
    })?;
    tcp.set_nodelay(true)?;
    let mut stream: BoxStream = match tls {
        Some(tls) => {
            let connector = tokio_rustls::TlsConnector::from(tls.client.clone());
            let s = connector
                .connect(server_name(addr)?, tcp)
                .await
                .map_err(|e| Error::Handshake {
                    reason: format!(
                        "TLS with {address}: {e} (is the endpoint a Brisk process with TLS?)"
                    ),
                })?;
            Box::new(s)
        }
        None => Box::new(tcp),
    };
    let hello = Hello::new(role, token).announcing(*own).to_header()?;
    let pieces = encode(&hello, &[], false)?;
    stream.write_all(&pieces[0]).await?;
    stream.flush().await?;
    let answer = read_hello(&mut stream, Side::Connecting).await?;
    if let Some(reason) = answer.refusal {
        return Err(Error::Handshake {
            reason: format!("{address} refused the connection: {reason}"),
        });
    }
    check_hello(&answer, None)?;
    Ok((stream, answer.peer_limits()))
}

/// Accepts a connection: the TLS handshake when `tls` is given, then the peer's
/// hello (checking the token), which is answered. A stranger is refused, with the
/// reason, before it can send anything else. Callers bound the whole of it with
/// their handshake timeout (a silent peer would otherwise hold it forever).
pub async fn accept(
    tcp: TcpStream,
    role: Role,
    token: Option<&str>,
    tls: Option<&Tls>,
) -> Result<(BoxStream, Hello)> {
    accept_announcing(tcp, role, token, tls, &Limits::default()).await
}

/// [`accept`], announcing `own` (what this process accepts) in the answer; what
/// the peer accepts is [`Hello::peer_limits`] of the hello returned.
pub async fn accept_announcing(
    tcp: TcpStream,
    role: Role,
    token: Option<&str>,
    tls: Option<&Tls>,
    own: &Limits,
) -> Result<(BoxStream, Hello)> {
    tcp.set_nodelay(true)?;
    let mut stream: BoxStream = match tls {
        Some(tls) => {
            let acceptor = tokio_rustls::TlsAcceptor::from(tls.server.clone());
            let s = acceptor.accept(tcp).await.map_err(|e| Error::Handshake {
                reason: format!("TLS: {e}"),
            })?;
            Box::new(s)
        }
        None => Box::new(tcp),
    };
    let hello = match read_hello(&mut stream, Side::Accepting).await {
        Ok(hello) => check_hello(&hello, token).map(|()| hello),
        Err(e) => Err(e),
    };
    let hello = match hello {
        Ok(hello) => hello,
        // A TLS client would take a plain refusal for a corrupt record: hang up.
        Err(e @ Error::Handshake { .. }) if !is_tls_hello_error(&e) => {
            let reason = match &e {
                Error::Handshake { reason } => reason.clone(),
                other => other.to_string(),
            };
            if let Some(bytes) = refusal(role, reason) {
                let _ = stream.write_all(&bytes).await;
                let _ = stream.flush().await;
            }
            let _ = stream.shutdown().await;
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    let answer = Hello::new(role, None).announcing(*own).to_header()?;
    let pieces = encode(&answer, &[], false)?;
    stream.write_all(&pieces[0]).await?;
    stream.flush().await?;
    Ok((stream, hello))
}

/// Waits for the next connection on `listener`. An accept error (descriptors
/// exhausted, say) is retried after a pause that doubles up to a second, logged
/// once per episode: the listener neither spins nor stops, and serves again as
/// soon as descriptors free. `backoff` carries the pause between calls.
pub async fn next_connection(listener: &TcpListener, backoff: &mut Duration) -> TcpStream {
    loop {
        match listener.accept().await {
            Ok((tcp, _)) => {
                if !backoff.is_zero() {
                    tracing::info!(target: "brisk::comm", "accepting connections again");
                }
                *backoff = Duration::ZERO;
                return tcp;
            }
            Err(e) => {
                if backoff.is_zero() {
                    tracing::warn!(
                        target: "brisk::comm",
                        "cannot accept a connection ({e}); retrying with back-off"
                    );
                }
                *backoff = (*backoff * 2).clamp(Duration::from_millis(10), Duration::from_secs(1));
                tokio::time::sleep(*backoff).await;
            }
        }
    }
}

/// Turns a connection away with `reason` (a refusal hello on plain TCP; a TLS
/// peer is just disconnected), on a task of its own that takes a second at most.
pub fn turn_away(mut tcp: TcpStream, role: Role, reason: String, plain: bool) {
    tokio::spawn(async move {
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            if plain {
                // Read the peer's hello first: closing with unread bytes would
                // reset the connection before it reads the refusal.
                let mut scratch = [0u8; 4096];
                let _ = tcp.read(&mut scratch).await;
                if let Some(bytes) = refusal(role, reason) {
                    let _ = tcp.write_all(&bytes).await;
                }
            }
            let _ = tcp.shutdown().await;
        })
        .await;
    });
}

/// A hello refusing the connection with `reason`, as written on the wire.
fn refusal(role: Role, reason: String) -> Option<Vec<u8>> {
    let mut hello = Hello::new(role, None);
    hello.refusal = Some(reason);
    let header = hello.to_header().ok()?;
    let pieces = encode(&header, &[], false).ok()?;
    pieces.into_iter().next().map(|p| p.to_vec())
}

/// Which end of a handshake reads a hello.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Connecting,
    Accepting,
}

const TLS_AT_PLAIN_PORT: &str =
    "the peer opened a TLS handshake, but this endpoint speaks plain TCP";

fn is_tls_hello_error(e: &Error) -> bool {
    matches!(e, Error::Handshake { reason } if reason.starts_with(TLS_AT_PLAIN_PORT))
}

/// True when `prefix` starts a TLS record (handshake or alert, TLS 1.0 to 1.3),
/// never the length of a Brisk hello (those are under 4 KiB).
fn is_tls_record(prefix: &[u8; 4]) -> bool {
    (0x14..=0x17).contains(&prefix[0]) && prefix[1] == 0x03 && prefix[2] <= 0x04
}

async fn read_hello<S: AsyncRead + Unpin>(stream: &mut S, side: Side) -> Result<Hello> {
    let limits = Limits {
        max_message: 4096,
        max_frame: 4096,
        max_frames: 1,
        max_inflated: 4096,
    };
    let mut prefix = [0u8; 4];
    stream.read_exact(&mut prefix).await.map_err(|e| {
        Error::Io(std::io::Error::new(
            e.kind(),
            format!("the peer closed before its hello ({e})"),
        ))
    })?;
    if is_tls_record(&prefix) {
        return Err(Error::Handshake {
            reason: match side {
                Side::Connecting => {
                    "this endpoint expects TLS (it answered with a TLS record): connect with TLS options"
                        .into()
                }
                Side::Accepting => format!(
                    "{TLS_AT_PLAIN_PORT} (start it with TLS options, or connect without TLS)"
                ),
            },
        });
    }
    let len = u32::from_le_bytes(prefix) as usize;
    if len > limits.max_message {
        return Err(Error::Handshake {
            reason: format!("a hello of {len} bytes is not a Brisk hello"),
        });
    }
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).await.map_err(|e| {
        Error::Io(std::io::Error::new(
            e.kind(),
            format!("the peer's hello was cut short ({e})"),
        ))
    })?;
    let msg = decode(&body, &limits).map_err(|e| Error::Handshake {
        reason: format!("the first message is not a Brisk hello ({e})"),
    })?;
    Hello::from_header(&msg.header)
}
