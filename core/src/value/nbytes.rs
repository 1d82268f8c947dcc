//! Cheap size estimates.

use std::collections::HashMap;

/// A cheap estimate of the bytes a value holds: constant time for fixed-size
/// elements, a bounded sample for variable-sized ones.
pub trait NBytes {
    /// The estimate in bytes.
    fn nbytes(&self) -> usize;
}

macro_rules! fixed {
    ($($t:ty),*) => {$(
        impl NBytes for $t {
            #[inline]
            fn nbytes(&self) -> usize { std::mem::size_of::<$t>() }
        }
    )*};
}
fixed!(
    (),
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64
);

impl NBytes for String {
    fn nbytes(&self) -> usize {
        std::mem::size_of::<String>() + self.len()
    }
}

/// How many elements a sample looks at before extrapolating.
const SAMPLE: usize = 32;

fn sampled<'a, T: NBytes + 'a>(items: &'a [T]) -> usize {
    let n = items.len();
    if n <= SAMPLE {
        return items.iter().map(NBytes::nbytes).sum();
    }
    let step = n / SAMPLE;
    let sum: usize = (0..SAMPLE).map(|i| items[i * step].nbytes()).sum();
    sum * n / SAMPLE
}

impl<T: NBytes> NBytes for Vec<T> {
    fn nbytes(&self) -> usize {
        sampled(self.as_slice())
    }
}

impl<T: NBytes> NBytes for Option<T> {
    fn nbytes(&self) -> usize {
        self.as_ref().map_or(1, |x| x.nbytes() + 1)
    }
}

impl<K: NBytes, V: NBytes, S> NBytes for HashMap<K, V, S> {
    fn nbytes(&self) -> usize {
        let mut it = self.iter().take(SAMPLE);
        let mut sum = 0;
        let mut seen = 0;
        for (k, v) in &mut it {
            sum += k.nbytes() + v.nbytes();
            seen += 1;
        }
        if seen == 0 {
            0
        } else {
            sum * self.len() / seen
        }
    }
}

macro_rules! tuple {
    ($($name:ident),+) => {
        impl<$($name: NBytes),+> NBytes for ($($name,)+) {
            #[allow(non_snake_case)]
            fn nbytes(&self) -> usize {
                let ($($name,)+) = self;
                0 $(+ $name.nbytes())+
            }
        }
    };
}
tuple!(A);
tuple!(A, B);
tuple!(A, B, C);
tuple!(A, B, C, D);
