//! `brisk-scheduler [OPTIONS]` (see `--help`): runs a Brisk scheduler until SIGTERM
//! or SIGINT. Any program built on Brisk runs the same scheduler as `myprog
//! brisk-scheduler [OPTIONS]`. Listening on an address that is not loopback needs
//! a token (`--token-file`, `--token` or `BRISK_TOKEN`) or TLS, or `--insecure`.

fn main() {
    use brisk::scheduler::distributed::cli::{scheduler_main, SCHEDULER_COMMAND};
    std::process::exit(scheduler_main(
        SCHEDULER_COMMAND,
        std::env::args_os().skip(1),
    ));
}
