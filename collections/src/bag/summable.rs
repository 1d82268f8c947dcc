//! What a bag's `sum` adds up in: integers widen to `i64` / `u64` (as NumPy's sums
//! do) and an overflow of that is an error rather than a wrapped or panicking
//! result; floats add in their own type.

use super::Item;

/// Items [`Bag::sum`](super::Bag::sum) can add up, and the type of their sum.
///
/// ```
/// use brisk_collections::bag::Bag;
/// # use brisk_scheduler as _;
/// let b = Bag::from_sequence(vec![4_000_000_000u32; 3], 2)?;
/// assert_eq!(b.sum()?.compute()?, 12_000_000_000u64);
/// # Ok::<(), brisk_core::Error>(())
/// ```
pub trait Summable: Item {
    /// The type of the sum.
    type Total: Item + Copy + std::fmt::Debug;
    /// The sum of nothing.
    const ZERO: Self::Total;
    /// `total + x`, or `None` when it overflows the total's type.
    fn add_item(total: Self::Total, x: &Self) -> Option<Self::Total>;
    /// `a + b`, or `None` when it overflows.
    fn add_totals(a: Self::Total, b: Self::Total) -> Option<Self::Total>;
}

macro_rules! int_summable {
    ($($t:ty => $total:ty),* $(,)?) => {$(
        impl Summable for $t {
            type Total = $total;
            const ZERO: $total = 0;
            #[inline]
            fn add_item(total: $total, x: &$t) -> Option<$total> {
                total.checked_add(<$total>::try_from(*x).ok()?)
            }
            #[inline]
            fn add_totals(a: $total, b: $total) -> Option<$total> {
                a.checked_add(b)
            }
        }
    )*};
}
int_summable!(u32 => u64, u64 => u64, usize => u64, i32 => i64, i64 => i64);

macro_rules! float_summable {
    ($($t:ty),*) => {$(
        impl Summable for $t {
            type Total = $t;
            const ZERO: $t = 0.0;
            #[inline]
            fn add_item(total: $t, x: &$t) -> Option<$t> {
                Some(total + x)
            }
            #[inline]
            fn add_totals(a: $t, b: $t) -> Option<$t> {
                Some(a + b)
            }
        }
    )*};
}
float_summable!(f32, f64);

impl Summable for bool {
    type Total = u64;
    const ZERO: u64 = 0;
    #[inline]
    fn add_item(total: u64, x: &bool) -> Option<u64> {
        Some(total + u64::from(*x))
    }
    #[inline]
    fn add_totals(a: u64, b: u64) -> Option<u64> {
        a.checked_add(b)
    }
}
