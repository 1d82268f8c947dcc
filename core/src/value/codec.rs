//! Encoding values into frames, and the registry of decoders by type tag.

use super::Value;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::sync::OnceLock;

/// A value encoded for another process: its type tag, a small header and the frames
/// that hold the bulk of the data (sent as they are, never copied into the header).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Encoded {
    /// The type tag that picks the decoder.
    pub type_tag: String,
    /// Small metadata (msgpack), e.g. an array's shape and dtype.
    pub header: Vec<u8>,
    /// Bulk payloads.
    pub frames: Vec<Vec<u8>>,
}

/// A decoder registered for one type tag.
pub struct DecoderRegistration {
    /// The tag that [`super::Data::type_tag`] returns for the type.
    pub type_tag: &'static str,
    /// Rebuilds the value.
    pub decode: fn(&Encoded) -> Result<Value>,
}

inventory::collect!(DecoderRegistration);

fn registry() -> &'static HashMap<&'static str, fn(&Encoded) -> Result<Value>> {
    static REGISTRY: OnceLock<HashMap<&'static str, fn(&Encoded) -> Result<Value>>> =
        OnceLock::new();
    REGISTRY.get_or_init(|| {
        inventory::iter::<DecoderRegistration>
            .into_iter()
            .map(|r| (r.type_tag, r.decode))
            .collect()
    })
}

/// Decodes a value with the decoder registered for its type tag.
///
/// An unknown tag or malformed bytes give an [`Error::Decode`] naming the tag.
///
/// ```
/// use brisk_core::value::{decode, Encoded};
/// let bad = Encoded { type_tag: "i64".into(), header: vec![], frames: vec![vec![0xc1]] };
/// let err = decode(bad).unwrap_err().to_string();
/// assert!(err.contains("cannot decode a value of type 'i64'"), "{err}");
/// ```
pub fn decode(mut encoded: Encoded) -> Result<Value> {
    // Bytes are the one type whose frame is the value: keep it, do not copy it.
    if encoded.type_tag == "vec<u8>" && encoded.frames.len() == 1 {
        return Ok(std::sync::Arc::new(
            encoded.frames.pop().unwrap_or_default(),
        ));
    }
    match registry().get(encoded.type_tag.as_str()) {
        Some(f) => f(&encoded),
        None => Err(Error::Decode {
            type_tag: encoded.type_tag.clone(),
            reason: "no decoder is registered for this type tag in this executable".into(),
        }),
    }
}

/// Encodes a serde value as one msgpack frame.
pub fn encode_msgpack<T: serde::Serialize>(type_tag: &'static str, x: &T) -> Result<Encoded> {
    let bytes = rmp_serde::to_vec(x).map_err(|e| Error::Encode {
        type_tag: type_tag.to_string(),
        reason: e.to_string(),
    })?;
    Ok(Encoded {
        type_tag: type_tag.to_string(),
        header: Vec::new(),
        frames: vec![bytes],
    })
}

/// Decodes a serde value from one msgpack frame.
pub fn decode_msgpack<T: serde::de::DeserializeOwned>(encoded: &Encoded) -> Result<T> {
    let err = |reason: String| Error::Decode {
        type_tag: encoded.type_tag.clone(),
        reason,
    };
    match encoded.frames.as_slice() {
        [frame] => rmp_serde::from_slice(frame).map_err(|e| err(e.to_string())),
        frames => Err(err(format!("expected 1 frame, found {}", frames.len()))),
    }
}
