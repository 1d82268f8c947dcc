//! # brisk-io
//!
//! Where Brisk reads and writes data, with one code path for every store:
//!
//! - [`url`]: local paths, `file://` and `s3://` URLs to `object_store` stores
//!   (S3 settings from the usual AWS environment variables, or [`url::StoreOptions`]);
//! - [`glob`]: `*`, `?`, `[..]` and `**` patterns expanded on the store, sorted;
//! - [`blocks`]: files cut into byte blocks aligned on a delimiter, so that every
//!   record is read exactly once whatever the block size;
//! - [`compression`]: gzip, zstd and bz2, inferred from the extension;
//! - [`objects`]: whole objects written and read by URL;
//! - [`records`]: the records of delimited text counted without parsing;
//! - [`netcdf3`]: NetCDF classic files, read by byte ranges and written, in pure Rust.
//!
//! ```
//! use brisk_io::{blocks, glob, url::StoreOptions};
//! let dir = std::env::temp_dir().join(format!("brisk-io-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! std::fs::write(dir.join("a.txt"), "one\ntwo\nthree\n").unwrap();
//! let (loc, files) = glob::expand(&format!("{}/*.txt", dir.display()), &StoreOptions::default()).unwrap();
//! let plan = blocks::plan(&files, Some(5), None);
//! let text: Vec<u8> = plan.iter().flat_map(|b| blocks::read(loc.store.as_ref(), b, b"\n").unwrap()).collect();
//! assert_eq!(text, b"one\ntwo\nthree\n");
//! ```
//!
//! Stores are async (`object_store`); Brisk's tasks are not, so they call in through
//! one shared runtime ([`runtime::block_on`]).
#![warn(missing_docs)]

pub mod blocks;
pub mod compression;
mod error;
pub mod glob;
pub mod netcdf3;
pub mod objects;
pub mod records;
pub mod runtime;
pub mod url;

pub use error::{Error, Result};
