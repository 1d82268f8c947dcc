//! How a one-input `#[brisk::task]` reads its input and returns its output when it
//! cannot tell at macro time whether the types are task results ([`Data`]). A
//! function over bag items (say a `Json` record) is still a valid task for bags,
//! which call it item by item; called as a task of its own, such a function is an
//! error that says so. (Functions of other arities need task result types, checked
//! by the compiler.)
//!
//! The choice is made at compile time by autoref specialisation: an impl on
//! `Probe<T>` when `T: Data`, a fallback on `&Probe<T>` otherwise. Only the code the
//! macro writes uses this module.

use super::{Data, Value};
use crate::error::{Error, Result};
use std::marker::PhantomData;
use std::sync::Arc;

/// Stands for the type `T`.
pub struct Probe<T>(PhantomData<fn() -> T>);

impl<T> Probe<T> {
    /// The probe.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Probe(PhantomData)
    }
}

fn not_a_result<T>(op: &str) -> Error {
    Error::user(format!(
        "{op} takes or returns {}, which is not a task result type (see serde_data!): \
         use it on bags, through their map, filter, map_partitions and the other methods that take registered functions",
        std::any::type_name::<T>()
    ))
}

/// Reads an input of a task result type.
pub trait Input<T> {
    /// The input of `op` as a `T`.
    fn input<'a>(&self, v: &'a Value, op: &str) -> Result<&'a T>;
}

impl<T: Data> Input<T> for Probe<T> {
    fn input<'a>(&self, v: &'a Value, _: &str) -> Result<&'a T> {
        v.expect_ref::<T>()
    }
}

/// The fallback of [`Input`].
pub trait InputUnfit<T> {
    /// Always an error.
    fn input<'a>(&self, v: &'a Value, op: &str) -> Result<&'a T>;
}

impl<T> InputUnfit<T> for &Probe<T> {
    fn input<'a>(&self, _: &'a Value, op: &str) -> Result<&'a T> {
        Err(not_a_result::<T>(op))
    }
}

/// Boxes an output of a task result type.
pub trait Output<T> {
    /// The output of `op` as a value.
    fn output(&self, x: T, op: &str) -> Result<Value>;
}

impl<T: Data> Output<T> for Probe<T> {
    fn output(&self, x: T, _: &str) -> Result<Value> {
        Ok(Arc::new(x))
    }
}

/// The fallback of [`Output`].
pub trait OutputUnfit<T> {
    /// Always an error.
    fn output(&self, x: T, op: &str) -> Result<Value>;
}

impl<T> OutputUnfit<T> for &Probe<T> {
    fn output(&self, _: T, op: &str) -> Result<Value> {
        Err(not_a_result::<T>(op))
    }
}
