//! HDF5 datasets and NetCDF-4 variables, read lazily by hyperslab and written
//! whole, through the system's libhdf5 and libnetcdf (the `hdf5` feature).
//!
//! Debian's libhdf5 is built without thread safety, and both libraries use it, so
//! every call into either goes through one process-wide lock.

use super::cf::MaskScale;
use super::text::VarKind;
use crate::array::array::Array;
use crate::array::create::ChunkSpec;
use crate::array::dtype::{for_dtype, DType, Elem};
use crate::array::meta::{op, spec_bytes, Block, Meta};
use crate::error;
use crate::layers::TokenizeDyn;
use brisk_core::executor::{default_executor, Executor};
use brisk_core::op::OpRegistration;
use brisk_core::spec_op::{rebuild_spec, Spec};
use brisk_core::token::Bytes;
use brisk_core::{Error, Result, Value};
use ndarray::{IxDyn, SliceInfo, SliceInfoElem};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};

static LOCK: Mutex<()> = Mutex::new(());

fn locked<R>(f: impl FnOnce() -> R) -> R {
    let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    f()
}

fn h5err(path: &str, e: impl std::error::Error + Send + Sync + 'static) -> Error {
    error::in_file(path, e)
}

fn modified_ns(path: &str) -> i128 {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i128)
}

/// One task: a hyperslab of an HDF5 dataset.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hdf5Read {
    /// The file (a local path).
    pub path: String,
    /// Its modification time (so that a changed file changes the token).
    pub modified_ns: i128,
    /// The dataset, e.g. `/group/x`.
    pub dataset: String,
    /// First position per axis.
    pub start: Vec<usize>,
    /// Length per axis.
    pub count: Vec<usize>,
    /// The element type to produce.
    pub dtype: DType,
}

fn slab(start: &[usize], count: &[usize]) -> Result<SliceInfo<Vec<SliceInfoElem>, IxDyn, IxDyn>> {
    let elems: Vec<SliceInfoElem> = start
        .iter()
        .zip(count)
        .map(|(&s, &c)| SliceInfoElem::Slice {
            start: s as isize,
            end: Some((s + c) as isize),
            step: 1,
        })
        .collect();
    SliceInfo::try_from(elems).map_err(|e| error::ndarray("", e))
}

impl Spec for Hdf5Read {
    const NAME: &'static str = "brisk::array::read_hdf5";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        if !inputs.is_empty() {
            return Err(Error::Arity {
                op: Self::NAME.into(),
                expected: 0,
                found: inputs.len(),
            });
        }
        let info = slab(&self.start, &self.count)?;
        // Read in the element type asked for: libhdf5 converts from the stored type
        // only when they differ, so a `u8` dataset read as `u8` is copied, not
        // converted through `f64`. Booleans are read as bytes.
        let read = |f: &dyn Fn(&hdf5::Dataset) -> hdf5::Result<Value>| {
            locked(|| -> Result<Value> {
                let file = hdf5::File::open(&self.path).map_err(|e| h5err(&self.path, e))?;
                let ds = file
                    .dataset(&self.dataset)
                    .map_err(|e| h5err(&self.path, e))?;
                f(&ds).map_err(|e| h5err(&self.path, e))
            })
        };
        for_dtype!(num self.dtype, T => read(&|ds| {
            Ok(T::value(ds.read_slice::<T, _, IxDyn>(info.clone())?))
        }), bool => read(&|ds| {
            let bytes = ds.read_slice::<u8, _, IxDyn>(info.clone())?;
            Ok(bool::value(bytes.mapv(|b| b != 0)))
        }))
    }
}

inventory::submit! { OpRegistration { name: Hdf5Read::NAME, rebuild: rebuild_spec::<Hdf5Read> } }

/// Every dataset name in the file, for error messages.
fn dataset_names(f: &hdf5::File) -> Vec<String> {
    fn walk(g: &hdf5::Group, prefix: &str, out: &mut Vec<String>) {
        for name in g.member_names().unwrap_or_default() {
            let full = format!("{prefix}/{name}");
            if g.dataset(&name).is_ok() {
                out.push(full);
            } else if let Ok(sub) = g.group(&name) {
                walk(&sub, &full, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(f, "", &mut out);
    out
}

/// The dataset `dataset` of the HDF5 file at `path` as an array of `T` in blocks
/// of `chunks`; each block's hyperslab is read when it is computed. A missing
/// dataset is an error listing those present.
pub fn read_hdf5<T: Elem>(
    path: &str,
    dataset: &str,
    chunks: impl Into<ChunkSpec>,
) -> Result<Array<T>> {
    let shape: Vec<usize> = locked(|| -> Result<Vec<usize>> {
        let f = hdf5::File::open(path).map_err(|e| h5err(path, e))?;
        let ds = f
            .dataset(dataset)
            .map_err(|_| crate::Error::MissingVariable {
                file: path.to_string(),
                kind: "dataset".into(),
                name: dataset.to_string(),
                present: Some(dataset_names(&f)),
            })?;
        Ok(ds.shape())
    })?;
    let chunks = chunks.into().resolve(&shape, T::DTYPE.itemsize())?;
    let modified = modified_ns(path);
    let tag = spec_bytes(&(path, modified, dataset, format!("{chunks:?}"), T::DTYPE))?;
    let meta0 = Meta {
        graph: brisk_core::Graph::new(),
        name: String::new(),
        blocks: std::sync::Arc::new(vec![]),
        chunks: chunks.clone(),
        dtype: T::DTYPE,
        origin: None,
    };
    let m = Meta::build(
        "read_hdf5",
        &[&Bytes(&tag) as &dyn TokenizeDyn],
        &[],
        chunks,
        T::DTYPE,
        |idx| {
            Ok(Block::Task(
                op(Hdf5Read {
                    path: path.to_string(),
                    modified_ns: modified,
                    dataset: dataset.to_string(),
                    start: meta0.block_offsets(idx).unwrap_or_default(),
                    count: meta0.block_shape(idx).unwrap_or_default(),
                    dtype: T::DTYPE,
                }),
                vec![],
            ))
        },
    )?;
    Ok(Array::wrap(m))
}

/// One block's task of [`Array::to_hdf5`]: write it into its hyperslab.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Hdf5Write {
    path: String,
    dataset: String,
    start: Vec<usize>,
    dtype: DType,
}

impl Spec for Hdf5Write {
    const NAME: &'static str = "brisk::array::write_hdf5";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        let block = inputs
            .first()
            .ok_or_else(|| error::malformed("an HDF5 write without its block"))?;
        // libhdf5 writes from one process at a time (no MPI here): processes take
        // turns on a lock file beside the HDF5 file.
        let lock_path = format!("{}.brisk-lock", self.path);
        let lock = std::fs::File::create(&lock_path)
            .map_err(|e| error::io(format!("cannot create {lock_path}"), e))?;
        lock.lock()
            .map_err(|e| error::io(format!("cannot lock {lock_path}"), e))?;
        let written = locked(|| -> Result<u64> {
            let f = hdf5::File::open_rw(&self.path).map_err(|e| h5err(&self.path, e))?;
            let ds = f.dataset(&self.dataset).map_err(|e| h5err(&self.path, e))?;
            for_dtype!(self.dtype, U => {
                let a = U::array(block)?;
                ds.write_slice(a, slab(&self.start, a.shape())?)
                    .map_err(|e| h5err(&self.path, e))?;
                Ok(a.len() as u64)
            })
        })?;
        drop(lock);
        Ok(Arc::new(written))
    }
}

inventory::submit! { OpRegistration { name: Hdf5Write::NAME, rebuild: rebuild_spec::<Hdf5Write> } }

impl<T: Elem> Array<T> {
    /// Writes the array as dataset `dataset` of the HDF5 file at `path` (created,
    /// or opened to add a dataset), in its own element type, chunked like the
    /// array's blocks. The dataset is made here and each block's task writes its
    /// own hyperslab, so on a cluster the data never passes through this process
    /// (the workers must see `path`, as on a shared file system); libhdf5 has no
    /// parallel writes without MPI, so writers take turns on a lock file.
    pub fn to_hdf5(&self, path: &str, dataset: &str) -> Result<()> {
        self.to_hdf5_with(path, dataset, default_executor()?.as_ref())
    }

    /// [`Array::to_hdf5`] on `executor`.
    pub fn to_hdf5_with(&self, path: &str, dataset: &str, executor: &dyn Executor) -> Result<()> {
        let shape = self.shape()?;
        let m = &self.meta;
        // The first block's shape, where it has elements, as the dataset's chunks.
        let chunk: Vec<usize> = m
            .block_shape(&vec![0; shape.len()])
            .unwrap_or_else(|| shape.clone())
            .iter()
            .zip(&shape)
            .map(|(&c, &s)| c.max(1).min(s.max(1)))
            .collect();
        fn create<U: hdf5::H5Type>(
            path: &str,
            dataset: &str,
            shape: &[usize],
            chunk: &[usize],
        ) -> Result<()> {
            locked(|| {
                let f = if std::path::Path::new(path).exists() {
                    hdf5::File::append(path)
                } else {
                    hdf5::File::create(path)
                }
                .map_err(|e| h5err(path, e))?;
                let b = f.new_dataset::<U>();
                let b = b.shape(shape);
                let b = if shape.iter().all(|&d| d > 0) {
                    b.chunk(chunk)
                } else {
                    b
                };
                b.create(dataset).map(drop).map_err(|e| h5err(path, e))
            })
        }
        for_dtype!(T::DTYPE, U => create::<U>(path, dataset, &shape, &chunk))?;
        let written = self.write_blocks(
            "write-hdf5",
            &format!("{path}:{dataset}"),
            |start| {
                op(Hdf5Write {
                    path: path.to_string(),
                    dataset: dataset.to_string(),
                    start,
                    dtype: T::DTYPE,
                })
            },
            executor,
        )?;
        let _ = std::fs::remove_file(format!("{path}.brisk-lock"));
        let want = shape.iter().product::<usize>() as u64;
        if written != want {
            return Err(error::malformed(format!(
                "to_hdf5: the blocks wrote {written} of {want} elements of {dataset} in {path}"
            )));
        }
        Ok(())
    }
}

/// What a NetCDF-4 file says about a variable.
pub(crate) struct Nc4Var {
    pub shape: Vec<u64>,
    pub dims: Vec<String>,
    pub masked: bool,
    pub kind: VarKind,
}

fn kind_of(v: &netcdf::Variable<'_>) -> VarKind {
    use netcdf::types::NcVariableType as T;
    match v.vartype() {
        T::Int(_) | T::Float(_) => VarKind::Number,
        T::Char => VarKind::Char,
        T::String => VarKind::String,
        other => VarKind::Other(format!("{other:?}")),
    }
}

fn attr_number(v: &netcdf::Variable<'_>, name: &str) -> Option<f64> {
    use netcdf::AttributeValue as A;
    Some(match v.attribute_value(name)?.ok()? {
        A::Double(x) => x,
        A::Float(x) => f64::from(x),
        A::Int(x) => f64::from(x),
        A::Short(x) => f64::from(x),
        A::Schar(x) => f64::from(x),
        A::Uchar(x) => f64::from(x),
        A::Ushort(x) => f64::from(x),
        A::Uint(x) => f64::from(x),
        A::Longlong(x) => x as f64,
        A::Ulonglong(x) => x as f64,
        A::Doubles(v) => *v.first()?,
        A::Floats(v) => f64::from(*v.first()?),
        _ => return None,
    })
}

/// The shape and dimension names of `variable` in the NetCDF-4 file `path`, or an
/// error listing the variables present.
pub(crate) fn nc4_var(path: &str, variable: &str) -> Result<Nc4Var> {
    locked(|| {
        let f = netcdf::open(path).map_err(|e| h5err(path, e))?;
        let Some(v) = f.variable(variable) else {
            let present: Vec<String> = f.variables().map(|v| v.name()).collect();
            return Err(crate::Error::MissingVariable {
                file: path.to_string(),
                kind: "variable".into(),
                name: variable.to_string(),
                present: Some(present),
            }
            .into());
        };
        Ok(Nc4Var {
            shape: v.dimensions().iter().map(|d| d.len() as u64).collect(),
            dims: v.dimensions().iter().map(|d| d.name()).collect(),
            masked: ["_FillValue", "missing_value", "scale_factor", "add_offset"]
                .iter()
                .any(|a| v.attribute(a).is_some()),
            kind: kind_of(&v),
        })
    })
}

/// A hyperslab of a NetCDF-4 variable as f64, masked and scaled when asked.
pub(crate) fn nc4_read(
    path: &str,
    variable: &str,
    start: &[u64],
    count: &[u64],
    mask_and_scale: bool,
) -> Result<Vec<f64>> {
    locked(|| {
        let f = netcdf::open(path).map_err(|e| h5err(path, e))?;
        let v = f
            .variable(variable)
            .ok_or_else(|| crate::Error::MissingVariable {
                file: path.to_string(),
                kind: "variable".into(),
                name: variable.to_string(),
                present: None,
            })?;
        let extents: Vec<std::ops::Range<usize>> = start
            .iter()
            .zip(count)
            .map(|(&s, &c)| s as usize..(s + c) as usize)
            .collect();
        let mut values: Vec<f64> = if kind_of(&v) == VarKind::Char {
            // Text is read as its bytes (libnetcdf converts no text to numbers).
            let raw = v
                .get_raw_values(extents.as_slice())
                .map_err(|e| h5err(path, e))?;
            raw.into_iter().map(f64::from).collect()
        } else {
            v.get_values::<f64, _>(extents.as_slice())
                .map_err(|e| h5err(path, e))?
        };
        if mask_and_scale {
            let decode = MaskScale::from_attrs(|name| attr_number(&v, name));
            for x in &mut values {
                *x = decode.apply(*x);
            }
        }
        Ok(values)
    })
}

/// Every value of the text variable `variable` of the NetCDF-4 file `path`, in C
/// order, with the variable's shape: `char` values as bytes (one per element),
/// `string` values as their text. `None` for the bytes of a `string` variable.
pub(crate) fn nc4_text(path: &str, variable: &str) -> Result<(Vec<usize>, Nc4Text)> {
    locked(|| {
        let f = netcdf::open(path).map_err(|e| h5err(path, e))?;
        let v = f
            .variable(variable)
            .ok_or_else(|| crate::Error::MissingVariable {
                file: path.to_string(),
                kind: "variable".into(),
                name: variable.to_string(),
                present: None,
            })?;
        let shape: Vec<usize> = v.dimensions().iter().map(|d| d.len()).collect();
        let whole: Vec<std::ops::Range<usize>> = shape.iter().map(|&n| 0..n).collect();
        let text = match kind_of(&v) {
            VarKind::Char => Nc4Text::Bytes(
                v.get_raw_values(whole.as_slice())
                    .map_err(|e| h5err(path, e))?,
            ),
            VarKind::String => {
                let mut out = Vec::with_capacity(shape.iter().product());
                for idx in crate::array::grid::ndindex(&shape) {
                    out.push(v.get_string(idx.as_slice()).map_err(|e| h5err(path, e))?);
                }
                Nc4Text::Strings(out)
            }
            other => {
                return Err(error::invalid(format!(
                    "{path}: {variable} holds {}, not text",
                    other.describe()
                )))
            }
        };
        Ok((shape, text))
    })
}

/// The values of a NetCDF-4 text variable.
pub(crate) enum Nc4Text {
    /// A `char` variable's bytes.
    Bytes(Vec<u8>),
    /// A `string` variable's values.
    Strings(Vec<String>),
}
