//! Bounded msgpack decoding: a header nested deeper than [`MAX_NESTING`] is
//! refused before serde sees it.
//!
//! serde's deserializers recurse once per level of nesting, so a few kilobytes of
//! nested arrays can overflow the stack of the thread that reads them (an abort,
//! not an error). [`check_nesting`] walks the bytes with a loop and an explicit
//! count of open containers, so it uses the same stack whatever the input; only
//! bytes that pass it are handed to `rmp_serde`, whose own depth limit is set as
//! well.

use crate::error::{Error, Result};
use serde::de::DeserializeOwned;

/// The deepest nesting of arrays, maps and extensions a message header may have.
/// Brisk's own messages stay below 16; a reading thread's stack holds hundreds.
pub const MAX_NESTING: usize = 64;

fn malformed(reason: String) -> Error {
    Error::Malformed { reason }
}

/// Checks that the msgpack values in `bytes` nest at most `max_depth` deep,
/// without recursion; bytes cut short inside a value are an error too.
///
/// ```
/// use brisk_scheduler::protocol::check_nesting;
/// assert!(check_nesting(&[0x91, 0x91, 0x01], 2).is_ok()); // [[1]]
/// assert!(check_nesting(&[0x91, 0x91, 0x91, 0x01], 2).is_err()); // [[[1]]]
/// ```
pub fn check_nesting(bytes: &[u8], max_depth: usize) -> Result<()> {
    // Items still expected by each open container, innermost last.
    let mut open: Vec<u64> = Vec::new();
    let mut at = 0usize;
    while at < bytes.len() {
        let marker = bytes[at];
        at += 1;
        let (skip, items) = item_shape(marker, &bytes[at..])
            .ok_or_else(|| malformed(format!("msgpack cut short at byte {}", at - 1)))?;
        at = at
            .checked_add(skip)
            .filter(|end| *end <= bytes.len())
            .ok_or_else(|| malformed(format!("msgpack cut short at byte {}", at - 1)))?;
        if items > 0 {
            if open.len() >= max_depth {
                return Err(malformed(format!(
                    "msgpack nested deeper than {max_depth} levels (at byte {})",
                    at - 1 - skip
                )));
            }
            open.push(items);
            continue;
        }
        // A whole item ended: close every container it completes.
        while let Some(left) = open.last_mut() {
            *left -= 1;
            if *left > 0 {
                break;
            }
            open.pop();
        }
    }
    if !open.is_empty() {
        return Err(malformed("msgpack cut short inside a container".into()));
    }
    Ok(())
}

fn be(bytes: &[u8], n: usize) -> Option<u64> {
    let b = bytes.get(..n)?;
    Some(b.iter().fold(0u64, |acc, x| (acc << 8) | *x as u64))
}

/// For a marker and the bytes after it: how many bytes the item's own data takes
/// (length fields and payload) and how many items it contains (0 for scalars).
fn item_shape(marker: u8, rest: &[u8]) -> Option<(usize, u64)> {
    Some(match marker {
        0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, 0),
        0x80..=0x8f => (0, 2 * (marker & 0x0f) as u64),
        0x90..=0x9f => (0, (marker & 0x0f) as u64),
        0xa0..=0xbf => ((marker & 0x1f) as usize, 0),
        // Reserved: serde reports it; nothing to walk.
        0xc1 => (0, 0),
        0xc4 | 0xd9 => (1 + be(rest, 1)? as usize, 0),
        0xc5 | 0xda => (2 + be(rest, 2)? as usize, 0),
        0xc6 | 0xdb => (4 + be(rest, 4)? as usize, 0),
        // Extensions: length, type byte, payload (opaque bytes, not walked).
        0xc7 => (2 + be(rest, 1)? as usize, 0),
        0xc8 => (3 + be(rest, 2)? as usize, 0),
        0xc9 => (5 + be(rest, 4)? as usize, 0),
        0xca => (4, 0),
        0xcb => (8, 0),
        0xcc | 0xd0 => (1, 0),
        0xcd | 0xd1 => (2, 0),
        0xce | 0xd2 => (4, 0),
        0xcf | 0xd3 => (8, 0),
        0xd4 => (2, 0),
        0xd5 => (3, 0),
        0xd6 => (5, 0),
        0xd7 => (9, 0),
        0xd8 => (17, 0),
        0xdc => (2, be(rest, 2)?),
        0xdd => (4, be(rest, 4)?),
        0xde => (2, 2 * be(rest, 2)?),
        0xdf => (4, 2 * be(rest, 4)?),
    })
}

/// Decodes a msgpack value after [`check_nesting`] passed, with `rmp_serde`'s own
/// depth limit set to the same bound.
pub fn from_msgpack<T: DeserializeOwned>(bytes: &[u8], max_depth: usize) -> Result<T> {
    check_nesting(bytes, max_depth)?;
    let mut de = rmp_serde::Deserializer::from_read_ref(bytes);
    de.set_max_depth(max_depth + 1);
    <T as serde::Deserialize>::deserialize(&mut de)
        .map_err(|e| malformed(format!("undecodable msgpack: {e}")))
}
