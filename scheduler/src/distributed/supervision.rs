//! What a worker process and the process that supervises it (a nanny, a
//! `LocalCluster`) agree on: the environment variables one sets for the other,
//! and the exit codes that say why a worker ended.

/// Set in a worker's environment by whoever started it (a `LocalCluster`, a
/// nanny): the process id of the parent, whose death kills the worker.
pub(crate) const ENV_PARENT: &str = "BRISK_WORKER_PARENT";

/// Set in a worker's environment by the nanny that supervises it: past the
/// terminate threshold the worker exits with [`MEMORY_EXIT_CODE`] and the nanny
/// starts it again.
pub const NANNY_ENV: &str = "BRISK_NANNY";

/// The exit code of a worker that ended itself past its memory's terminate
/// threshold.
pub const MEMORY_EXIT_CODE: i32 = 86;

/// The exit code of a worker that the scheduler asked to restart.
pub const RESTART_EXIT_CODE: i32 = 87;
