//! The error of NetCDF classic files: what is wrong with a header, a slab or data to
//! write, and where.

/// What can go wrong with a NetCDF classic file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum NcError {
    /// Not a NetCDF classic file (a NetCDF-4 / HDF5 file, say).
    #[error("not a NetCDF classic file: {}", what_it_is(magic))]
    NotNetcdf3 { magic: Vec<u8> },
    /// The header ends before it should.
    #[error("the header is cut short at byte {at} (reading {what})")]
    Truncated { at: u64, what: String },
    /// The header makes no sense.
    #[error("malformed header at byte {at}: {reason}")]
    Malformed { at: u64, reason: String },
    /// No such variable.
    #[error("no variable '{name}'; the file has {present:?}")]
    MissingVariable { name: String, present: Vec<String> },
    /// A slab outside the variable.
    #[error("bad slab of '{var}': {reason}")]
    BadSlab { var: String, reason: String },
    /// The data ends before the header says.
    #[error("the data of '{var}' needs bytes {offset}..{end} but the file has {size} bytes (cut short, or a wrong header)")]
    ShortData {
        var: String,
        offset: u64,
        end: u64,
        size: u64,
    },
    /// Data that cannot be written.
    #[error("cannot write: {0}")]
    Write(String),
}

/// What a file that is not NetCDF classic seems to be, from its first bytes.
fn what_it_is(magic: &[u8]) -> String {
    if magic.starts_with(b"\x89HDF") {
        "it is an HDF5 (NetCDF-4) file".into()
    } else {
        format!("it starts with {:?}", String::from_utf8_lossy(magic))
    }
}
