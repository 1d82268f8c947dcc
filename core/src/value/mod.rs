//! Type-erased task results.
//!
//! A [`Value`] is an `Arc<dyn Data>`: cloning it is one atomic increment, so the
//! scheduler can hand the same result to every dependent without copying. [`Data`]
//! knows its size in bytes (a cheap estimate, never a deep walk), a stable type tag,
//! and how to encode itself into frames for another process; decoders are found by
//! type tag in a link-time registry (see [`codec`]).
//!
//! ```
//! use brisk_core::value::{decode, Data, Value};
//! use std::sync::Arc;
//! let v: Value = Arc::new(vec![1_i64, 2, 3]);
//! assert_eq!(v.type_tag(), "vec<i64>");
//! assert_eq!(v.nbytes(), 24);
//! let back = decode(v.encode().unwrap()).unwrap();
//! assert_eq!(back.downcast_ref::<Vec<i64>>(), Some(&vec![1, 2, 3]));
//! ```

pub mod codec;
mod nbytes;
#[cfg(feature = "ndarray")]
mod ndarray_data;
pub mod probe;
mod serde_data;

pub use codec::{decode, DecoderRegistration, Encoded};
pub use nbytes::NBytes;

use crate::error::{Error, Result};
use std::any::Any;
use std::sync::Arc;

/// A task result, shared between every task that reads it.
pub type Value = Arc<dyn Data>;

/// What a task result must be able to do.
pub trait Data: Any + Send + Sync {
    /// Approximate size in bytes; cheap (constant time or a bounded sample).
    fn nbytes(&self) -> usize;
    /// Stable name of the type, used to find its decoder in another process.
    fn type_tag(&self) -> &'static str;
    /// Encodes the value into a header and frames.
    fn encode(&self) -> Result<Encoded>;
    /// Upcast for downcasting.
    fn as_any(&self) -> &dyn Any;
    /// The value's bytes, when the value is one byte buffer whose encoding is that
    /// buffer as its only frame (`Vec<u8>`): the wire then sends it from the value
    /// itself instead of copying it into a frame.
    fn as_bytes(&self) -> Option<&[u8]> {
        None
    }
    /// The value's encoding with its one frame borrowed from the value itself
    /// (an array in standard layout): `(header, frame)`, the same as
    /// [`encode`](Data::encode) gives, without copying the frame. Spilling uses it.
    fn encode_borrowed(&self) -> Option<(Vec<u8>, &[u8])> {
        None
    }
}

impl dyn Data {
    /// The value as a `T`, if it is one.
    pub fn downcast_ref<T: 'static>(&self) -> Option<&T> {
        self.as_any().downcast_ref::<T>()
    }

    /// The value as a `T`, or a [`Error::TypeMismatch`] naming both types.
    pub fn expect_ref<T: Data>(&self) -> Result<&T> {
        self.downcast_ref::<T>().ok_or_else(|| Error::TypeMismatch {
            expected: std::any::type_name::<T>().to_string(),
            found: self.type_tag().to_string(),
        })
    }
}

impl std::fmt::Debug for dyn Data {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Value<{}, {} bytes>", self.type_tag(), self.nbytes())
    }
}

/// Downcasts a value and clones it out, or says which types disagreed.
pub fn take<T: Data + Clone>(value: &Value) -> Result<T> {
    value.expect_ref::<T>().cloned()
}
