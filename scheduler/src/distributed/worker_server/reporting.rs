//! What a worker tells about itself beyond its tasks, with its heartbeats:
//! transfers and spills for the task stream, its new log lines and CPU use.

use crate::distributed::messages::Msg;
use crate::distributed::observe::{lines_since, Activity, RecordKind};
use std::time::Instant;

/// Transfers and spills a worker keeps between heartbeats at most.
const MAX_ACTIVITY: usize = 512;

/// Log lines a heartbeat carries at most.
const MAX_LOG_LINES: usize = 200;

/// What a worker gathers between heartbeats.
pub(super) struct Reporting {
    activity: Vec<(Instant, Activity)>,
    /// The number of the next log line to send.
    log_seq: u64,
    /// CPU seconds of the process at the last heartbeat, and when.
    cpu: Option<(Instant, f64)>,
}

impl Reporting {
    pub(super) fn new() -> Reporting {
        Reporting {
            activity: Vec::new(),
            // Everything kept so far: a scheduler (a new one, after a
            // reconnection) has no copy yet.
            log_seq: 0,
            cpu: None,
        }
    }

    /// Something that ended now and took `seconds`.
    pub(super) fn record(&mut self, kind: RecordKind, seconds: f64, values: u64, nbytes: u64) {
        if self.activity.len() < MAX_ACTIVITY {
            self.activity.push((
                Instant::now(),
                Activity {
                    kind,
                    ago: 0.0,
                    duration: seconds,
                    values,
                    nbytes,
                },
            ));
        }
    }

    /// CPU used since the last call, percent of one core.
    pub(super) fn cpu_percent(&mut self) -> u64 {
        let now = Instant::now();
        let Some(total) = process_cpu_seconds() else {
            return 0;
        };
        let percent = match self.cpu {
            Some((then, before)) => {
                let wall = now.duration_since(then).as_secs_f64();
                if wall > 0.0 {
                    ((total - before).max(0.0) / wall * 100.0).round() as u64
                } else {
                    0
                }
            }
            None => 0,
        };
        self.cpu = Some((now, total));
        percent
    }

    /// The report to send now, if there is anything to say.
    pub(super) fn take(&mut self) -> Option<Msg> {
        let (logs, next) = lines_since(self.log_seq, MAX_LOG_LINES);
        self.log_seq = next;
        if self.activity.is_empty() && logs.is_empty() {
            return None;
        }
        let now = Instant::now();
        let activity = self
            .activity
            .drain(..)
            .map(|(end, mut a)| {
                a.ago = now.duration_since(end).as_secs_f64();
                a
            })
            .collect();
        Some(Msg::WorkerReport { activity, logs })
    }
}

/// The CPU time of this process so far, seconds (Linux).
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces: the fields start after its ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // SAFETY: sysconf only reads a constant of the system.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (ticks > 0).then(|| (utime + stime) / ticks as f64)
}
