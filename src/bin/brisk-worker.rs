//! `brisk-worker SCHEDULER_ADDRESS [OPTIONS]` (see `--help`): runs a Brisk worker
//! until SIGTERM or SIGINT.
//!
//! This worker knows the ops linked into `brisk` itself (collections, literals);
//! to run your own `#[brisk::task]` functions, start workers from your own
//! program, which takes the same options: `myprog brisk-worker SCHEDULER_ADDRESS
//! [OPTIONS]` (its `main` calls `brisk::init()` first).

fn main() {
    // Also started as `brisk-worker brisk-worker ...` (a LocalCluster's worker_exe).
    brisk::scheduler::distributed::cli::main_if_requested();
    use brisk::scheduler::distributed::cli::{worker_main, WORKER_COMMAND};
    std::process::exit(worker_main(WORKER_COMMAND, std::env::args_os().skip(1)));
}
