//! Compression inferred from a file's extension, or given explicitly.

use crate::error::{Error, Result};
use brisk_core::token::{Hasher, Tokenize};
use std::io::Read;

/// How a file is compressed. A compressed file is read as one block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Compression {
    /// Plain bytes.
    None,
    /// gzip (`.gz`), including multi-member files.
    Gzip,
    /// Zstandard (`.zst`, `.zstd`).
    Zstd,
    /// bzip2 (`.bz2`).
    Bz2,
}

impl Compression {
    /// The compression a file name implies.
    ///
    /// ```
    /// use brisk_io::compression::Compression;
    /// assert_eq!(Compression::infer("2015-01-01-0.json.gz"), Compression::Gzip);
    /// assert_eq!(Compression::infer("a.csv.zst"), Compression::Zstd);
    /// assert_eq!(Compression::infer("a.csv"), Compression::None);
    /// ```
    pub fn infer(name: &str) -> Compression {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".gz") || lower.ends_with(".gzip") {
            Compression::Gzip
        } else if lower.ends_with(".zst") || lower.ends_with(".zstd") {
            Compression::Zstd
        } else if lower.ends_with(".bz2") {
            Compression::Bz2
        } else {
            Compression::None
        }
    }

    /// The name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Bz2 => "bz2",
        }
    }

    /// Decompresses a whole file's bytes; `url` names it in errors.
    pub fn decompress(self, bytes: &[u8], url: &str) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(self.size_hint(bytes));
        let res = match self {
            Compression::None => {
                out.extend_from_slice(bytes);
                Ok(0)
            }
            Compression::Gzip => flate2::read::MultiGzDecoder::new(bytes).read_to_end(&mut out),
            Compression::Zstd => {
                zstd::stream::read::Decoder::new(bytes).and_then(|mut d| d.read_to_end(&mut out))
            }
            Compression::Bz2 => bzip2::read::MultiBzDecoder::new(bytes).read_to_end(&mut out),
        };
        res.map_err(|e| Error::Decompress {
            url: url.to_string(),
            compression: self.name(),
            reason: e.to_string(),
        })?;
        Ok(out)
    }

    /// A capacity for the decompressed bytes: gzip's trailer gives the size of its
    /// last member (modulo 4 GiB), trusted only up to deflate's largest ratio and
    /// 1 GiB, so a hostile trailer cannot make a huge allocation.
    fn size_hint(self, bytes: &[u8]) -> usize {
        let guess = bytes.len().saturating_mul(4);
        match (self, bytes.len()) {
            (Compression::Gzip, n) if n >= 18 => {
                let mut isize = [0u8; 4];
                isize.copy_from_slice(&bytes[n - 4..]);
                let stated = u32::from_le_bytes(isize) as usize;
                let bound = n.saturating_mul(1032).min(1 << 30);
                // One spare byte lets read_to_end see the end without growing.
                stated.saturating_add(1).min(bound).max(guess.min(bound))
            }
            (Compression::None, n) => n,
            _ => guess,
        }
    }

    /// Compresses bytes (for writers and tests).
    pub fn compress(self, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
        use std::io::Write;
        match self {
            Compression::None => Ok(bytes.to_vec()),
            Compression::Gzip => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(bytes)?;
                e.finish()
            }
            Compression::Zstd => zstd::stream::encode_all(bytes, 3),
            Compression::Bz2 => {
                let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
                e.write_all(bytes)?;
                e.finish()
            }
        }
    }
}

impl Tokenize for Compression {
    fn tokenize(&self, h: &mut Hasher) -> brisk_core::Result<()> {
        h.write_str(self.name());
        Ok(())
    }
}
