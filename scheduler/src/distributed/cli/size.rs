//! Sizes on the command line: `4GiB`, `4GB`, `512MiB`, `1e9`, and memory limits
//! that may also be a fraction of the machine (`0.5`) or `auto`.

use crate::error::{Error, Result};

/// Reads a size in bytes: a number with an optional unit, decimal (`kB`, `MB`,
/// `GB`, `TB`) or binary (`KiB`, `MiB`, `GiB`, `TiB`), case aside.
///
/// ```
/// use brisk_scheduler::distributed::cli::parse_bytes;
/// assert_eq!(parse_bytes("4GiB").unwrap(), 4 << 30);
/// assert_eq!(parse_bytes("4 GB").unwrap(), 4_000_000_000);
/// assert_eq!(parse_bytes("1.5kib").unwrap(), 1536);
/// assert_eq!(parse_bytes("1e6").unwrap(), 1_000_000);
/// assert!(parse_bytes("4 parsecs").is_err());
/// ```
pub fn parse_bytes(text: &str) -> Result<u64> {
    let s = text.trim();
    let split = s
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let unit = unit.trim().to_ascii_lowercase();
    let scale: f64 = match unit.as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024f64.powi(2),
        "gib" => 1024f64.powi(3),
        "tib" => 1024f64.powi(4),
        _ => return Err(bad_size(text, "an unknown unit")),
    };
    let x: f64 = number
        .trim()
        .parse()
        .map_err(|_| bad_size(text, "not a number"))?;
    let bytes = x * scale;
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return Err(bad_size(text, "out of range"));
    }
    Ok(bytes.round() as u64)
}

fn bad_size(text: &str, why: &str) -> Error {
    Error::Config {
        reason: format!(
            "cannot read '{text}' as a size ({why}): give bytes with an optional unit, \
             like 4GiB, 4GB or 512MiB"
        ),
    }
}

/// A worker's memory limit as given: bytes, a fraction of the machine, `auto`
/// (the machine's memory shared by threads: `nthreads / cores` of it, at most
/// all of it, as Dask's `auto`), or none (`0`, `none`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MemoryLimit {
    /// No limit.
    None,
    /// This many bytes.
    Bytes(u64),
    /// This fraction of the machine's memory (above 0, at most 1).
    Fraction(f64),
    /// The machine's memory times `nthreads / cores`, at most all of it.
    Auto,
}

impl std::str::FromStr for MemoryLimit {
    type Err = Error;

    /// ```
    /// use brisk_scheduler::distributed::cli::MemoryLimit;
    /// assert_eq!("4GiB".parse::<MemoryLimit>().unwrap(), MemoryLimit::Bytes(4 << 30));
    /// assert_eq!("0.5".parse::<MemoryLimit>().unwrap(), MemoryLimit::Fraction(0.5));
    /// assert_eq!("auto".parse::<MemoryLimit>().unwrap(), MemoryLimit::Auto);
    /// assert_eq!("0".parse::<MemoryLimit>().unwrap(), MemoryLimit::None);
    /// ```
    fn from_str(s: &str) -> Result<MemoryLimit> {
        let t = s.trim().to_ascii_lowercase();
        match t.as_str() {
            "auto" => return Ok(MemoryLimit::Auto),
            "none" | "0" => return Ok(MemoryLimit::None),
            _ => {}
        }
        if let Ok(x) = t.parse::<f64>() {
            if x > 0.0 && x <= 1.0 {
                return Ok(MemoryLimit::Fraction(x));
            }
        }
        parse_bytes(s).map(|b| match b {
            0 => MemoryLimit::None,
            b => MemoryLimit::Bytes(b),
        })
    }
}

impl MemoryLimit {
    /// The limit in bytes (0: none) for a worker of `nthreads` on a machine of
    /// `machine` bytes and `cores` cores.
    ///
    /// ```
    /// use brisk_scheduler::distributed::cli::MemoryLimit;
    /// assert_eq!(MemoryLimit::Fraction(0.25).bytes(8, 4, 1000), 250);
    /// assert_eq!(MemoryLimit::Auto.bytes(2, 8, 1000), 250);
    /// assert_eq!(MemoryLimit::Auto.bytes(16, 8, 1000), 1000);
    /// ```
    pub fn bytes(self, nthreads: usize, cores: usize, machine: u64) -> u64 {
        match self {
            MemoryLimit::None => 0,
            MemoryLimit::Bytes(b) => b,
            MemoryLimit::Fraction(f) => (machine as f64 * f) as u64,
            MemoryLimit::Auto => {
                let share = (nthreads as f64 / cores.max(1) as f64).min(1.0);
                (machine as f64 * share) as u64
            }
        }
    }
}

/// The memory this process may use: the machine's (`MemTotal` of
/// `/proc/meminfo`), or its cgroup's limit when lower.
pub fn machine_memory() -> u64 {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0);
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok());
    match cgroup {
        Some(c) if c < total || total == 0 => c,
        _ => total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_dask_reads_them() {
        assert_eq!(parse_bytes("100").unwrap(), 100);
        assert_eq!(parse_bytes("2MiB").unwrap(), 2 << 20);
        assert_eq!(parse_bytes("2mb").unwrap(), 2_000_000);
        assert_eq!(parse_bytes("1TiB").unwrap(), 1 << 40);
        assert_eq!(parse_bytes("0.5 GB").unwrap(), 500_000_000);
        for bad in ["", "GB", "-1GB", "4 GiBs", "lots"] {
            let e = parse_bytes(bad).unwrap_err().to_string();
            assert!(e.contains(&format!("'{bad}'")), "{e}");
        }
    }

    #[test]
    fn memory_limits_resolve_against_the_machine() {
        let m = |s: &str| s.parse::<MemoryLimit>().unwrap();
        assert_eq!(m("4GB").bytes(1, 2, 1 << 40), 4_000_000_000);
        assert_eq!(m("1").bytes(1, 2, 1000), 1000);
        assert_eq!(m("none").bytes(1, 2, 1000), 0);
        assert!("1.5x".parse::<MemoryLimit>().is_err());
        assert!(machine_memory() > 0);
    }
}

/// A memory threshold as given: a fraction of the limit in (0, 1], or `false`
/// (also `off`, `none`) to turn it off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold(pub Option<f64>);

impl std::str::FromStr for Threshold {
    type Err = Error;

    /// ```
    /// use brisk_scheduler::distributed::cli::Threshold;
    /// assert_eq!("0.7".parse::<Threshold>().unwrap(), Threshold(Some(0.7)));
    /// assert_eq!("false".parse::<Threshold>().unwrap(), Threshold(None));
    /// assert!("1.5".parse::<Threshold>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Threshold> {
        let t = s.trim().to_ascii_lowercase();
        if matches!(t.as_str(), "false" | "off" | "none") {
            return Ok(Threshold(None));
        }
        match t.parse::<f64>() {
            Ok(x) if x > 0.0 && x <= 1.0 => Ok(Threshold(Some(x))),
            _ => Err(Error::Config {
                reason: format!("{s:?} is not a fraction of the memory limit in (0, 1] or false"),
            }),
        }
    }
}
