//! [`Data`](super::Data) for `ndarray::ArrayD<T>`: one raw little-endian buffer frame
//! plus a msgpack header with the shape.

use super::{Data, DecoderRegistration, Encoded, Value};
use crate::error::{Error, Result};
use ndarray::{ArrayD, IxDyn};
use std::sync::Arc;

/// Element types of arrays that travel as raw buffers.
pub trait Element: Copy + Send + Sync + 'static {
    /// The dtype name (NumPy's spelling).
    const DTYPE: &'static str;
    /// The type tag of `ArrayD<Self>`.
    const ARRAY_TAG: &'static str;
    /// Size of one element in bytes.
    const SIZE: usize;
    /// Appends the little-endian bytes of one element.
    fn put(&self, out: &mut Vec<u8>);
    /// Reads one element from exactly `SIZE` bytes.
    fn get(bytes: &[u8]) -> Self;
    /// Appends the little-endian bytes of many elements.
    fn put_all(xs: &[Self], out: &mut Vec<u8>) {
        for x in xs {
            x.put(out);
        }
    }
    /// Reads elements from a whole number of `SIZE`-byte pieces.
    fn get_all(bytes: &[u8]) -> Vec<Self> {
        bytes.chunks_exact(Self::SIZE).map(Self::get).collect()
    }
}

macro_rules! element {
    ($($t:ty => $dtype:expr, $tag:expr);* $(;)?) => {$(
        impl Element for $t {
            const DTYPE: &'static str = $dtype;
            const ARRAY_TAG: &'static str = $tag;
            const SIZE: usize = std::mem::size_of::<$t>();
            #[inline]
            fn put(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            #[inline]
            fn get(bytes: &[u8]) -> Self {
                let mut b = [0u8; std::mem::size_of::<$t>()];
                b.copy_from_slice(bytes);
                <$t>::from_le_bytes(b)
            }
            // On a little-endian machine the buffer is the memory: one copy.
            #[cfg(target_endian = "little")]
            fn put_all(xs: &[Self], out: &mut Vec<u8>) {
                out.extend_from_slice(bytemuck::cast_slice(xs));
            }
            #[cfg(target_endian = "little")]
            fn get_all(bytes: &[u8]) -> Vec<Self> {
                let n = bytes.len() / Self::SIZE;
                let mut v: Vec<$t> = vec![0 as $t; n];
                bytemuck::cast_slice_mut::<$t, u8>(&mut v).copy_from_slice(&bytes[..n * Self::SIZE]);
                v
            }
        }
        impl Data for ArrayD<$t> {
            fn nbytes(&self) -> usize {
                self.len() * <$t as Element>::SIZE
            }
            fn type_tag(&self) -> &'static str {
                $tag
            }
            fn encode(&self) -> Result<Encoded> {
                encode_array(self)
            }
            fn as_any(&self) -> &dyn std::any::Any {
                self
            }
            #[cfg(target_endian = "little")]
            fn encode_borrowed(&self) -> Option<(Vec<u8>, &[u8])> {
                let header = array_header::<$t>(self).ok()?;
                Some((header, bytemuck::cast_slice(self.as_slice()?)))
            }
        }
        inventory::submit! {
            DecoderRegistration { type_tag: $tag, decode: decode_array::<$t> }
        }
    )*};
}

element! {
    f32 => "float32", "ndarray<float32>";
    f64 => "float64", "ndarray<float64>";
    i8 => "int8", "ndarray<int8>";
    i16 => "int16", "ndarray<int16>";
    i32 => "int32", "ndarray<int32>";
    i64 => "int64", "ndarray<int64>";
    u8 => "uint8", "ndarray<uint8>";
    u16 => "uint16", "ndarray<uint16>";
    u32 => "uint32", "ndarray<uint32>";
    u64 => "uint64", "ndarray<uint64>";
}

impl Element for bool {
    const DTYPE: &'static str = "bool";
    const ARRAY_TAG: &'static str = "ndarray<bool>";
    const SIZE: usize = 1;
    fn put(&self, out: &mut Vec<u8>) {
        out.push(*self as u8);
    }
    fn get(bytes: &[u8]) -> Self {
        bytes[0] != 0
    }
}

impl Data for ArrayD<bool> {
    fn nbytes(&self) -> usize {
        self.len()
    }
    fn type_tag(&self) -> &'static str {
        <bool as Element>::ARRAY_TAG
    }
    fn encode(&self) -> Result<Encoded> {
        encode_array(self)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

inventory::submit! {
    DecoderRegistration { type_tag: "ndarray<bool>", decode: decode_array::<bool> }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    dtype: String,
    shape: Vec<u64>,
}

/// The msgpack header of an array: its dtype and shape.
fn array_header<T: Element>(a: &ArrayD<T>) -> Result<Vec<u8>> {
    let header = Header {
        dtype: T::DTYPE.into(),
        shape: a.shape().iter().map(|&d| d as u64).collect(),
    };
    rmp_serde::to_vec(&header).map_err(|e| Error::Encode {
        type_tag: T::ARRAY_TAG.into(),
        reason: e.to_string(),
    })
}

fn encode_array<T: Element>(a: &ArrayD<T>) -> Result<Encoded> {
    let header = array_header(a)?;
    let mut buf = Vec::with_capacity(a.len() * T::SIZE);
    match a.as_slice() {
        Some(xs) => T::put_all(xs, &mut buf),
        None => {
            for x in a.iter() {
                x.put(&mut buf);
            }
        }
    }
    Ok(Encoded {
        type_tag: T::ARRAY_TAG.into(),
        header,
        frames: vec![buf],
    })
}

fn decode_array<T: Element>(e: &Encoded) -> Result<Value>
where
    ArrayD<T>: Data,
{
    let err = |reason: String| Error::Decode {
        type_tag: e.type_tag.clone(),
        reason,
    };
    let header: Header =
        rmp_serde::from_slice(&e.header).map_err(|x| err(format!("bad header: {x}")))?;
    if header.dtype != T::DTYPE {
        return Err(err(format!(
            "header says dtype {}, expected {}",
            header.dtype,
            T::DTYPE
        )));
    }
    let [frame] = e.frames.as_slice() else {
        return Err(err(format!("expected 1 frame, found {}", e.frames.len())));
    };
    let mut len: u64 = 1;
    for &d in &header.shape {
        len = len
            .checked_mul(d)
            .ok_or_else(|| err("shape overflows".into()))?;
    }
    if Some(frame.len() as u64) != len.checked_mul(T::SIZE as u64) {
        return Err(err(format!(
            "shape {:?} needs {} bytes but the frame has {}",
            header.shape,
            len.saturating_mul(T::SIZE as u64),
            frame.len()
        )));
    }
    let data: Vec<T> = T::get_all(frame);
    let shape: Vec<usize> = header.shape.iter().map(|&d| d as usize).collect();
    let a = ArrayD::from_shape_vec(IxDyn(&shape), data).map_err(|x| err(x.to_string()))?;
    Ok(Arc::new(a))
}
