//! The ops that wrap other ops (a fused chain, an op with inlined roots), known by
//! their registered names so that neither wrapper's file needs the other's.

/// The registered name of fused ops ([`FusedOp`](super::FusedOp)).
pub(super) const FUSED: &str = "brisk::fused";

/// The registered name of inlined ops ([`InlinedOp`](super::InlinedOp)).
pub(super) const INLINED: &str = "brisk::inlined";

/// True for the name of a wrapper. A wrapper rebuilt from a message holds only plain
/// ops: a hostile message cannot nest wrappers deep enough to exhaust the stack.
pub(super) fn is_wrapper(name: &str) -> bool {
    name == FUSED || name == INLINED
}
