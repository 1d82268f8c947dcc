//! Byte blocks aligned on a delimiter.
//!
//! A file is cut at every `blocksize` bytes; each cut moves forward to just after the
//! first delimiter at or past it. So a block starts after the first delimiter at or
//! past its offset (or at 0) and ends after the first delimiter at or past its end
//! (or at the end of the file): every record is in exactly one block, whatever the
//! block size, even a record longer than a block (the blocks it spans but does not
//! start in are empty) or a last record without a final delimiter.

use crate::compression::Compression;
use crate::error::{Error, Result};
use crate::glob::FileInfo;
use crate::runtime::block_on;
use object_store::{ObjectStore, ObjectStoreExt};
use std::ops::Range;

/// How far to read past a cut, at a time, while looking for the delimiter.
const SEEK_CHUNK: u64 = 64 * 1024;

/// One block of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The file.
    pub file: FileInfo,
    /// Where the block's cut is, before moving to a delimiter.
    pub offset: u64,
    /// How many bytes to the next cut; `None` for the whole file.
    pub length: Option<u64>,
    /// How the file is compressed (a compressed file is one whole block).
    pub compression: Compression,
}

/// Cuts files into blocks of about `blocksize` bytes (`None`: one block per file).
/// Compressed files are never cut.
pub fn plan(
    files: &[FileInfo],
    blocksize: Option<u64>,
    compression: Option<Compression>,
) -> Vec<Block> {
    let mut blocks = Vec::new();
    for f in files {
        let c = compression.unwrap_or_else(|| Compression::infer(f.path.as_ref()));
        match blocksize {
            Some(bs) if c == Compression::None && bs > 0 && f.size > bs => {
                let mut off = 0;
                while off < f.size {
                    blocks.push(Block {
                        file: f.clone(),
                        offset: off,
                        length: Some(bs.min(f.size - off)),
                        compression: c,
                    });
                    off += bs;
                }
            }
            _ => blocks.push(Block {
                file: f.clone(),
                offset: 0,
                length: None,
                compression: c,
            }),
        }
    }
    blocks
}

/// Reads a block's bytes (decompressed), aligned on `delimiter`.
pub fn read(store: &dyn ObjectStore, block: &Block, delimiter: &[u8]) -> Result<Vec<u8>> {
    let f = &block.file;
    match block.length {
        None => {
            let got = block_on(async { store.get(&f.path).await?.bytes().await })
                .map_err(|e| Error::store(&f.url, e))?;
            match block.compression {
                Compression::None => Ok(Vec::from(got)),
                c => c.decompress(&got, &f.url),
            }
        }
        Some(length) => {
            let raw = read_aligned(store, f, block.offset, length, delimiter)?;
            match block.compression {
                Compression::None => Ok(raw),
                c => c.decompress(&raw, &f.url),
            }
        }
    }
}

/// The bytes between the delimiter-aligned cuts at `offset` and `offset + length`.
pub fn read_aligned(
    store: &dyn ObjectStore,
    f: &FileInfo,
    offset: u64,
    length: u64,
    delimiter: &[u8],
) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    let range = aligned(f, offset, length, delimiter, &mut buf, |from, to, buf| {
        let b =
            block_on(store.get_range(&f.path, from..to)).map_err(|e| Error::store(&f.url, e))?;
        if buf.is_empty() {
            *buf = Vec::from(b);
        } else {
            buf.extend_from_slice(&b);
        }
        Ok(())
    })?;
    buf.truncate(range.end);
    buf.drain(..range.start);
    Ok(buf)
}

/// [`read_aligned`] for a file on local disk at `path`, read into `buf` (cleared
/// first; a buffer kept between calls is filled without new memory): returns where
/// in `buf` the aligned bytes are.
///
/// ```
/// use brisk_io::{blocks, glob, url::StoreOptions};
/// let dir = std::env::temp_dir().join(format!("brisk-local-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("a.txt");
/// std::fs::write(&path, "one\ntwo\nthree\n").unwrap();
/// let (_, files) = glob::expand(&path.display().to_string(), &StoreOptions::default()).unwrap();
/// let mut buf = Vec::new();
/// let r = blocks::read_local_aligned(&path, &files[0], 2, 5, b"\n", &mut buf).unwrap();
/// assert_eq!(&buf[r], b"two\n");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn read_local_aligned(
    path: &std::path::Path,
    f: &FileInfo,
    offset: u64,
    length: u64,
    delimiter: &[u8],
    buf: &mut Vec<u8>,
) -> Result<Range<usize>> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path).map_err(|e| Error::Store {
        url: f.url.clone(),
        reason: e.to_string(),
    })?;
    buf.clear();
    // The block, the delimiter and one read-ahead chunk, so the usual block needs
    // no second allocation.
    let want = length.saturating_add(SEEK_CHUNK + delimiter.len() as u64);
    buf.reserve_exact(usize::try_from(want.min(f.size.saturating_sub(offset) + 1)).unwrap_or(0));
    aligned(f, offset, length, delimiter, buf, |from, to, buf| {
        let at = buf.len();
        buf.resize(at + (to - from) as usize, 0);
        file.read_exact_at(&mut buf[at..], from)
            .map_err(|e| Error::Store {
                url: f.url.clone(),
                reason: format!(
                    "bytes {from}..{to}: {e} (was the file changed while it was read?)"
                ),
            })
    })
}

/// The delimiter-aligned cut of `[offset, offset + length)`: `fetch(from, to, buf)`
/// appends the file's bytes `from..to` to `buf`, which holds the bytes from `offset`
/// on; returns the range of `buf` that the block's records occupy.
fn aligned(
    f: &FileInfo,
    offset: u64,
    length: u64,
    delimiter: &[u8],
    buf: &mut Vec<u8>,
    mut fetch: impl FnMut(u64, u64, &mut Vec<u8>) -> Result<()>,
) -> Result<Range<usize>> {
    if delimiter.is_empty() {
        return Err(Error::BadBlock {
            url: f.url.clone(),
            reason: "the delimiter is empty".into(),
        });
    }
    let size = f.size;
    if offset > size {
        return Err(Error::BadBlock {
            url: f.url.clone(),
            reason: format!("offset {offset} is past the end ({size} bytes)"),
        });
    }
    let target = offset.saturating_add(length).min(size);
    let mut fetch = |from: u64, to: u64, buf: &mut Vec<u8>| -> Result<()> {
        if from >= to {
            return Ok(());
        }
        fetch(from, to, buf)
    };
    let dlen = delimiter.len() as u64;
    // The block's own bytes, plus enough to see a delimiter that starts before the cut
    // at `target` but ends after it.
    fetch(offset, target.saturating_add(dlen - 1).min(size), buf)?;
    // Finds the first delimiter starting at or after `from`, growing `buf` as needed.
    let mut find = |buf: &mut Vec<u8>, from: u64| -> Result<Option<u64>> {
        let mut scan_from = from;
        loop {
            let rel = (scan_from - offset) as usize;
            if rel < buf.len() {
                if let Some(p) = find_bytes(&buf[rel..], delimiter) {
                    return Ok(Some(scan_from + p as u64));
                }
            }
            let end = offset + buf.len() as u64;
            if end >= size {
                return Ok(None);
            }
            fetch(end, (end + SEEK_CHUNK).min(size), buf)?;
            // A delimiter may straddle the old end.
            scan_from = scan_from.max(end.saturating_sub(dlen - 1));
        }
    };
    // A block holds the records that start inside it: none when no delimiter starts in
    // [offset, target) (a record longer than the block began earlier). Returning at
    // once keeps a very long record from being read once per block it spans.
    let start = if offset == 0 {
        0
    } else {
        match find_bytes(buf, delimiter) {
            Some(p) if offset + (p as u64) < target => offset + p as u64 + dlen,
            _ => return Ok(0..0),
        }
    };
    let end = if target >= size {
        size
    } else {
        find(buf, target)?.map_or(size, |p| p + dlen)
    };
    if start >= end {
        return Ok(0..0);
    }
    let (s, e) = ((start - offset) as usize, (end - offset) as usize);
    if e > buf.len() {
        // `end == size` with the buffer short of it (no delimiter searched that far).
        let have = offset + buf.len() as u64;
        fetch(have, end, buf)?;
    }
    if e > buf.len() {
        return Err(Error::BadBlock {
            url: f.url.clone(),
            reason: format!("the file is shorter than its listed {size} bytes"),
        });
    }
    Ok(s..e)
}

fn find_bytes(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}
