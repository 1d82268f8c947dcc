//! The content token: 128 bits, printed as 32 hex digits.

use std::fmt;

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
