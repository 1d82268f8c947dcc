//! The async runtime behind the object stores. Brisk's tasks are synchronous; they
//! reach the stores through [`block_on`] on one shared, lazily started runtime.

use std::future::Future;
use std::sync::OnceLock;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("brisk-io")
            .enable_all()
            .build()
            .expect("the IO runtime starts (threads and timers are available)")
    })
}

/// Runs a future to completion from synchronous code (a task, a test, `main`).
pub fn block_on<F: Future>(f: F) -> F::Output {
    match tokio::runtime::Handle::try_current() {
        // Inside a runtime already (an async caller): do not nest runtimes.
        Ok(_) => tokio::task::block_in_place(|| runtime().block_on(f)),
        Err(_) => runtime().block_on(f),
    }
}
