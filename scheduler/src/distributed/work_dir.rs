//! A worker's own working directory under its `--local-directory` (Dask's
//! `local_directory`): made at start, removed with everything in it when the
//! worker exits (also after SIGTERM or SIGINT, which end the worker's run
//! normally). Tasks running on the worker find it with [`local_directory`].

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

static CURRENT: Mutex<Option<PathBuf>> = Mutex::new(None);

/// The working directory of the worker running in this process, if any: a place
/// for a task's scratch files that is removed when the worker exits.
///
/// ```
/// // Outside a worker there is none.
/// assert!(brisk_scheduler::distributed::worker_server::local_directory().is_none());
/// ```
pub fn local_directory() -> Option<PathBuf> {
    CURRENT.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// The directory, removed on drop.
pub(crate) struct WorkDir {
    path: PathBuf,
}

impl WorkDir {
    /// Makes `brisk-worker-<pid>-<n>` under `base` (and `base` itself if needed).
    pub(crate) fn create(base: &Path) -> Result<WorkDir> {
        let io = |what: &str, p: &Path, e: std::io::Error| Error::Config {
            reason: format!("cannot {what} the local directory {}: {e}", p.display()),
        };
        std::fs::create_dir_all(base).map_err(|e| io("create", base, e))?;
        let mut n = 0u32;
        let path = loop {
            let p = base.join(format!("brisk-worker-{}-{n}", std::process::id()));
            match std::fs::create_dir(&p) {
                Ok(()) => break p,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
                Err(e) => return Err(io("create a folder in", base, e)),
            }
        };
        *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = Some(path.clone());
        Ok(WorkDir { path })
    }
}

impl WorkDir {
    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let mut current = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
        if current.as_deref() == Some(self.path.as_path()) {
            *current = None;
        }
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            tracing::warn!("could not remove {}: {e}", self.path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directory_lives_as_long_as_its_guard() {
        let base = std::env::temp_dir().join(format!("brisk-workdir-test-{}", std::process::id()));
        let dir = WorkDir::create(&base).unwrap();
        let path = local_directory().unwrap();
        assert!(path.starts_with(&base) && path.is_dir());
        std::fs::write(path.join("scratch"), b"x").unwrap();
        drop(dir);
        assert!(!path.exists());
        assert!(local_directory().is_none());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
