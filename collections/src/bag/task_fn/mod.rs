//! Registered functions in collections: a `#[brisk::task]` function of one input
//! given to [`Bag::map`], [`Bag::filter`], [`Bag::flat_map`],
//! [`Bag::map_partitions`] and the other methods of [`crate::user_fn`], so the
//! collection runs on workers as well as locally.
//!
//! For every `#[brisk::task]` function of exactly one input, the macro also writes
//! `f::task_fn(bound…)`, a typed [`TaskFn`], and registers how to apply the function
//! to a whole partition ([`ApplyRegistration`]). A task of a bag then names the
//! function and its bound parameters ([`ApplySpec`]), and a worker finds both by name.
//!
//! ```
//! use brisk_collections::bag::Bag;
//! use brisk_scheduler as _; // links the default (local) scheduler
//!
//! #[brisk_macros::task]
//! fn shout(s: &str) -> String {
//!     s.to_uppercase()
//! }
//!
//! #[brisk_macros::task]
//! fn longer_than(s: &str, #[bound] n: usize) -> bool {
//!     s.len() > n
//! }
//!
//! fn main() {
//!     let words = Bag::from_sequence(vec!["a".to_string(), "bcd".into(), "ef".into()], 2).unwrap();
//!     let long = words.filter(longer_than::task_fn(1)).unwrap();
//!     let loud = long.map(shout::task_fn()).unwrap();
//!     assert_eq!(loud.compute().unwrap(), vec!["BCD".to_string(), "EF".into()]);
//! }
//! ```

use super::partition::Buckets;
use super::{part, Item, Partition};
use crate::error;
use brisk_core::op::Op;
use brisk_core::spec_op::Spec;
use brisk_core::token::Hasher;
use brisk_core::{Error, Result, Token, Value};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

/// How a bag applies a registered function to a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Apply {
    /// `f(item)` for every item.
    Map,
    /// Keeps the items for which `f(item)` is true.
    Filter,
    /// Concatenates `f(item)` (a `Vec`) over the items.
    FlatMap,
    /// `f(items)` once, on the whole partition.
    Partitions,
    /// The `k` items with the largest `f(item)`, largest first, from all the
    /// inputs (a partition, or the partial results of a tree).
    TopK {
        /// How many.
        k: usize,
    },
    /// Splits a partition into `m` buckets by a hash of `f(item)` (a groupby's
    /// first stage).
    GroupSplit {
        /// Buckets.
        m: usize,
    },
    /// Bucket `j` of every split, grouped by `f(item)`: `(key, items)` sorted by key.
    Group {
        /// The bucket.
        j: usize,
    },
    /// `f(frame)` on a DataFrame partition (a function of a Polars DataFrame).
    Frame,
    /// `f(items)` once on a whole partition, to one value (a reduction's first
    /// step): a partition of that one value.
    Reduce,
    /// `f(values)` on the values of all the inputs (a reduction's combine step):
    /// a partition of one value.
    Aggregate,
    /// `f(items)` on the items of all the inputs, concatenated (a tree's combine
    /// step): a partition of what it returns.
    Concat,
}

/// A registered function of one input, `In` to `Out` (made by `#[brisk::task]` as
/// `f::task_fn(bound…)`).
pub struct TaskFn<In, Out> {
    op: Arc<dyn Op>,
    _t: PhantomData<fn(&In) -> Out>,
}

impl<In, Out> Clone for TaskFn<In, Out> {
    fn clone(&self) -> Self {
        TaskFn {
            op: self.op.clone(),
            _t: PhantomData,
        }
    }
}

impl<In, Out> TaskFn<In, Out> {
    /// The op of the function itself (one input, the function's own).
    pub fn op(&self) -> &Arc<dyn Op> {
        &self.op
    }

    /// Wraps the op of a one-input `#[brisk::task]` function (the macro calls it).
    pub fn new(op: Arc<dyn Op>) -> Self {
        TaskFn {
            op,
            _t: PhantomData,
        }
    }

    /// The function's registered name.
    pub fn name(&self) -> &str {
        self.op.name()
    }

    /// The content token of applying the function `how`: its name, its bound
    /// parameters by their canonical [`Tokenize`](brisk_core::Tokenize) (not their
    /// serde bytes, whose order may vary, as for a `HashMap`), and `how`.
    pub(crate) fn token(&self, how: Apply) -> Result<Token> {
        let mut h = Hasher::new();
        h.write_str(self.op.name());
        self.op.tokenize_params(&mut h)?;
        h.write_str(&format!("{how:?}"));
        Ok(h.finish())
    }

    /// The content token of the function itself: its name and its bound
    /// parameters by their canonical [`Tokenize`](brisk_core::Tokenize).
    pub(crate) fn content_token(&self) -> Result<Token> {
        let mut h = Hasher::new();
        h.write_str(self.op.name());
        self.op.tokenize_params(&mut h)?;
        Ok(h.finish())
    }

    /// The op of the whole-partition task applying the function `how`.
    pub(crate) fn apply_op(&self, how: Apply) -> Result<Arc<dyn Op>> {
        let spec = ApplySpec {
            how,
            function: self.op.name().to_string(),
            params: self.op.params()?,
        };
        Ok(Arc::new(ApplyOp {
            spec,
            token: self.token(how)?,
        }))
    }
}

/// The op of an [`ApplySpec`], tokenized by the function's canonical token.
struct ApplyOp {
    spec: ApplySpec,
    token: Token,
}

impl Op for ApplyOp {
    fn name(&self) -> &str {
        ApplySpec::NAME
    }
    fn tokenize_params(&self, h: &mut Hasher) -> Result<()> {
        brisk_core::Tokenize::tokenize(&self.token, h)
    }
    fn params(&self) -> Result<Vec<u8>> {
        rmp_serde::to_vec_named(&self.spec).map_err(|e| Error::OpParams {
            op: ApplySpec::NAME.into(),
            message: e.to_string(),
        })
    }
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        self.spec.call(inputs)
    }
}

fn rebuild_apply(params: &[u8]) -> Result<Arc<dyn Op>> {
    let spec: ApplySpec = rmp_serde::from_slice(params).map_err(|e| Error::OpParams {
        op: ApplySpec::NAME.into(),
        message: e.to_string(),
    })?;
    // A rebuilt op only runs (its token is not used again): the bytes stand in.
    let mut h = Hasher::new();
    h.write_raw(params);
    Ok(Arc::new(ApplyOp {
        spec,
        token: h.finish(),
    }))
}

/// Applies one registered function to a partition (written by `#[brisk::task]`).
pub struct ApplyRegistration {
    /// The function's registered name.
    pub name: &'static str,
    /// Runs it `how` on a partition, with its bound parameters as bytes.
    pub apply: fn(Apply, &[u8], &Value) -> Result<Value>,
}

inventory::collect!(ApplyRegistration);

/// How to apply a registered function, as the macro writes it.
pub(crate) type ApplyFn = fn(Apply, &[u8], &Value) -> Result<Value>;

/// The apply function registered under `name`, or an error naming it.
pub(crate) fn registered(name: &str) -> Result<ApplyFn> {
    registry()
        .get(name)
        .copied()
        .ok_or_else(|| Error::UnknownOp { name: name.into() })
}

fn registry() -> &'static HashMap<&'static str, ApplyFn> {
    static REGISTRY: OnceLock<HashMap<&'static str, ApplyFn>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        inventory::iter::<ApplyRegistration>
            .into_iter()
            .map(|r| (r.name, r.apply))
            .collect()
    })
}

/// The most output partitions of a groupby.
pub const MAX_GROUPS: usize = 1 << 20;

/// The task of a bag partition applying a registered function.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct ApplySpec {
    how: Apply,
    function: String,
    params: Vec<u8>,
}

impl Spec for ApplySpec {
    const NAME: &'static str = "brisk::bag::apply";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        let apply = registered(&self.function)?;
        if let Apply::GroupSplit { m } = self.how {
            if m == 0 || m > MAX_GROUPS {
                return Err(error::invalid(format!(
                    "a groupby into {m} partitions (1 to {MAX_GROUPS})"
                )));
            }
        }
        match (self.how, inputs) {
            (_, [partition]) => apply(self.how, &self.params, partition),
            // A tree's combine step or a shuffle's collect: several inputs.
            (Apply::TopK { .. } | Apply::Group { .. } | Apply::Aggregate | Apply::Concat, _) => {
                let all: Value = Arc::new(Inputs(inputs.to_vec()));
                apply(self.how, &self.params, &all)
            }
            _ => Err(Error::Arity {
                op: Self::NAME.into(),
                expected: 1,
                found: inputs.len(),
            }),
        }
    }
}

inventory::submit! {
    brisk_core::op::OpRegistration {
        name: ApplySpec::NAME,
        rebuild: rebuild_apply,
    }
}

/// Several partitions handed to one application (a tree's combine step); never
/// sent anywhere.
pub struct Inputs(pub Vec<Value>);

impl brisk_core::value::Data for Inputs {
    fn nbytes(&self) -> usize {
        self.0.iter().map(|v| v.nbytes()).sum()
    }
    fn type_tag(&self) -> &'static str {
        "bag-inputs"
    }
    fn encode(&self) -> Result<brisk_core::value::Encoded> {
        Err(error::malformed("the inputs of one task are never sent"))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The items of a partition, or of every partition handed together.
fn items_of<T: Item>(v: &Value) -> Result<Vec<&T>> {
    match v.downcast_ref::<Inputs>() {
        Some(Inputs(parts)) => {
            let mut out = Vec::new();
            for p in parts {
                out.extend(part::<T>(p)?);
            }
            Ok(out)
        }
        None => Ok(part::<T>(v)?.iter().collect()),
    }
}

pub mod probe;
