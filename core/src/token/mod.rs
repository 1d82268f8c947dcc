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
//! - what cannot be hashed deterministically is an
//!   [`Error::Tokenize`](crate::Error::Tokenize), never a random
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
mod hasher;
mod impls;
#[cfg(feature = "ndarray")]
mod ndarray_impls;
#[cfg(feature = "polars")]
mod polars_impls;
// The type this folder is about, in the file named after it.
#[allow(clippy::module_inception)]
mod token;
mod tokenize;

pub use file::FileIdentity;
pub use hasher::{tag, Hasher, TOKEN_VERSION};
pub use impls::Bytes;
#[cfg(feature = "ndarray")]
pub use ndarray_impls::TokenElement;
pub use token::Token;
pub use tokenize::{tokenize, untokenizable, Tokenize};
