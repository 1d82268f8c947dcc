//! Element types of arrays: the runtime [`DType`] that ops carry in their
//! parameters, and the [`Elem`] / [`Num`] traits the per-chunk kernels are generic
//! over. `for_dtype!` turns a runtime dtype back into a concrete type.

use brisk_core::token::{Token, Tokenize};
use brisk_core::value::Value;
use brisk_core::Result;
use ndarray::ArrayD;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The element type of an array, as NumPy spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DType {
    /// 32-bit float.
    Float32,
    /// 64-bit float.
    Float64,
    /// 8-bit signed integer.
    Int8,
    /// 16-bit signed integer.
    Int16,
    /// 32-bit signed integer.
    Int32,
    /// 64-bit signed integer.
    Int64,
    /// 8-bit unsigned integer.
    UInt8,
    /// 16-bit unsigned integer.
    UInt16,
    /// 32-bit unsigned integer.
    UInt32,
    /// 64-bit unsigned integer.
    UInt64,
    /// Boolean.
    Bool,
}

impl DType {
    /// NumPy's name of the dtype.
    pub fn name(self) -> &'static str {
        match self {
            DType::Float32 => "float32",
            DType::Float64 => "float64",
            DType::Int8 => "int8",
            DType::Int16 => "int16",
            DType::Int32 => "int32",
            DType::Int64 => "int64",
            DType::UInt8 => "uint8",
            DType::UInt16 => "uint16",
            DType::UInt32 => "uint32",
            DType::UInt64 => "uint64",
            DType::Bool => "bool",
        }
    }

    /// Bytes per element.
    pub fn itemsize(self) -> usize {
        match self {
            DType::Float64 | DType::Int64 | DType::UInt64 => 8,
            DType::Float32 | DType::Int32 | DType::UInt32 => 4,
            DType::Int16 | DType::UInt16 => 2,
            DType::Int8 | DType::UInt8 | DType::Bool => 1,
        }
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Any element type of an [`Array`](super::Array).
pub trait Elem:
    Copy + Default + PartialEq + PartialOrd + std::fmt::Debug + Send + Sync + Tokenize + 'static
{
    /// The runtime dtype.
    const DTYPE: DType;
    /// The value as f64 (`true` is 1).
    fn to_f64(self) -> f64;
    /// The value nearest to `v` (NumPy's `astype`: floats truncate toward zero into
    /// integers, NaN becomes 0, out-of-range values saturate; nonzero is `true`).
    fn from_f64(v: f64) -> Self;
    /// Whether the value is NaN (never, for integers and booleans).
    fn is_nan(self) -> bool {
        false
    }
    /// A chunk as a task value.
    fn value(a: ArrayD<Self>) -> Value;
    /// The chunk of a task value; another type is an error naming both.
    fn array(v: &Value) -> Result<&ArrayD<Self>>;
    /// The content token of an array of this type.
    fn token(a: &ArrayD<Self>) -> Result<Token>;
    /// Appends the value's little-endian bytes (one byte for `bool`).
    fn put_le(self, out: &mut Vec<u8>);
}

macro_rules! chunk_value {
    () => {
        fn value(a: ArrayD<Self>) -> Value {
            Arc::new(a)
        }
        fn array(v: &Value) -> Result<&ArrayD<Self>> {
            v.expect_ref::<ArrayD<Self>>()
        }
        fn token(a: &ArrayD<Self>) -> Result<Token> {
            brisk_core::tokenize(a)
        }
    };
}

macro_rules! put_le {
    () => {
        #[inline]
        fn put_le(self, out: &mut Vec<u8>) {
            out.extend_from_slice(&self.to_le_bytes());
        }
    };
}

/// Numeric element types: everything but `bool`.
pub trait Num: Elem {
    /// The type of means, standard deviations and transcendental functions of this
    /// type (NumPy's: float32 stays float32, integers become float64).
    type Float: Float;
    /// The type sums and products of this type accumulate in and return, as NumPy's:
    /// signed integers widen to `i64`, unsigned ones to `u64`, floats stay.
    type Acc: Num;
    /// The value in the accumulating type (exact: every integer widens).
    fn acc(self) -> Self::Acc;
    /// NaN for floating types: the start of a reduction that skips NaN, so that a
    /// slice of only NaN gives NaN.
    fn nan() -> Option<Self> {
        None
    }
    /// Zero.
    const ZERO: Self;
    /// One.
    const ONE: Self;
    /// The largest value (the start of a `min`).
    const MAX: Self;
    /// The smallest value (the start of a `max`).
    const MIN: Self;
    /// Sum (wrapping for integers, as NumPy's in the accumulating type).
    fn add(self, o: Self) -> Self;
    /// Difference (wrapping for integers).
    fn sub(self, o: Self) -> Self;
    /// Product (wrapping for integers).
    fn mul(self, o: Self) -> Self;
    /// Quotient; integer division by zero gives 0, as NumPy's.
    fn div(self, o: Self) -> Self;
    /// Power; a negative integer exponent gives 0 (NumPy raises).
    fn pow(self, o: Self) -> Self;
    /// Absolute value.
    fn abs(self) -> Self;
}

/// Floating-point element types.
pub trait Float: Num {
    /// Not a number.
    const NAN: Self;
}

macro_rules! float {
    ($t:ty, $d:expr) => {
        impl Elem for $t {
            const DTYPE: DType = $d;
            chunk_value!();
            put_le!();
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
        }
        impl Num for $t {
            type Float = $t;
            type Acc = $t;
            #[inline]
            fn acc(self) -> Self {
                self
            }
            #[inline]
            fn nan() -> Option<Self> {
                Some(<$t>::NAN)
            }
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const MAX: Self = <$t>::INFINITY;
            const MIN: Self = <$t>::NEG_INFINITY;
            #[inline]
            fn add(self, o: Self) -> Self {
                self + o
            }
            #[inline]
            fn sub(self, o: Self) -> Self {
                self - o
            }
            #[inline]
            fn mul(self, o: Self) -> Self {
                self * o
            }
            #[inline]
            fn div(self, o: Self) -> Self {
                self / o
            }
            #[inline]
            fn pow(self, o: Self) -> Self {
                self.powf(o)
            }
            #[inline]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
        }
        impl Float for $t {
            const NAN: Self = <$t>::NAN;
        }
    };
}
float!(f32, DType::Float32);
float!(f64, DType::Float64);

macro_rules! int {
    ($t:ty, $d:expr, $acc:ty) => {
        impl Elem for $t {
            const DTYPE: DType = $d;
            chunk_value!();
            put_le!();
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
        }
        impl Num for $t {
            type Float = f64;
            type Acc = $acc;
            #[inline]
            fn acc(self) -> $acc {
                <$acc>::from(self)
            }
            const ZERO: Self = 0;
            const ONE: Self = 1;
            const MAX: Self = <$t>::MAX;
            const MIN: Self = <$t>::MIN;
            #[inline]
            fn add(self, o: Self) -> Self {
                self.wrapping_add(o)
            }
            #[inline]
            fn sub(self, o: Self) -> Self {
                self.wrapping_sub(o)
            }
            #[inline]
            fn mul(self, o: Self) -> Self {
                self.wrapping_mul(o)
            }
            #[inline]
            fn div(self, o: Self) -> Self {
                self.checked_div(o).unwrap_or(0)
            }
            #[inline]
            fn pow(self, o: Self) -> Self {
                u32::try_from(o).map_or(0, |e| self.wrapping_pow(e))
            }
            #[inline]
            #[allow(unused_comparisons)]
            fn abs(self) -> Self {
                if self < 0 {
                    (0 as $t).wrapping_sub(self)
                } else {
                    self
                }
            }
        }
    };
}
int!(i8, DType::Int8, i64);
int!(i16, DType::Int16, i64);
int!(i32, DType::Int32, i64);
int!(i64, DType::Int64, i64);
int!(u8, DType::UInt8, u64);
int!(u16, DType::UInt16, u64);
int!(u32, DType::UInt32, u64);
int!(u64, DType::UInt64, u64);

impl Elem for bool {
    const DTYPE: DType = DType::Bool;
    chunk_value!();
    #[inline]
    fn put_le(self, out: &mut Vec<u8>) {
        out.push(u8::from(self));
    }
    #[inline]
    fn to_f64(self) -> f64 {
        f64::from(u8::from(self))
    }
    #[inline]
    fn from_f64(v: f64) -> Self {
        v != 0.0
    }
}

/// Runs `$body` with `$t` bound to the element type of `$dtype` (all of them), or
/// to the numeric ones only (`num`: a `bool` dtype evaluates `$bool` instead), or to
/// the floating ones only (`float`: others evaluate `$other`).
macro_rules! for_dtype {
    ($dtype:expr, $t:ident => $body:expr) => {
        $crate::array::for_dtype!(num $dtype, $t => $body, bool => {
            type $t = bool;
            $body
        })
    };
    (num $dtype:expr, $t:ident => $body:expr, bool => $bool:expr) => {
        match $dtype {
            $crate::array::DType::Float32 => { type $t = f32; $body }
            $crate::array::DType::Float64 => { type $t = f64; $body }
            $crate::array::DType::Int8 => { type $t = i8; $body }
            $crate::array::DType::Int16 => { type $t = i16; $body }
            $crate::array::DType::Int32 => { type $t = i32; $body }
            $crate::array::DType::Int64 => { type $t = i64; $body }
            $crate::array::DType::UInt8 => { type $t = u8; $body }
            $crate::array::DType::UInt16 => { type $t = u16; $body }
            $crate::array::DType::UInt32 => { type $t = u32; $body }
            $crate::array::DType::UInt64 => { type $t = u64; $body }
            $crate::array::DType::Bool => $bool,
        }
    };
    (float $dtype:expr, $t:ident => $body:expr, other => $other:expr) => {
        match $dtype {
            $crate::array::DType::Float32 => { type $t = f32; $body }
            $crate::array::DType::Float64 => { type $t = f64; $body }
            _ => $other,
        }
    };
}
pub(crate) use for_dtype;
