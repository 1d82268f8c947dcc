//! `brisk-scheduler [--listen HOST:PORT] [--token TOKEN] [--tls-ca-file PEM --tls-cert
//! PEM --tls-key PEM] [--worker-ttl SECONDS] [--handshake-timeout SECONDS]
//! [--no-workers-timeout SECONDS|never] [--max-connections N] [--client-buffer BYTES]
//! [--insecure]`: runs a Brisk scheduler until SIGTERM or SIGINT. The token may
//! also come from `BRISK_TOKEN`. Listening on an address that is not loopback
//! needs a token or TLS, or `--insecure`.

use brisk::scheduler::distributed::scheduler_server::{run_blocking, SchedulerOptions};
use std::time::Duration;

const USAGE: &str = "usage: brisk-scheduler [--listen HOST:PORT] [--token TOKEN] \
[--tls-ca-file PEM --tls-cert PEM --tls-key PEM] [--worker-ttl SECONDS] \
[--handshake-timeout SECONDS] [--no-workers-timeout SECONDS|never] \
[--max-connections N] [--client-buffer BYTES] [--insecure]";

fn count(flag: &str, value: Option<String>) -> anyhow::Result<usize> {
    let v = value.ok_or_else(|| anyhow::anyhow!("{flag} needs a number"))?;
    v.parse::<usize>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| anyhow::anyhow!("{flag}: '{v}' is not a positive whole number"))
}

fn seconds(flag: &str, value: Option<String>) -> anyhow::Result<Duration> {
    let v = value.ok_or_else(|| anyhow::anyhow!("{flag} needs a number of seconds"))?;
    let s: f64 = v
        .parse()
        .map_err(|_| anyhow::anyhow!("{flag}: cannot read '{v}' as seconds"))?;
    Duration::try_from_secs_f64(s)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| anyhow::anyhow!("{flag}: '{v}' is not a positive number of seconds"))
}

fn main() -> anyhow::Result<()> {
    let mut options = SchedulerOptions {
        token: std::env::var("BRISK_TOKEN").ok(),
        ..Default::default()
    };
    let mut args = std::env::args().skip(1);
    let mut tls = [None, None, None];
    while let Some(a) = args.next() {
        match a.as_str() {
            "--tls-ca-file" => tls[0] = args.next(),
            "--tls-cert" => tls[1] = args.next(),
            "--tls-key" => tls[2] = args.next(),
            "--listen" => {
                options.listen = args
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("--listen needs an address"))?
            }
            "--token" => {
                options.token = Some(
                    args.next()
                        .ok_or_else(|| anyhow::anyhow!("--token needs a value"))?,
                )
            }
            "--worker-ttl" => {
                options.config.worker_timeout = seconds(&a, args.next())?.as_secs_f64()
            }
            "--handshake-timeout" => options.handshake_timeout = seconds(&a, args.next())?,
            "--no-workers-timeout" => {
                let v = args.next();
                options.config.no_workers_timeout = match v.as_deref() {
                    Some("never") => None,
                    _ => Some(seconds(&a, v)?.as_secs_f64()),
                }
            }
            "--max-connections" => options.max_connections = count(&a, args.next())?,
            "--client-buffer" => options.client_buffer = count(&a, args.next())?,
            "--insecure" => options.insecure = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => anyhow::bail!("unknown argument '{other}' (see --help)"),
        }
    }
    options.tls = brisk::scheduler::distributed::tls::Tls::from_flags(tls)?;
    run_blocking(options, |address| {
        println!("brisk-scheduler listening at {address}");
    })?;
    Ok(())
}
