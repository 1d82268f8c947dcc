//! The scheduler file (Dask's `--scheduler-file`): a small JSON file the
//! scheduler writes once it listens, from which workers and clients on any host
//! sharing the file system learn its address.
//!
//! ```
//! use brisk_scheduler::distributed::cli::SchedulerFile;
//! let path = std::env::temp_dir().join(format!("brisk-doc-sf-{}.json", std::process::id()));
//! SchedulerFile::new("tcp://10.0.0.1:8786").write(&path).unwrap();
//! assert_eq!(SchedulerFile::read(&path).unwrap().address, "tcp://10.0.0.1:8786");
//! std::fs::remove_file(&path).unwrap();
//! ```

use crate::error::{Error, Result};
use std::path::Path;
use std::time::{Duration, Instant};

/// What the file holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SchedulerFile {
    /// Always `"Scheduler"`, as Dask writes it.
    #[serde(rename = "type")]
    pub kind: String,
    /// The address to dial, `tcp://host:port`.
    pub address: String,
    /// The scheduler's process id.
    pub pid: u32,
    /// When it started listening, seconds since the Unix epoch.
    pub started: f64,
}

impl SchedulerFile {
    /// The file of a scheduler of this process listening at `address`.
    pub fn new(address: &str) -> SchedulerFile {
        SchedulerFile {
            kind: "Scheduler".into(),
            address: address.into(),
            pid: std::process::id(),
            started: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0),
        }
    }

    /// Writes the file whole or not at all (a reader never sees half of it).
    pub fn write(&self, path: &Path) -> Result<()> {
        let fail = |e: std::io::Error| Error::Config {
            reason: format!("cannot write the scheduler file {}: {e}", path.display()),
        };
        let text = serde_json::to_string_pretty(self).map_err(|e| fail(e.into()))?;
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        std::fs::write(&tmp, text).map_err(fail)?;
        std::fs::rename(&tmp, path).map_err(fail)
    }

    /// Reads the file.
    pub fn read(path: &Path) -> Result<SchedulerFile> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
            reason: format!("cannot read the scheduler file {}: {e}", path.display()),
        })?;
        serde_json::from_str(&text).map_err(|e| Error::Config {
            reason: format!(
                "the scheduler file {} is not a scheduler file: {e}",
                path.display()
            ),
        })
    }

    /// Reads the file, waiting up to `timeout` for it to appear (a worker may
    /// start before its scheduler, as with Dask).
    pub fn wait_for(path: &Path, timeout: Duration) -> Result<SchedulerFile> {
        let deadline = Instant::now() + timeout;
        loop {
            if path.exists() || Instant::now() >= deadline {
                return SchedulerFile::read(path);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_foreign_file_is_an_error_naming_it() {
        let dir = std::env::temp_dir();
        let missing = dir.join(format!("brisk-no-such-sf-{}.json", std::process::id()));
        let e = SchedulerFile::wait_for(&missing, Duration::from_millis(100)).unwrap_err();
        assert!(
            e.to_string().contains("cannot read the scheduler file"),
            "{e}"
        );
        let foreign = dir.join(format!("brisk-foreign-sf-{}.json", std::process::id()));
        std::fs::write(&foreign, "{\"hello\": 1}").unwrap();
        let e = SchedulerFile::read(&foreign).unwrap_err();
        assert!(e.to_string().contains("is not a scheduler file"), "{e}");
        std::fs::remove_file(&foreign).unwrap();
    }
}
