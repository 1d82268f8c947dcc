//! Ops whose parameters are one serde value: the value names the work (its msgpack
//! bytes are the op's parameters and token input), and `call` runs it.
//!
//! ```
//! use brisk_core::spec_op::{rebuild_spec, Spec, SpecOp};
//! use brisk_core::{op::{rebuild, Op, OpRegistration}, Result, Value};
//! use std::sync::Arc;
//!
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct AddN { n: i64 }
//!
//! impl Spec for AddN {
//!     const NAME: &'static str = "doc::add_n";
//!     fn call(&self, inputs: &[Value]) -> Result<Value> {
//!         Ok(Arc::new(inputs[0].expect_ref::<i64>()? + self.n))
//!     }
//! }
//! inventory::submit! { OpRegistration { name: AddN::NAME, rebuild: rebuild_spec::<AddN> } }
//!
//! let op = SpecOp(AddN { n: 2 });
//! let again = rebuild(op.name(), &op.params().unwrap()).unwrap();
//! let out = again.call(&[Arc::new(40_i64) as Value]).unwrap();
//! assert_eq!(out.downcast_ref::<i64>(), Some(&42));
//! ```

use crate::error::{Error, Result};
use crate::op::Op;
use crate::token::Hasher;
use crate::value::Value;
use std::sync::Arc;

/// The parameters of an op, and what it does with its inputs.
pub trait Spec: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static {
    /// The registered name.
    const NAME: &'static str;
    /// Runs the op on its inputs.
    fn call(&self, inputs: &[Value]) -> Result<Value>;
    /// See [`Op::inline`].
    fn inline(&self) -> bool {
        false
    }
}

/// The [`Op`] of a [`Spec`].
pub struct SpecOp<S>(pub S);

fn bytes<S: Spec>(spec: &S) -> Result<Vec<u8>> {
    rmp_serde::to_vec_named(spec).map_err(|e| Error::OpParams {
        op: S::NAME.into(),
        message: e.to_string(),
    })
}

impl<S: Spec> Op for SpecOp<S> {
    fn name(&self) -> &str {
        S::NAME
    }
    fn tokenize_params(&self, h: &mut Hasher) -> Result<()> {
        h.write_raw(&bytes(&self.0)?);
        Ok(())
    }
    fn params(&self) -> Result<Vec<u8>> {
        bytes(&self.0)
    }
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        self.0.call(inputs)
    }
    fn inline(&self) -> bool {
        self.0.inline()
    }
}

/// Rebuilds a [`SpecOp`] from its parameter bytes (the `rebuild` of its
/// registration); malformed bytes are an error naming the op.
pub fn rebuild_spec<S: Spec>(params: &[u8]) -> Result<Arc<dyn Op>> {
    let spec: S = rmp_serde::from_slice(params).map_err(|e| Error::OpParams {
        op: S::NAME.into(),
        message: e.to_string(),
    })?;
    Ok(Arc::new(SpecOp(spec)))
}
