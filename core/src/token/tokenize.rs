//! Values with a deterministic content token, and the error for those without one.

use super::hasher::Hasher;
use super::token::Token;
use crate::error::{Error, Result};

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
