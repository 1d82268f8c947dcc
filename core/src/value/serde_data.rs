//! [`Data`](super::Data) for plain Rust values, sent as msgpack.

/// Implements [`Data`](crate::value::Data) for a serde type under a stable type tag and
/// registers its decoder, so the type can be a task result that travels between
/// processes.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
/// pub struct Point { x: f64, y: f64 }
/// impl brisk_core::value::NBytes for Point {
///     fn nbytes(&self) -> usize { 16 }
/// }
/// brisk_core::serde_data!(Point => "doc::Point");
///
/// use brisk_core::value::{decode, Data};
/// let p = Point { x: 1.0, y: 2.0 };
/// let back = decode(p.encode().unwrap()).unwrap();
/// assert_eq!(back.downcast_ref::<Point>(), Some(&p));
/// ```
#[macro_export]
macro_rules! serde_data {
    ($($t:ty => $tag:expr),* $(,)?) => {$(
        impl $crate::value::Data for $t {
            #[inline]
            fn nbytes(&self) -> usize {
                $crate::value::NBytes::nbytes(self)
            }
            #[inline]
            fn type_tag(&self) -> &'static str {
                $tag
            }
            fn encode(&self) -> $crate::Result<$crate::value::Encoded> {
                $crate::value::codec::encode_msgpack($tag, self)
            }
            #[inline]
            fn as_any(&self) -> &dyn ::std::any::Any {
                self
            }
        }
        $crate::__private::inventory::submit! {
            $crate::value::DecoderRegistration {
                type_tag: $tag,
                decode: |e| {
                    let x: $t = $crate::value::codec::decode_msgpack(e)?;
                    Ok(::std::sync::Arc::new(x) as $crate::value::Value)
                },
            }
        }
    )*};
}

serde_data! {
    () => "unit",
    bool => "bool",
    u8 => "u8",
    u16 => "u16",
    u32 => "u32",
    u64 => "u64",
    usize => "usize",
    i8 => "i8",
    i16 => "i16",
    i32 => "i32",
    i64 => "i64",
    isize => "isize",
    f32 => "f32",
    f64 => "f64",
    char => "char",
    String => "str",
    Vec<bool> => "vec<bool>",
    Vec<usize> => "vec<usize>",
    Vec<String> => "vec<str>",
    Vec<(String, u64)> => "vec<(str,u64)>",
    Vec<(String, i64)> => "vec<(str,i64)>",
    Vec<(i64, u64)> => "vec<(i64,u64)>",
    (f64, f64) => "(f64,f64)",
    (f64, f64, f64) => "(f64,f64,f64)",
    (i64, i64) => "(i64,i64)",
    (u64, u64) => "(u64,u64)",
    (String, u64) => "(str,u64)",
    Option<i64> => "option<i64>",
    Option<f64> => "option<f64>",
    Option<String> => "option<str>",
}

/// [`Data`](crate::value::Data) for vectors of numbers: one raw little-endian frame,
/// written and read in bulk (no per-element msgpack).
macro_rules! raw_vec_data {
    ($($t:ty => $tag:expr),* $(,)?) => {$(
        impl $crate::value::Data for Vec<$t> {
            #[inline]
            fn nbytes(&self) -> usize {
                self.len() * std::mem::size_of::<$t>()
            }
            #[inline]
            fn type_tag(&self) -> &'static str {
                $tag
            }
            fn encode(&self) -> $crate::Result<$crate::value::Encoded> {
                let mut frame = Vec::with_capacity(self.len() * std::mem::size_of::<$t>());
                for x in self {
                    frame.extend_from_slice(&x.to_le_bytes());
                }
                Ok($crate::value::Encoded { type_tag: $tag.into(), header: Vec::new(), frames: vec![frame] })
            }
            #[inline]
            fn as_any(&self) -> &dyn ::std::any::Any {
                self
            }
        }
        $crate::__private::inventory::submit! {
            $crate::value::DecoderRegistration {
                type_tag: $tag,
                decode: |e| {
                    const W: usize = std::mem::size_of::<$t>();
                    let bad = |reason: String| $crate::Error::Decode { type_tag: $tag.into(), reason };
                    let [frame] = e.frames.as_slice() else {
                        return Err(bad(format!("expected one frame, got {}", e.frames.len())));
                    };
                    if frame.len() % W != 0 {
                        return Err(bad(format!("{} bytes are not a whole number of {W}-byte elements", frame.len())));
                    }
                    let v: Vec<$t> = frame
                        .chunks_exact(W)
                        .map(|c| <$t>::from_le_bytes(c.try_into().expect("chunks of W bytes")))
                        .collect();
                    Ok(::std::sync::Arc::new(v) as $crate::value::Value)
                },
            }
        }
    )*};
}

raw_vec_data! {
    u32 => "vec<u32>",
    u64 => "vec<u64>",
    i32 => "vec<i32>",
    i64 => "vec<i64>",
    f32 => "vec<f32>",
    f64 => "vec<f64>",
}

impl crate::value::Data for Vec<u8> {
    #[inline]
    fn nbytes(&self) -> usize {
        self.len()
    }
    #[inline]
    fn type_tag(&self) -> &'static str {
        "vec<u8>"
    }
    fn encode(&self) -> crate::Result<crate::value::Encoded> {
        Ok(crate::value::Encoded {
            type_tag: "vec<u8>".into(),
            header: Vec::new(),
            frames: vec![self.clone()],
        })
    }
    #[inline]
    fn as_any(&self) -> &dyn ::std::any::Any {
        self
    }
    #[inline]
    fn as_bytes(&self) -> Option<&[u8]> {
        Some(self)
    }
}

crate::__private::inventory::submit! {
    crate::value::DecoderRegistration {
        type_tag: "vec<u8>",
        decode: |e| match e.frames.as_slice() {
            [frame] => Ok(::std::sync::Arc::new(frame.clone()) as crate::value::Value),
            other => Err(crate::Error::Decode { type_tag: "vec<u8>".into(), reason: format!("expected one frame, got {}", other.len()) }),
        },
    }
}
