//! # brisk-io
//!
//! Where Brisk reads and writes data: URLs and object stores (local paths, `file://`,
//! `s3://`), glob expansion, byte blocks aligned on delimiters, compression by
//! extension, and the file formats. This crate is filled by the collection work that
//! needs it; today it holds its error type only.
#![warn(missing_docs)]

/// The one error enum of `brisk-io`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error from the core crate.
    #[error(transparent)]
    Core(#[from] brisk_core::Error),
}
