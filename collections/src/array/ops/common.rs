//! What every op family shares: the registration of a spec under its name, and
//! the checks of a task's inputs.

use brisk_core::{Error, Result, Value};

/// Registers specs so that a worker rebuilds them from their names and bytes.
macro_rules! register {
    ($($t:ty),*) => {$(
        inventory::submit! { brisk_core::op::OpRegistration { name: <$t>::NAME, rebuild: brisk_core::spec_op::rebuild_spec::<$t> } }
    )*};
}
pub(super) use register;

pub(super) fn arity(op: &str, inputs: &[Value], n: usize) -> Result<()> {
    if inputs.len() != n {
        return Err(Error::Arity {
            op: op.into(),
            expected: n,
            found: inputs.len(),
        });
    }
    Ok(())
}

pub(super) fn not_for_bool(what: &str) -> Error {
    crate::Error::NotForBool {
        what: what.to_string(),
    }
    .into()
}
