//! One spilled value in one file: the value's own encoding (its type tag, small
//! header and bulk frames), each frame LZ4-compressed where a sample of it
//! compresses, with a checksum over everything after the fixed prefix.
//!
//! ```text
//! file   := magic:8 ("BRSPILL1") header_len:u32le crc32:u32le header frame*
//! header := msgpack { type_tag, value_header, frames: [(raw_len, stored_len, lz4)] }
//! ```

use crate::error::{Error, Result};
use crate::protocol::compression::{decompress, maybe_compress};
use brisk_core::value::{decode, Encoded};
use brisk_core::Value;
use std::io::{Read, Write};
use std::path::Path;

const MAGIC: &[u8; 8] = b"BRSPILL1";
/// Headers past this size are not ours (a corrupt length).
const MAX_HEADER: usize = 1 << 20;

#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    type_tag: String,
    #[serde(with = "serde_bytes")]
    value_header: Vec<u8>,
    /// Per frame: bytes once read, bytes in the file, whether LZ4.
    frames: Vec<(u64, u64, bool)>,
}

/// Writes `value` to `path` (created or replaced); the bytes written.
pub fn write(path: &Path, value: &Value) -> Result<u64> {
    let result = write_inner(path, value);
    if result.is_err() {
        let _ = std::fs::remove_file(path);
    }
    result
}

fn write_inner(path: &Path, value: &Value) -> Result<u64> {
    let encoded;
    let borrowed = value.encode_borrowed();
    let (type_tag, value_header, raw): (&str, &[u8], Vec<&[u8]>) =
        match (value.as_bytes(), &borrowed) {
            (Some(bytes), _) => (value.type_tag(), &[], vec![bytes]),
            // The frame straight from the value: no copy.
            (None, Some((header, frame))) => (value.type_tag(), header, vec![*frame]),
            (None, None) => {
                encoded = value.encode().map_err(|e| Error::Spill {
                    what: "a value".into(),
                    path: path.to_path_buf(),
                    reason: format!("the value cannot be encoded: {e}"),
                })?;
                (
                    &encoded.type_tag,
                    &encoded.header,
                    encoded.frames.iter().map(|f| f.as_slice()).collect(),
                )
            }
        };
    let compressed: Vec<Option<Vec<u8>>> = raw.iter().map(|f| maybe_compress(f)).collect();
    let header = Header {
        type_tag: type_tag.to_string(),
        value_header: value_header.to_vec(),
        frames: raw
            .iter()
            .zip(&compressed)
            .map(|(r, c)| match c {
                Some(c) => (r.len() as u64, c.len() as u64, true),
                None => (r.len() as u64, r.len() as u64, false),
            })
            .collect(),
    };
    let header = rmp_serde::to_vec(&header).map_err(|e| Error::Header(e.to_string()))?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(&header);
    let bodies: Vec<&[u8]> = raw
        .iter()
        .zip(&compressed)
        .map(|(r, c)| c.as_deref().unwrap_or(r))
        .collect();
    for b in &bodies {
        crc.update(b);
    }
    let mut f = std::fs::File::create(path)?;
    f.write_all(MAGIC)?;
    f.write_all(&(header.len() as u32).to_le_bytes())?;
    f.write_all(&crc.finalize().to_le_bytes())?;
    f.write_all(&header)?;
    let mut n = (MAGIC.len() + 8 + header.len()) as u64;
    for b in bodies {
        f.write_all(b)?;
        n += b.len() as u64;
    }
    Ok(n)
}

/// Reads back the value in `path`; a missing, truncated or corrupt file is an
/// [`Error::Spill`] naming it.
pub fn read(path: &Path) -> Result<Value> {
    let bad = |reason: String| Error::Spill {
        what: "a value".into(),
        path: path.to_path_buf(),
        reason,
    };
    let mut f = std::fs::File::open(path).map_err(|e| bad(format!("cannot open it: {e}")))?;
    let mut prefix = [0u8; 16];
    f.read_exact(&mut prefix)
        .map_err(|_| bad("it is truncated (no header)".into()))?;
    if &prefix[..8] != MAGIC {
        return Err(bad("it is not a spill file".into()));
    }
    let header_len = u32::from_le_bytes(prefix[8..12].try_into().expect("4 bytes")) as usize;
    let want_crc = u32::from_le_bytes(prefix[12..16].try_into().expect("4 bytes"));
    if header_len > MAX_HEADER {
        return Err(bad(format!("its header claims {header_len} bytes")));
    }
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut left = size.saturating_sub(prefix.len() as u64);
    let mut take = |n: u64, what: &str| -> Result<Vec<u8>> {
        if n > left {
            return Err(bad(format!("it is truncated (in {what})")));
        }
        left -= n;
        let mut buf = vec![0u8; n as usize];
        f.read_exact(&mut buf)
            .map_err(|e| bad(format!("cannot read it: {e}")))?;
        Ok(buf)
    };
    let mut crc = crc32fast::Hasher::new();
    let header_bytes = take(header_len as u64, "the header")?;
    crc.update(&header_bytes);
    let header: Header = rmp_serde::from_slice(&header_bytes)
        .map_err(|e| bad(format!("its header does not decode: {e}")))?;
    let mut stored = Vec::with_capacity(header.frames.len());
    for &(_, stored_len, _) in &header.frames {
        let body = take(stored_len, "a frame")?;
        crc.update(&body);
        stored.push(body);
    }
    if crc.finalize() != want_crc {
        return Err(bad("its checksum does not match (corrupt)".into()));
    }
    let mut frames = Vec::with_capacity(stored.len());
    for (&(raw_len, _, lz4), body) in header.frames.iter().zip(stored) {
        // LZ4 expands at most about 255 times: a larger claim is corruption.
        if lz4 && raw_len > (body.len() as u64).saturating_mul(255) + 64 {
            return Err(bad(format!("a frame claims {raw_len} bytes")));
        }
        frames.push(if lz4 {
            decompress(&body, raw_len as usize).map_err(bad)?
        } else {
            body
        });
    }
    decode(Encoded {
        type_tag: header.type_tag,
        header: header.value_header,
        frames,
    })
    .map_err(|e| bad(format!("the value does not decode: {e}")))
}
