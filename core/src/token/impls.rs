//! `Tokenize` for primitives, strings, bytes, sequences, tuples, options, maps and keys.

use super::{tag, tokenize, Hasher, Token, Tokenize};
use crate::error::Result;
use crate::key::Key;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

macro_rules! int_impl {
    ($($t:ty => $tag:ident),* $(,)?) => {$(
        impl Tokenize for $t {
            #[inline]
            fn tokenize(&self, h: &mut Hasher) -> Result<()> {
                h.write_tag(tag::$tag);
                h.write_raw(&self.to_le_bytes());
                Ok(())
            }
        }
    )*};
}

int_impl!(u8 => U8, u16 => U16, u32 => U32, u64 => U64, u128 => U128,
          i8 => I8, i16 => I16, i32 => I32, i64 => I64, i128 => I128);

impl Tokenize for usize {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        h.write_tag(tag::USIZE);
        h.write_raw(&(*self as u64).to_le_bytes());
        Ok(())
    }
}

impl Tokenize for isize {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        h.write_tag(tag::ISIZE);
        h.write_raw(&(*self as i64).to_le_bytes());
        Ok(())
    }
}

impl Tokenize for f32 {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        h.write_tag(tag::F32);
        let bits = if self.is_nan() {
            f32::NAN.to_bits()
        } else {
            self.to_bits()
        };
        h.write_raw(&bits.to_le_bytes());
        Ok(())
    }
}

impl Tokenize for f64 {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        h.write_tag(tag::F64);
        let bits = if self.is_nan() {
            f64::NAN.to_bits()
        } else {
            self.to_bits()
        };
        h.write_raw(&bits.to_le_bytes());
        Ok(())
    }
}

impl Tokenize for bool {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        h.write_tag(tag::BOOL);
        h.write_raw(&[*self as u8]);
        Ok(())
    }
}

impl Tokenize for char {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        h.write_tag(tag::CHAR);
        h.write_raw(&(*self as u32).to_le_bytes());
        Ok(())
    }
}

impl Tokenize for () {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        h.write_tag(tag::UNIT);
        Ok(())
    }
}

impl Tokenize for str {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        h.write_str(self);
        Ok(())
    }
}

impl Tokenize for String {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        h.write_str(self);
        Ok(())
    }
}

impl Tokenize for Token {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        h.write_token(self);
        Ok(())
    }
}

impl Tokenize for Key {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        h.write_tag(tag::KEY);
        h.write_str(self.name());
        h.write_len(self.index().len());
        for i in self.index() {
            h.write_raw(&i.to_le_bytes());
        }
        Ok(())
    }
}

/// Byte strings: `Bytes(&[u8])` hashes as one block, where `&[u8]` hashes as a
/// sequence of `u8` values.
#[derive(Debug, Clone, Copy)]
pub struct Bytes<'a>(pub &'a [u8]);

impl Tokenize for Bytes<'_> {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        h.write_bytes(self.0);
        Ok(())
    }
}

impl<T: Tokenize> Tokenize for [T] {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        h.write_tag(tag::SEQ);
        h.write_len(self.len());
        for x in self {
            x.tokenize(h)?;
        }
        Ok(())
    }
}

impl<T: Tokenize, const N: usize> Tokenize for [T; N] {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        self.as_slice().tokenize(h)
    }
}

impl<T: Tokenize> Tokenize for Vec<T> {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        self.as_slice().tokenize(h)
    }
}

impl<T: Tokenize + ?Sized> Tokenize for &T {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        (**self).tokenize(h)
    }
}

impl<T: Tokenize + ?Sized> Tokenize for Box<T> {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        (**self).tokenize(h)
    }
}

impl<T: Tokenize + ?Sized> Tokenize for Arc<T> {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        (**self).tokenize(h)
    }
}

impl<T: Tokenize> Tokenize for Option<T> {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        match self {
            None => h.write_tag(tag::NONE),
            Some(x) => {
                h.write_tag(tag::SOME);
                x.tokenize(h)?;
            }
        }
        Ok(())
    }
}

macro_rules! tuple_impl {
    ($n:expr; $($name:ident),+) => {
        impl<$($name: Tokenize),+> Tokenize for ($($name,)+) {
            #[allow(non_snake_case)]
            fn tokenize(&self, h: &mut Hasher) -> Result<()> {
                let ($($name,)+) = self;
                h.write_tag(tag::TUPLE);
                h.write_len($n);
                $($name.tokenize(h)?;)+
                Ok(())
            }
        }
    };
}

tuple_impl!(1; A);
tuple_impl!(2; A, B);
tuple_impl!(3; A, B, C);
tuple_impl!(4; A, B, C, D);
tuple_impl!(5; A, B, C, D, E);
tuple_impl!(6; A, B, C, D, E, F);
tuple_impl!(7; A, B, C, D, E, F, G);
tuple_impl!(8; A, B, C, D, E, F, G, H);

/// Hashes map entries in the order of their keys' tokens, so the token does not
/// depend on insertion order or on the map's hasher.
fn tokenize_entries<'a, K, V, I>(h: &mut Hasher, len: usize, entries: I) -> Result<()>
where
    K: Tokenize + 'a,
    V: Tokenize + 'a,
    I: Iterator<Item = (&'a K, &'a V)>,
{
    let mut tokens: Vec<(Token, Token)> = Vec::with_capacity(len);
    for (k, v) in entries {
        tokens.push((tokenize(k)?, tokenize(v)?));
    }
    tokens.sort_unstable();
    h.write_tag(tag::MAP);
    h.write_len(tokens.len());
    for (k, v) in &tokens {
        h.write_token(k);
        h.write_token(v);
    }
    Ok(())
}

fn tokenize_members<'a, T, I>(h: &mut Hasher, len: usize, members: I) -> Result<()>
where
    T: Tokenize + 'a,
    I: Iterator<Item = &'a T>,
{
    let mut tokens: Vec<Token> = Vec::with_capacity(len);
    for x in members {
        tokens.push(tokenize(x)?);
    }
    tokens.sort_unstable();
    h.write_tag(tag::SET);
    h.write_len(tokens.len());
    for t in &tokens {
        h.write_token(t);
    }
    Ok(())
}

impl<K: Tokenize, V: Tokenize, S> Tokenize for HashMap<K, V, S> {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        tokenize_entries(h, self.len(), self.iter())
    }
}

impl<K: Tokenize, V: Tokenize> Tokenize for BTreeMap<K, V> {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        tokenize_entries(h, self.len(), self.iter())
    }
}

impl<T: Tokenize, S> Tokenize for HashSet<T, S> {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        tokenize_members(h, self.len(), self.iter())
    }
}

impl<T: Tokenize> Tokenize for BTreeSet<T> {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        tokenize_members(h, self.len(), self.iter())
    }
}

impl Tokenize for std::path::Path {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        h.write_tag(tag::PATH);
        let bytes = self.as_os_str().as_encoded_bytes();
        h.write_len(bytes.len());
        h.write_raw(bytes);
        Ok(())
    }
}

impl Tokenize for std::path::PathBuf {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        self.as_path().tokenize(h)
    }
}
