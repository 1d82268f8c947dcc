//! Listen and contact addresses: what a server binds, and what it tells others to
//! dial (Dask's `--listen-address` and `--contact-address`).
//!
//! A server bound to a wildcard (`0.0.0.0`, `[::]`) listens on every interface of
//! its host but cannot know which of them its peers can reach, so it needs a
//! contact address; a server bound to one address is reached there.
//!
//! ```
//! use brisk_scheduler::distributed::address::{contact_address, strip_scheme};
//! let bound: std::net::SocketAddr = "10.1.2.3:4567".parse().unwrap();
//! assert_eq!(contact_address(bound, None).unwrap(), "tcp://10.1.2.3:4567");
//! let wild: std::net::SocketAddr = "0.0.0.0:4567".parse().unwrap();
//! assert!(contact_address(wild, None).is_err());
//! assert_eq!(
//!     contact_address(wild, Some("tcp://host-a:4567")).unwrap(),
//!     "tcp://host-a:4567"
//! );
//! assert_eq!(contact_address(wild, Some("host-a:0")).unwrap(), "tcp://host-a:4567");
//! assert_eq!(strip_scheme("tcp://host-a:1"), "host-a:1");
//! ```

use crate::error::{Error, Result};
use std::net::SocketAddr;
use std::time::Duration;

/// `host:port` of `tcp://host:port` or `host:port`.
pub fn strip_scheme(address: &str) -> &str {
    address.strip_prefix("tcp://").unwrap_or(address)
}

/// `tcp://host:port` of `host:port` or `tcp://host:port`.
pub fn with_scheme(address: &str) -> String {
    format!("tcp://{}", strip_scheme(address))
}

/// The address others dial to reach a server bound at `bound`: `contact` when
/// given (port 0 standing for the bound port), else the bound address; a wildcard bind without a contact address is an
/// error saying how to give one.
pub fn contact_address(bound: SocketAddr, contact: Option<&str>) -> Result<String> {
    match contact {
        Some(c) => {
            let hostport = strip_scheme(c);
            match hostport.rsplit_once(':') {
                Some((host, "0")) if !host.is_empty() => {
                    Ok(format!("tcp://{host}:{}", bound.port()))
                }
                Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
                    Ok(with_scheme(hostport))
                }
                _ => Err(Error::Config {
                    reason: format!("the contact address '{c}' is not of the form host:port"),
                }),
            }
        }
        None if bound.ip().is_unspecified() => Err(Error::Config {
            reason: format!(
                "listening on the wildcard address {bound} needs a contact address \
                 (--contact-address HOST:PORT): peers cannot dial {}",
                bound.ip()
            ),
        }),
        None => Ok(format!("tcp://{bound}")),
    }
}

/// Checks that this host reaches `contact` within `timeout` (a TCP connection
/// and nothing more: the caller's listener, already bound, accepts it), so a
/// server started with a contact address nobody can dial fails at start rather
/// than leaving its peers to time out.
pub async fn check_reachable(contact: &str, timeout: Duration) -> Result<()> {
    let hostport = strip_scheme(contact);
    let unreachable = |why: String| Error::Config {
        reason: format!("the contact address {contact} is not reachable from this host: {why}"),
    };
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(hostport)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(unreachable(e.to_string())),
        Err(_) => Err(unreachable(format!("no answer within {timeout:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contact_address_needs_a_host_and_a_port() {
        let bound: SocketAddr = "0.0.0.0:1".parse().unwrap();
        let e = contact_address(bound, Some("host-a")).unwrap_err();
        assert!(e.to_string().contains("not of the form host:port"), "{e}");
        let e = contact_address(bound, None).unwrap_err();
        assert!(e.to_string().contains("--contact-address"), "{e}");
    }

    #[test]
    fn an_address_nobody_listens_on_is_unreachable() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // A port just released: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let contact = format!("tcp://127.0.0.1:{port}");
        let e = rt
            .block_on(check_reachable(&contact, Duration::from_secs(5)))
            .unwrap_err();
        assert!(
            e.to_string().contains("is not reachable from this host"),
            "{e}"
        );
    }
}
