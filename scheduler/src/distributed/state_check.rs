//! What a running server does when its state machine is wrong.

/// Reports what a running server's state machine got wrong: transitions its table
/// refused and, when validating, indexes that disagree. Logged with the task's
/// story; a panic in debug builds, where it is a bug caught by a test.
pub(crate) fn report_broken_state(machine: &str, problems: &[String]) {
    for p in problems {
        tracing::error!(target: "brisk::state", "{machine} state machine: {p}");
    }
    debug_assert!(
        problems.is_empty(),
        "{machine} state machine: {}",
        problems.join("\n")
    );
}
