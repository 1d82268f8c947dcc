//! `Tokenize` for ndarray arrays: element type, shape, then the elements in
//! logical (row-major) order, whatever the memory layout.

use super::{tag, Hasher, Tokenize};
use crate::error::Result;
use ndarray::{ArrayBase, Data, Dimension};

/// Element types whose bytes are hashed directly.
pub trait TokenElement: Copy {
    /// The element's type tag in the token encoding.
    const TAG: u8;
    /// Writes the canonical little-endian bytes of one element.
    fn write(&self, h: &mut Hasher);
}

macro_rules! elem {
    ($($t:ty => $tag:ident),*) => {$(
        impl TokenElement for $t {
            const TAG: u8 = tag::$tag;
            #[inline]
            fn write(&self, h: &mut Hasher) {
                h.write_raw(&self.to_le_bytes());
            }
        }
    )*};
}
elem!(u8 => U8, u16 => U16, u32 => U32, u64 => U64, i8 => I8, i16 => I16, i32 => I32, i64 => I64);

impl TokenElement for f32 {
    const TAG: u8 = tag::F32;
    fn write(&self, h: &mut Hasher) {
        let bits = if self.is_nan() {
            f32::NAN.to_bits()
        } else {
            self.to_bits()
        };
        h.write_raw(&bits.to_le_bytes());
    }
}

impl TokenElement for f64 {
    const TAG: u8 = tag::F64;
    fn write(&self, h: &mut Hasher) {
        let bits = if self.is_nan() {
            f64::NAN.to_bits()
        } else {
            self.to_bits()
        };
        h.write_raw(&bits.to_le_bytes());
    }
}

impl TokenElement for bool {
    const TAG: u8 = tag::BOOL;
    fn write(&self, h: &mut Hasher) {
        h.write_raw(&[*self as u8]);
    }
}

impl<S, D, A> Tokenize for ArrayBase<S, D>
where
    S: Data<Elem = A>,
    D: Dimension,
    A: TokenElement,
{
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        h.write_tag(tag::NDARRAY);
        h.write_tag(A::TAG);
        h.write_len(self.ndim());
        for &d in self.shape() {
            h.write_len(d);
        }
        for x in self.iter() {
            x.write(h);
        }
        Ok(())
    }
}
