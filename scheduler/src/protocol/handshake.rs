//! The first message on every connection: who is speaking, which protocol version,
//! and (when the cluster has one) the shared token. A peer that fails the check is
//! disconnected before it can send anything else.

use super::Limits;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// The protocol version; peers must match it exactly.
pub const PROTOCOL_VERSION: u32 = 1;

/// A hello is a flat map: anything nested deeper is not one.
const HELLO_NESTING: usize = 4;

/// The kind of process opening a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// A user's program.
    Client,
    /// A worker process.
    Worker,
    /// The scheduler.
    Scheduler,
}

/// The handshake message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// Always `"brisk"`.
    pub protocol: String,
    /// [`PROTOCOL_VERSION`] of the sender.
    pub version: u32,
    /// Who is speaking.
    pub role: Role,
    /// The cluster's shared token, if it has one.
    pub token: Option<String>,
    /// In an answer: why the connection is refused (it is closed right after).
    #[serde(default)]
    pub refusal: Option<String>,
    /// What the sender accepts: the peer never sends it a message over these.
    #[serde(default)]
    pub limits: Option<Limits>,
}

impl Hello {
    /// A hello from this process.
    pub fn new(role: Role, token: Option<&str>) -> Hello {
        Hello {
            protocol: "brisk".into(),
            version: PROTOCOL_VERSION,
            role,
            token: token.map(str::to_string),
            refusal: None,
            limits: None,
        }
    }

    /// The same hello, announcing what this process accepts.
    pub fn announcing(mut self, limits: Limits) -> Hello {
        self.limits = Some(limits);
        self
    }

    /// What the peer that sent this hello accepts: the limits it announced,
    /// kept within what a message can be (a hostile peer cannot make this
    /// process send one frame a message), or the defaults when it announced none.
    pub fn peer_limits(&self) -> Limits {
        let Some(l) = self.limits else {
            return Limits::default();
        };
        Limits {
            max_message: l.max_message.max(1 << 16),
            max_frame: l.max_frame.max(1 << 16),
            max_frames: l.max_frames.clamp(2, u16::MAX as usize),
            max_inflated: l.max_inflated.max(1 << 16),
        }
    }

    /// The hello as a msgpack header.
    pub fn to_header(&self) -> Result<Vec<u8>> {
        rmp_serde::to_vec_named(self).map_err(|e| Error::Header(e.to_string()))
    }

    /// A hello from a msgpack header (hostile bytes are an error).
    pub fn from_header(bytes: &[u8]) -> Result<Hello> {
        super::nesting::from_msgpack(bytes, HELLO_NESTING).map_err(|e| Error::Handshake {
            reason: format!("the first message is not a Brisk hello ({e})"),
        })
    }
}

/// Accepts `hello` when it speaks this protocol version and carries `token` (if
/// one is required); the token is compared in constant time.
pub fn check_hello(hello: &Hello, token: Option<&str>) -> Result<()> {
    if hello.protocol != "brisk" {
        return Err(Error::Handshake {
            reason: format!("the peer speaks '{}', not brisk", hello.protocol),
        });
    }
    if hello.version != PROTOCOL_VERSION {
        return Err(Error::Handshake {
            reason: format!(
                "the peer speaks protocol version {}, this process {PROTOCOL_VERSION}",
                hello.version
            ),
        });
    }
    if let Some(expected) = token {
        let given = hello.token.as_deref().unwrap_or("");
        if !constant_time_eq(given.as_bytes(), expected.as_bytes()) {
            return Err(Error::Handshake {
                reason: "the peer did not present the cluster's token".into(),
            });
        }
    }
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
