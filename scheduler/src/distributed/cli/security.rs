//! The flags that close a cluster to strangers, shared by workers and schedulers.

use crate::distributed::tls::Tls;
use crate::error::{Error, Result};
use std::path::PathBuf;

/// The cluster's token and TLS files.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Security {
    /// The cluster's shared token (prefer --token-file or BRISK_TOKEN: a command
    /// line is visible to every user of the host).
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// A file holding the cluster's shared token (surrounding whitespace ignored).
    #[arg(long, value_name = "PATH", conflicts_with = "token")]
    pub token_file: Option<PathBuf>,
    /// The CA certificate(s) every peer's certificate must be signed by (PEM).
    #[arg(long, value_name = "PEM")]
    pub tls_ca_file: Option<PathBuf>,
    /// This process's certificate chain (PEM).
    #[arg(long, value_name = "PEM")]
    pub tls_cert: Option<PathBuf>,
    /// This process's private key (PEM).
    #[arg(long, value_name = "PEM")]
    pub tls_key: Option<PathBuf>,
}

impl Security {
    /// The token: `--token`, else the contents of `--token-file`, else
    /// `BRISK_TOKEN` from the environment, else none.
    pub fn token(&self) -> Result<Option<String>> {
        if let Some(t) = &self.token {
            return Ok(Some(t.clone()));
        }
        if let Some(path) = &self.token_file {
            let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
                reason: format!("cannot read the token file {}: {e}", path.display()),
            })?;
            let token = text.trim();
            if token.is_empty() {
                return Err(Error::Config {
                    reason: format!("the token file {} is empty", path.display()),
                });
            }
            return Ok(Some(token.to_string()));
        }
        Ok(std::env::var("BRISK_TOKEN").ok().filter(|t| !t.is_empty()))
    }

    /// TLS from the three files: none given is no TLS, some but not all an error.
    pub fn tls(&self) -> Result<Option<Tls>> {
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.to_string_lossy().into_owned());
        Tls::from_flags([
            path(&self.tls_ca_file),
            path(&self.tls_cert),
            path(&self.tls_key),
        ])
    }
}
