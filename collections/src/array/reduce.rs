//! Reductions along axes as tree reductions: each block becomes a partial, the
//! partials of the blocks that share an output block combine `split_every` at a
//! time, level after level, and the last level finishes the value.

use super::array::Array;
use super::chunks::AxisChunks;
use super::dtype::{DType, Elem, Num};
use super::grid::{ndindex, ravel};
use super::kernels::BinOp;
use super::meta::{op, spec_bytes, Block, Meta};
use super::ops::{Elementwise, Kernel, Reduce, Scan, Stage};
use super::reduce_kernels::{Place, Reduction};
use crate::error;
use crate::layers::TokenizeDyn;
use brisk_core::graph::{Graph, Layer, Task};
use brisk_core::token::Bytes;
use brisk_core::{Error, Key, Result};

/// The fan-in of combine tasks when the caller gives none.
pub use crate::layers::ARRAY_SPLIT_EVERY as DEFAULT_SPLIT_EVERY;

fn normalize_axes(axes: &[isize], ndim: usize) -> Result<Vec<usize>> {
    let mut out: Vec<usize> = Vec::with_capacity(axes.len());
    for &a in axes {
        let ax = if a < 0 { a + ndim as isize } else { a };
        if ax < 0 || ax as usize >= ndim {
            return Err(crate::Error::AxisOutOfBounds { axis: a, ndim }.into());
        }
        if out.contains(&(ax as usize)) {
            return Err(crate::Error::RepeatedAxis { axis: a }.into());
        }
        out.push(ax as usize);
    }
    out.sort_unstable();
    Ok(out)
}

/// A tree reduction of `m` along `axes`. The partial and combine layers are named
/// by what they compute, so `x.mean(0)` and `x.std(0)` share one tree of moments
/// (each chunk is read once for both); a last layer finishes each output block.
pub(crate) fn reduce(
    m: &Meta,
    reduction: Reduction,
    axes: &[usize],
    arg_axis: Option<usize>,
    keepdims: bool,
    split_every: usize,
    out_dtype: DType,
) -> Result<Meta> {
    let split_every = split_every.max(2);
    let ndim = m.ndim();
    // The partials of mean, var and std are the same moments.
    let shared = match reduction {
        Reduction::Var { .. } | Reduction::Std { .. } => Reduction::Mean,
        Reduction::NanVar { .. } | Reduction::NanStd { .. } => Reduction::NanMean,
        r => r,
    };
    let spec = |r: Reduction, stage: Stage| Reduce {
        dtype: m.dtype,
        reduction: r,
        axes: axes.to_vec(),
        arg_axis,
        stage,
    };
    let params = spec_bytes(&spec(shared, Stage::Combine))?;
    let tag: [&dyn TokenizeDyn; 3] = [&m.name.as_str(), &Bytes(&params), &split_every];
    let needs_place = reduction.is_arg();
    let whole: Vec<usize> = if needs_place {
        m.dims()
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                error::invalid(
                    "argmin / argmax need known chunk sizes; call compute_chunk_sizes() first",
                )
            })?
    } else {
        Vec::new()
    };
    // Level 0: a partial per block.
    let partials = Meta::build(
        "reduce-chunk",
        &tag,
        &[&m.graph],
        m.chunks.clone(),
        m.dtype,
        |idx| {
            let place = if needs_place {
                Some(Place {
                    offsets: m.block_offsets(idx).unwrap_or_default(),
                    shape: whole.clone(),
                })
            } else {
                None
            };
            Ok(Block::Task(
                op(spec(shared, Stage::Chunk { place })),
                vec![m.key(idx).clone()],
            ))
        },
    )?;
    // Output grid: reduced axes collapse to one block.
    let grid = m.numblocks();
    let out_grid: Vec<usize> = (0..ndim)
        .map(|k| if axes.contains(&k) { 1 } else { grid[k] })
        .collect();
    let red_grid: Vec<usize> = (0..ndim)
        .map(|k| if axes.contains(&k) { grid[k] } else { 1 })
        .collect();
    let mut groups: Vec<Vec<Key>> = ndindex(&out_grid)
        .map(|o| {
            ndindex(&red_grid)
                .map(|r| {
                    let idx: Vec<usize> = (0..ndim)
                        .map(|k| if axes.contains(&k) { r[k] } else { o[k] })
                        .collect();
                    partials.key(&idx).clone()
                })
                .collect()
        })
        .collect();
    let out_index: Vec<Vec<u32>> = ndindex(&out_grid)
        .map(|o| o.iter().map(|&i| i as u32).collect())
        .collect();
    let mut graph = partials.graph.clone();
    let combine = op(spec(shared, Stage::Combine));
    let mut depth = 0u32;
    while groups.iter().any(|g| g.len() > 1) {
        depth += 1;
        let mut parts: Vec<&dyn TokenizeDyn> = tag.to_vec();
        parts.push(&depth);
        let name = crate::layers::layer_name("reduce-combine", &parts)?;
        let mut tasks = Vec::new();
        let mut next = Vec::with_capacity(groups.len());
        for (keys, o) in groups.iter().zip(&out_index) {
            let mut level = Vec::new();
            for (j, part) in keys.chunks(split_every).enumerate() {
                let ix: Vec<u32> = o.iter().copied().chain([j as u32]).collect();
                let key = Key::new(name.as_str(), &ix);
                level.push(key.clone());
                tasks.push(Task::new(key, combine.clone(), part.to_vec()));
            }
            next.push(level);
        }
        graph = Graph::from_layer(Layer { name, tasks }, [&graph]);
        groups = next;
    }
    // The finishing layer: the reduction's own value from each group's one partial.
    let final_params = spec_bytes(&spec(reduction, Stage::Finish { keepdims }))?;
    let name =
        crate::layers::layer_name("reduce", &[tag[0], tag[1], tag[2], &Bytes(&final_params)])?;
    let finish = op(spec(reduction, Stage::Finish { keepdims }));
    let tasks: Vec<Task> = groups
        .iter()
        .zip(&out_index)
        .map(|(keys, o)| Task::new(Key::new(name.as_str(), o), finish.clone(), keys.clone()))
        .collect();
    let blocks: Vec<Key> = tasks.iter().map(|t| t.key.clone()).collect();
    graph = Graph::from_layer(
        Layer {
            name: name.clone(),
            tasks,
        },
        [&graph],
    );
    let chunks: Vec<AxisChunks> = (0..ndim)
        .filter_map(|k| {
            if axes.contains(&k) {
                keepdims.then(|| AxisChunks::Known(vec![1]))
            } else {
                Some(m.chunks[k].clone())
            }
        })
        .collect();
    // Without keepdims the keys keep their full index; only the grid shrinks.
    Ok(Meta {
        graph,
        name,
        blocks: std::sync::Arc::new(blocks),
        chunks,
        dtype: out_dtype,
        origin: None,
    })
}

/// Axes given as a slice of signed integers; empty means all.
fn resolve(axes: &[isize], ndim: usize) -> Result<Vec<usize>> {
    if axes.is_empty() {
        Ok((0..ndim).collect())
    } else {
        normalize_axes(axes, ndim)
    }
}

impl<T: Elem> Array<T> {
    fn reduce_to<U: Elem>(
        &self,
        r: Reduction,
        axes: &[isize],
        keepdims: bool,
        split_every: Option<usize>,
    ) -> Result<Array<U>> {
        let axes = resolve(axes, self.ndim())?;
        let empty = axes.iter().any(|&k| self.meta.chunks[k].size() == Some(0));
        if empty && r.is_extreme() {
            return Err(error::invalid(format!(
                "{r:?} of an empty axis has no value (as in NumPy)"
            )));
        }
        let m = reduce(
            &self.meta,
            r,
            &axes,
            None,
            keepdims,
            split_every.unwrap_or(DEFAULT_SPLIT_EVERY),
            U::DTYPE,
        )?;
        Ok(Array::wrap(m))
    }

    /// Whether any element is nonzero along `axes` (all axes when empty).
    pub fn any(&self, axes: &[isize], keepdims: bool) -> Result<Array<bool>> {
        self.reduce_to(Reduction::Any, axes, keepdims, None)
    }

    /// Whether every element is nonzero along `axes` (all axes when empty).
    pub fn all(&self, axes: &[isize], keepdims: bool) -> Result<Array<bool>> {
        self.reduce_to(Reduction::All, axes, keepdims, None)
    }

    fn arg(&self, r: Reduction, axis: Option<isize>) -> Result<Array<i64>> {
        let (axes, arg_axis) = match axis {
            Some(a) => {
                let ax = normalize_axes(&[a], self.ndim())?;
                (ax.clone(), Some(ax[0]))
            }
            None => ((0..self.ndim()).collect(), None),
        };
        let m = reduce(
            &self.meta,
            r,
            &axes,
            arg_axis,
            false,
            DEFAULT_SPLIT_EVERY,
            DType::Int64,
        )?;
        Ok(Array::wrap(m))
    }

    /// Index of the minimum along `axis`, or in the flattened array when `None`
    /// (the first NaN wins, as NumPy's).
    pub fn argmin(&self, axis: Option<isize>) -> Result<Array<i64>> {
        self.arg(Reduction::ArgMin, axis)
    }

    /// Index of the maximum along `axis`, or in the flattened array when `None`.
    pub fn argmax(&self, axis: Option<isize>) -> Result<Array<i64>> {
        self.arg(Reduction::ArgMax, axis)
    }
}

impl<T: Num> Array<T> {
    /// A reduction along `axes` (all when empty) with an explicit `split_every`
    /// (how many partials each combine task merges).
    pub fn reduction<U: Elem>(
        &self,
        r: Reduction,
        axes: &[isize],
        keepdims: bool,
        split_every: usize,
    ) -> Result<Array<U>> {
        let want = match r {
            r if r.accumulates() => <T::Acc as Elem>::DTYPE,
            r if r.is_extreme() => T::DTYPE,
            Reduction::Any | Reduction::All => DType::Bool,
            Reduction::ArgMin | Reduction::ArgMax => DType::Int64,
            _ => <T::Float as Elem>::DTYPE,
        };
        if want != U::DTYPE {
            return Err(Error::TypeMismatch {
                expected: want.to_string(),
                found: U::DTYPE.to_string(),
            });
        }
        if r.is_arg() {
            return Array::from_meta(self.arg(r, axes.first().copied())?.meta);
        }
        self.reduce_to(r, axes, keepdims, Some(split_every))
    }

    /// Sum along `axes` (all axes when empty), accumulated as NumPy's: integers in
    /// `i64` (signed) or `u64` (unsigned), so that a sum of `u8` does not wrap at 256.
    ///
    /// ```
    /// use brisk_collections::array::from_array;
    /// use ndarray::ArrayD;
    /// # use brisk_scheduler as _;
    /// let a = from_array(&ArrayD::from_elem(vec![1000], 200u8), &[100])?;
    /// assert_eq!(a.sum(&[], false)?.compute()?.into_raw_vec_and_offset().0, vec![200_000u64]);
    /// # Ok::<(), brisk_core::Error>(())
    /// ```
    pub fn sum(&self, axes: &[isize], keepdims: bool) -> Result<Array<T::Acc>> {
        self.reduce_to(Reduction::Sum, axes, keepdims, None)
    }
    /// Sum ignoring NaN.
    pub fn nansum(&self, axes: &[isize], keepdims: bool) -> Result<Array<T::Acc>> {
        self.reduce_to(Reduction::NanSum, axes, keepdims, None)
    }
    /// Product, accumulated like [`sum`](Self::sum).
    pub fn prod(&self, axes: &[isize], keepdims: bool) -> Result<Array<T::Acc>> {
        self.reduce_to(Reduction::Prod, axes, keepdims, None)
    }
    /// Product ignoring NaN.
    pub fn nanprod(&self, axes: &[isize], keepdims: bool) -> Result<Array<T::Acc>> {
        self.reduce_to(Reduction::NanProd, axes, keepdims, None)
    }
    /// Minimum (NaN propagates).
    pub fn min(&self, axes: &[isize], keepdims: bool) -> Result<Array<T>> {
        self.reduce_to(Reduction::Min, axes, keepdims, None)
    }
    /// Maximum (NaN propagates).
    pub fn max(&self, axes: &[isize], keepdims: bool) -> Result<Array<T>> {
        self.reduce_to(Reduction::Max, axes, keepdims, None)
    }
    /// Minimum ignoring NaN; NaN where every element is NaN, as NumPy's.
    pub fn nanmin(&self, axes: &[isize], keepdims: bool) -> Result<Array<T>> {
        self.reduce_to(Reduction::NanMin, axes, keepdims, None)
    }
    /// Maximum ignoring NaN; NaN where every element is NaN.
    pub fn nanmax(&self, axes: &[isize], keepdims: bool) -> Result<Array<T>> {
        self.reduce_to(Reduction::NanMax, axes, keepdims, None)
    }
    /// Mean (in `f64` for integers).
    pub fn mean(&self, axes: &[isize], keepdims: bool) -> Result<Array<T::Float>> {
        self.reduce_to(Reduction::Mean, axes, keepdims, None)
    }
    /// Mean ignoring NaN.
    pub fn nanmean(&self, axes: &[isize], keepdims: bool) -> Result<Array<T::Float>> {
        self.reduce_to(Reduction::NanMean, axes, keepdims, None)
    }
    /// Variance with `ddof` delta degrees of freedom.
    pub fn var(&self, axes: &[isize], ddof: u32, keepdims: bool) -> Result<Array<T::Float>> {
        self.reduce_to(Reduction::Var { ddof }, axes, keepdims, None)
    }
    /// Standard deviation with `ddof` delta degrees of freedom.
    pub fn std(&self, axes: &[isize], ddof: u32, keepdims: bool) -> Result<Array<T::Float>> {
        self.reduce_to(Reduction::Std { ddof }, axes, keepdims, None)
    }
    /// Variance ignoring NaN.
    pub fn nanvar(&self, axes: &[isize], ddof: u32, keepdims: bool) -> Result<Array<T::Float>> {
        self.reduce_to(Reduction::NanVar { ddof }, axes, keepdims, None)
    }
    /// Standard deviation ignoring NaN.
    pub fn nanstd(&self, axes: &[isize], ddof: u32, keepdims: bool) -> Result<Array<T::Float>> {
        self.reduce_to(Reduction::NanStd { ddof }, axes, keepdims, None)
    }

    /// Cumulative sum along `axis`, accumulated like [`sum`](Self::sum): each
    /// block's own cumulative sum plus the carried total of the blocks before it.
    pub fn cumsum(&self, axis: isize) -> Result<Array<T::Acc>> {
        self.scan(axis, false, false)
    }
    /// Cumulative product along `axis`.
    pub fn cumprod(&self, axis: isize) -> Result<Array<T::Acc>> {
        self.scan(axis, true, false)
    }
    /// Cumulative sum counting NaN as zero.
    pub fn nancumsum(&self, axis: isize) -> Result<Array<T::Acc>> {
        self.scan(axis, false, true)
    }
    /// Cumulative product counting NaN as one.
    pub fn nancumprod(&self, axis: isize) -> Result<Array<T::Acc>> {
        self.scan(axis, true, true)
    }

    fn scan(&self, axis: isize, prod: bool, skip_nan: bool) -> Result<Array<T::Acc>> {
        let ax = normalize_axes(&[axis], self.ndim())?[0];
        let m = &self.meta;
        let total = match (prod, skip_nan) {
            (false, false) => Reduction::Sum,
            (false, true) => Reduction::NanSum,
            (true, false) => Reduction::Prod,
            (true, true) => Reduction::NanProd,
        };
        let spec = Reduce {
            dtype: m.dtype,
            reduction: total,
            axes: vec![ax],
            arg_axis: None,
            stage: Stage::Chunk { place: None },
        };
        let acc = <T::Acc as Elem>::DTYPE;
        let tag: [&dyn TokenizeDyn; 4] = [&m.name.as_str(), &ax, &prod, &skip_nan];
        // The total of each block along the axis, kept as a length-one axis (the
        // chunk partial of the matching reduction is exactly that).
        let totals = Meta::build(
            "scan-total",
            &tag,
            &[&m.graph],
            m.chunks.clone(),
            acc,
            |idx| Ok(Block::Task(op(spec.clone()), vec![m.key(idx).clone()])),
        )?;
        // carry[j] = carry[j-1] (+ or *) total[j-1] along the axis; carry[1] is total[0].
        let grid = m.numblocks();
        let combine = op(Elementwise {
            dtype: acc,
            kernel: Kernel::Binary(if prod { BinOp::Mul } else { BinOp::Add }),
        });
        let carry_name = crate::layers::layer_name("scan-carry", &tag)?;
        let mut tasks = Vec::new();
        let mut carry: Vec<Option<Key>> = vec![None; m.blocks.len()];
        for idx in ndindex(&grid) {
            if idx[ax] == 0 {
                continue;
            }
            let mut prev = idx.clone();
            prev[ax] -= 1;
            let total = totals.key(&prev).clone();
            let key = if prev[ax] == 0 {
                total
            } else {
                let k = Key::new(
                    carry_name.as_str(),
                    &idx.iter().map(|&i| i as u32).collect::<Vec<_>>(),
                );
                let before = carry[ravel(&prev, &grid)]
                    .clone()
                    .ok_or_else(|| error::malformed("scan: carry out of order"))?;
                tasks.push(Task::new(k.clone(), combine.clone(), vec![before, total]));
                k
            };
            carry[ravel(&idx, &grid)] = Some(key);
        }
        let graph = if tasks.is_empty() {
            totals.graph.clone()
        } else {
            Graph::from_layer(
                Layer {
                    name: carry_name.clone(),
                    tasks,
                },
                [&totals.graph],
            )
        };
        let scan = Scan {
            dtype: m.dtype,
            axis: ax,
            prod,
            skip_nan,
        };
        let out = Meta::build(
            if prod { "cumprod" } else { "cumsum" },
            &tag,
            &[&graph],
            m.chunks.clone(),
            acc,
            |idx| {
                let mut inputs = vec![m.key(idx).clone()];
                if let Some(c) = &carry[ravel(idx, &grid)] {
                    inputs.push(c.clone());
                }
                Ok(Block::Task(op(scan.clone()), inputs))
            },
        )?;
        Ok(Array::wrap(out))
    }
}

impl Array<bool> {
    /// The number of `true` elements along `axes` (all axes when empty), as NumPy's
    /// sum of booleans (`int64`).
    pub fn sum(&self, axes: &[isize], keepdims: bool) -> Result<Array<i64>> {
        self.astype::<i64>()?.sum(axes, keepdims)
    }

    /// Running count of `true` elements along `axis` (`int64`).
    pub fn cumsum(&self, axis: isize) -> Result<Array<i64>> {
        self.astype::<i64>()?.cumsum(axis)
    }
}
