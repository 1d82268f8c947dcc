//! `brisk-worker SCHEDULER_ADDRESS [--nthreads N] [--memory-limit BYTES] [--name NAME]
//! [--listen HOST:PORT] [--token TOKEN] [--heartbeat SECONDS] [--connect-timeout SECONDS]
//! [--handshake-timeout SECONDS]`: runs a Brisk worker until SIGTERM or SIGINT.
//!
//! This worker knows the ops linked into `brisk` itself (collections, literals);
//! to run your own `#[brisk::task]` functions, start workers from your executable
//! (`LocalCluster`, or your binary with `brisk::init()` and the `BRISK_WORKER_*`
//! environment).

use brisk::scheduler::distributed::worker_server::{run_blocking, WorkerOptions};

fn parse_bytes(s: &str) -> anyhow::Result<u64> {
    let s = s.trim();
    let (num, mult) = match s.to_ascii_uppercase() {
        u if u.ends_with("GB") => (s[..s.len() - 2].to_string(), 1e9),
        u if u.ends_with("MB") => (s[..s.len() - 2].to_string(), 1e6),
        u if u.ends_with("KB") => (s[..s.len() - 2].to_string(), 1e3),
        _ => (s.to_string(), 1.0),
    };
    let x: f64 = num
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("cannot read '{s}' as a size in bytes"))?;
    Ok((x * mult) as u64)
}

fn seconds(flag: &str, v: &str) -> anyhow::Result<std::time::Duration> {
    let s: f64 = v
        .parse()
        .map_err(|_| anyhow::anyhow!("{flag}: cannot read '{v}' as seconds"))?;
    std::time::Duration::try_from_secs_f64(s)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| anyhow::anyhow!("{flag}: '{v}' is not a positive number of seconds"))
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut scheduler = None;
    let mut options = WorkerOptions::new("");
    options.token = std::env::var("BRISK_TOKEN").ok();
    let mut tls = [None, None, None];
    while let Some(a) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| anyhow::anyhow!("{name} needs a value"))
        };
        match a.as_str() {
            "--tls-ca-file" => tls[0] = Some(value("--tls-ca-file")?),
            "--tls-cert" => tls[1] = Some(value("--tls-cert")?),
            "--tls-key" => tls[2] = Some(value("--tls-key")?),
            "--nthreads" => options.nthreads = value("--nthreads")?.parse()?,
            "--memory-limit" => options.memory_limit = parse_bytes(&value("--memory-limit")?)?,
            "--name" => options.name = value("--name")?,
            "--listen" => options.listen = value("--listen")?,
            "--token" => options.token = Some(value("--token")?),
            "--heartbeat" => options.heartbeat = seconds(&a, &value("--heartbeat")?)?,
            "--connect-timeout" => {
                options.connect_timeout = seconds(&a, &value("--connect-timeout")?)?
            }
            "--handshake-timeout" => {
                options.handshake_timeout = seconds(&a, &value("--handshake-timeout")?)?
            }
            "-h" | "--help" => {
                println!("usage: brisk-worker SCHEDULER_ADDRESS [--nthreads N] [--memory-limit BYTES] [--name NAME] [--listen HOST:PORT] [--token TOKEN] [--heartbeat SECONDS] [--connect-timeout SECONDS] [--handshake-timeout SECONDS] [--tls-ca-file PEM --tls-cert PEM --tls-key PEM]");
                return Ok(());
            }
            other if !other.starts_with('-') && scheduler.is_none() => {
                scheduler = Some(other.to_string())
            }
            other => anyhow::bail!("unknown argument '{other}' (see --help)"),
        }
    }
    options.scheduler = scheduler
        .ok_or_else(|| anyhow::anyhow!("usage: brisk-worker SCHEDULER_ADDRESS [options]"))?;
    options.tls = brisk::scheduler::distributed::tls::Tls::from_flags(tls)?;
    run_blocking(options)?;
    Ok(())
}
