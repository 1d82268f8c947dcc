//! User code given to collection methods: one method per operation, taking
//! either form.
//!
//! - A **registered function**, `f::task_fn(bound…)` of a `#[brisk::task]`
//!   function: it has a stable name and serialisable bound parameters, so the
//!   task runs on any scheduler, local or a cluster of other processes.
//! - A **named closure**, `("name", |x: &T| …)`: runs on the local scheduler only
//!   (code never travels; a cluster refuses it at submit, saying how to register
//!   it). The name stands for the closure in keys: the same name on the same input
//!   is taken to be the same work, so give closures that capture different values
//!   different names.
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
//! fn main() {
//!     let words = Bag::from_sequence(vec!["a".to_string(), "bc".into()], 2).unwrap();
//!     // Registered: runs anywhere.
//!     let loud = words.map(shout::task_fn()).unwrap();
//!     // A named closure: this process only (its parameter's type is written out).
//!     let sizes = words.map(("len", |s: &String| s.len())).unwrap();
//!     assert_eq!(loud.compute().unwrap(), ["A", "BC"]);
//!     assert_eq!(sizes.compute().unwrap(), [1, 2]);
//! }
//! ```
//!
//! Each method names the closure it takes as the third parameter of
//! [`IntoCode`] (a `dyn Fn` type); the registered function's types are its
//! first two.

use crate::bag::task_fn::TaskFn;
use crate::bag::task_fn2::TaskFn2;
use std::marker::PhantomData;
use std::sync::Arc;

/// Marks the [`IntoCode`] impl of registered functions.
pub enum Registered {}
/// Marks the [`IntoCode`] impls of named closures.
pub enum Closure {}

/// The shape of closure a method takes (a tag: its closure type is `Dyn`).
pub trait Shape {
    /// The closure type, a `dyn Fn`.
    type Dyn: ?Sized + Send + Sync;
}

/// User code as a method receives it.
pub enum Code<In, Out, S: Shape> {
    /// A registered function of `In` to `Out`.
    Registered(TaskFn<In, Out>),
    /// A closure and its name (local scheduler only).
    Closure(String, Arc<S::Dyn>),
}

/// What a method taking user code accepts: a [`TaskFn`] `In -> Out`, or a named
/// closure `(&str, F)` where `F` has the method's closure [`Shape`] `S`. `M` is
/// [`Registered`] or [`Closure`], found by the compiler.
pub trait IntoCode<In, Out, S: Shape, M> {
    /// The code.
    fn into_code(self) -> Code<In, Out, S>;
}

impl<In, Out, S: Shape> IntoCode<In, Out, S, Registered> for TaskFn<In, Out> {
    fn into_code(self) -> Code<In, Out, S> {
        Code::Registered(self)
    }
}

/// A closure shape: its tag type, the registered function it stands beside, and
/// the closure's `Fn` signature.
macro_rules! shape {
    ($(#[$doc:meta])* $tag:ident [$($g:ident),*] $in:ty => $out:ty, $($sig:tt)*) => {
        $(#[$doc])*
        pub struct $tag<$($g),*>(PhantomData<fn() -> ($($g,)*)>);

        impl<$($g: 'static),*> Shape for $tag<$($g),*> {
            type Dyn = dyn $($sig)* + Send + Sync;
        }

        impl<$($g: 'static,)* F> IntoCode<$in, $out, $tag<$($g),*>, Closure> for (&str, F)
        where
            F: $($sig)* + Send + Sync + 'static,
        {
            fn into_code(self) -> Code<$in, $out, $tag<$($g),*>> {
                let f: Arc<dyn $($sig)* + Send + Sync> = Arc::new(self.1);
                Code::Closure(self.0.to_string(), f)
            }
        }
    };
}

shape!(
    /// `|x: &T| -> U`, per item (Bag `map`, `filter`, `flat_map` with `U` a
    /// `Vec`, the keys of `topk` and `groupby`; `Delayed` chaining).
    OnItem [T, U] T => U, Fn(&T) -> U
);

shape!(
    /// `|xs: &[T]| -> Result<Vec<U>>`, per partition (Bag `map_partitions`).
    OnPartition [T, U] Vec<T> => Vec<U>, Fn(&[T]) -> brisk_core::Result<Vec<U>>
);

shape!(
    /// `|parts: &[&[A]]| -> Result<Vec<A>>`, several partial results to one (Bag
    /// `tree_reduce`'s combine step).
    OnParts [A] Vec<A> => Vec<A>, Fn(&[&[A]]) -> brisk_core::Result<Vec<A>>
);

shape!(
    /// `|xs: &[T]| -> Result<A>`, a partition to one value (Bag `reduction`'s
    /// per-partition step).
    Reduce [T, A] Vec<T> => A, Fn(&[T]) -> brisk_core::Result<A>
);

shape!(
    /// `|values: Vec<A>| -> Result<A>`, values of several partitions to one
    /// (Bag `reduction`'s aggregate step).
    Aggregate [A] Vec<A> => A, Fn(Vec<A>) -> brisk_core::Result<A>
);

shape!(
    /// `|x: &In| -> Result<Out>`, a fallible function of one value (DataFrame
    /// `map_partitions` and `groupby(..).apply`, Array `map_blocks`).
    OnValue [In, Out] In => Out, Fn(&In) -> brisk_core::Result<Out>
);

/// User code of two inputs as a method receives it.
pub enum Code2<A, B, Out, S: Shape> {
    /// A registered function of `(A, B)` to `Out`.
    Registered(TaskFn2<A, B, Out>),
    /// A closure and its name (local scheduler only).
    Closure(String, Arc<S::Dyn>),
}

/// What a method taking user code of two inputs accepts: a [`TaskFn2`] or a
/// named closure of the method's [`Shape`].
pub trait IntoCode2<A, B, Out, S: Shape, M> {
    /// The code.
    fn into_code2(self) -> Code2<A, B, Out, S>;
}

impl<A, B, Out, S: Shape> IntoCode2<A, B, Out, S, Registered> for TaskFn2<A, B, Out> {
    fn into_code2(self) -> Code2<A, B, Out, S> {
        Code2::Registered(self)
    }
}

/// A closure shape of two inputs (see [`shape`]).
macro_rules! shape2 {
    ($(#[$doc:meta])* $tag:ident [$($g:ident),*] ($a:ty, $b:ty) => $out:ty, $($sig:tt)*) => {
        $(#[$doc])*
        pub struct $tag<$($g),*>(PhantomData<fn() -> ($($g,)*)>);

        impl<$($g: 'static),*> Shape for $tag<$($g),*> {
            type Dyn = dyn $($sig)* + Send + Sync;
        }

        impl<$($g: 'static,)* F> IntoCode2<$a, $b, $out, $tag<$($g),*>, Closure> for (&str, F)
        where
            F: $($sig)* + Send + Sync + 'static,
        {
            fn into_code2(self) -> Code2<$a, $b, $out, $tag<$($g),*>> {
                let f: Arc<dyn $($sig)* + Send + Sync> = Arc::new(self.1);
                Code2::Closure(self.0.to_string(), f)
            }
        }
    };
}

shape2!(
    /// `|acc: A, x: &T| -> A`, a fold's step over items (Bag `fold`'s `binop`).
    FoldStep [A, T] (A, T) => A, Fn(A, &T) -> A
);

shape2!(
    /// `|a: A, b: A| -> A`, merging two partial results (Bag `fold`'s `combine`).
    Combine [A] (A, A) => A, Fn(A, A) -> A
);
