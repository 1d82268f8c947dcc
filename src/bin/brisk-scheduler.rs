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
            "--listen" => options.listen = args.next().ok_or_else(|| anyhow::anyhow!("--listen needs an address"))?,
            "--token" => options.token = Some(args.next().ok_or_else(|| anyhow::anyhow!("--token needs a value"))?),
            "-h" | "--help" => {
                println!("usage: brisk-scheduler [--listen HOST:PORT] [--token TOKEN] [--tls-ca-file PEM --tls-cert PEM --tls-key PEM]");
                return Ok(());
            }
            other => anyhow::bail!("unknown argument '{other}' (see --help)"),
        }
    }
    options.tls = tls_options(tls)?;
    run_blocking(options, |address| {
        println!("brisk-scheduler listening at {address}");
    })?;
    Ok(())
}

fn tls_options(files: [Option<String>; 3]) -> anyhow::Result<Option<brisk::scheduler::distributed::tls::Tls>> {
    use brisk::scheduler::distributed::tls::{Tls, TlsFiles};
    match files {
        [None, None, None] => Ok(None),
        [Some(ca), Some(cert), Some(key)] => {
            Ok(Some(Tls::from_files(&TlsFiles { ca: ca.into(), cert: cert.into(), key: key.into() })?))
        }
        _ => anyhow::bail!("TLS needs all of --tls-ca-file, --tls-cert and --tls-key"),
    }
}
