//! `brisk-scheduler [--listen HOST:PORT] [--token TOKEN] [--tls-ca-file PEM --tls-cert
//! PEM --tls-key PEM]`: runs a Brisk scheduler until SIGTERM or SIGINT. The token may
//! also come from `BRISK_TOKEN`.

use brisk::scheduler::distributed::scheduler_server::{run_blocking, SchedulerOptions};

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
            "-h" | "--help" => {
                println!("usage: brisk-scheduler [--listen HOST:PORT] [--token TOKEN] [--tls-ca-file PEM --tls-cert PEM --tls-key PEM]");
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
