//! Content tokens: a fixed, versioned hash over a canonical encoding of a value.
//!
//! A task's token is the hash of its op's registered name, its bound parameters and
//! its input keys, so the same work always gets the same key (and runs once), in any
//! process, on any machine. Tokens are therefore a contract:
//!
//! - the hasher is xxh3-128 seeded with [`TOKEN_VERSION`]; changing the encoding of any
//!   type means bumping the version;
//! - every value is written with a type tag and explicit lengths, so `("ab", "c")` and
//!   `("a", "bc")` differ;
//! - unordered collections (hash maps and sets) are hashed in the order of their
//!   elements' own tokens, so insertion order never matters;
//! - floats hash their bits, with every NaN made one canonical NaN and `-0.0` kept
//!   distinct from `0.0` (they are different values to a program);
//! - what cannot be hashed deterministically is an [`Error::Tokenize`], never a random
//!   token.
//!
//! `core/tests/data/tokens.txt` pins the expected token of a set of values: a change of
//! encoding shows up there as a reviewed diff.
//!
//! ```
//! use brisk_core::token::tokenize;
//! let a = tokenize(&("inc", 1_i64)).unwrap();
//! let b = tokenize(&("inc", 1_i64)).unwrap();
//! assert_eq!(a, b);
//! assert_ne!(a, tokenize(&("inc", 2_i64)).unwrap());
//! ```

mod file;
mod impls;
#[cfg(feature = "ndarray")]
mod ndarray_impls;
#[cfg(feature = "polars")]
mod polars_impls;

pub use file::FileIdentity;
pub use impls::Bytes;
#[cfg(feature = "ndarray")]
pub use ndarray_impls::TokenElement;

use crate::error::{Error, Result};
use std::fmt;
use xxhash_rust::xxh3::Xxh3;

/// Version of the canonical encoding; part of every token.
pub const TOKEN_VERSION: u64 = 1;

/// A 128-bit content token.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Token(pub [u8; 16]);

impl Token {
    /// The token as 32 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(32);
        for b in self.0 {
            use fmt::Write;
            let _ = write!(s, "{b:02x}");
        }
        s
    }

    /// The first 64 bits, for hash tables.
    pub fn low64(&self) -> u64 {
        u64::from_le_bytes(self.0[..8].try_into().unwrap_or([0; 8]))
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({})", self.to_hex())
    }
}

/// Type tags of the canonical encoding. Never renumber: add new tags at the end.
#[allow(missing_docs)]
pub mod tag {
    pub const UNIT: u8 = 0;
    pub const BOOL: u8 = 1;
    pub const U8: u8 = 2;
    pub const U16: u8 = 3;
    pub const U32: u8 = 4;
    pub const U64: u8 = 5;
    pub const U128: u8 = 6;
    pub const USIZE: u8 = 7;
    pub const I8: u8 = 8;
    pub const I16: u8 = 9;
    pub const I32: u8 = 10;
    pub const I64: u8 = 11;
    pub const I128: u8 = 12;
    pub const ISIZE: u8 = 13;
    pub const F32: u8 = 14;
    pub const F64: u8 = 15;
    pub const CHAR: u8 = 16;
    pub const STR: u8 = 17;
    pub const BYTES: u8 = 18;
    pub const SEQ: u8 = 19;
    pub const TUPLE: u8 = 20;
    pub const NONE: u8 = 21;
    pub const SOME: u8 = 22;
    pub const MAP: u8 = 23;
    pub const SET: u8 = 24;
    pub const FILE: u8 = 25;
    pub const NDARRAY: u8 = 26;
    pub const KEY: u8 = 27;
    pub const TOKEN: u8 = 28;
    pub const OP: u8 = 29;
    pub const PATH: u8 = 30;
    pub const FRAME: u8 = 31;
}

/// The hasher every token is computed with.
pub struct Hasher {
    inner: Xxh3,
}

impl Default for Hasher {
    fn default() -> Self {
        Self::new()
    }
}

impl Hasher {
    /// A hasher seeded with [`TOKEN_VERSION`].
    pub fn new() -> Self {
        Hasher {
            inner: Xxh3::with_seed(TOKEN_VERSION),
        }
    }

    /// Writes one type tag.
    #[inline]
    pub fn write_tag(&mut self, tag: u8) {
        self.inner.update(&[tag]);
    }

    /// Writes a length or count.
    #[inline]
    pub fn write_len(&mut self, len: usize) {
        self.inner.update(&(len as u64).to_le_bytes());
    }

    /// Writes raw bytes with no length prefix (the caller wrote the length).
    #[inline]
    pub fn write_raw(&mut self, bytes: &[u8]) {
        self.inner.update(bytes);
    }

    /// Writes a tagged, length-prefixed byte string.
    #[inline]
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        self.write_tag(tag::BYTES);
        self.write_len(bytes.len());
        self.inner.update(bytes);
    }

    /// Writes a tagged, length-prefixed string.
    #[inline]
    pub fn write_str(&mut self, s: &str) {
        self.write_tag(tag::STR);
        self.write_len(s.len());
        self.inner.update(s.as_bytes());
    }

    /// Writes a token computed elsewhere (for nesting).
    #[inline]
    pub fn write_token(&mut self, t: &Token) {
        self.write_tag(tag::TOKEN);
        self.inner.update(&t.0);
    }

    /// The token of everything written so far.
    pub fn finish(&self) -> Token {
        Token(self.inner.digest128().to_le_bytes())
    }
}

/// Values with a deterministic content token.
///
/// Implementations write a type tag, then their content, with explicit lengths for
/// anything variable-sized. Return [`Error::Tokenize`] when the value cannot be
/// hashed deterministically.
pub trait Tokenize {
    /// Feeds the canonical encoding of `self` to `h`.
    fn tokenize(&self, h: &mut Hasher) -> Result<()>;
}

/// The token of one value.
pub fn tokenize<T: Tokenize + ?Sized>(value: &T) -> Result<Token> {
    let mut h = Hasher::new();
    value.tokenize(&mut h)?;
    Ok(h.finish())
}

/// The error for a value that has no deterministic token.
pub fn untokenizable(what: impl Into<String>, reason: impl Into<String>) -> Error {
    Error::Tokenize {
        what: what.into(),
        reason: reason.into(),
    }
}
