//! `map_partitions(f)`: a user function on every partition (Dask's
//! `DataFrame.map_partitions`), and [`FrameFn`], a user function of a frame that
//! `groupby(..).apply` shares.
//!
//! The output schema is found as Dask finds `meta`: by calling `f` on an empty
//! frame of the input's schema, in this process, when the graph is built; or it is
//! given ([`DataFrame::map_partitions_with_meta`]) for a function that cannot run
//! on an empty frame.

use super::dataframe::DataFrame;
use super::frame::{frame, Frame};
use super::schema::from_schema;
use crate::bag::task_fn::{registered, Apply, TaskFn};
use crate::error;
use crate::layers::layer_name;
use crate::user_fn::{Code, IntoCode, OnValue};
use brisk_core::op::{ClosureOp, Op};
use brisk_core::{Result, Value};
use polars::prelude as pl;
use std::sync::Arc;

/// The closure shape of functions of a frame: `|df: &DataFrame| -> Result<DataFrame>`.
pub type OnFrame = OnValue<pl::DataFrame, pl::DataFrame>;

/// Calls the registered frame function `function` with its bound parameters
/// bytes on `df` (in a task on a worker, or here).
pub(crate) fn call_registered(
    function: &str,
    params: &[u8],
    df: &pl::DataFrame,
) -> Result<pl::DataFrame> {
    let apply = registered(function)?;
    let out = apply(
        Apply::Frame,
        params,
        &(Arc::new(Frame(df.clone())) as Value),
    )?;
    Ok(frame(&out)?.clone())
}

/// A closure of a frame.
type FrameClosure = dyn Fn(&pl::DataFrame) -> Result<pl::DataFrame> + Send + Sync;

/// A user function of a frame, ready to run here or to become a task's op.
pub(crate) enum FrameFn {
    Registered(TaskFn<pl::DataFrame, pl::DataFrame>),
    Closure(String, Arc<FrameClosure>),
}

impl FrameFn {
    pub(crate) fn new<M>(f: impl IntoCode<pl::DataFrame, pl::DataFrame, OnFrame, M>) -> FrameFn {
        match f.into_code() {
            Code::Registered(f) => FrameFn::Registered(f),
            Code::Closure(name, f) => FrameFn::Closure(name, f),
        }
    }

    /// Runs the function on `df` in this process.
    pub(crate) fn call(&self, df: &pl::DataFrame) -> Result<pl::DataFrame> {
        match self {
            FrameFn::Registered(f) => call_registered(f.name(), &f.op().params()?, df),
            FrameFn::Closure(_, f) => f(df),
        }
    }

    /// What stands for the function in layer names: the registered function's
    /// content token (its name and bound parameters), or the closure's name.
    pub(crate) fn label(&self) -> Result<String> {
        match self {
            FrameFn::Registered(f) => Ok(f.token(Apply::Frame)?.to_string()),
            FrameFn::Closure(name, _) => Ok(name.clone()),
        }
    }

    /// The op running the function on one partition.
    fn partition_op(&self) -> Result<Arc<dyn Op>> {
        match self {
            FrameFn::Registered(f) => f.apply_op(Apply::Frame),
            FrameFn::Closure(name, f) => {
                let f = f.clone();
                Ok(Arc::new(ClosureOp::new(
                    format!("map_partitions:{name}"),
                    move |xs: &[Value]| Ok(Arc::new(Frame(f(frame(&xs[0])?)?)) as Value),
                )))
            }
        }
    }

    /// The schema of the function's output, from a call on an empty frame of
    /// `input`; an error says how to give it instead.
    pub(crate) fn meta(&self, input: &pl::Schema, method: &str) -> Result<pl::Schema> {
        let empty = pl::DataFrame::empty_with_schema(input);
        // A function that panics on an empty frame is told like one that errs.
        let called = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.call(&empty)))
            .unwrap_or_else(|panic| {
                let why = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic".into());
                Err(error::invalid(format!("it panicked: {why}")))
            });
        match called {
            Ok(out) => Ok(out.schema().as_ref().clone()),
            Err(e) => Err(error::invalid(format!(
                "{method}: the output schema is found by calling the function on an empty \
                 frame of the input's schema, and that call failed: {e}. Give the schema \
                 with {method}_with_meta"
            ))),
        }
    }
}

impl DataFrame {
    /// Runs `f` on every partition (one task each): a registered function of a
    /// Polars DataFrame (`fn f(df: &DataFrame) -> DataFrame`, as `f::task_fn()`;
    /// runs on any scheduler) or a named closure `("name", |df: &DataFrame| ->
    /// Result<DataFrame>)` (local scheduler only). The result's schema comes from a
    /// call of `f` on an empty frame of this schema (Dask's `meta`). Divisions are
    /// dropped: `f` may change the rows.
    ///
    /// ```
    /// use brisk_collections::dataframe::{from_polars, polars::prelude::*};
    /// use brisk_scheduler as _;
    ///
    /// #[brisk_macros::task]
    /// fn doubled(df: &DataFrame) -> DataFrame {
    ///     df.clone().lazy().with_columns([col("x") * lit(2)]).collect().unwrap()
    /// }
    ///
    /// fn main() {
    ///     let pdf = df!("x" => [1i64, 2, 3]).unwrap();
    ///     let ddf = from_polars(&pdf, 2).unwrap();
    ///     let out = ddf.map_partitions(doubled::task_fn()).unwrap().compute().unwrap();
    ///     assert_eq!(out.column("x").unwrap().i64().unwrap().to_vec(), [Some(2), Some(4), Some(6)]);
    ///     let rows = |df: &DataFrame| Ok(df!("n" => [df.height() as u32]).unwrap());
    ///     let n = ddf.map_partitions(("rows", rows)).unwrap();
    ///     assert_eq!(n.compute().unwrap().column("n").unwrap().u32().unwrap().sum(), Some(3));
    /// }
    /// ```
    pub fn map_partitions<M>(
        &self,
        f: impl IntoCode<pl::DataFrame, pl::DataFrame, OnFrame, M>,
    ) -> Result<DataFrame> {
        let f = FrameFn::new(f);
        let meta = f.meta(&self.schema(), "map_partitions")?;
        self.map_frames(f, &meta)
    }

    /// [`DataFrame::map_partitions`] with the output schema given (Dask's `meta=`),
    /// for a function that cannot run on an empty frame. Each partition's result
    /// must have this schema.
    pub fn map_partitions_with_meta<M>(
        &self,
        f: impl IntoCode<pl::DataFrame, pl::DataFrame, OnFrame, M>,
        meta: &pl::Schema,
    ) -> Result<DataFrame> {
        self.map_frames(FrameFn::new(f), meta)
    }

    fn map_frames(&self, f: FrameFn, meta: &pl::Schema) -> Result<DataFrame> {
        let op = f.partition_op()?;
        let parts = self.parts(&[])?;
        let layer = layer_name("map_partitions", &[&parts.name.as_str(), &f.label()?])?;
        let graph =
            crate::layers::per_partition(&parts.graph, &layer, parts.npartitions, &op, |i| {
                vec![parts.key(i)]
            });
        Ok(DataFrame::from_keys(
            layer,
            parts.npartitions,
            graph,
            from_schema(meta),
        ))
    }
}
