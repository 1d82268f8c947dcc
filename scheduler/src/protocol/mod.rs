//! The wire protocol between Brisk processes: length-prefixed messages made of
//! frames. Frame 0 is a small msgpack header; large buffers travel as their own
//! frames, written from where they lie (never copied into the header) and
//! LZ4-compressed only when a sample of them compresses well.
//!
//! ```text
//! message := length:u32le body
//! body    := MAGIC:u8 nframes:u16le table[nframes] payload[nframes]
//! table   := wire_len:u32le raw_len:u32le codec:u8      (codec 0 raw, 1 lz4)
//! ```
//!
//! Decoding never panics and never allocates more than [`Limits`] allow, whatever
//! the bytes: every length is checked against the limits and the bytes actually
//! present before anything is allocated. The size a compressed frame inflates to
//! is announced in the frame table, so a decompression bomb is refused from its
//! table, before a byte of it is inflated. Message headers are msgpack checked
//! for nesting depth ([`check_nesting`]) before serde, which recurses, sees them.
//!
//! ```
//! use brisk_scheduler::protocol::{decode, encode, Limits};
//! let big = vec![7u8; 1 << 20];
//! let wire = encode(b"\x81\xa2op\xa4ping", &[&big[..]], true).unwrap().concat();
//! let msg = decode(&wire[4..], &Limits::default()).unwrap();
//! assert_eq!(msg.header, b"\x81\xa2op\xa4ping");
//! assert_eq!(msg.frames[0], big);
//! assert!(wire.len() < 100_000, "a repetitive buffer travels compressed");
//! ```

pub(crate) mod compression;
mod handshake;
mod nesting;
mod wire;

pub use handshake::{check_hello, Hello, Role, PROTOCOL_VERSION};
pub use nesting::{check_nesting, from_msgpack, MAX_NESTING};
pub use wire::{
    decode, encode, frame_count, parse_table, read_message, table_end, unpack_frame, write_message,
    FrameEntry, Limits, Message, MAGIC,
};
