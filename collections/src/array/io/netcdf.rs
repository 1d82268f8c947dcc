//! Arrays from and to NetCDF files.
//!
//! `read_netcdf` reads every file's header when the graph is built (as
//! `xarray.open_mfdataset` does), checks that the variable exists and that the
//! files agree on every axis but the one they are joined along, and makes one task
//! per block that reads only its hyperslab (by byte ranges, on any store).

use super::cf::{MaskScale, MASK_AND_SCALE};
use super::text::VarKind;
use crate::array::array::Array;
use crate::array::chunks::{regular, AxisChunks};
use crate::array::dtype::{for_dtype, DType, Elem};
use crate::array::meta::{op, spec_bytes, Block, Meta};
use crate::error;
use crate::layers::TokenizeDyn;
use brisk_core::op::OpRegistration;
use brisk_core::spec_op::{rebuild_spec, Spec};
use brisk_core::token::Bytes;
use brisk_core::{Error, Result, Value};
use brisk_io::netcdf3::{self, AttrValue, NcType};
use brisk_io::url::StoreOptions;
use ndarray::{ArrayD, IxDyn};
use serde::{Deserialize, Serialize};

/// Options of [`read_netcdf`].
#[derive(Debug, Clone, PartialEq)]
pub struct NetcdfOptions {
    /// The dimension the files are joined along (default: the variable's first).
    pub concat_dim: Option<String>,
    /// At most this many elements per block along each axis, within each file
    /// (`None`: the whole axis; an empty list: one block per file).
    pub chunks: Vec<Option<usize>>,
    /// Apply `scale_factor` / `add_offset` and turn `_FillValue` / `missing_value`
    /// into NaN (floats), as xarray does by default.
    pub mask_and_scale: bool,
    /// Store settings (S3 endpoint, credentials).
    pub store: StoreOptions,
    /// Read a local file's slab again inside each task that uses it instead of
    /// holding it between them (as Dask inlines cheap chunk getters into their
    /// readers). A slab is then read once per reader: a z-score reads every file
    /// twice (the moments, then the scores) but never holds the whole array while the
    /// moments are computed (its peak memory is about halved). Default: false. Slabs
    /// from remote stores are always held.
    pub inline_array: bool,
}

impl Default for NetcdfOptions {
    fn default() -> Self {
        NetcdfOptions {
            concat_dim: None,
            chunks: Vec::new(),
            mask_and_scale: true,
            store: StoreOptions::default(),
            inline_array: false,
        }
    }
}

/// One task: a hyperslab of a variable of a file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NetcdfRead {
    /// The file.
    pub url: String,
    /// Its size and modification time (so that a changed file changes the token).
    pub size: u64,
    /// Modification time, nanoseconds.
    pub modified_ns: i128,
    /// The variable.
    pub variable: String,
    /// First position per axis.
    pub start: Vec<u64>,
    /// Length per axis.
    pub count: Vec<u64>,
    /// The element type to produce.
    pub dtype: DType,
    /// Whether to mask and scale.
    pub mask_and_scale: bool,
    /// Store settings.
    pub store: StoreOptions,
    /// The file format.
    pub format: NcFormat,
    /// Whether readers run this read themselves ([`NetcdfOptions::inline_array`]).
    #[serde(default)]
    pub inline: bool,
}

/// The format of a NetCDF file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NcFormat {
    /// NetCDF classic (CDF-1, CDF-2, CDF-5), read in pure Rust.
    Classic,
    /// NetCDF-4 (HDF5), read through libnetcdf (the `hdf5` feature; local files).
    Netcdf4,
}

/// What a file says about a variable.
pub(super) struct Inspected {
    pub(super) url: String,
    pub(super) shape: Vec<u64>,
    pub(super) dims: Vec<String>,
    pub(super) format: NcFormat,
    /// Whether the variable has fill values or a scale / offset to apply.
    pub(super) masked: bool,
    /// Numbers or text.
    pub(super) kind: VarKind,
}

const HDF5_MAGIC: &[u8] = b"\x89HDF\r\n\x1a\n";

/// Whether a local file starts like an HDF5 (NetCDF-4) file.
fn is_hdf5(url: &str) -> bool {
    use std::io::Read;
    let mut head = [0u8; 8];
    std::fs::File::open(url)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && head == HDF5_MAGIC
}

/// The shape, dimensions, format and kind of `variable` in the file `url`.
pub(super) fn inspect(url: &str, variable: &str, store: &StoreOptions) -> Result<Inspected> {
    if is_hdf5(url) {
        #[cfg(feature = "hdf5")]
        {
            let v = super::hdf5::nc4_var(url, variable)?;
            return Ok(Inspected {
                url: url.to_string(),
                shape: v.shape,
                dims: v.dims,
                format: NcFormat::Netcdf4,
                masked: v.masked,
                kind: v.kind,
            });
        }
        #[cfg(not(feature = "hdf5"))]
        return Err(error::invalid(format!(
            "{url} is a NetCDF-4 (HDF5) file; build with the `hdf5` feature to read it"
        )));
    }
    let o = netcdf3::open(url, store)?;
    let v = o.header.var(variable).map_err(|e| fmt_err(url, e))?;
    Ok(Inspected {
        url: url.to_string(),
        shape: o.header.shape(v),
        dims: o
            .header
            .dim_names(v)
            .iter()
            .map(|d| d.to_string())
            .collect(),
        format: NcFormat::Classic,
        masked: MASK_AND_SCALE.iter().any(|a| v.attr(a).is_some()),
        kind: if v.nc_type == NcType::Char {
            VarKind::Char
        } else {
            VarKind::Number
        },
    })
}

/// An error reading `url`.
pub(super) fn fmt_err(url: &str, e: impl std::error::Error + Send + Sync + 'static) -> Error {
    error::in_file(url, e)
}

impl NetcdfRead {
    fn read<T: Elem>(&self) -> Result<ArrayD<T>> {
        if self.format == NcFormat::Netcdf4 {
            #[cfg(feature = "hdf5")]
            {
                let v = super::hdf5::nc4_read(
                    &self.url,
                    &self.variable,
                    &self.start,
                    &self.count,
                    self.mask_and_scale,
                )?;
                let shape: Vec<usize> = self.count.iter().map(|&c| c as usize).collect();
                return ArrayD::from_shape_vec(
                    IxDyn(&shape),
                    v.into_iter().map(T::from_f64).collect(),
                )
                .map_err(|e| fmt_err(&self.url, e));
            }
            #[cfg(not(feature = "hdf5"))]
            return Err(error::invalid(format!(
                "{}: NetCDF-4 files need the `hdf5` feature",
                self.url
            )));
        }
        let f = netcdf3::open(&self.url, &self.store).map_err(|e| fmt_err(&self.url, e))?;
        let v = f
            .header
            .var(&self.variable)
            .map_err(|e| fmt_err(&self.url, e))?;
        let num = |name: &str| v.attr(name).and_then(AttrValue::number);
        let decode = if self.mask_and_scale {
            MaskScale::from_attrs(num)
        } else {
            MaskScale::default()
        };
        let plain = decode.is_identity();
        let data: Vec<T> = if plain && v.nc_type == NcType::Float && T::DTYPE == DType::Float32 {
            // The common case: big-endian float32 straight into float32.
            let raw: Vec<f32> = f
                .read_f32(v, &self.start, &self.count)
                .map_err(|e| fmt_err(&self.url, e))?;
            // `T` is f32 here: hand the vector over without a copy.
            let any: Box<dyn std::any::Any> = Box::new(raw);
            match any.downcast::<Vec<T>>() {
                Ok(v) => *v,
                Err(_) => return Err(error::malformed("float32 read into another type")),
            }
        } else {
            f.read(v, &self.start, &self.count, |x| {
                T::from_f64(decode.apply(x))
            })
            .map_err(|e| fmt_err(&self.url, e))?
        };
        let shape: Vec<usize> = self.count.iter().map(|&c| c as usize).collect();
        ArrayD::from_shape_vec(IxDyn(&shape), data).map_err(|e| fmt_err(&self.url, e))
    }
}

impl Spec for NetcdfRead {
    const NAME: &'static str = "brisk::array::read_netcdf";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        if !inputs.is_empty() {
            return Err(Error::Arity {
                op: Self::NAME.into(),
                expected: 0,
                found: inputs.len(),
            });
        }
        for_dtype!(self.dtype, T => Ok(T::value(self.read::<T>()?)))
    }
    fn inline(&self) -> bool {
        self.inline
    }
}

inventory::submit! { OpRegistration { name: NetcdfRead::NAME, rebuild: rebuild_spec::<NetcdfRead> } }

/// The variable `variable` of every NetCDF classic file `urls` name (paths, URLs or
/// globs, in order), joined along `options.concat_dim`, as an array of `T` (values
/// converted from the stored type).
///
/// A 0-d (scalar) variable is a 0-d array of one file (its value is
/// `.compute()?[[]]`). A `char` variable reads as its bytes with `T = u8` (what
/// NumPy's `S1` array holds); its strings come from
/// [`read_netcdf_strings`](super::read_netcdf_strings), which other element types
/// point to.
///
/// Errors name the file: a missing variable (listing those present), files whose
/// shapes disagree on an axis that is not joined, a truncated or foreign file.
pub fn read_netcdf<T: Elem>(
    urls: &[&str],
    variable: &str,
    options: &NetcdfOptions,
) -> Result<Array<T>> {
    let mut files = Vec::new();
    for url in urls {
        let (_, found) = brisk_io::glob::expand(url, &options.store)?;
        files.extend(found);
    }
    if files.is_empty() {
        return Err(error::invalid(format!("no files match {urls:?}")));
    }
    let opened = files
        .iter()
        .map(|f| inspect(&f.url, variable, &options.store))
        .collect::<Result<Vec<_>>>()?;
    let first = &opened[0];
    check_kind::<T>(&opened, variable)?;
    let is_float = matches!(T::DTYPE, DType::Float32 | DType::Float64);
    if let Some(o) = opened
        .iter()
        .find(|o| o.masked && options.mask_and_scale && !is_float && o.kind == VarKind::Number)
    {
        return Err(error::invalid(format!(
            "{}: {variable} has fill values or a scale to apply, which need a float type (read it as f32 or f64, \
             or set mask_and_scale to false for the raw values)",
            o.url
        )));
    }
    let dims = first.dims.clone();
    if dims.is_empty() {
        return scalar::<T>(&files[0], &opened, variable, options);
    }
    let axis = match &options.concat_dim {
        None => 0,
        Some(d) => dims.iter().position(|x| x == d).ok_or_else(|| {
            error::invalid(format!(
                "{}: variable {variable} has no dimension '{d}' (it has {dims:?})",
                first.url
            ))
        })?,
    };
    let shape0 = first.shape.clone();
    let mut per_file = Vec::with_capacity(opened.len());
    for o in &opened {
        let s = &o.shape;
        if s.len() != shape0.len() {
            return Err(error::shape(format!(
                "{} has {variable} with {} axes {:?} but {} has {} axes {dims:?}",
                o.url,
                s.len(),
                o.dims,
                first.url,
                shape0.len()
            )));
        }
        let disagree =
            s.len() != shape0.len() || (0..s.len()).any(|k| k != axis && s[k] != shape0[k]);
        if disagree {
            let k = (0..s.len().min(shape0.len())).find(|&k| k != axis && s[k] != shape0[k]);
            let along = k.map_or(String::from("the number of axes"), |k| {
                format!("'{}' ({} vs {})", dims[k], s[k], shape0[k])
            });
            return Err(error::shape(format!(
                "{} has {variable} of shape {s:?} but {} has {shape0:?}: they disagree on {along}, and may only differ along '{}'",
                o.url, first.url, dims[axis]
            )));
        }
        per_file.push(s[axis]);
    }
    let ndim = shape0.len();
    let limit = |k: usize| options.chunks.get(k).copied().flatten();
    // Blocks: along the joined axis, per file (split by the limit); elsewhere by the limit.
    let mut along: Vec<(usize, u64, u64)> = Vec::new(); // (file, start, len)
    for (i, &n) in per_file.iter().enumerate() {
        let sizes = regular(n as usize, limit(axis).unwrap_or(n as usize).max(1));
        let mut at = 0u64;
        for s in sizes {
            along.push((i, at, s as u64));
            at += s as u64;
        }
    }
    let chunks: Vec<AxisChunks> = (0..ndim)
        .map(|k| {
            if k == axis {
                AxisChunks::Known(along.iter().map(|a| a.2 as usize).collect())
            } else {
                let d = shape0[k] as usize;
                AxisChunks::Known(regular(d, limit(k).unwrap_or(d).max(1)))
            }
        })
        .collect();
    let files_tag: Vec<(String, u64, i128)> = files
        .iter()
        .map(|f| (f.url.clone(), f.size, f.modified_ns))
        .collect();
    let tag = spec_bytes(&(
        files_tag,
        variable,
        axis,
        &options.chunks,
        options.mask_and_scale,
        T::DTYPE,
        options.inline_array,
    ))?;
    let offsets: Vec<Vec<usize>> = chunks
        .iter()
        .map(|c| crate::array::chunks::offsets(c.sizes().unwrap_or_default()))
        .collect();
    let m = Meta::build(
        "read_netcdf",
        &[&Bytes(&tag) as &dyn TokenizeDyn],
        &[],
        chunks.clone(),
        T::DTYPE,
        |idx| {
            let (file, fstart, flen) = along[idx[axis]];
            let mut start = Vec::with_capacity(ndim);
            let mut count = Vec::with_capacity(ndim);
            for k in 0..ndim {
                if k == axis {
                    start.push(fstart);
                    count.push(flen);
                } else {
                    start.push(offsets[k][idx[k]] as u64);
                    count.push((offsets[k][idx[k] + 1] - offsets[k][idx[k]]) as u64);
                }
            }
            let f = &files[file];
            Ok(Block::Task(
                op(NetcdfRead {
                    url: f.url.clone(),
                    size: f.size,
                    modified_ns: f.modified_ns,
                    variable: variable.to_string(),
                    start,
                    count,
                    dtype: T::DTYPE,
                    mask_and_scale: options.mask_and_scale,
                    store: options.store.clone(),
                    format: opened[file].format,
                    inline: options.inline_array && brisk_io::url::is_local(&f.url),
                }),
                vec![],
            ))
        },
    )?;
    Ok(Array::wrap(m))
}

/// Text variables are read as bytes (`u8`, as NumPy's `S1` arrays viewed as
/// `uint8`) or as strings by [`read_netcdf_strings`](super::read_netcdf_strings);
/// other element types are refused.
fn check_kind<T: Elem>(opened: &[Inspected], variable: &str) -> Result<()> {
    for o in opened {
        match &o.kind {
            VarKind::Number => {}
            VarKind::Char if T::DTYPE == DType::UInt8 => {}
            VarKind::Char => {
                return Err(error::invalid(format!(
                    "{}: {variable} holds characters (char); read it as strings with \
                     read_netcdf_strings, or as its bytes with read_netcdf::<u8>",
                    o.url
                )))
            }
            VarKind::String => {
                return Err(error::invalid(format!(
                    "{}: {variable} holds strings; read it with read_netcdf_strings",
                    o.url
                )))
            }
            other => {
                return Err(error::invalid(format!(
                    "{}: {variable} holds {}, which Brisk cannot read",
                    o.url,
                    other.describe()
                )))
            }
        }
    }
    Ok(())
}

/// A 0-d (scalar) variable as a 0-d array of one block. A scalar cannot be joined
/// across files: it must come from one.
fn scalar<T: Elem>(
    file: &brisk_io::glob::FileInfo,
    opened: &[Inspected],
    variable: &str,
    options: &NetcdfOptions,
) -> Result<Array<T>> {
    if opened.len() > 1 {
        return Err(error::invalid(format!(
            "{variable} is a scalar (0-d) in {}: it cannot be joined across the {} files given",
            opened[0].url,
            opened.len()
        )));
    }
    if let Some(d) = &options.concat_dim {
        return Err(error::invalid(format!(
            "{}: variable {variable} is a scalar (0-d), it has no dimension '{d}'",
            opened[0].url
        )));
    }
    let tag = spec_bytes(&(
        (&file.url, file.size, file.modified_ns),
        variable,
        options.mask_and_scale,
        T::DTYPE,
    ))?;
    let m = Meta::build(
        "read_netcdf",
        &[&Bytes(&tag) as &dyn TokenizeDyn],
        &[],
        vec![],
        T::DTYPE,
        |_| {
            Ok(Block::Task(
                op(NetcdfRead {
                    url: file.url.clone(),
                    size: file.size,
                    modified_ns: file.modified_ns,
                    variable: variable.to_string(),
                    start: vec![],
                    count: vec![],
                    dtype: T::DTYPE,
                    mask_and_scale: options.mask_and_scale,
                    store: options.store.clone(),
                    format: opened[0].format,
                    inline: options.inline_array && brisk_io::url::is_local(&file.url),
                }),
                vec![],
            ))
        },
    )?;
    Ok(Array::wrap(m))
}
