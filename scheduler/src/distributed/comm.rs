//! Connections on tokio: the handshake, a reader that yields batches of typed
//! messages, and a writer task that batches whatever queued while it was writing
//! (an idle connection flushes at once; a busy one sends many messages per write).

use super::messages::{split_batch, Incoming, Msg, Outgoing};
use super::tls::{server_name, Tls};
use crate::error::{Error, Result};
use crate::protocol::{
    check_hello, decode, encode, frame_count, parse_table, table_end, unpack_frame, Hello, Limits,
    Role,
};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

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
/// whatever queued meanwhile.
#[derive(Clone)]
pub struct Outbox(mpsc::UnboundedSender<Queued>);

enum Queued {
    Batch(Outgoing),
    /// The last batch: the writer sends it and closes the connection.
    Last(Outgoing),
}

impl Outbox {
    /// Starts the writer task on the current runtime.
    pub fn spawn(mut w: impl AsyncWrite + Unpin + Send + 'static, compress: bool) -> Outbox {
        let (tx, mut rx) = mpsc::unbounded_channel::<Queued>();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let (mut batch, mut last) = match first {
                    Queued::Batch(b) => (b, false),
                    Queued::Last(b) => (b, true),
                };
                while !last {
                    match rx.try_recv() {
                        Ok(Queued::Batch(more)) => batch.extend(more),
                        Ok(Queued::Last(more)) => {
                            batch.extend(more);
                            last = true;
                        }
                        Err(_) => break,
                    }
                }
                if write_batch(&mut w, &batch, compress).await.is_err() || last {
                    break;
                }
            }
            let _ = w.shutdown().await;
        });
        Outbox(tx)
    }

    /// Queues a batch; false when the connection is gone.
    pub fn send(&self, batch: Outgoing) -> bool {
        self.0.send(Queued::Batch(batch)).is_ok()
    }

    /// Queues a last batch (a goodbye saying why): once it is written the
    /// connection is shut down, whoever else holds this outbox.
    pub fn close(&self, batch: Outgoing) -> bool {
        self.0.send(Queued::Last(batch)).is_ok()
    }

    /// Resolves when the writer has stopped (after [`Outbox::close`], or a failed
    /// write): the reading side can stop too.
    pub async fn closed(&self) {
        self.0.closed().await
    }
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
    match tokio::time::timeout(timeout, connect_now(address, role, token, tls)).await {
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
) -> Result<BoxStream> {
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
    let hello = Hello::new(role, token).to_header()?;
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
    Ok(stream)
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
            let mut refusal = Hello::new(role, None);
            refusal.refusal = Some(match &e {
                Error::Handshake { reason } => reason.clone(),
                other => other.to_string(),
            });
            if let Ok(h) = refusal.to_header() {
                if let Ok(pieces) = encode(&h, &[], false) {
                    let _ = stream.write_all(&pieces[0]).await;
                    let _ = stream.flush().await;
                }
            }
            let _ = stream.shutdown().await;
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    let answer = Hello::new(role, None).to_header()?;
    let pieces = encode(&answer, &[], false)?;
    stream.write_all(&pieces[0]).await?;
    stream.flush().await?;
    Ok((stream, hello))
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
