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
    Vec<u8> => "vec<u8>",
    Vec<u32> => "vec<u32>",
    Vec<u64> => "vec<u64>",
    Vec<usize> => "vec<usize>",
    Vec<i32> => "vec<i32>",
    Vec<i64> => "vec<i64>",
    Vec<f32> => "vec<f32>",
    Vec<f64> => "vec<f64>",
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
