//! Diagnostics for the person running a computation: progress bars in the
//! terminal ([`progress`]) and performance reports ([`performance_report`]),
//! on the local scheduler and through clients alike. The cluster's own view
//! (dashboard, `/metrics`, stories, logs) is in
//! [`distributed::dashboard`](crate::distributed::dashboard) and
//! [`distributed::observe`](crate::distributed::observe).

pub mod progress;
pub mod report;

pub use progress::progress;
pub use report::performance_report;
