//! Encoding and decoding of messages.

use super::compression::{decompress, maybe_compress};
use crate::error::{Error, Result};
use std::borrow::Cow;
use std::io::{Read, Write};

/// The first byte of every message body.
pub const MAGIC: u8 = 0xB5;

const TABLE_ENTRY: usize = 9;

/// What a process accepts from a peer. Every size is checked against the frame
/// table before anything is allocated or inflated.
///
/// ```
/// use brisk_scheduler::protocol::Limits;
/// // A process that never needs values over 64 MiB refuses larger ones, and
/// // compressed ones that would inflate past that.
/// let small = Limits { max_frame: 64 << 20, max_inflated: 128 << 20, ..Limits::default() };
/// assert!(small.max_inflated <= 2 * small.max_message);
/// ```
///
/// Each process announces its limits in its hello ([`Hello::limits`](super::Hello)),
/// and a peer merges and splits what it sends so no message exceeds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Largest message body on the wire (the largest legitimate message).
    pub max_message: usize,
    /// Largest frame after decompression.
    pub max_frame: usize,
    /// Most frames in one message.
    pub max_frames: usize,
    /// Largest whole message after decompression (all its frames together). LZ4
    /// inflates up to 255 times, so this, not `max_message`, bounds what a
    /// compressed message costs the receiver.
    pub max_inflated: usize,
}

impl Default for Limits {
    /// 1 GiB on the wire and per frame, 2 GiB for a whole message inflated.
    fn default() -> Self {
        Limits {
            max_message: 1 << 30,
            max_frame: 1 << 30,
            max_frames: 4096,
            max_inflated: 2 << 30,
        }
    }
}

impl Limits {
    /// What a sender puts in one message for a receiver with these limits: at
    /// most this many value frames (the header is one more), and, counting the
    /// frames before compression with an estimate of the header, at most half
    /// the bytes it accepts (the rest is room for the header).
    pub fn batch_budget(&self) -> (usize, usize) {
        (
            self.max_frames.max(2) - 1,
            self.max_message.min(self.max_inflated) / 2,
        )
    }
}

/// A decoded message: the msgpack header and the buffers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The msgpack header (frame 0).
    pub header: Vec<u8>,
    /// The other frames, decompressed.
    pub frames: Vec<Vec<u8>>,
}

fn malformed(reason: impl Into<String>) -> Error {
    Error::Malformed {
        reason: reason.into(),
    }
}

/// The pieces to write for one message, in order: the length prefix, frame table
/// and header in one small buffer, then each frame (borrowed when sent raw). With
/// `compress`, frames of 64 KiB or more whose sample compresses travel as LZ4.
pub fn encode<'a>(
    header: &[u8],
    frames: &[&'a [u8]],
    compress: bool,
) -> Result<Vec<Cow<'a, [u8]>>> {
    let n = frames.len() + 1;
    if n > u16::MAX as usize {
        return Err(malformed(format!(
            "{n} frames are more than a message can hold"
        )));
    }
    let mut payloads: Vec<(Cow<'a, [u8]>, u32, u8)> = Vec::with_capacity(frames.len());
    for f in frames {
        let raw_len = u32::try_from(f.len()).map_err(|_| Error::TooLarge {
            what: "a frame",
            size: f.len() as u64,
            limit: u32::MAX as u64,
        })?;
        match compress.then(|| maybe_compress(f)).flatten() {
            Some(c) => payloads.push((Cow::Owned(c), raw_len, 1)),
            None => payloads.push((Cow::Borrowed(*f), raw_len, 0)),
        }
    }
    let header_len = u32::try_from(header.len()).map_err(|_| Error::TooLarge {
        what: "a header",
        size: header.len() as u64,
        limit: u32::MAX as u64,
    })?;
    let body_len: u64 = 1
        + 2
        + (n * TABLE_ENTRY) as u64
        + header.len() as u64
        + payloads.iter().map(|(p, _, _)| p.len() as u64).sum::<u64>();
    let body_len = u32::try_from(body_len).map_err(|_| Error::TooLarge {
        what: "a message",
        size: body_len,
        limit: u32::MAX as u64,
    })?;
    let mut head = Vec::with_capacity(4 + 3 + n * TABLE_ENTRY + header.len());
    head.extend_from_slice(&body_len.to_le_bytes());
    head.push(MAGIC);
    head.extend_from_slice(&(n as u16).to_le_bytes());
    head.extend_from_slice(&header_len.to_le_bytes());
    head.extend_from_slice(&header_len.to_le_bytes());
    head.push(0);
    for (p, raw_len, codec) in &payloads {
        head.extend_from_slice(&(p.len() as u32).to_le_bytes());
        head.extend_from_slice(&raw_len.to_le_bytes());
        head.push(*codec);
    }
    head.extend_from_slice(header);
    let mut out = Vec::with_capacity(1 + payloads.len());
    out.push(Cow::Owned(head));
    out.extend(payloads.into_iter().map(|(p, _, _)| p));
    Ok(out)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut x = [0u8; 4];
    x.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(x)
}

/// One entry of a message's frame table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameEntry {
    /// Bytes on the wire.
    pub wire_len: usize,
    /// Bytes after decompression.
    pub raw_len: usize,
    /// 0 raw, 1 LZ4.
    pub codec: u8,
}

/// The number of frames announced by the first 3 bytes of a body (magic and
/// count), checked against the limits.
pub fn frame_count(first: &[u8], limits: &Limits) -> Result<usize> {
    if first.len() < 3 {
        return Err(malformed(format!(
            "a body of {} bytes is too short",
            first.len()
        )));
    }
    if first[0] != MAGIC {
        return Err(malformed(format!("bad magic byte {:#04x}", first[0])));
    }
    let n = u16::from_le_bytes([first[1], first[2]]) as usize;
    if n == 0 {
        return Err(malformed("a message without a header frame"));
    }
    if n > limits.max_frames {
        return Err(Error::TooLarge {
            what: "a frame count",
            size: n as u64,
            limit: limits.max_frames as u64,
        });
    }
    Ok(n)
}

/// The bytes of the body before the first frame: magic, count and table.
pub fn table_end(n: usize) -> usize {
    3 + n * TABLE_ENTRY
}

/// Reads and checks the frame table at the start of a body of `body_len` bytes
/// (`start` holds at least [`table_end`] bytes).
pub fn parse_table(start: &[u8], body_len: usize, limits: &Limits) -> Result<Vec<FrameEntry>> {
    let n = frame_count(start, limits)?;
    let end = table_end(n);
    if start.len() < end || body_len < end {
        return Err(malformed("the frame table is cut short"));
    }
    let mut entries = Vec::with_capacity(n);
    let mut total: u64 = 0;
    let mut inflated: u64 = 0;
    for i in 0..n {
        let at = 3 + i * TABLE_ENTRY;
        let wire_len = u32_at(start, at) as usize;
        let raw_len = u32_at(start, at + 4) as usize;
        let codec = start[at + 8];
        if raw_len > limits.max_frame {
            return Err(Error::TooLarge {
                what: "a frame",
                size: raw_len as u64,
                limit: limits.max_frame as u64,
            });
        }
        match codec {
            0 if wire_len != raw_len => {
                return Err(malformed(format!(
                    "raw frame {i} says {wire_len} bytes on the wire but {raw_len} in all"
                )))
            }
            0 | 1 => {}
            other => return Err(malformed(format!("frame {i} has unknown codec {other}"))),
        }
        if i == 0 && codec != 0 {
            return Err(malformed("the header frame is compressed"));
        }
        total += wire_len as u64;
        inflated += raw_len as u64;
        entries.push(FrameEntry {
            wire_len,
            raw_len,
            codec,
        });
    }
    if inflated > limits.max_inflated as u64 {
        return Err(Error::TooLarge {
            what: "a message after decompression",
            size: inflated,
            limit: limits.max_inflated as u64,
        });
    }
    if total != (body_len - end) as u64 {
        return Err(malformed(format!(
            "the frame table announces {total} bytes but {} follow",
            body_len - end
        )));
    }
    Ok(entries)
}

/// A frame as it arrived, made whole (decompressed when it travelled as LZ4).
pub fn unpack_frame(entry: FrameEntry, bytes: Vec<u8>) -> Result<Vec<u8>> {
    match entry.codec {
        0 => Ok(bytes),
        _ => decompress(&bytes, entry.raw_len).map_err(malformed),
    }
}

/// Decodes one message body (the bytes after the length prefix).
pub fn decode(body: &[u8], limits: &Limits) -> Result<Message> {
    if body.len() > limits.max_message {
        return Err(Error::TooLarge {
            what: "a message",
            size: body.len() as u64,
            limit: limits.max_message as u64,
        });
    }
    let entries = parse_table(body, body.len(), limits)?;
    let mut at = table_end(entries.len());
    let mut frames = Vec::with_capacity(entries.len() - 1);
    let mut header = Vec::new();
    for (i, e) in entries.into_iter().enumerate() {
        let bytes = &body[at..at + e.wire_len];
        at += e.wire_len;
        let frame = match e.codec {
            0 => bytes.to_vec(),
            _ => decompress(bytes, e.raw_len).map_err(malformed)?,
        };
        if i == 0 {
            header = frame;
        } else {
            frames.push(frame);
        }
    }
    Ok(Message { header, frames })
}

/// Writes one message (see [`encode`]).
pub fn write_message(
    w: &mut impl Write,
    header: &[u8],
    frames: &[&[u8]],
    compress: bool,
) -> Result<()> {
    for piece in encode(header, frames, compress)? {
        w.write_all(&piece)?;
    }
    Ok(())
}

/// Reads one message; `None` when the peer closed the connection between messages.
/// The body is allocated only after its announced length passed the limits, and
/// filled as bytes arrive (a peer announcing much and sending little costs what it
/// sent).
pub fn read_message(r: &mut impl Read, limits: &Limits) -> Result<Option<Message>> {
    let mut prefix = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match r.read(&mut prefix[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => {
                return Err(Error::Truncated {
                    needed: 4,
                    got: got as u64,
                })
            }
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let len = u32::from_le_bytes(prefix) as usize;
    if len > limits.max_message {
        return Err(Error::TooLarge {
            what: "a message",
            size: len as u64,
            limit: limits.max_message as u64,
        });
    }
    let mut body = Vec::new();
    let read = r.take(len as u64).read_to_end(&mut body)?;
    if read < len {
        return Err(Error::Truncated {
            needed: len as u64,
            got: read as u64,
        });
    }
    decode(&body, limits).map(Some)
}
