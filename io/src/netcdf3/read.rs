//! Reading hyperslabs of variables: the byte ranges a slab needs (one per record
//! for record variables, one span otherwise), then big-endian values converted into
//! the caller's type.

use super::error::NcError;
use super::header::{product, Header, Var};
// `read::decode_into` and `read::decode_f32` keep naming the decoders.
pub use super::nc_type::{decode_f32, decode_into};

/// A byte range of the file that holds part of a slab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// Byte offset in the file.
    pub offset: u64,
    /// Bytes.
    pub len: u64,
}

/// The byte ranges holding the slab `start[k] .. start[k] + count[k]` of `v`, in the
/// slab's C order; contiguous parts are merged, and for each range the caller keeps
/// only the runs listed by [`pick`]. Bounds are checked against the variable.
pub fn ranges(h: &Header, v: &Var, start: &[u64], count: &[u64]) -> Result<Vec<Run>, NcError> {
    let shape = h.shape(v);
    if start.len() != shape.len() || count.len() != shape.len() {
        return Err(NcError::BadSlab {
            var: v.name.clone(),
            reason: format!(
                "{} axes given for a variable of {}",
                start.len(),
                shape.len()
            ),
        });
    }
    for k in 0..shape.len() {
        if start[k].checked_add(count[k]).is_none_or(|e| e > shape[k]) {
            return Err(NcError::BadSlab {
                var: v.name.clone(),
                reason: format!(
                    "axis {k}: {} values from {} do not fit in 0..{}",
                    count[k], start[k], shape[k]
                ),
            });
        }
    }
    let size = v.nc_type.size() as u64;
    let record = h.is_record(v);
    let inner: &[u64] = if record { &shape[1..] } else { &shape };
    let (istart, icount) = if record {
        (&start[1..], &count[1..])
    } else {
        (start, count)
    };
    // The span of the slab inside one record (or the whole variable): from its first
    // to its last element. Sizes come from the header, so the arithmetic saturates:
    // a hostile header gives a range past the end of the file, which is an error.
    let strides: Vec<u64> = (0..inner.len()).map(|k| product(&inner[k + 1..])).collect();
    let dot = |idx: &mut dyn Iterator<Item = u64>| {
        idx.zip(&strides)
            .fold(0u64, |a, (i, &st)| a.saturating_add(i.saturating_mul(st)))
    };
    let first = dot(&mut istart.iter().copied());
    let last = dot(&mut istart
        .iter()
        .zip(icount)
        .map(|(s, c)| s + c.saturating_sub(1)));
    let empty = count.contains(&0);
    let span = if empty {
        0
    } else {
        (last - first).saturating_add(1).saturating_mul(size)
    };
    let at = |base: u64| base.saturating_add(first.saturating_mul(size));
    let mut out = Vec::new();
    if record {
        let recsize = h.record_size();
        for r in start[0]..start[0] + count[0] {
            out.push(Run {
                offset: at(v.begin.saturating_add(r.saturating_mul(recsize))),
                len: span,
            });
        }
    } else {
        out.push(Run {
            offset: at(v.begin),
            len: span,
        });
    }
    Ok(out)
}

/// From the bytes of one span (as given by [`ranges`]), the sub-ranges (byte offset
/// in the span, length) that belong to the slab, in C order.
pub fn pick(inner: &[u64], istart: &[u64], icount: &[u64], size: u64) -> Vec<(u64, u64)> {
    let n = inner.len();
    if n == 0 {
        return vec![(0, size)];
    }
    if icount.contains(&0) {
        return Vec::new();
    }
    let strides: Vec<u64> = (0..n).map(|k| inner[k + 1..].iter().product()).collect();
    // The innermost axes taken whole make one contiguous run with the first axis
    // (from the inside) that is not whole.
    let mut k = n;
    let mut run = 1u64;
    while k > 0 {
        k -= 1;
        run *= icount[k];
        if icount[k] != inner[k] {
            break;
        }
    }
    // Axes before `k` are iterated.
    let first: u64 = istart.iter().zip(&strides).map(|(s, st)| s * st).sum();
    let outer: Vec<u64> = icount[..k].to_vec();
    let total: u64 = outer.iter().product();
    let mut out = Vec::with_capacity(total as usize);
    let mut idx = vec![0u64; k];
    for _ in 0..total {
        let at: u64 = (0..k)
            .map(|j| (istart[j] + idx[j]) * strides[j])
            .sum::<u64>()
            + istart[k..]
                .iter()
                .zip(&strides[k..])
                .map(|(s, st)| s * st)
                .sum::<u64>();
        out.push(((at - first) * size, run * size));
        for j in (0..k).rev() {
            idx[j] += 1;
            if idx[j] < outer[j] {
                break;
            }
            idx[j] = 0;
        }
    }
    out
}

/// `runs` (in file order) in groups to fetch with one request each: a group grows
/// while its span, from its first byte to its last, stays within `max_bytes`. A run
/// larger than that is a group of its own.
///
/// ```
/// use brisk_io::netcdf3::read::{merge, Run};
/// let runs: Vec<Run> = (0..4).map(|r| Run { offset: 100 + r * 50, len: 20 }).collect();
/// let groups = merge(&runs, 100);
/// assert_eq!(groups.iter().map(|g| g.len()).collect::<Vec<_>>(), [2, 2]);
/// ```
pub fn merge(runs: &[Run], max_bytes: u64) -> Vec<&[Run]> {
    let mut groups = Vec::new();
    let mut start = 0;
    for i in 1..=runs.len() {
        let ends_group = i == runs.len() || {
            let first = runs[start].offset;
            let end = runs[i].offset.saturating_add(runs[i].len);
            runs[i].offset < first || end.saturating_sub(first) > max_bytes
        };
        if ends_group {
            groups.push(&runs[start..i]);
            start = i;
        }
    }
    groups
}
