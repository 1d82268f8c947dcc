//! Progress bars in the terminal (Dask's `ProgressBar` and `progress`): a
//! computation on the local scheduler or through a client shows one on
//! standard error when that is a terminal, or inside [`progress`]; otherwise
//! nothing is drawn and nothing is paid but one check per run.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Calls to [`progress`] running now (any thread).
static FORCED: AtomicUsize = AtomicUsize::new(0);

/// The environment variable that turns progress bars off (`BRISK_PROGRESS=0`)
/// even on a terminal.
pub const PROGRESS_ENV: &str = "BRISK_PROGRESS";

/// Runs `f` with progress bars shown for every computation it starts, on the
/// local scheduler or through a client, even when standard error is not a
/// terminal (Dask's `with ProgressBar():`).
///
/// ```
/// use brisk_scheduler::diagnostics::progress;
/// let n = progress(|| 40 + 2);
/// assert_eq!(n, 42);
/// ```
pub fn progress<R>(f: impl FnOnce() -> R) -> R {
    struct Guard;
    impl Drop for Guard {
        fn drop(&mut self) {
            FORCED.fetch_sub(1, Ordering::SeqCst);
        }
    }
    FORCED.fetch_add(1, Ordering::SeqCst);
    let _guard = Guard;
    f()
}

/// Whether a computation starting now shows a bar.
pub fn enabled() -> bool {
    FORCED.load(Ordering::Relaxed) > 0 || *on_a_terminal()
}

/// Whether standard error is a terminal and bars are not turned off, read once
/// per process (every local run asks: it must cost no system call).
fn on_a_terminal() -> &'static bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    ON.get_or_init(|| {
        std::io::stderr().is_terminal() && !std::env::var_os(PROGRESS_ENV).is_some_and(|v| v == "0")
    })
}

/// Standard error when it is not a terminal (a log file, a pipe): each redraw
/// overwrites the line with a carriage return, no cursor movement.
#[derive(Debug)]
struct PlainStderr;

impl indicatif::TermLike for PlainStderr {
    fn width(&self) -> u16 {
        100
    }
    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        use std::io::Write;
        writeln!(std::io::stderr(), "{s}")
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        use std::io::Write;
        write!(std::io::stderr(), "{s}")
    }
    fn clear_line(&self) -> std::io::Result<()> {
        use std::io::Write;
        write!(std::io::stderr(), "\r")
    }
    fn flush(&self) -> std::io::Result<()> {
        use std::io::Write;
        std::io::stderr().flush()
    }
}

/// A bar for a computation of `total` tasks, if bars are shown now.
pub fn bar(total: u64, what: &str) -> Option<ProgressBar> {
    if !enabled() {
        return None;
    }
    let target = if *on_a_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::term_like_with_hz(Box::new(PlainStderr), 4)
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    let style = ProgressStyle::with_template(
        "[{bar:40}] {percent:>3}% {pos}/{len} tasks | {elapsed_precise} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("#>-");
    bar.set_style(style);
    bar.set_message(what.to_string());
    Some(bar)
}
