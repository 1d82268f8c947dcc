//! NetCDF classic files (CDF-1, CDF-2 and CDF-5) in pure Rust: the header, lazy
//! hyperslab reads through any store (local disk or S3, by byte ranges), and a
//! writer.
//!
//! ```
//! use brisk_io::netcdf3::{self, Data, Dim, NcFile, NewVar};
//! use brisk_io::url::StoreOptions;
//! let dir = std::env::temp_dir().join(format!("brisk-nc-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("t.nc");
//! let file = NcFile {
//!     dims: vec![Dim { name: "time".into(), len: None }, Dim { name: "x".into(), len: Some(3) }],
//!     attrs: vec![],
//!     vars: vec![NewVar::new("t", &[0, 1], Data::Float(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))],
//! };
//! std::fs::write(&path, netcdf3::encode(&file).unwrap()).unwrap();
//! let f = netcdf3::open(path.to_str().unwrap(), &StoreOptions::default()).unwrap();
//! let v = f.header.var("t").unwrap();
//! assert_eq!(f.header.shape(v), [2, 3]);
//! let slab: Vec<f64> = f.read(v, &[1, 1], &[1, 2], |x| x).unwrap();
//! assert_eq!(slab, [5.0, 6.0]);
//! ```

mod error;
pub mod header;
mod header_cache;
mod nc_type;
pub mod read;
pub mod write;

pub use error::NcError;
pub use header::{Attr, AttrValue, Dim, Header, Var};
pub use nc_type::NcType;
pub use write::{encode, fixed_layout, Data, NcFile, NewVar};

use crate::url::{parse, StoreOptions};
use object_store::{path::Path, ObjectStore, ObjectStoreExt};
use std::sync::Arc;

/// An open file: where it is, its size and its header.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The URL.
    pub url: String,
    /// Its store.
    pub store: Arc<dyn ObjectStore>,
    /// Its path in the store.
    pub path: Path,
    /// Bytes.
    pub size: u64,
    /// The parsed header (`numrecs` derived from the size when the file was
    /// written in streaming mode).
    pub header: Header,
    /// The file's path when it is on the local disk.
    pub local: Option<std::path::PathBuf>,
}

fn err(url: &str, e: NcError) -> crate::Error {
    crate::Error::Format {
        url: url.to_string(),
        reason: e.to_string(),
    }
}

fn get_range(
    store: &dyn ObjectStore,
    path: &Path,
    url: &str,
    r: std::ops::Range<u64>,
) -> crate::Result<bytes::Bytes> {
    crate::runtime::block_on(store.get_range(path, r)).map_err(|e| crate::Error::store(url, e))
}

/// The largest header read.
const MAX_HEADER: u64 = 64 << 20;

/// The most bytes one request fetches when it merges the ranges of several records:
/// large enough that a day of hourly records is one request, small enough that the
/// bytes of other variables between the records cost little.
pub const MERGE_BYTES: u64 = 32 << 20;

/// Checks that every variable's data lies inside the file (checked arithmetic), so
/// that no later offset, stride or count computed from the header can overflow or
/// ask for more than the file holds. A file cut short in its data fails here.
fn check_extents(h: &Header, size: u64) -> Result<(), NcError> {
    let recsize = h.record_size();
    for v in &h.vars {
        // Without records a record variable has no data, and its offset may point
        // past the end of the file (the first record was never written).
        if h.is_record(v) && h.numrecs == 0 {
            continue;
        }
        let shape = h.shape(v);
        let elems = shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d));
        let slab = shape
            .iter()
            .skip(usize::from(h.is_record(v)))
            .try_fold(v.nc_type.size() as u64, |a, &d| a.checked_mul(d));
        let end = match (elems, slab) {
            (Some(_), Some(slab)) if h.is_record(v) => h
                .numrecs
                .checked_sub(1)
                .map_or(Some(v.begin), |last| {
                    last.checked_mul(recsize)
                        .and_then(|o| o.checked_add(v.begin))
                })
                .and_then(|o| o.checked_add(if h.numrecs == 0 { 0 } else { slab })),
            (Some(_), Some(slab)) => v.begin.checked_add(slab),
            _ => None,
        };
        match end {
            Some(end) if end <= size => {}
            Some(end) => {
                return Err(NcError::ShortData {
                    var: v.name.clone(),
                    offset: v.begin,
                    end,
                    size,
                });
            }
            None => {
                return Err(NcError::Malformed {
                    at: 0,
                    reason: format!("variable {} has a size that overflows: {shape:?}", v.name),
                });
            }
        }
    }
    Ok(())
}

/// Opens `url` and parses its header, reading only the first bytes (more when the
/// header is long).
pub fn open(url: &str, options: &StoreOptions) -> crate::Result<Opened> {
    let loc = parse(url, options)?;
    let path = loc.object_path(&loc.path)?;
    let meta =
        crate::runtime::block_on(loc.store.head(&path)).map_err(|e| crate::Error::store(url, e))?;
    let size = meta.size;
    // The same file, unchanged, is read from a header parsed before (a graph is built
    // from the headers, then its tasks open the files again).
    let version = (
        url.to_string(),
        size,
        meta.last_modified.timestamp_nanos_opt(),
        meta.e_tag.clone(),
    );
    let opened = |path: Path, header: Header| Opened {
        url: url.to_string(),
        store: loc.store.clone(),
        path,
        size,
        header,
        local: (loc.root == "file://").then(|| loc.url(&loc.path).into()),
    };
    if let Some(header) = header_cache::get(&version) {
        return Ok(opened(path, header));
    }
    let mut want = size.min(64 << 10);
    let header = loop {
        let bytes = get_range(loc.store.as_ref(), &path, url, 0..want)?;
        match header::parse(&bytes) {
            Ok(h) => break h,
            // Headers past 64 MiB are taken as corrupt counts, not read further.
            Err(NcError::Truncated { .. }) if want < size && want < MAX_HEADER => {
                want = (want * 4).min(size).min(MAX_HEADER)
            }
            Err(e) => return Err(err(url, e)),
        }
    };
    let mut header = header;
    let recsize = header.record_size();
    if header.numrecs == 0 && recsize > 0 {
        if let Some(first) = header
            .vars
            .iter()
            .filter(|v| header.is_record(v))
            .map(|v| v.begin)
            .min()
        {
            header.numrecs = size.saturating_sub(first) / recsize;
        }
    }
    check_extents(&header, size).map_err(|e| err(url, e))?;
    header_cache::put(version, &header);
    Ok(opened(path, header))
}

impl Opened {
    /// The slab `start .. start + count` of `v`, in C order, each value through
    /// `conv`. Reads only the byte ranges the slab spans.
    pub fn read<T>(
        &self,
        v: &Var,
        start: &[u64],
        count: &[u64],
        conv: impl Fn(f64) -> T + Copy,
    ) -> crate::Result<Vec<T>> {
        self.read_with(v, start, count, |t, raw, out| {
            nc_type::decode_into(t, raw, out, conv)
        })
    }

    /// The slab of a `float` variable as `f32`. From a local file, the bytes of the
    /// slab are read straight into the result and byte-swapped in place (no buffer
    /// between the file and the values); otherwise as [`Opened::read_with`] with
    /// [`read::decode_f32`].
    pub fn read_f32(&self, v: &Var, start: &[u64], count: &[u64]) -> crate::Result<Vec<f32>> {
        let decoded = |_: NcType, raw: &[u8], out: &mut Vec<f32>| nc_type::decode_f32(raw, out);
        if v.nc_type != NcType::Float {
            return Err(err(
                &self.url,
                NcError::Malformed {
                    at: v.begin,
                    reason: format!("{} is {:?}, not float", v.name, v.nc_type),
                },
            ));
        }
        let Some(local) = &self.local else {
            return self.read_with(v, start, count, decoded);
        };
        let (runs, picks) = self.plan(v, start, count)?;
        let total = usize::try_from(header::product(count)).unwrap_or(usize::MAX);
        let piece: u64 = picks.iter().map(|&(_, l)| l).sum();
        // Many small pieces are cheaper as one range read each.
        if picks.is_empty() || piece / (picks.len() as u64) < (64 << 10) {
            return self.read_with(v, start, count, decoded);
        }
        let short = |offset: u64, end: u64| {
            err(
                &self.url,
                NcError::ShortData {
                    var: v.name.clone(),
                    offset,
                    end,
                    size: self.size,
                },
            )
        };
        if (runs.len() as u64).checked_mul(piece) != Some(total as u64 * 4) {
            return Err(short(0, piece));
        }
        let file = std::fs::File::open(local).map_err(|e| crate::Error::Store {
            url: self.url.clone(),
            reason: e.to_string(),
        })?;
        let mut out = vec![0f32; total];
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut out);
        let mut at = 0usize;
        for r in &runs {
            for &(o, l) in &picks {
                if o + l > r.len {
                    return Err(short(r.offset + o, r.offset + o + l));
                }
                let dst = &mut bytes[at..at + l as usize];
                std::os::unix::fs::FileExt::read_exact_at(&file, dst, r.offset + o)
                    .map_err(|_| short(r.offset + o, r.offset + o + l))?;
                at += l as usize;
            }
        }
        for x in out.iter_mut() {
            *x = f32::from_bits(u32::from_be(x.to_bits()));
        }
        Ok(out)
    }

    /// The byte ranges of a slab and the pieces of each range it keeps, checked
    /// against the file's size.
    fn plan(
        &self,
        v: &Var,
        start: &[u64],
        count: &[u64],
    ) -> crate::Result<(Vec<read::Run>, Vec<(u64, u64)>)> {
        let h = &self.header;
        let runs = read::ranges(h, v, start, count).map_err(|e| err(&self.url, e))?;
        for r in &runs {
            if r.offset + r.len > self.size {
                return Err(err(
                    &self.url,
                    NcError::ShortData {
                        var: v.name.clone(),
                        offset: r.offset,
                        end: r.offset + r.len,
                        size: self.size,
                    },
                ));
            }
        }
        let shape = h.shape(v);
        let rec = usize::from(h.is_record(v));
        let (inner, istart, icount) = (&shape[rec..], &start[rec..], &count[rec..]);
        // An empty slab has no pieces. Its other axes are not bounded by the file
        // (a record variable without records is not checked against its size), so
        // sizes computed from them could overflow.
        if count.contains(&0) {
            return Ok((runs, Vec::new()));
        }
        let picks = read::pick(inner, istart, icount, v.nc_type.size() as u64);
        Ok((runs, picks))
    }

    /// [`Opened::read`] with a custom decoder of big-endian bytes.
    pub fn read_with<T>(
        &self,
        v: &Var,
        start: &[u64],
        count: &[u64],
        decode: impl Fn(NcType, &[u8], &mut Vec<T>),
    ) -> crate::Result<Vec<T>> {
        // The ranges are checked against the file before anything is allocated by them.
        let (runs, picks) = self.plan(v, start, count)?;
        let total: u64 = header::product(count);
        if total == 0 {
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
        // Neighbouring ranges (the records of a record variable) are fetched together
        // up to a bound, and sliced in memory: one request per group, decoded before
        // the next is fetched, so that one group's bytes are held beside the values.
        for group in read::merge(&runs, MERGE_BYTES) {
            let (first, last) = (group[0], group[group.len() - 1]);
            let bytes = get_range(
                self.store.as_ref(),
                &self.path,
                &self.url,
                first.offset..last.offset + last.len,
            )?;
            for r in group {
                let base = r.offset - first.offset;
                for &(o, l) in &picks {
                    let (o, l) = ((base + o) as usize, l as usize);
                    let part = bytes.get(o..o + l).ok_or_else(|| {
                        err(
                            &self.url,
                            NcError::ShortData {
                                var: v.name.clone(),
                                offset: first.offset + o as u64,
                                end: first.offset + (o + l) as u64,
                                size: self.size,
                            },
                        )
                    })?;
                    decode(v.nc_type, part, &mut out);
                }
            }
        }
        Ok(out)
    }
}
