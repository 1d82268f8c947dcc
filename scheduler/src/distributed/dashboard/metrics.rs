//! Prometheus' text format of a status (`/metrics`): names with the `brisk_`
//! prefix, units in the name, `_total` on counters.

use crate::distributed::observe::StatusSnapshot;
use std::fmt::Write;

/// A label value with `\`, `"` and newlines escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

struct Out(String);

impl Out {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{k}=\"{}\"", escape(v));
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }
}

/// The status in Prometheus' text format.
///
/// ```
/// use brisk_scheduler::distributed::dashboard::render_metrics;
/// use brisk_scheduler::distributed::observe::StatusSnapshot;
/// let text = render_metrics(&StatusSnapshot { tasks: 3, ..Default::default() });
/// assert!(text.contains("# TYPE brisk_scheduler_tasks gauge"));
/// assert!(text.contains("brisk_scheduler_tasks 3"));
/// ```
pub fn render_metrics(s: &StatusSnapshot) -> String {
    let mut o = Out(String::new());
    o.family(
        "brisk_scheduler_tasks",
        "gauge",
        "Tasks the scheduler knows.",
    );
    o.sample("brisk_scheduler_tasks", &[], s.tasks as f64);
    o.family("brisk_scheduler_workers", "gauge", "Workers connected.");
    o.sample("brisk_scheduler_workers", &[], s.workers.len() as f64);
    o.family(
        "brisk_scheduler_events_total",
        "counter",
        "Inputs (messages, ticks, questions) the scheduler handled.",
    );
    o.sample("brisk_scheduler_events_total", &[], s.events as f64);
    o.family(
        "brisk_scheduler_event_handling_seconds_total",
        "counter",
        "Seconds the scheduler spent handling its inputs.",
    );
    o.sample(
        "brisk_scheduler_event_handling_seconds_total",
        &[],
        s.event_seconds,
    );

    o.family(
        "brisk_scheduler_prefix_tasks",
        "gauge",
        "Tasks of each prefix in each state now.",
    );
    for g in &s.groups {
        for (state, n) in [
            ("released", g.released),
            ("waiting", g.waiting),
            ("queued", g.queued),
            ("no-worker", g.no_worker),
            ("processing", g.processing),
            ("memory", g.memory),
            ("erred", g.erred),
        ] {
            o.sample(
                "brisk_scheduler_prefix_tasks",
                &[("prefix", &g.prefix), ("state", state)],
                n as f64,
            );
        }
    }
    o.family(
        "brisk_scheduler_prefix_tasks_added_total",
        "counter",
        "Tasks of each prefix ever added.",
    );
    for g in &s.groups {
        o.sample(
            "brisk_scheduler_prefix_tasks_added_total",
            &[("prefix", &g.prefix)],
            g.total as f64,
        );
    }
    o.family(
        "brisk_task_duration_seconds",
        "summary",
        "Compute time of the tasks of each prefix that finished.",
    );
    for g in &s.groups {
        let p = [("prefix", g.prefix.as_str())];
        o.sample("brisk_task_duration_seconds_sum", &p, g.duration);
        o.sample("brisk_task_duration_seconds_count", &p, g.finished as f64);
    }
    o.family(
        "brisk_task_result_bytes_total",
        "counter",
        "Bytes of the results of each prefix's tasks so far.",
    );
    for g in &s.groups {
        o.sample(
            "brisk_task_result_bytes_total",
            &[("prefix", &g.prefix)],
            g.nbytes as f64,
        );
    }

    o.family("brisk_worker_threads", "gauge", "Threads of each worker.");
    for w in &s.workers {
        o.sample(
            "brisk_worker_threads",
            &[("worker", &w.address)],
            w.nthreads as f64,
        );
    }
    o.family(
        "brisk_worker_memory_bytes",
        "gauge",
        "Each worker's memory: managed (results held), unmanaged (the rest of the process), spilled (results on disk).",
    );
    for w in &s.workers {
        for (kind, n) in [
            ("managed", w.managed),
            ("unmanaged", w.unmanaged),
            ("spilled", w.spilled),
        ] {
            o.sample(
                "brisk_worker_memory_bytes",
                &[("worker", &w.address), ("type", kind)],
                n as f64,
            );
        }
    }
    o.family(
        "brisk_worker_memory_limit_bytes",
        "gauge",
        "Each worker's memory limit (0: none).",
    );
    for w in &s.workers {
        o.sample(
            "brisk_worker_memory_limit_bytes",
            &[("worker", &w.address)],
            w.memory_limit as f64,
        );
    }
    o.family(
        "brisk_worker_tasks",
        "gauge",
        "Tasks on each worker: processing (sent, not finished) and held (results in memory).",
    );
    for w in &s.workers {
        o.sample(
            "brisk_worker_tasks",
            &[("worker", &w.address), ("state", "processing")],
            w.processing as f64,
        );
        o.sample(
            "brisk_worker_tasks",
            &[("worker", &w.address), ("state", "memory")],
            w.held as f64,
        );
    }
    o.family(
        "brisk_worker_tasks_executed_total",
        "counter",
        "Tasks each worker ran.",
    );
    for w in &s.workers {
        o.sample(
            "brisk_worker_tasks_executed_total",
            &[("worker", &w.address)],
            w.executed as f64,
        );
    }
    o.family(
        "brisk_worker_transfer_bytes_total",
        "counter",
        "Bytes each worker received from peers (incoming) and sent (outgoing).",
    );
    for w in &s.workers {
        o.sample(
            "brisk_worker_transfer_bytes_total",
            &[("worker", &w.address), ("direction", "incoming")],
            w.bytes_in as f64,
        );
        o.sample(
            "brisk_worker_transfer_bytes_total",
            &[("worker", &w.address), ("direction", "outgoing")],
            w.bytes_out as f64,
        );
    }
    o.family(
        "brisk_worker_transfers_total",
        "counter",
        "Values each worker received from peers (incoming) and sent (outgoing).",
    );
    for w in &s.workers {
        o.sample(
            "brisk_worker_transfers_total",
            &[("worker", &w.address), ("direction", "incoming")],
            w.transfers_in as f64,
        );
        o.sample(
            "brisk_worker_transfers_total",
            &[("worker", &w.address), ("direction", "outgoing")],
            w.transfers_out as f64,
        );
    }
    o.family(
        "brisk_worker_spill_bytes_total",
        "counter",
        "Bytes each worker wrote to and read back from its spill files.",
    );
    for w in &s.workers {
        o.sample(
            "brisk_worker_spill_bytes_total",
            &[("worker", &w.address), ("direction", "written")],
            w.spill_written as f64,
        );
        o.sample(
            "brisk_worker_spill_bytes_total",
            &[("worker", &w.address), ("direction", "read")],
            w.spill_read as f64,
        );
    }
    o.family(
        "brisk_worker_cpu_ratio",
        "gauge",
        "CPU each worker used over its last heartbeat, in cores.",
    );
    for w in &s.workers {
        o.sample(
            "brisk_worker_cpu_ratio",
            &[("worker", &w.address)],
            w.cpu / 100.0,
        );
    }
    o.0
}
