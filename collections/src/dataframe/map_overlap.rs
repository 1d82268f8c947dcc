//! `map_overlap(f, before, after)` (Dask's `map_overlap`): `f` on each partition
//! with `before` rows of the partitions before it and `after` rows of those after
//! it, those extra rows then trimmed off `f`'s result; for functions whose answer
//! at a row reads its neighbours (a centred window, a difference, a fill).

use super::dataframe::DataFrame;
use super::frame::{concat_frames, frame, Frame};
use super::map_partitions::{call_registered, FrameFn, OnFrame};
use super::overlap::{neighbour_rows, Side};
use super::schema::from_schema;
use super::series::Series;
use crate::error;
use crate::layers::layer_name;
use crate::user_fn::IntoCode;
use brisk_core::graph::{Graph, Layer, Task};
use brisk_core::op::{ClosureOp, Op, OpRegistration};
use brisk_core::spec_op::{rebuild_spec, Spec, SpecOp};
use brisk_core::{Key, Result, Value};
use polars::prelude as pl;
use std::sync::Arc;

/// Which inputs a task has around its partition, and the rows to trim.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
struct Trim {
    /// Rows before the partition (its first input), 0 when there is none.
    before: u64,
    /// Rows after the partition (its last input), 0 when there is none.
    after: u64,
}

impl Trim {
    /// `f` on the partition with its neighbours' rows, trimmed back.
    fn run(
        self,
        inputs: &[Value],
        f: impl FnOnce(&pl::DataFrame) -> Result<pl::DataFrame>,
    ) -> Result<Value> {
        let frames = inputs.iter().map(frame).collect::<Result<Vec<_>>>()?;
        let first = frames
            .first()
            .ok_or_else(|| error::malformed("map_overlap without input"))?;
        let whole = concat_frames(frames.iter().map(|f| Ok(*f)), || first.clear())?;
        let out = f(&whole)?;
        let (b, a) = (self.before as usize, self.after as usize);
        if out.height() < b + a {
            return Err(error::invalid(format!(
                "map_overlap: the function returned {} rows for {} rows in; it must keep \
                 the rows it is given, so that the {b} rows before and {a} after can be trimmed",
                out.height(),
                whole.height()
            )));
        }
        Ok(Arc::new(Frame(out.slice(b as i64, out.height() - b - a))))
    }
}

/// A map_overlap task of a registered function.
#[derive(serde::Serialize, serde::Deserialize)]
struct OverlapSpec {
    function: String,
    params: Vec<u8>,
    trim: Trim,
}

impl Spec for OverlapSpec {
    const NAME: &'static str = "brisk::dataframe::map_overlap";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        self.trim.run(inputs, |df| {
            call_registered(&self.function, &self.params, df)
        })
    }
}

inventory::submit! {
    OpRegistration { name: OverlapSpec::NAME, rebuild: rebuild_spec::<OverlapSpec> }
}

impl DataFrame {
    /// Runs `f` on each partition together with the last `before` rows of the
    /// partitions before it and the first `after` rows of those after it, and
    /// trims those rows off `f`'s result (so `f` must return as many rows as it
    /// is given). The first partition has no rows before it and the last none
    /// after, as in Dask; where fewer than `before` (or `after`) rows exist on a
    /// side of an inner partition, the missing ones are null rows. `f` is a
    /// registered function of a Polars DataFrame (`f::task_fn()`, runs on any
    /// scheduler) or a named closure (local only); the schema comes from a call
    /// on an empty frame.
    ///
    /// ```
    /// use brisk_collections::dataframe::{from_polars, polars::prelude::*};
    /// use brisk_scheduler as _;
    ///
    /// let pdf = df!("x" => [1.0, 2.0, 4.0, 8.0, 16.0]).unwrap();
    /// // Each row's neighbours summed (null where one is missing).
    /// let centred = |df: &DataFrame| {
    ///     let x = df.column("x").unwrap().f64().unwrap();
    ///     let v: Vec<Option<f64>> = (0..x.len())
    ///         .map(|i| if i == 0 || i + 1 >= x.len() { None } else { Some(x.get(i - 1)? + x.get(i + 1)?) })
    ///         .collect();
    ///     Ok(df!("x" => v).unwrap())
    /// };
    /// let out = from_polars(&pdf, 2).unwrap()
    ///     .map_overlap(("neighbours", centred), 1, 1).unwrap()
    ///     .compute().unwrap();
    /// // Across the partitions' edge too.
    /// assert_eq!(
    ///     out.column("x").unwrap().f64().unwrap().to_vec(),
    ///     [None, Some(5.0), Some(10.0), Some(20.0), None]
    /// );
    /// ```
    pub fn map_overlap<M>(
        &self,
        f: impl IntoCode<pl::DataFrame, pl::DataFrame, OnFrame, M>,
        before: usize,
        after: usize,
    ) -> Result<DataFrame> {
        let f = FrameFn::new(f);
        let meta = f.meta(&self.schema(), "map_overlap")?;
        let parts = self.parts(&[])?;
        let k = parts.npartitions;
        let columns = self.columns();
        let mut graph = parts.graph.clone();
        let mut carries = |n: usize, side: Side| -> Result<Option<Vec<Key>>> {
            if n == 0 || k < 2 {
                return Ok(None);
            }
            let (g, keys) =
                neighbour_rows("map_overlap", &parts, self.dtypes(), &columns, n, side)?;
            graph = Graph::merge([&graph, &g]);
            Ok(Some(keys))
        };
        let befores = carries(before, Side::Before)?;
        let afters = carries(after, Side::After)?;
        let layer = layer_name(
            "map_overlap",
            &[&parts.name.as_str(), &f.label()?, &before, &after],
        )?;
        let tasks = (0..k)
            .map(|i| {
                let mut inputs = Vec::new();
                let mut trim = Trim {
                    before: 0,
                    after: 0,
                };
                if let Some(b) = befores.as_ref().filter(|_| i > 0) {
                    inputs.push(b[i].clone());
                    trim.before = before as u64;
                }
                inputs.push(parts.key(i));
                if let Some(a) = afters.as_ref().filter(|_| i + 1 < k) {
                    inputs.push(a[i].clone());
                    trim.after = after as u64;
                }
                let op: Arc<dyn Op> = match &f {
                    FrameFn::Registered(tf) => Arc::new(SpecOp(OverlapSpec {
                        function: tf.name().to_string(),
                        params: tf.op().params()?,
                        trim,
                    })),
                    FrameFn::Closure(name, g) => {
                        let g = g.clone();
                        Arc::new(ClosureOp::new(
                            format!("map_overlap:{name}"),
                            move |xs: &[Value]| trim.run(xs, |df| g(df)),
                        ))
                    }
                };
                Ok(Task::new(Key::new(layer.as_str(), &[i as u32]), op, inputs))
            })
            .collect::<Result<Vec<_>>>()?;
        let graph = Graph::from_layer(
            Layer {
                name: layer.clone(),
                tasks,
            },
            [&graph],
        );
        Ok(DataFrame::from_keys(layer, k, graph, from_schema(&meta)))
    }
}

impl Series {
    /// [`DataFrame::map_overlap`] on this column: `f` gets the column as a frame
    /// of one column and returns a frame whose first column is the result.
    pub fn map_overlap<M>(
        &self,
        f: impl IntoCode<pl::DataFrame, pl::DataFrame, OnFrame, M>,
        before: usize,
        after: usize,
    ) -> Result<Series> {
        let out = self.frame.map_overlap(f, before, after)?;
        let name = out
            .columns()
            .first()
            .cloned()
            .ok_or_else(|| error::invalid("map_overlap: the function returned no column"))?;
        out.column(&name)
    }
}
