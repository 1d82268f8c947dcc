//! The per-partition work of `rolling` (`rolling.rs` builds the graph): fixed
//! windows of rows over columns as `f64`, each window's sum, mean, minimum,
//! maximum, variance or standard deviation in one pass, as a registered op.
//!
//! Nulls are missing values: a window's result needs at least `min_periods`
//! non-null values (pandas' `min_periods`), and is computed from those. NaN and
//! infinities are values: a window holding a NaN gives NaN, one holding +inf
//! (and no -inf) gives +inf for a sum or mean, and so on, as in NumPy. Sums use
//! compensated (Neumaier) addition and variances Welford's updates, values
//! entering and leaving the window.

use super::frame::{concat_frames, frame, Frame};
use super::schema::to_schema;
use crate::error;
use brisk_core::op::OpRegistration;
use brisk_core::spec_op::{rebuild_spec, Spec};
use brisk_core::{Result, Value};
use polars::prelude as pl;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Arc;

/// What a window computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum WindowKind {
    Sum,
    Mean,
    Min,
    Max,
    /// Variance with `ddof` delta degrees of freedom.
    Var(u8),
    /// Standard deviation with `ddof`.
    Std(u8),
}

/// One partition's rolling windows: its inputs stacked (the `skip` rows before
/// the partition, then the partition), `columns` replaced by their windows'
/// results as `Float64`, the first `skip` rows dropped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct RollingWindow {
    pub kind: WindowKind,
    pub window: u64,
    pub min_periods: u64,
    pub columns: Vec<String>,
    pub skip: u64,
    /// The inputs' schema (for no rows).
    pub schema: Vec<(String, pl::DataType)>,
}

impl Spec for RollingWindow {
    const NAME: &'static str = "brisk::dataframe::rolling";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        let empty = || pl::DataFrame::empty_with_schema(&to_schema(&self.schema));
        let mut df = concat_frames(inputs.iter().map(frame), empty)?;
        let window = usize::try_from(self.window).unwrap_or(usize::MAX);
        let min_periods = usize::try_from(self.min_periods).unwrap_or(usize::MAX);
        for c in &self.columns {
            let values = df
                .column(c)
                .and_then(|s| s.cast(&pl::DataType::Float64))
                .map_err(|e| error::polars(format!("rolling: column '{c}'"), e))?;
            let values: Vec<Option<f64>> = values
                .f64()
                .map_err(|e| error::polars("", e))?
                .iter()
                .collect();
            let out = windows(&values, window, min_periods, self.kind);
            let out = pl::Column::new(c.as_str().into(), out);
            df.with_column(out).map_err(|e| error::polars("", e))?;
        }
        let skip = i64::try_from(self.skip).unwrap_or(i64::MAX);
        Ok(Arc::new(Frame(df.slice(skip, usize::MAX))))
    }
}

inventory::submit! {
    OpRegistration { name: RollingWindow::NAME, rebuild: rebuild_spec::<RollingWindow> }
}

/// The result of each window of `window` rows ending at each row (the first
/// rows' windows start at row 0).
pub(super) fn windows(
    values: &[Option<f64>],
    window: usize,
    min_periods: usize,
    kind: WindowKind,
) -> Vec<Option<f64>> {
    let window = window.max(1);
    match kind {
        WindowKind::Min | WindowKind::Max => extrema(values, window, min_periods, kind),
        _ => {
            let mut state = Moments::default();
            let mut out = Vec::with_capacity(values.len());
            for (i, v) in values.iter().enumerate() {
                if let Some(x) = v {
                    state.add(*x);
                }
                if i >= window {
                    if let Some(x) = values[i - window] {
                        state.remove(x);
                    }
                }
                out.push(state.result(min_periods, kind));
            }
            out
        }
    }
}

/// The non-null values of a window: finite ones summarised (compensated sum,
/// Welford's mean and sum of squared deviations), the others counted.
#[derive(Debug, Default)]
struct Moments {
    n: usize,
    sum: f64,
    compensation: f64,
    mean: f64,
    m2: f64,
    nan: usize,
    pos_inf: usize,
    neg_inf: usize,
    /// The last finite value added, and how many of the values added last are
    /// finite and equal to it: when those are all the window's values, its
    /// variance is exactly 0 (Welford's removals leave a rounding residue).
    last: f64,
    run: usize,
}

impl Moments {
    fn add_to_sum(&mut self, x: f64) {
        let t = self.sum + x;
        self.compensation += if self.sum.abs() >= x.abs() {
            (self.sum - t) + x
        } else {
            (x - t) + self.sum
        };
        self.sum = t;
    }

    fn add(&mut self, x: f64) {
        if !x.is_finite() {
            self.run = 0;
        }
        if x.is_nan() {
            self.nan += 1;
        } else if x == f64::INFINITY {
            self.pos_inf += 1;
        } else if x == f64::NEG_INFINITY {
            self.neg_inf += 1;
        } else {
            self.run = if self.run > 0 && x == self.last {
                self.run + 1
            } else {
                1
            };
            self.last = x;
            self.n += 1;
            self.add_to_sum(x);
            let delta = x - self.mean;
            self.mean += delta / self.n as f64;
            self.m2 += delta * (x - self.mean);
        }
    }

    fn remove(&mut self, x: f64) {
        if x.is_nan() {
            self.nan -= 1;
        } else if x == f64::INFINITY {
            self.pos_inf -= 1;
        } else if x == f64::NEG_INFINITY {
            self.neg_inf -= 1;
        } else {
            self.n -= 1;
            self.add_to_sum(-x);
            if self.n == 0 {
                *self = Moments {
                    nan: self.nan,
                    pos_inf: self.pos_inf,
                    neg_inf: self.neg_inf,
                    last: self.last,
                    run: self.run,
                    ..Moments::default()
                };
            } else {
                let before = self.mean - (x - self.mean) / self.n as f64;
                self.m2 -= (x - before) * (x - self.mean);
                self.mean = before;
            }
        }
    }

    fn result(&self, min_periods: usize, kind: WindowKind) -> Option<f64> {
        let observed = self.n + self.nan + self.pos_inf + self.neg_inf;
        if observed < min_periods {
            return None;
        }
        let non_finite = if self.nan > 0 || (self.pos_inf > 0 && self.neg_inf > 0) {
            Some(f64::NAN)
        } else if self.pos_inf > 0 {
            Some(f64::INFINITY)
        } else if self.neg_inf > 0 {
            Some(f64::NEG_INFINITY)
        } else {
            None
        };
        let var = |ddof: u8| -> Option<f64> {
            if observed <= usize::from(ddof) {
                return None;
            }
            if non_finite.is_some() {
                return Some(f64::NAN);
            }
            if self.run >= self.n {
                return Some(0.0);
            }
            Some(self.m2.max(0.0) / (self.n - usize::from(ddof)) as f64)
        };
        match kind {
            WindowKind::Sum => Some(non_finite.unwrap_or(self.sum + self.compensation)),
            WindowKind::Mean if observed == 0 => None,
            WindowKind::Mean => {
                Some(non_finite.unwrap_or((self.sum + self.compensation) / self.n as f64))
            }
            WindowKind::Var(ddof) => var(ddof),
            WindowKind::Std(ddof) => var(ddof).map(f64::sqrt),
            WindowKind::Min | WindowKind::Max => None,
        }
    }
}

/// Windows' minima or maxima: a deque of the indices of the window's values
/// that can still be its extreme (monotonic), NaN counted apart.
fn extrema(
    values: &[Option<f64>],
    window: usize,
    min_periods: usize,
    kind: WindowKind,
) -> Vec<Option<f64>> {
    // `a` displaces `b` from the deque's back when it is at least as extreme.
    let displaces = |a: f64, b: f64| match kind {
        WindowKind::Min => a <= b,
        _ => a >= b,
    };
    let mut deque: VecDeque<usize> = VecDeque::new();
    let (mut observed, mut nan) = (0usize, 0usize);
    let mut out = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        if let Some(x) = *v {
            observed += 1;
            if x.is_nan() {
                nan += 1;
            } else {
                while let Some(&b) = deque.back() {
                    match values[b] {
                        Some(y) if displaces(x, y) => {
                            deque.pop_back();
                        }
                        _ => break,
                    }
                }
                deque.push_back(i);
            }
        }
        if i >= window {
            if let Some(x) = values[i - window] {
                observed -= 1;
                if x.is_nan() {
                    nan -= 1;
                }
            }
            while deque.front().is_some_and(|&f| f + window <= i) {
                deque.pop_front();
            }
        }
        out.push(if observed < min_periods || observed == 0 {
            None
        } else if nan > 0 {
            Some(f64::NAN)
        } else {
            deque.front().and_then(|&f| values[f])
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each window computed from scratch.
    fn naive(values: &[Option<f64>], w: usize, min: usize, kind: WindowKind) -> Vec<Option<f64>> {
        (0..values.len())
            .map(|i| {
                let xs: Vec<f64> = values[(i + 1).saturating_sub(w)..=i]
                    .iter()
                    .flatten()
                    .copied()
                    .collect();
                if xs.len() < min {
                    return None;
                }
                let n = xs.len() as f64;
                let mean = xs.iter().sum::<f64>() / n;
                let var = |d: u8| {
                    (xs.len() > usize::from(d)).then(|| {
                        xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - f64::from(d))
                    })
                };
                match kind {
                    WindowKind::Sum => Some(xs.iter().sum()),
                    WindowKind::Mean => (!xs.is_empty()).then_some(mean),
                    WindowKind::Min => xs.iter().copied().reduce(f64::min),
                    WindowKind::Max => xs.iter().copied().reduce(f64::max),
                    WindowKind::Var(d) => var(d),
                    WindowKind::Std(d) => var(d).map(f64::sqrt),
                }
            })
            .collect()
    }

    #[test]
    fn windows_match_each_window_computed_from_scratch() {
        let values: Vec<Option<f64>> = (0..60)
            .map(|i| (i % 7 != 3).then(|| ((i * 37) % 23) as f64 * 0.5 - 4.0))
            .collect();
        for kind in [
            WindowKind::Sum,
            WindowKind::Mean,
            WindowKind::Min,
            WindowKind::Max,
            WindowKind::Var(1),
            WindowKind::Std(0),
        ] {
            for w in [1, 2, 3, 7, 100] {
                for min in [0, 1, 2, w] {
                    let got = windows(&values, w, min, kind);
                    let want = naive(&values, w, min, kind);
                    for (i, (a, b)) in got.iter().zip(&want).enumerate() {
                        match (a, b) {
                            (Some(a), Some(b)) => assert!(
                                (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                                "{kind:?} w={w} min={min} row {i}: {a} vs {b}"
                            ),
                            _ => assert_eq!(a, b, "{kind:?} w={w} min={min} row {i}"),
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn nan_and_infinities_are_values_that_spread_through_their_windows() {
        let v = [
            Some(1.0),
            Some(f64::NAN),
            Some(2.0),
            Some(f64::INFINITY),
            Some(3.0),
        ];
        let sums = windows(&v, 2, 1, WindowKind::Sum);
        assert_eq!(sums[0], Some(1.0));
        assert!(sums[1].unwrap().is_nan() && sums[2].unwrap().is_nan());
        assert_eq!(sums[3], Some(f64::INFINITY));
        assert_eq!(sums[4], Some(f64::INFINITY));
        let maxima = windows(&v, 2, 1, WindowKind::Max);
        assert!(maxima[2].unwrap().is_nan());
        assert_eq!(maxima[4], Some(f64::INFINITY));
    }
}
