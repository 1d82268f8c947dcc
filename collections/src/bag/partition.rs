//! The data of one bag partition, and what a bag's elements must be.

use brisk_core::value::{codec, Data, DecoderRegistration, Encoded, Value};
use brisk_core::Result;
use std::sync::Arc;

/// What a bag element must be: cloneable, sendable between threads and processes
/// (serde), with a stable type tag for its partitions and a cheap size.
///
/// Implemented for common types; implement it for your own with [`crate::bag_item!`].
pub trait Item:
    Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static
{
    /// The type tag of a partition of this type, e.g. `"bag<str>"`.
    const PARTITION_TAG: &'static str;
    /// The type tag of a partition split into buckets (a shuffle's first stage).
    const BUCKETS_TAG: &'static str;
    /// Approximate bytes held by one element.
    fn nbytes(&self) -> usize {
        std::mem::size_of::<Self>()
    }
}

/// One partition of a `Bag<T>`: a `Vec<T>`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Partition<T>(pub Vec<T>);

/// The size of some items from a bounded sample, never a walk over every item.
fn sampled_nbytes<T: Item>(items: &[T]) -> usize {
    let n = items.len();
    if n == 0 {
        return 0;
    }
    let step = (n / 32).max(1);
    let (sum, count) = items
        .iter()
        .step_by(step)
        .take(32)
        .fold((0, 0), |(s, c), x| (s + x.nbytes(), c + 1));
    sum * n / count
}

impl<T: Item> Data for Partition<T> {
    fn nbytes(&self) -> usize {
        sampled_nbytes(&self.0)
    }
    fn type_tag(&self) -> &'static str {
        T::PARTITION_TAG
    }
    fn encode(&self) -> Result<Encoded> {
        codec::encode_msgpack(T::PARTITION_TAG, &self.0)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// One partition split into buckets by a hash of a key: bucket `j` goes to output
/// partition `j` of a shuffle.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Buckets<T>(pub Vec<Vec<T>>);

impl<T: Item> Data for Buckets<T> {
    fn nbytes(&self) -> usize {
        self.0.iter().map(|b| sampled_nbytes(b)).sum()
    }
    fn type_tag(&self) -> &'static str {
        T::BUCKETS_TAG
    }
    fn encode(&self) -> Result<Encoded> {
        codec::encode_msgpack(T::BUCKETS_TAG, &self.0)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// Decodes the buckets of `T`.
pub fn decode_buckets<T: Item>(e: &Encoded) -> Result<Value> {
    let items: Vec<Vec<T>> = codec::decode_msgpack(e)?;
    Ok(Arc::new(Buckets(items)))
}

/// Decodes a partition of `T` (registered per element type by [`crate::bag_item!`]).
pub fn decode_partition<T: Item>(e: &Encoded) -> Result<Value> {
    let items: Vec<T> = codec::decode_msgpack(e)?;
    Ok(Arc::new(Partition(items)))
}

/// Makes a type usable as a bag element: `bag_item!(MyType => "bag<my_crate::MyType>")`.
/// The type needs `Clone + Serialize + DeserializeOwned`; its size estimate is
/// `size_of` unless you implement [`Item`] by hand.
#[macro_export]
macro_rules! bag_item {
    ($($t:ty => $tag:literal $(, nbytes = $nb:expr)?);* $(;)?) => {$(
        impl $crate::bag::Item for $t {
            const PARTITION_TAG: &'static str = $tag;
            const BUCKETS_TAG: &'static str = concat!($tag, "+buckets");
            $(fn nbytes(&self) -> usize { ($nb)(self) })?
        }
        $crate::__private::inventory::submit! {
            $crate::__private::core::value::DecoderRegistration {
                type_tag: $tag,
                decode: $crate::bag::partition::decode_partition::<$t>,
            }
        }
        $crate::__private::inventory::submit! {
            $crate::__private::core::value::DecoderRegistration {
                type_tag: concat!($tag, "+buckets"),
                decode: $crate::bag::partition::decode_buckets::<$t>,
            }
        }
        const _: () = {
            // The built-in aggregations this type supports, and repartitioning, for
            // workers.
            fn stages(
                r: $crate::bag::item_ops::Reduction,
            ) -> ::std::option::Option<$crate::bag::item_ops::Stages> {
                #[allow(unused_imports)]
                use $crate::bag::item_ops::probe::*;
                use $crate::bag::item_ops::Reduction as R;
                let p = &Probe::<$t>::new();
                match r {
                    R::Count => Some($crate::bag::item_ops::count::<$t>()),
                    R::Sum => p.sum(),
                    R::Min => p.min(),
                    R::Max => p.max(),
                    R::Moments => p.moments(),
                    R::Frequencies => p.frequencies(),
                    R::Distinct => p.distinct(),
                }
            }
            $crate::__private::inventory::submit! {
                $crate::bag::item_ops::ItemOps {
                    tag: $tag,
                    stages,
                    reshape: $crate::bag::item_ops::reshape::<$t>,
                }
            }
            // A registered foldby's key-and-accumulator steps, for pair types.
            fn keyed() -> ::std::option::Option<$crate::bag::keyed::KeyedOps> {
                #[allow(unused_imports)]
                use $crate::bag::keyed::probe::*;
                (&KeyedProbe::<$t>::new()).keyed()
            }
            $crate::__private::inventory::submit! {
                $crate::bag::keyed::KeyedRegistration { tag: $tag, ops: keyed }
            }
        };
    )*};
}

#[allow(unused_imports)]
use DecoderRegistration as _;

crate::bag_item! {
    bool => "bag<bool>";
    u32 => "bag<u32>";
    u64 => "bag<u64>";
    usize => "bag<usize>";
    i32 => "bag<i32>";
    i64 => "bag<i64>";
    f32 => "bag<f32>";
    f64 => "bag<f64>";
    String => "bag<str>", nbytes = |s: &String| 24 + s.len();
    (String, u64) => "bag<(str,u64)>", nbytes = |p: &(String, u64)| 32 + p.0.len();
    (i64, u64) => "bag<(i64,u64)>";
    (String, i64) => "bag<(str,i64)>", nbytes = |p: &(String, i64)| 32 + p.0.len();
    (String, f64) => "bag<(str,f64)>", nbytes = |p: &(String, f64)| 32 + p.0.len();
    (f64, f64) => "bag<(f64,f64)>";
    (f64, f64, f64) => "bag<(f64,f64,f64)>";
    Vec<String> => "bag<vec<str>>", nbytes = |v: &Vec<String>| 24 + v.iter().map(|s| 24 + s.len()).sum::<usize>();
    serde_json::Value => "bag<serde_json>", nbytes = json_nbytes;
    (String, Vec<String>) => "bag<(str,vec<str>)>";
    (String, Vec<serde_json::Value>) => "bag<(str,vec<serde_json>)>";
    (i64, Vec<i64>) => "bag<(i64,vec<i64>)>";
    (u64, Vec<u64>) => "bag<(u64,vec<u64>)>";
    (String, String) => "bag<(str,str)>";
    (i64, i64) => "bag<(i64,i64)>";
    (i64, String) => "bag<(i64,str)>";
    (String, serde_json::Value) => "bag<(str,serde_json)>";
}

/// A rough size of a JSON value (walks the value: JSON records are small).
fn json_nbytes(v: &serde_json::Value) -> usize {
    use serde_json::Value as J;
    match v {
        J::Null | J::Bool(_) | J::Number(_) => 16,
        J::String(s) => 24 + s.len(),
        J::Array(a) => 24 + a.iter().map(json_nbytes).sum::<usize>(),
        J::Object(o) => {
            48 + o
                .iter()
                .map(|(k, v)| 24 + k.len() + json_nbytes(v))
                .sum::<usize>()
        }
    }
}

/// Reads partition `i` of the inputs of a task.
pub(crate) fn part<T: Item>(v: &Value) -> Result<&[T]> {
    Ok(&v.expect_ref::<Partition<T>>()?.0)
}
