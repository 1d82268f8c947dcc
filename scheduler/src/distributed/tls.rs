//! Optional TLS between every Brisk process (rustls), with mutual authentication
//! like Dask's `tls-ca-file` / `tls-cert` / `tls-key`: each process presents a
//! certificate signed by the cluster's CA and accepts only peers that do.
//! The shared-token handshake still runs inside the encrypted stream.

use crate::error::{Error, Result};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::path::PathBuf;
use std::sync::Arc;
use tokio_rustls::rustls;

/// The PEM files of a process: the cluster's CA, and this process's certificate
/// chain and private key.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The CA certificate(s) peers must be signed by.
    pub ca: PathBuf,
    /// This process's certificate chain.
    pub cert: PathBuf,
    /// This process's private key.
    pub key: PathBuf,
}

/// Client and server configurations built from one set of PEM files.
#[derive(Clone)]
pub struct Tls {
    pub(crate) server: Arc<rustls::ServerConfig>,
    pub(crate) client: Arc<rustls::ClientConfig>,
    /// The dashboard's HTTPS: the same certificate, no client certificate
    /// asked (browsers have none).
    pub(crate) web: Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls { .. }")
    }
}

fn tls_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Handshake {
        reason: format!("TLS setup: {what}: {e}"),
    }
}

impl Tls {
    /// Reads the three PEM files.
    pub fn from_files(files: &TlsFiles) -> Result<Tls> {
        let read = |p: &PathBuf| {
            std::fs::read(p).map_err(|e| tls_err(&format!("cannot read {}", p.display()), e))
        };
        Tls::from_pem(&read(&files.ca)?, &read(&files.cert)?, &read(&files.key)?)
    }

    /// From the three command-line flags (`--tls-ca-file`, `--tls-cert`,
    /// `--tls-key`): none given is no TLS; some but not all is an error.
    pub fn from_flags(files: [Option<String>; 3]) -> Result<Option<Tls>> {
        match files {
            [None, None, None] => Ok(None),
            [Some(ca), Some(cert), Some(key)] => Tls::from_files(&TlsFiles {
                ca: ca.into(),
                cert: cert.into(),
                key: key.into(),
            })
            .map(Some),
            _ => Err(tls_err(
                "flags",
                "TLS needs all of --tls-ca-file, --tls-cert and --tls-key",
            )),
        }
    }

    /// Builds the configurations from PEM bytes.
    pub fn from_pem(ca: &[u8], cert: &[u8], key: &[u8]) -> Result<Tls> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(ca) {
            let c = c.map_err(|e| tls_err("the CA file", e))?;
            roots.add(c).map_err(|e| tls_err("the CA certificate", e))?;
        }
        if roots.is_empty() {
            return Err(tls_err("the CA file", "no certificate in it"));
        }
        let roots = Arc::new(roots);
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert)
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| tls_err("the certificate file", e))?;
        if chain.is_empty() {
            return Err(tls_err("the certificate file", "no certificate in it"));
        }
        let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| tls_err("the key file", e))?;
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            roots.clone(),
            provider.clone(),
        )
        .build()
        .map_err(|e| tls_err("client verification", e))?;
        let server = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_err("protocol versions", e))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain.clone(), key.clone_key())
            .map_err(|e| tls_err("the server certificate", e))?;
        let mut web = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_err("protocol versions", e))?
            .with_no_client_auth()
            .with_single_cert(chain.clone(), key.clone_key())
            .map_err(|e| tls_err("the server certificate", e))?;
        web.alpn_protocols = vec![b"http/1.1".to_vec()];
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_err("protocol versions", e))?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .map_err(|e| tls_err("the client certificate", e))?;
        Ok(Tls {
            server: Arc::new(server),
            client: Arc::new(client),
            web: Arc::new(web),
        })
    }
}

/// The name a peer's certificate must carry for `address` (`host:port`).
pub(crate) fn server_name(address: &str) -> Result<ServerName<'static>> {
    let host = address.rsplit_once(':').map_or(address, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(host.to_string())
        .map_err(|e| tls_err(&format!("the host name '{host}'"), e))
}
