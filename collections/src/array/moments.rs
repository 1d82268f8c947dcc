//! The partial of mean / var / std reductions: per output position the count, the
//! mean and the sum of squared deviations (M2), merged with Chan's formula so that a
//! large offset loses no precision. The count is one number when it is the same
//! everywhere (no NaN skipped), so a partial costs 16 bytes a position.

use super::dtype::{Elem, Float, Num};
use super::reduce_kernels::Reduction;
use crate::error;
use brisk_core::value::{Data, DecoderRegistration, Encoded, Value};
use brisk_core::{Error, Result};
use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, Zip};
use std::sync::Arc;

/// Counts of a partial.
#[derive(Debug, Clone, PartialEq)]
pub enum Count {
    /// The same count at every position.
    Uniform(f64),
    /// A count per position.
    Each(ArrayD<f64>),
}

/// A moments partial (reduced axes kept with length one). Means and M2 are
/// stored in the result's float type (float32 data keeps 8 bytes a position) and
/// computed in f64.
#[derive(Debug, Clone, PartialEq)]
pub struct Moments<F> {
    /// Counts.
    pub n: Count,
    /// Means.
    pub mean: ArrayD<F>,
    /// Sums of squared deviations from the mean.
    pub m2: ArrayD<F>,
}

/// Float types whose moments partials are task values.
pub trait Stat: Copy + Send + Sync + 'static {
    /// A partial as a task value.
    fn value(m: Moments<Self>) -> Value;
    /// The partial of a task value.
    fn partial(v: &Value) -> Result<&Moments<Self>>;
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    shape: Vec<u64>,
    uniform: Option<f64>,
}

macro_rules! stat {
    ($t:ty, $tag:expr) => {
        impl Stat for $t {
            fn value(m: Moments<Self>) -> Value {
                Arc::new(m)
            }
            fn partial(v: &Value) -> Result<&Moments<Self>> {
                v.expect_ref::<Moments<Self>>()
            }
        }

        impl Data for Moments<$t> {
            fn nbytes(&self) -> usize {
                const S: usize = std::mem::size_of::<$t>();
                (self.mean.len() + self.m2.len()) * S + if let Count::Each(n) = &self.n { n.len() * 8 } else { 8 }
            }
            fn type_tag(&self) -> &'static str {
                $tag
            }
            fn encode(&self) -> Result<Encoded> {
                let header = Header {
                    shape: self.mean.shape().iter().map(|&d| d as u64).collect(),
                    uniform: match self.n {
                        Count::Uniform(n) => Some(n),
                        Count::Each(_) => None,
                    },
                };
                let header = rmp_serde::to_vec(&header).map_err(|e| Error::Encode { type_tag: $tag.into(), reason: e.to_string() })?;
                let raw = |a: &ArrayD<$t>| a.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
                let mut frames = vec![raw(&self.mean), raw(&self.m2)];
                if let Count::Each(n) = &self.n {
                    frames.push(n.iter().flat_map(|x| x.to_le_bytes()).collect());
                }
                Ok(Encoded { type_tag: $tag.into(), header, frames })
            }
            fn as_any(&self) -> &dyn std::any::Any {
                self
            }
        }

        inventory::submit! {
            DecoderRegistration {
                type_tag: $tag,
                decode: |e| {
                    let (n, mean, m2) = decode_parts::<{ std::mem::size_of::<$t>() }>(e, $tag)?;
                    let conv = |v: Vec<[u8; std::mem::size_of::<$t>()]>, shape: &[usize]| {
                        ArrayD::from_shape_vec(IxDyn(shape), v.into_iter().map(<$t>::from_le_bytes).collect())
                            .map_err(|x| Error::Decode { type_tag: $tag.into(), reason: x.to_string() })
                    };
                    let shape = mean.1.clone();
                    Ok(Arc::new(Moments::<$t> { n, mean: conv(mean.0, &shape)?, m2: conv(m2, &shape)? }) as Value)
                },
            }
        }
    };
}

stat!(f32, "brisk::array::moments<float32>");
stat!(f64, "brisk::array::moments<float64>");

type Parts<const S: usize> = (Count, (Vec<[u8; S]>, Vec<usize>), Vec<[u8; S]>);

/// The counts, mean bytes (with the shape) and M2 bytes of an encoded partial,
/// every length checked against the header.
fn decode_parts<const S: usize>(e: &Encoded, tag: &str) -> Result<Parts<S>> {
    let bad = |reason: String| Error::Decode {
        type_tag: tag.into(),
        reason,
    };
    let h: Header = rmp_serde::from_slice(&e.header).map_err(|x| bad(x.to_string()))?;
    let len = h
        .shape
        .iter()
        .try_fold(1u64, |a, &d| a.checked_mul(d))
        .ok_or_else(|| bad("shape overflows".into()))?;
    let want = if h.uniform.is_some() { 2 } else { 3 };
    if e.frames.len() != want {
        return Err(bad(format!(
            "expected {want} frames, found {}",
            e.frames.len()
        )));
    }
    let words = |f: &Vec<u8>, size: usize| -> Result<()> {
        if f.len() as u64 != len.saturating_mul(size as u64) {
            return Err(bad(format!(
                "a frame of {} bytes for {len} values",
                f.len()
            )));
        }
        Ok(())
    };
    let split = |f: &Vec<u8>| -> Result<Vec<[u8; S]>> {
        words(f, S)?;
        Ok(f.chunks_exact(S)
            .map(|c| {
                let mut a = [0u8; S];
                a.copy_from_slice(c);
                a
            })
            .collect())
    };
    let shape: Vec<usize> = h.shape.iter().map(|&d| d as usize).collect();
    let n = match h.uniform {
        Some(n) => Count::Uniform(n),
        None => {
            words(&e.frames[2], 8)?;
            let v: Vec<f64> = e.frames[2]
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect();
            Count::Each(ArrayD::from_shape_vec(IxDyn(&shape), v).map_err(|x| bad(x.to_string()))?)
        }
    };
    Ok((n, (split(&e.frames[0])?, shape), split(&e.frames[1])?))
}

/// The moments of a chunk along `axes`, skipping NaN when `skip_nan`, in one pass
/// over the data: sums of deviations from a shift (each position's first value,
/// which keeps the sums small), then mean = shift + S1 / n and M2 = S2 - S1² / n.
/// The pass goes over the reduced positions with whole kept-shape accumulators
/// when the kept part is the larger, else over the kept positions.
pub fn chunk<T: Num>(a: &ArrayD<T>, axes: &[usize], skip_nan: bool) -> Moments<T::Float> {
    let lead = axes.len();
    let leading = (0..lead).all(|k| axes.contains(&k)) && axes.iter().all(|&k| k < lead);
    if let (Some(xs), true, false) = (a.as_slice(), leading && lead < a.ndim(), skip_nan) {
        let reduced: usize = a.shape()[..lead].iter().product();
        if reduced > 0 {
            let kept_shape = &a.shape()[lead..];
            let (mean, m2) = leading_moments(xs, reduced, kept_shape.iter().product());
            let shape: Vec<usize> = std::iter::repeat_n(1, lead)
                .chain(kept_shape.iter().copied())
                .collect();
            let shaped = |v: Vec<T::Float>| {
                ArrayD::from_shape_vec(IxDyn(&shape), v)
                    .unwrap_or_else(|_| ArrayD::from_elem(IxDyn(&shape), T::Float::ZERO))
            };
            return Moments {
                n: Count::Uniform(reduced as f64),
                mean: shaped(mean),
                m2: shaped(m2),
            };
        }
    }
    // Large kept parts go in tiles along the first kept axis, so that the f64
    // accumulators stay small whatever the chunk size.
    const TILE: usize = 1 << 15;
    let first_kept = (0..a.ndim()).find(|k| !axes.contains(k));
    let kept: usize = (0..a.ndim())
        .filter(|k| !axes.contains(k))
        .map(|k| a.shape()[k])
        .product();
    match first_kept {
        Some(ax) if kept > 2 * TILE && a.shape()[ax] > 1 => {
            let per_row = kept / a.shape()[ax];
            let rows = (TILE / per_row.max(1)).max(1);
            let tiles: Vec<Moments<T::Float>> = a
                .axis_chunks_iter(Axis(ax), rows)
                .map(|t| chunk_view(t, axes, skip_nan))
                .collect();
            join_tiles(tiles, ax)
        }
        _ => chunk_view(a.view(), axes, skip_nan),
    }
}

/// The moments of a C-ordered chunk along its leading axes (a time-major block over
/// time), NaN not skipped: `xs` is `reduced` rows of `kept` values. One pass over the
/// data, a tile of positions at a time with f64 accumulators that stay in cache; the
/// same shifted sums as [`chunk_view`], written straight into the results.
fn leading_moments<T: Num>(
    xs: &[T],
    reduced: usize,
    kept: usize,
) -> (Vec<T::Float>, Vec<T::Float>) {
    const TILE: usize = 2048;
    let mut mean = vec![T::Float::ZERO; kept];
    let mut m2 = vec![T::Float::ZERO; kept];
    let (mut c, mut s1, mut s2) = ([0.0f64; TILE], [0.0f64; TILE], [0.0f64; TILE]);
    let n = reduced as f64;
    for start in (0..kept).step_by(TILE) {
        let w = TILE.min(kept - start);
        let (c, s1, s2) = (&mut c[..w], &mut s1[..w], &mut s2[..w]);
        // The first row is the shift; its own deviation is 0, or NaN when it is not
        // finite (as in the general path, so an inf or NaN gives NaN moments).
        let first = c.iter_mut().zip(s1.iter_mut().zip(s2.iter_mut()));
        for ((cj, (a1, a2)), &x) in first.zip(&xs[start..start + w]) {
            *cj = x.to_f64();
            *a1 = if cj.is_finite() { 0.0 } else { f64::NAN };
            *a2 = *a1 * *a1;
        }
        for r in 1..reduced {
            let row = &xs[r * kept + start..r * kept + start + w];
            for (((a1, a2), &cj), &x) in s1.iter_mut().zip(s2.iter_mut()).zip(c.iter()).zip(row) {
                let d = x.to_f64() - cj;
                *a1 += d;
                *a2 += d * d;
            }
        }
        let outs = mean[start..start + w]
            .iter_mut()
            .zip(&mut m2[start..start + w]);
        for (((m, q), &cj), (&a1, &a2)) in outs.zip(c.iter()).zip(s1.iter().zip(s2.iter())) {
            *m = T::Float::from_f64(cj + a1 / n);
            // Rounding can make it slightly negative; NaN stays NaN.
            let v = a2 - a1 * a1 / n;
            *q = T::Float::from_f64(if v < 0.0 { 0.0 } else { v });
        }
    }
    (mean, m2)
}

/// Tiles of one chunk's partial joined along `axis`.
fn join_tiles<F: Float>(tiles: Vec<Moments<F>>, axis: usize) -> Moments<F> {
    let cat = |parts: Vec<ndarray::ArrayViewD<'_, F>>| {
        ndarray::concatenate(Axis(axis), &parts)
            .unwrap_or_else(|_| ArrayD::from_elem(IxDyn(&[0]), F::ZERO))
    };
    let mean = cat(tiles.iter().map(|t| t.mean.view()).collect());
    let m2 = cat(tiles.iter().map(|t| t.m2.view()).collect());
    let uniform = match tiles.first().map(|t| &t.n) {
        Some(Count::Uniform(n)) if tiles.iter().all(|t| t.n == Count::Uniform(*n)) => Some(*n),
        _ => None,
    };
    let n = match uniform {
        Some(n) => Count::Uniform(n),
        None => {
            let arrays: Vec<ArrayD<f64>> = tiles
                .iter()
                .map(|t| match &t.n {
                    Count::Uniform(v) => ArrayD::from_elem(t.mean.raw_dim(), *v),
                    Count::Each(a) => a.clone(),
                })
                .collect();
            let views: Vec<_> = arrays.iter().map(|a| a.view()).collect();
            Count::Each(
                ndarray::concatenate(Axis(axis), &views)
                    .unwrap_or_else(|_| ArrayD::zeros(IxDyn(&[0]))),
            )
        }
    };
    Moments { n, mean, m2 }
}

fn chunk_view<T: Num>(a: ArrayViewD<'_, T>, axes: &[usize], skip_nan: bool) -> Moments<T::Float> {
    let mut sorted = axes.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let kept_axes: Vec<usize> = (0..a.ndim()).filter(|k| !sorted.contains(k)).collect();
    let kept_shape: Vec<usize> = kept_axes.iter().map(|&k| a.shape()[k]).collect();
    let red_shape: Vec<usize> = sorted.iter().map(|&k| a.shape()[k]).collect();
    let kept: usize = kept_shape.iter().product();
    let reduced: usize = red_shape.iter().product();
    let mut s1 = ArrayD::<f64>::zeros(IxDyn(&kept_shape));
    let mut s2 = ArrayD::<f64>::zeros(IxDyn(&kept_shape));
    let mut n: Option<ArrayD<f64>> = skip_nan.then(|| ArrayD::zeros(IxDyn(&kept_shape)));
    let value = |x: T| {
        let v = x.to_f64();
        if v.is_nan() {
            0.0
        } else {
            v
        }
    };
    let shift: ArrayD<f64>;
    // Reduced axes at the end of a C-ordered chunk are contiguous lanes: walk each.
    let trailing = sorted
        .iter()
        .enumerate()
        .all(|(j, &ax)| ax == a.ndim() - sorted.len() + j);
    if kept >= reduced && reduced > 0 && !(trailing && a.is_standard_layout()) {
        // `a` with the reduced axes fixed at `idx`: a kept-shape view.
        let fix = |idx: &[usize]| -> ArrayViewD<'_, T> {
            let mut v = a.view();
            for (j, &ax) in sorted.iter().enumerate().rev() {
                v = v.index_axis_move(Axis(ax), idx[j]);
            }
            v
        };
        let combos: Vec<Vec<usize>> = super::grid::ndindex(&red_shape).collect();
        shift = fix(&combos[0]).mapv(value);
        for idx in &combos {
            match &mut n {
                None => Zip::from(&mut s1)
                    .and(&mut s2)
                    .and(&shift)
                    .and(fix(idx))
                    .for_each(|s1, s2, &c, &x| {
                        let d = x.to_f64() - c;
                        *s1 += d;
                        *s2 += d * d;
                    }),
                Some(n) => Zip::from(&mut s1)
                    .and(&mut s2)
                    .and(n)
                    .and(&shift)
                    .and(fix(idx))
                    .for_each(|s1, s2, n, &c, &x| {
                        if !x.is_nan() {
                            let d = x.to_f64() - c;
                            *s1 += d;
                            *s2 += d * d;
                            *n += 1.0;
                        }
                    }),
            }
        }
    } else {
        // Few kept positions: for each, one walk over its reduced sub-array.
        let perm: Vec<usize> = kept_axes.iter().chain(&sorted).copied().collect();
        let v = a.view().permuted_axes(IxDyn(&perm));
        let mut c_out = ArrayD::<f64>::zeros(IxDyn(&kept_shape));
        let mut counts = ArrayD::<f64>::zeros(IxDyn(&kept_shape));
        for (i, (((p1, p2), pc), pn)) in s1
            .iter_mut()
            .zip(s2.iter_mut())
            .zip(c_out.iter_mut())
            .zip(counts.iter_mut())
            .enumerate()
        {
            let mut sub = v.view();
            let mut rest = i;
            let mut idx = vec![0; kept_axes.len()];
            for k in (0..kept_axes.len()).rev() {
                idx[k] = rest % kept_shape[k];
                rest /= kept_shape[k];
            }
            for &ix in &idx {
                sub = sub.index_axis_move(Axis(0), ix);
            }
            let c = sub.iter().map(|&x| value(x)).next().unwrap_or(0.0);
            let (a1, a2, cnt) = match sub.as_slice() {
                Some(xs) => shifted_sums(xs, c, skip_nan),
                None => shifted_sums_of(sub.iter(), c, skip_nan),
            };
            (*p1, *p2, *pc, *pn) = (a1, a2, c, cnt);
        }
        shift = c_out;
        if let Some(n) = &mut n {
            *n = counts;
        }
    }
    // mean = c + S1 / n; M2 = S2 - S1² / n (never negative).
    let (mut mean, mut m2) = (shift, s2);
    let finish = |m: &mut f64, q: &mut f64, s: f64, n: f64| {
        if n > 0.0 {
            *m += s / n;
            // Rounding can make it slightly negative; NaN stays NaN.
            *q -= s * s / n;
            if *q < 0.0 {
                *q = 0.0;
            }
        } else {
            *m = f64::NAN;
            *q = 0.0;
        }
    };
    let count = match n {
        None => {
            let n = reduced as f64;
            Zip::from(&mut mean)
                .and(&mut m2)
                .and(&s1)
                .for_each(|m, q, &s| finish(m, q, s, n));
            Count::Uniform(n)
        }
        Some(n) => {
            Zip::from(&mut mean)
                .and(&mut m2)
                .and(&s1)
                .and(&n)
                .for_each(|m, q, &s, &c| finish(m, q, s, c));
            match n.iter().next() {
                Some(&first) if n.iter().all(|&c| c == first) => Count::Uniform(first),
                None => Count::Uniform(0.0),
                _ => Count::Each(n),
            }
        }
    };
    let keep = |mut x: ArrayD<f64>| {
        for &ax in &sorted {
            x = x.insert_axis(Axis(ax));
        }
        x
    };
    let count = match count {
        Count::Each(n) => Count::Each(keep(n)),
        u => u,
    };
    let narrow = |x: ArrayD<f64>| x.mapv(<T::Float as Elem>::from_f64);
    Moments {
        n: count,
        mean: narrow(keep(mean)),
        m2: narrow(keep(m2)),
    }
}

/// Sums of `x - c` and `(x - c)²` and the count over a contiguous slice, with eight
/// independent accumulators so that the loop vectorises.
fn shifted_sums<T: Num>(xs: &[T], c: f64, skip_nan: bool) -> (f64, f64, f64) {
    const L: usize = 8;
    let (mut s1, mut s2, mut n) = ([0.0f64; L], [0.0f64; L], [0.0f64; L]);
    let mut chunks = xs.chunks_exact(L);
    if skip_nan {
        for ch in &mut chunks {
            for j in 0..L {
                let x = ch[j].to_f64();
                if !x.is_nan() {
                    let d = x - c;
                    s1[j] += d;
                    s2[j] += d * d;
                    n[j] += 1.0;
                }
            }
        }
    } else {
        for ch in &mut chunks {
            for j in 0..L {
                let d = ch[j].to_f64() - c;
                s1[j] += d;
                s2[j] += d * d;
            }
        }
        n[0] = (xs.len() - chunks.remainder().len()) as f64;
    }
    let (r1, r2, rn) = shifted_sums_of(chunks.remainder().iter(), c, skip_nan);
    (
        s1.iter().sum::<f64>() + r1,
        s2.iter().sum::<f64>() + r2,
        n.iter().sum::<f64>() + rn,
    )
}

/// [`shifted_sums`] one value at a time, for strided views and remainders.
fn shifted_sums_of<'a, T: Num>(
    xs: impl Iterator<Item = &'a T>,
    c: f64,
    skip_nan: bool,
) -> (f64, f64, f64) {
    let (mut a1, mut a2, mut cnt) = (0.0, 0.0, 0.0);
    for &x in xs {
        if !(skip_nan && x.is_nan()) {
            let d = x.to_f64() - c;
            a1 += d;
            a2 += d * d;
            cnt += 1.0;
        }
    }
    (a1, a2, cnt)
}

/// Merges partial `b` into `a`, in place (Chan et al.), in f64.
pub fn merge_into<F: Float>(a: &mut Moments<F>, b: &Moments<F>) -> Result<()> {
    if a.mean.shape() != b.mean.shape() {
        return Err(error::shape(format!(
            "partials of shapes {:?} and {:?} cannot merge",
            a.mean.shape(),
            b.mean.shape()
        )));
    }
    // One position: (count, mean, M2) of `a` updated with those of `b`.
    let chan = |na: f64, m: &mut F, q: &mut F, nb: f64, mb: F, qb: F| {
        if nb == 0.0 {
            return;
        }
        if na == 0.0 {
            (*m, *q) = (mb, qb);
            return;
        }
        let nn = na + nb;
        let (ma, qa) = (m.to_f64(), q.to_f64());
        let d = mb.to_f64() - ma;
        *m = F::from_f64(ma + d * nb / nn);
        *q = F::from_f64(qa + qb.to_f64() + d * d * na * nb / nn);
    };
    match (&a.n, &b.n) {
        (Count::Uniform(na), Count::Uniform(nb)) => {
            let (na, nb) = (*na, *nb);
            let both = a.mean.as_slice_mut().zip(a.m2.as_slice_mut());
            match (both, b.mean.as_slice().zip(b.m2.as_slice())) {
                (Some((m, q)), Some((mb, qb))) => {
                    for ((m, q), (&mb, &qb)) in
                        m.iter_mut().zip(q.iter_mut()).zip(mb.iter().zip(qb))
                    {
                        chan(na, m, q, nb, mb, qb);
                    }
                }
                _ => Zip::from(&mut a.mean)
                    .and(&mut a.m2)
                    .and(&b.mean)
                    .and(&b.m2)
                    .for_each(|m, q, &mb, &qb| chan(na, m, q, nb, mb, qb)),
            }
            a.n = Count::Uniform(na + nb);
        }
        _ => {
            let counts = |c: &Count| match c {
                Count::Uniform(v) => ArrayD::from_elem(a.mean.raw_dim(), *v),
                Count::Each(n) => n.clone(),
            };
            let (mut na, nb) = (counts(&a.n), counts(&b.n));
            if na.shape() != nb.shape() || na.shape() != a.mean.shape() {
                return Err(error::malformed("moments partials with mismatched counts"));
            }
            Zip::from(&mut na)
                .and(&mut a.mean)
                .and(&mut a.m2)
                .and(&nb)
                .and(&b.mean)
                .and(&b.m2)
                .for_each(|na, m, q, &nb, &mb, &qb| {
                    chan(*na, m, q, nb, mb, qb);
                    *na += nb;
                });
            a.n = Count::Each(na);
        }
    }
    Ok(())
}

/// The mean, variance or standard deviation of a partial.
pub fn finish<F: Float>(p: &Moments<F>, r: Reduction) -> Result<ArrayD<F>> {
    let var = |n: f64, q: f64, ddof: u32| {
        let dof = n - f64::from(ddof);
        if dof > 0.0 {
            q / dof
        } else {
            f64::NAN
        }
    };
    let counts = match &p.n {
        Count::Uniform(n) => ArrayD::from_elem(p.mean.raw_dim(), *n),
        Count::Each(n) => n.clone(),
    };
    Ok(match r {
        Reduction::Mean | Reduction::NanMean => p.mean.clone(),
        Reduction::Var { ddof } | Reduction::NanVar { ddof } => Zip::from(&counts)
            .and(&p.m2)
            .map_collect(|&n, &q| F::from_f64(var(n, q.to_f64(), ddof))),
        Reduction::Std { ddof } | Reduction::NanStd { ddof } => Zip::from(&counts)
            .and(&p.m2)
            .map_collect(|&n, &q| F::from_f64(var(n, q.to_f64(), ddof).sqrt())),
        _ => return Err(error::malformed("not a moments reduction")),
    })
}
