//! Registered functions of two inputs in bags: the `binop(acc, item)` and
//! `combine(a, b)` of [`Bag::fold`](super::Bag::fold), so a fold runs on workers
//! as well as locally.
//!
//! For every `#[brisk::task]` function of exactly two inputs, the macro writes
//! `f::task_fn(bound…)`, a typed [`TaskFn2`], and registers how to fold a
//! partition with it or combine partial results ([`Apply2Registration`]).
//!
//! ```
//! use brisk_collections::bag::Bag;
//! use brisk_scheduler as _;
//!
//! #[brisk_macros::task]
//! fn add_len(acc: u64, s: &str) -> u64 {
//!     acc + s.len() as u64
//! }
//!
//! #[brisk_macros::task]
//! fn add(a: u64, b: u64) -> u64 {
//!     a + b
//! }
//!
//! fn main() {
//!     let words = Bag::from_sequence(vec!["ab".to_string(), "cde".into(), "f".into()], 2).unwrap();
//!     let letters = words.fold(0, add_len::task_fn(), add::task_fn()).unwrap();
//!     assert_eq!(letters.compute().unwrap(), 6);
//! }
//! ```

use super::hash::init_token;
use super::keyed::groups_of;
use super::partition::{part, Item, Partition};
use brisk_core::op::Op;
use brisk_core::spec_op::{rebuild_spec, Spec};
use brisk_core::token::Hasher;
use brisk_core::{Error, Result, Token, Value};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

/// How a bag applies a registered function of two inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Apply2 {
    /// `acc = f(acc, item)` over a partition from the initial value: a
    /// partition of the one result.
    Fold,
    /// `acc = f(acc, value)` over the values of every input, from the initial
    /// value: a partition of the one result.
    Combine,
    /// A foldby's first step: `acc = f(acc, item)` over each group of a
    /// partition's items, from the initial value (inputs: the partition and its
    /// [`Groups`](super::keyed::Groups)): a partition of one accumulator per group.
    FoldGroups,
    /// A foldby's merge: `acc = f(acc, value)` over each group of accumulators,
    /// from its first (inputs: the accumulators and their
    /// [`Groups`](super::keyed::Groups)): a
    /// partition of one accumulator per group.
    CombineGroups,
}

/// A registered function of two inputs, `(A, B)` to `Out` (made by
/// `#[brisk::task]` as `f::task_fn(bound…)`).
pub struct TaskFn2<A, B, Out> {
    op: Arc<dyn Op>,
    _t: PhantomData<fn(&A, &B) -> Out>,
}

impl<A, B, Out> Clone for TaskFn2<A, B, Out> {
    fn clone(&self) -> Self {
        TaskFn2 {
            op: self.op.clone(),
            _t: PhantomData,
        }
    }
}

impl<A, B, Out> TaskFn2<A, B, Out> {
    /// Wraps the op of a two-input `#[brisk::task]` function (the macro calls it).
    pub fn new(op: Arc<dyn Op>) -> Self {
        TaskFn2 {
            op,
            _t: PhantomData,
        }
    }

    /// The function's registered name.
    pub fn name(&self) -> &str {
        self.op.name()
    }

    /// The op of the function itself (two inputs, the function's own).
    pub fn op(&self) -> &Arc<dyn Op> {
        &self.op
    }

    /// The content token of the function: its name and bound parameters by their
    /// canonical tokens.
    pub(crate) fn token(&self) -> Result<Token> {
        let mut h = Hasher::new();
        h.write_str(self.op.name());
        self.op.tokenize_params(&mut h)?;
        Ok(h.finish())
    }

    /// The op applying the function `how` from `init`.
    pub(crate) fn apply_op<I: Item>(&self, how: Apply2, init: &I) -> Result<Arc<dyn Op>> {
        let init = rmp_serde::to_vec(init).map_err(|e| Error::Tokenize {
            what: "the initial value of a fold".into(),
            reason: e.to_string(),
        })?;
        Ok(Arc::new(brisk_core::spec_op::SpecOp(Apply2Spec {
            how,
            function: self.op.name().to_string(),
            params: self.op.params()?,
            init,
        })))
    }

    /// A name for layers of the function applied from `init`.
    pub(crate) fn label<I: Item>(&self, init: &I) -> Result<String> {
        Ok(format!("{}-init{}", self.token()?, init_token(init)?))
    }
}

/// Applies one registered function of two inputs (written by `#[brisk::task]`).
pub struct Apply2Registration {
    /// The function's registered name.
    pub name: &'static str,
    /// Runs it `how` from the initial value's bytes, with its bound parameters
    /// as bytes, on the task's inputs.
    pub apply: Apply2Fn,
}

/// How to apply a registered function of two inputs, as the macro writes it.
pub type Apply2Fn = fn(Apply2, &[u8], &[u8], &[Value]) -> Result<Value>;

inventory::collect!(Apply2Registration);

fn registry() -> &'static HashMap<&'static str, Apply2Fn> {
    static REGISTRY: OnceLock<HashMap<&'static str, Apply2Fn>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        inventory::iter::<Apply2Registration>
            .into_iter()
            .map(|r| (r.name, r.apply))
            .collect()
    })
}

/// The apply function registered under `name`, or an error naming it.
pub(crate) fn registered(name: &str) -> Result<Apply2Fn> {
    registry()
        .get(name)
        .copied()
        .ok_or_else(|| Error::UnknownOp { name: name.into() })
}

/// The task of a fold step applying a registered function of two inputs.
#[derive(serde::Serialize, serde::Deserialize)]
struct Apply2Spec {
    how: Apply2,
    function: String,
    params: Vec<u8>,
    init: Vec<u8>,
}

impl Spec for Apply2Spec {
    const NAME: &'static str = "brisk::bag::apply2";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        registered(&self.function)?(self.how, &self.params, &self.init, inputs)
    }
}

inventory::submit! {
    brisk_core::op::OpRegistration {
        name: Apply2Spec::NAME,
        rebuild: rebuild_spec::<Apply2Spec>,
    }
}

/// Picks, at compile time, how a function of two concrete types folds (see
/// [`super::task_fn::probe`]). Only the code `#[brisk::task]` writes uses it.
pub mod probe2 {
    use super::*;

    /// Stands for a function `(A, B) -> Out`.
    pub struct Probe2<A, B, Out>(PhantomData<fn(&A, &B) -> Out>);

    impl<A, B, Out> Probe2<A, B, Out> {
        /// The probe.
        #[allow(clippy::new_without_default)]
        pub fn new() -> Self {
            Probe2(PhantomData)
        }
    }

    type F<'a, A, B, Out> = &'a dyn Fn(&A, &B) -> Result<Out>;

    fn unfit<A, B, Out>(how: Apply2) -> Error {
        crate::error::invalid(format!(
            "a function from ({}, {}) to {} does not fit {how:?} on a bag: a fold's binop \
             is (A, &T) -> A and its combine (A, A) -> A",
            std::any::type_name::<A>(),
            std::any::type_name::<B>(),
            std::any::type_name::<Out>()
        ))
    }

    fn arity(inputs: &[Value]) -> Error {
        Error::Arity {
            op: Apply2Spec::NAME.into(),
            expected: 1,
            found: inputs.len(),
        }
    }

    /// Item `i` of a partition, or an error if a step's groups point past it.
    fn at<T>(xs: &[T], i: u32) -> Result<&T> {
        xs.get(i as usize).ok_or_else(|| {
            crate::error::malformed(format!("a foldby group names item {i} of {}", xs.len()))
        })
    }

    fn initial<A: Item>(init: &[u8]) -> Result<A> {
        rmp_serde::from_slice(init).map_err(|e| Error::OpParams {
            op: Apply2Spec::NAME.into(),
            message: format!("the initial value: {e}"),
        })
    }

    /// Fold: an accumulator and an item to an accumulator.
    pub trait OnFold<A, B, Out> {
        /// Folds the partition, or each group of it, from the initial value.
        fn fold(
            &self,
            how: Apply2,
            init: &[u8],
            inputs: &[Value],
            f: F<'_, A, B, Out>,
        ) -> Result<Value>;
    }

    impl<A: Item, T: Item> OnFold<A, T, A> for Probe2<A, T, A> {
        fn fold(
            &self,
            how: Apply2,
            init: &[u8],
            inputs: &[Value],
            f: F<'_, A, T, A>,
        ) -> Result<Value> {
            let init: A = initial(init)?;
            let fold_over = |xs: &mut dyn Iterator<Item = Result<&T>>| -> Result<A> {
                let mut acc = init.clone();
                for x in xs {
                    acc = f(&acc, x?)?;
                }
                Ok(acc)
            };
            let accs = match (how, inputs) {
                (Apply2::FoldGroups, [partition, groups]) => {
                    let xs = part::<T>(partition)?;
                    groups_of(groups)?
                        .iter()
                        .map(|g| fold_over(&mut g.iter().map(|&i| at(xs, i))))
                        .collect::<Result<Vec<A>>>()?
                }
                (Apply2::Fold, [partition]) => {
                    vec![fold_over(&mut part::<T>(partition)?.iter().map(Ok))?]
                }
                _ => return Err(arity(inputs)),
            };
            Ok(Arc::new(Partition(accs)))
        }
    }

    /// The fallback of [`OnFold`].
    pub trait OnFoldUnfit<A, B, Out> {
        /// Always an error.
        fn fold(
            &self,
            how: Apply2,
            init: &[u8],
            inputs: &[Value],
            f: F<'_, A, B, Out>,
        ) -> Result<Value>;
    }

    impl<A, B, Out> OnFoldUnfit<A, B, Out> for &Probe2<A, B, Out> {
        fn fold(&self, how: Apply2, _: &[u8], _: &[Value], _: F<'_, A, B, Out>) -> Result<Value> {
            Err(unfit::<A, B, Out>(how))
        }
    }

    /// Combine: two accumulators to one.
    pub trait OnCombine<A, B, Out> {
        /// Combines the values of every input from the initial value, or each
        /// group of them from its first.
        fn combine(
            &self,
            how: Apply2,
            init: &[u8],
            inputs: &[Value],
            f: F<'_, A, B, Out>,
        ) -> Result<Value>;
    }

    impl<A: Item> OnCombine<A, A, A> for Probe2<A, A, A> {
        fn combine(
            &self,
            how: Apply2,
            init: &[u8],
            inputs: &[Value],
            f: F<'_, A, A, A>,
        ) -> Result<Value> {
            let accs = match (how, inputs) {
                (Apply2::CombineGroups, [accs, groups]) => {
                    let xs = part::<A>(accs)?;
                    let mut out = Vec::new();
                    for g in groups_of(groups)? {
                        let (first, rest) = g.split_first().ok_or_else(|| arity(inputs))?;
                        let mut acc = at(xs, *first)?.clone();
                        for &i in rest {
                            acc = f(&acc, at(xs, i)?)?;
                        }
                        out.push(acc);
                    }
                    out
                }
                (Apply2::CombineGroups, _) => return Err(arity(inputs)),
                _ => {
                    let mut acc: A = initial(init)?;
                    for p in inputs {
                        for x in part::<A>(p)? {
                            acc = f(&acc, x)?;
                        }
                    }
                    vec![acc]
                }
            };
            Ok(Arc::new(Partition(accs)))
        }
    }

    /// The fallback of [`OnCombine`].
    pub trait OnCombineUnfit<A, B, Out> {
        /// Always an error.
        fn combine(
            &self,
            how: Apply2,
            init: &[u8],
            inputs: &[Value],
            f: F<'_, A, B, Out>,
        ) -> Result<Value>;
    }

    impl<A, B, Out> OnCombineUnfit<A, B, Out> for &Probe2<A, B, Out> {
        fn combine(
            &self,
            how: Apply2,
            _: &[u8],
            _: &[Value],
            _: F<'_, A, B, Out>,
        ) -> Result<Value> {
            Err(unfit::<A, B, Out>(how))
        }
    }
}
