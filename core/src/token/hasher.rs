//! The hasher of the canonical encoding: its version, its type tags, and the
//! writes every [`Tokenize`](super::Tokenize) implementation is made of.

use super::token::Token;
use xxhash_rust::xxh3::Xxh3;

/// Version of the canonical encoding; part of every token.
pub const TOKEN_VERSION: u64 = 1;

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
