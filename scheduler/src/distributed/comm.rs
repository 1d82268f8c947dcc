//! Connections on tokio: the handshake, a reader that yields batches of typed
//! messages, and a writer task that batches whatever queued while it was writing
//! (an idle connection flushes at once; a busy one sends many messages per write).

use super::messages::{split_batch, Incoming, Outgoing};
use super::tls::{server_name, Tls};
use crate::error::{Error, Result};
use crate::protocol::{
    check_hello, decode, encode, frame_count, parse_table, table_end, unpack_frame, Hello, Limits,
    Role,
};
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

/// Reads one wire message; `None` when the peer closed between messages. The body
/// is allocated only after its announced length passed the limits and grows as
/// bytes arrive.
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
        frames.push(unpack_frame(e, buf)?);
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
pub struct Outbox(mpsc::UnboundedSender<Outgoing>);

impl Outbox {
    /// Starts the writer task on the current runtime.
    pub fn spawn(mut w: impl AsyncWrite + Unpin + Send + 'static, compress: bool) -> Outbox {
        let (tx, mut rx) = mpsc::unbounded_channel::<Outgoing>();
        tokio::spawn(async move {
            while let Some(mut batch) = rx.recv().await {
                while let Ok(more) = rx.try_recv() {
                    batch.extend(more);
                }
                if write_batch(&mut w, &batch, compress).await.is_err() {
                    break;
                }
            }
            let _ = w.shutdown().await;
        });
        Outbox(tx)
    }

    /// Queues a batch; false when the connection is gone.
    pub fn send(&self, batch: Outgoing) -> bool {
        self.0.send(batch).is_ok()
    }
}

/// Opens a connection (TLS when `tls` is given) and says hello; the peer must
/// answer with a hello of its own.
pub async fn connect(
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
                    reason: format!("TLS with {address}: {e}"),
                })?;
            Box::new(s)
        }
        None => Box::new(tcp),
    };
    let hello = Hello::new(role, token).to_header()?;
    let pieces = encode(&hello, &[], false)?;
    stream.write_all(&pieces[0]).await?;
    stream.flush().await?;
    let answer = read_hello(&mut stream).await?;
    if let Some(reason) = answer.refusal {
        return Err(Error::Handshake {
            reason: format!("{address} refused the connection: {reason}"),
        });
    }
    check_hello(&answer, None)?;
    Ok(stream)
}

/// Accepts a connection: the TLS handshake when `tls` is given, then the peer's
/// hello (checking the token), which is answered. A stranger is refused before it
/// can send anything else.
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
    let hello = read_hello(&mut stream).await?;
    if let Err(e) = check_hello(&hello, token) {
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
    let answer = Hello::new(role, None).to_header()?;
    let pieces = encode(&answer, &[], false)?;
    stream.write_all(&pieces[0]).await?;
    stream.flush().await?;
    Ok((stream, hello))
}

async fn read_hello<S: AsyncRead + Unpin>(stream: &mut S) -> Result<Hello> {
    let limits = Limits {
        max_message: 4096,
        max_frame: 4096,
        max_frames: 1,
    };
    let mut prefix = [0u8; 4];
    stream.read_exact(&mut prefix).await.map_err(|e| {
        Error::Io(std::io::Error::new(
            e.kind(),
            format!("the peer closed before its hello ({e})"),
        ))
    })?;
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
