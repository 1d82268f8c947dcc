//! Text variables of NetCDF files as strings, read at once.
//!
//! A `char` variable stores text one byte per element, its last dimension being the
//! string length; netCDF4-python's `chartostring` and xarray turn it into an array
//! of strings over the other dimensions, and so does [`read_netcdf_strings`].
//! NetCDF-4 `string` variables are read as they are.
//!
//! Why eager, unlike [`read_netcdf`](super::read_netcdf): Brisk's arrays hold
//! numbers (their blocks are typed numeric values the scheduler moves and sizes),
//! and text variables are small in practice (station names, labels, dates written
//! out): an `ndarray::ArrayD<String>` read directly is the simple, honest result.

use super::netcdf::{fmt_err, inspect, Inspected, NcFormat, NetcdfOptions};
use super::text::{chars_to_strings, VarKind};
use crate::error;
use brisk_core::Result;
use brisk_io::netcdf3;
use ndarray::{ArrayD, Axis, IxDyn};

/// The text variable `variable` of every NetCDF file `urls` name (paths, URLs or
/// globs, in order) as strings, joined along `options.concat_dim` (default: the
/// first axis).
///
/// A `char` variable of shape `[..., n]` gives strings of shape `[...]`: each is
/// the `n` bytes along the last axis without their trailing NUL bytes (padding),
/// decoded as UTF-8, as netCDF4-python's `chartostring` gives them. A `char`
/// variable of one axis is one string (a 0-d array, read with `[[]]`). NetCDF-4
/// `string` variables keep their shape. Files may differ in string length.
///
/// `chunks`, `mask_and_scale` and `inline_array` do not apply: the strings are
/// read at once, and a `char` `_FillValue` masks nothing (as in xarray, where
/// it would have to equal a whole string).
///
/// Errors name the file: a numeric variable (read it with `read_netcdf`), text
/// that is not UTF-8 (with its position), files that disagree on an axis that
/// is not joined.
///
/// ```
/// use brisk_collections::array::{read_netcdf_strings, NetcdfOptions};
/// use brisk_io::netcdf3::{encode, Data, Dim, NcFile, NewVar};
/// let dir = std::env::temp_dir().join(format!("brisk-nc-str-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("stations.nc");
/// let file = NcFile {
///     dims: vec![
///         Dim { name: "station".into(), len: Some(2) },
///         Dim { name: "name_len".into(), len: Some(5) },
///     ],
///     attrs: vec![],
///     // "Nice" is padded with a NUL to the string length.
///     vars: vec![NewVar::new("name", &[0, 1], Data::Char(b"BrestNice\0".to_vec()))],
/// };
/// std::fs::write(&path, encode(&file).unwrap()).unwrap();
/// let names = read_netcdf_strings(&[path.to_str().unwrap()], "name", &NetcdfOptions::default()).unwrap();
/// assert_eq!(names.shape(), [2]);
/// assert_eq!(names[[0]], "Brest");
/// assert_eq!(names[[1]], "Nice");
/// ```
pub fn read_netcdf_strings(
    urls: &[&str],
    variable: &str,
    options: &NetcdfOptions,
) -> Result<ArrayD<String>> {
    let mut files = Vec::new();
    for url in urls {
        let (_, found) = brisk_io::glob::expand(url, &options.store)?;
        files.extend(found);
    }
    if files.is_empty() {
        return Err(error::invalid(format!("no files match {urls:?}")));
    }
    let mut parts = Vec::with_capacity(files.len());
    let mut dims: Option<(String, Vec<String>)> = None;
    for f in &files {
        let o = inspect(&f.url, variable, &options.store)?;
        if !o.kind.is_text() {
            return Err(error::invalid(format!(
                "{}: {variable} holds {}, not text; read it with read_netcdf",
                o.url,
                o.kind.describe()
            )));
        }
        let names = string_dims(&o);
        let part = read_file(&o, variable, options)?;
        match &dims {
            None => dims = Some((o.url.clone(), names)),
            Some((url, first)) if first != &names => {
                return Err(error::shape(format!(
                    "{} has {variable} over {names:?} but {url} has it over {first:?}",
                    o.url
                )))
            }
            Some(_) => {}
        }
        parts.push((o.url.clone(), part));
    }
    let (first_url, dims) = dims.unwrap_or_default();
    if parts.len() == 1 {
        return Ok(parts.remove(0).1);
    }
    if dims.is_empty() {
        return Err(error::invalid(format!(
            "{variable} is one string (0-d) in {first_url}: it cannot be joined across the {} files given",
            parts.len()
        )));
    }
    let axis = match &options.concat_dim {
        None => 0,
        Some(d) => dims.iter().position(|x| x == d).ok_or_else(|| {
            error::invalid(format!(
                "{first_url}: the strings of {variable} have no dimension '{d}' (they have \
                 {dims:?}; a char variable's last dimension is the string length)"
            ))
        })?,
    };
    let shape0 = parts[0].1.shape().to_vec();
    for (url, p) in &parts {
        let s = p.shape();
        if let Some(k) = (0..s.len()).find(|&k| k != axis && s[k] != shape0[k]) {
            return Err(error::shape(format!(
                "{url} has the strings of {variable} in shape {s:?} but {first_url} has \
                 {shape0:?}: they disagree on '{}', and may only differ along '{}'",
                dims[k], dims[axis]
            )));
        }
    }
    let views: Vec<_> = parts.iter().map(|(_, p)| p.view()).collect();
    ndarray::concatenate(Axis(axis), &views).map_err(|e| error::ndarray("read_netcdf_strings", e))
}

/// The dimensions of the strings: a `char` variable's but its last.
fn string_dims(o: &Inspected) -> Vec<String> {
    let mut d = o.dims.clone();
    if o.kind == VarKind::Char {
        d.pop();
    }
    d
}

/// The strings of one file.
fn read_file(o: &Inspected, variable: &str, options: &NetcdfOptions) -> Result<ArrayD<String>> {
    let url = &o.url;
    let (shape, strings) = match o.format {
        NcFormat::Classic => {
            let f = netcdf3::open(url, &options.store).map_err(|e| fmt_err(url, e))?;
            let v = f.header.var(variable).map_err(|e| fmt_err(url, e))?;
            let shape = f.header.shape(v);
            let bytes = f
                .read_with(
                    v,
                    &vec![0; shape.len()],
                    &shape,
                    |_, raw, out: &mut Vec<u8>| out.extend_from_slice(raw),
                )
                .map_err(|e| fmt_err(url, e))?;
            let shape: Vec<usize> = shape.iter().map(|&n| n as usize).collect();
            decode(url, variable, &shape, &bytes)?
        }
        NcFormat::Netcdf4 => nc4_strings(url, variable)?,
    };
    ArrayD::from_shape_vec(IxDyn(&shape), strings).map_err(|e| fmt_err(url, e))
}

fn decode(
    url: &str,
    variable: &str,
    shape: &[usize],
    bytes: &[u8],
) -> Result<(Vec<usize>, Vec<String>)> {
    chars_to_strings(shape, bytes).map_err(|i| {
        error::invalid(format!(
            "{url}: string {i} (in C order) of {variable} is not UTF-8 text"
        ))
    })
}

#[cfg(feature = "hdf5")]
fn nc4_strings(url: &str, variable: &str) -> Result<(Vec<usize>, Vec<String>)> {
    use super::hdf5::{nc4_text, Nc4Text};
    match nc4_text(url, variable)? {
        (shape, Nc4Text::Bytes(b)) => decode(url, variable, &shape, &b),
        (shape, Nc4Text::Strings(s)) => Ok((shape, s)),
    }
}

#[cfg(not(feature = "hdf5"))]
fn nc4_strings(url: &str, _variable: &str) -> Result<(Vec<usize>, Vec<String>)> {
    Err(error::invalid(format!(
        "{url}: NetCDF-4 files need the `hdf5` feature"
    )))
}
