//! The external data types of a classic file and the decoding of their big-endian
//! values (shared by the header's attributes and the variables' data).

/// An external data type of a classic file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NcType {
    /// `byte`: signed 8-bit.
    Byte,
    /// `char`: text.
    Char,
    /// `short`: 16-bit.
    Short,
    /// `int`: 32-bit.
    Int,
    /// `float`: 32-bit IEEE.
    Float,
    /// `double`: 64-bit IEEE.
    Double,
    /// `ubyte` (CDF-5).
    UByte,
    /// `ushort` (CDF-5).
    UShort,
    /// `uint` (CDF-5).
    UInt,
    /// `int64` (CDF-5).
    Int64,
    /// `uint64` (CDF-5).
    UInt64,
}

impl NcType {
    pub(crate) fn from_code(code: u32) -> Option<NcType> {
        Some(match code {
            1 => NcType::Byte,
            2 => NcType::Char,
            3 => NcType::Short,
            4 => NcType::Int,
            5 => NcType::Float,
            6 => NcType::Double,
            7 => NcType::UByte,
            8 => NcType::UShort,
            9 => NcType::UInt,
            10 => NcType::Int64,
            11 => NcType::UInt64,
            _ => return None,
        })
    }

    pub(crate) fn code(self) -> u32 {
        match self {
            NcType::Byte => 1,
            NcType::Char => 2,
            NcType::Short => 3,
            NcType::Int => 4,
            NcType::Float => 5,
            NcType::Double => 6,
            NcType::UByte => 7,
            NcType::UShort => 8,
            NcType::UInt => 9,
            NcType::Int64 => 10,
            NcType::UInt64 => 11,
        }
    }

    /// Bytes per value.
    pub fn size(self) -> usize {
        match self {
            NcType::Byte | NcType::Char | NcType::UByte => 1,
            NcType::Short | NcType::UShort => 2,
            NcType::Int | NcType::Float | NcType::UInt => 4,
            NcType::Double | NcType::Int64 | NcType::UInt64 => 8,
        }
    }

    /// The CDL name (`float`, `double`...).
    pub fn name(self) -> &'static str {
        match self {
            NcType::Byte => "byte",
            NcType::Char => "char",
            NcType::Short => "short",
            NcType::Int => "int",
            NcType::Float => "float",
            NcType::Double => "double",
            NcType::UByte => "ubyte",
            NcType::UShort => "ushort",
            NcType::UInt => "uint",
            NcType::Int64 => "int64",
            NcType::UInt64 => "uint64",
        }
    }
}

/// Appends the values of `raw` (big-endian `t`) to `out`, each through `conv`.
pub fn decode_into<T>(t: NcType, raw: &[u8], out: &mut Vec<T>, conv: impl Fn(f64) -> T) {
    macro_rules! each {
        ($n:expr, $ty:ty) => {
            out.extend(raw.chunks_exact($n).map(|c| {
                let mut a = [0u8; $n];
                a.copy_from_slice(c);
                conv(<$ty>::from_be_bytes(a) as f64)
            }))
        };
    }
    match t {
        NcType::Byte => out.extend(raw.iter().map(|&b| conv(f64::from(b as i8)))),
        NcType::Char | NcType::UByte => out.extend(raw.iter().map(|&b| conv(f64::from(b)))),
        NcType::Short => each!(2, i16),
        NcType::UShort => each!(2, u16),
        NcType::Int => each!(4, i32),
        NcType::UInt => each!(4, u32),
        NcType::Float => each!(4, f32),
        NcType::Double => each!(8, f64),
        NcType::Int64 => each!(8, i64),
        NcType::UInt64 => each!(8, u64),
    }
}

/// Converts big-endian `f32` values straight to `f32` (the common case, without a
/// detour through `f64`).
pub fn decode_f32(raw: &[u8], out: &mut Vec<f32>) {
    out.extend(
        raw.chunks_exact(4)
            .map(|c| f32::from_be_bytes([c[0], c[1], c[2], c[3]])),
    );
}
