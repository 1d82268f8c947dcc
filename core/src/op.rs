//! Ops: the code a task runs, found by a stable name.
//!
//! An [`Op`] is a registered name, canonical parameter bytes and a `call`. Ops are
//! registered at link time ([`OpRegistration`], usually written by `#[brisk::task]`),
//! so a worker process rebuilds any op it is sent from `(name, params)` with
//! [`rebuild`]: code never travels, only names and parameters.
//!
//! Closures are accepted through [`ClosureOp`]: they run on the local scheduler but are
//! marked local-only, and a distributed client refuses them at submit time.

use crate::error::{Error, Result};
use crate::key::Key;
use crate::token::{tag, Hasher, Token};
use crate::value::{decode, Encoded, Value};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// The code of a task.
pub trait Op: Send + Sync + 'static {
    /// The registered name (for closures, the name the user gave).
    fn name(&self) -> &str;
    /// Feeds the op's bound parameters to a token hasher (the name is fed separately).
    fn tokenize_params(&self, h: &mut Hasher) -> Result<()>;
    /// The bound parameters as bytes that [`rebuild`] turns back into this op.
    fn params(&self) -> Result<Vec<u8>>;
    /// Runs the op on its inputs (the results of the task's dependencies, in order).
    fn call(&self, inputs: &[Value]) -> Result<Value>;
    /// True for ops that cannot be rebuilt in another process (closures).
    fn is_local_only(&self) -> bool {
        false
    }
    /// True when, as a root, the result is cheaper to compute again inside each task
    /// that reads it than to hold until the last reader ran: a slab of a local file.
    /// Lowering then inlines it into its readers ([`inline_roots`](crate::graph::inline_roots)).
    fn inline(&self) -> bool {
        false
    }
}

/// The token of a task: its op's name and parameters plus its input keys.
pub fn task_token(op: &dyn Op, inputs: &[Key]) -> Result<Token> {
    let mut h = Hasher::new();
    h.write_tag(tag::OP);
    h.write_str(op.name());
    op.tokenize_params(&mut h)?;
    h.write_len(inputs.len());
    for k in inputs {
        crate::token::Tokenize::tokenize(k, &mut h)?;
    }
    Ok(h.finish())
}

/// A link-time registration of an op constructor under a stable name.
pub struct OpRegistration {
    /// The stable name, e.g. `my_crate::inc`.
    pub name: &'static str,
    /// Rebuilds the op from its parameter bytes.
    pub rebuild: fn(&[u8]) -> Result<Arc<dyn Op>>,
}

inventory::collect!(OpRegistration);

fn registry() -> &'static HashMap<&'static str, fn(&[u8]) -> Result<Arc<dyn Op>>> {
    static REGISTRY: OnceLock<HashMap<&'static str, fn(&[u8]) -> Result<Arc<dyn Op>>>> =
        OnceLock::new();
    REGISTRY.get_or_init(|| {
        inventory::iter::<OpRegistration>
            .into_iter()
            .map(|r| (r.name, r.rebuild))
            .collect()
    })
}

/// Rebuilds an op from its registered name and parameter bytes.
///
/// ```
/// let err = brisk_core::op::rebuild("no::such::op", &[]).err().unwrap();
/// assert!(err.to_string().contains("unknown op 'no::such::op'"));
/// ```
pub fn rebuild(name: &str, params: &[u8]) -> Result<Arc<dyn Op>> {
    match registry().get(name) {
        Some(f) => f(params),
        None => Err(Error::UnknownOp {
            name: name.to_string(),
        }),
    }
}

/// Whether an op is registered under `name` in this executable.
pub fn is_registered(name: &str) -> bool {
    registry().contains_key(name)
}

/// The names of every registered op, sorted.
pub fn registered_names() -> Vec<&'static str> {
    let mut v: Vec<_> = registry().keys().copied().collect();
    v.sort_unstable();
    v
}

/// An op that returns a constant value (a literal argument of a delayed call).
///
/// Its token is the value's content token; its parameters are the encoded value.
pub struct LiteralOp {
    value: Value,
    token: Token,
}

impl LiteralOp {
    /// The registered name of literal ops.
    pub const NAME: &'static str = "brisk::literal";

    /// A literal whose content token was computed by the caller.
    pub fn new(value: Value, token: Token) -> Self {
        LiteralOp { value, token }
    }
}

impl Op for LiteralOp {
    fn name(&self) -> &str {
        Self::NAME
    }
    fn tokenize_params(&self, h: &mut Hasher) -> Result<()> {
        h.write_token(&self.token);
        Ok(())
    }
    fn params(&self) -> Result<Vec<u8>> {
        let encoded = self.value.encode()?;
        rmp_serde::to_vec(&(self.token.0, encoded)).map_err(|e| Error::OpParams {
            op: Self::NAME.into(),
            message: e.to_string(),
        })
    }
    fn call(&self, _inputs: &[Value]) -> Result<Value> {
        Ok(self.value.clone())
    }
}

inventory::submit! {
    OpRegistration {
        name: LiteralOp::NAME,
        rebuild: |bytes| {
            let (token, encoded): ([u8; 16], Encoded) = rmp_serde::from_slice(bytes)
                .map_err(|e| Error::OpParams { op: LiteralOp::NAME.into(), message: e.to_string() })?;
            Ok(Arc::new(LiteralOp { value: decode(encoded)?, token: Token(token) }))
        },
    }
}

/// The function type a [`ClosureOp`] wraps.
pub type ClosureFn = dyn Fn(&[Value]) -> Result<Value> + Send + Sync;

/// An op built from a closure: runs locally, never travels.
///
/// A closure's code cannot be hashed, so its token comes from the name the user gives
/// it: two closures given the same name are taken to be the same function.
pub struct ClosureOp {
    name: String,
    f: Box<ClosureFn>,
}

impl ClosureOp {
    /// Wraps `f` under `name`.
    pub fn new(
        name: impl Into<String>,
        f: impl Fn(&[Value]) -> Result<Value> + Send + Sync + 'static,
    ) -> Self {
        ClosureOp {
            name: name.into(),
            f: Box::new(f),
        }
    }
}

impl Op for ClosureOp {
    fn name(&self) -> &str {
        &self.name
    }
    fn tokenize_params(&self, h: &mut Hasher) -> Result<()> {
        h.write_str("closure");
        Ok(())
    }
    fn params(&self) -> Result<Vec<u8>> {
        Err(Error::OpParams {
            op: self.name.clone(),
            message: "a closure cannot be sent to another process; register the function with #[brisk::task]".into(),
        })
    }
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        (self.f)(inputs)
    }
    fn is_local_only(&self) -> bool {
        true
    }
}
