//! Writers that run where the blocks are: the caller writes a file's header and
//! sizes the file, then each block's task writes its own region of the data in
//! place (C order from `begin`), so on a cluster the array never passes through
//! one process. For local files (every host sees the same path on a shared file
//! system); other stores get the whole object at once.

use crate::array::array::Array;
use crate::array::dtype::{DType, Elem};
use crate::array::grid::ndindex;
use crate::array::meta::op;
use crate::error;
use crate::layers::layer_name;
use brisk_core::executor::Executor;
use brisk_core::graph::{Graph, Layer, Task};
use brisk_core::op::OpRegistration;
use brisk_core::spec_op::{rebuild_spec, Spec};
use brisk_core::{Key, Result, Value};
use ndarray::ArrayD;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How the file stores one element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Encoding {
    /// The array's own type, little-endian (`.npy`).
    Native,
    /// NetCDF classic, big-endian, as `byte` (i8).
    NcByte,
    /// ... `short` (i16).
    NcShort,
    /// ... `int` (i32).
    NcInt,
    /// ... `float` (f32).
    NcFloat,
    /// ... `double` (f64).
    NcDouble,
}

impl Encoding {
    pub(crate) fn itemsize(self, dtype: DType) -> usize {
        match self {
            Encoding::Native => dtype.itemsize(),
            Encoding::NcByte => 1,
            Encoding::NcShort => 2,
            Encoding::NcInt | Encoding::NcFloat => 4,
            Encoding::NcDouble => 8,
        }
    }

    fn put<T: Elem>(self, x: T, out: &mut Vec<u8>) {
        let v = x.to_f64();
        match self {
            Encoding::Native => x.put_le(out),
            Encoding::NcByte => out.push(v as i8 as u8),
            Encoding::NcShort => out.extend_from_slice(&(v as i16).to_be_bytes()),
            Encoding::NcInt => out.extend_from_slice(&(v as i32).to_be_bytes()),
            Encoding::NcFloat => out.extend_from_slice(&(v as f32).to_be_bytes()),
            Encoding::NcDouble => out.extend_from_slice(&v.to_be_bytes()),
        }
    }
}

/// One block's task: write it into its region of `path`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RegionWrite {
    path: PathBuf,
    /// Where the array's data starts in the file.
    begin: u64,
    /// The whole array's shape.
    shape: Vec<usize>,
    /// The block's first index on each axis.
    offsets: Vec<usize>,
    dtype: DType,
    encoding: Encoding,
}

impl Spec for RegionWrite {
    const NAME: &'static str = "brisk::array::write_region";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        let block = inputs
            .first()
            .ok_or_else(|| error::malformed("a region write without its block"))?;
        let written = crate::array::for_dtype!(self.dtype, U => self.write(U::array(block)?)?);
        Ok(Arc::new(written))
    }
}

inventory::submit! {
    OpRegistration { name: RegionWrite::NAME, rebuild: rebuild_spec::<RegionWrite> }
}

impl RegionWrite {
    /// Writes `block` and returns the bytes written.
    fn write<T: Elem>(&self, block: &ArrayD<T>) -> Result<u64> {
        use std::os::unix::fs::FileExt;
        let bshape = block.shape();
        let n = self.shape.len();
        if bshape.len() != n || (0..n).any(|a| self.offsets[a] + bshape[a] > self.shape[a]) {
            return Err(error::shape(format!(
                "a block of shape {bshape:?} at {:?} does not fit an array of shape {:?}",
                self.offsets, self.shape
            )));
        }
        let fail = |e: std::io::Error| {
            error::io(
                format!("cannot write a block into {}", self.path.display()),
                e,
            )
        };
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&self.path)
            .map_err(fail)?;
        if block.is_empty() {
            return Ok(0);
        }
        // Trailing axes the block covers whole make one contiguous run with the
        // axis before them.
        let mut k = n.saturating_sub(1);
        while k > 0 && bshape[k] == self.shape[k] {
            k -= 1;
        }
        let run: usize = bshape[k..].iter().product();
        let itemsize = self.encoding.itemsize(self.dtype) as u64;
        let std_layout = block.as_standard_layout();
        let flat = std_layout
            .as_slice()
            .ok_or_else(|| error::malformed("a block not in standard layout"))?;
        let mut buf = Vec::with_capacity(run * itemsize as usize);
        let mut written = 0u64;
        for (r, outer) in ndindex(&bshape[..k]).enumerate() {
            // The file's flat index of this run's first element.
            let within = outer.iter().copied().chain(std::iter::repeat(0));
            let at = (0..n).zip(within).fold(0usize, |at, (a, i)| {
                at * self.shape[a] + self.offsets[a] + i
            });
            buf.clear();
            for &x in &flat[r * run..(r + 1) * run] {
                self.encoding.put(x, &mut buf);
            }
            file.write_all_at(&buf, self.begin + at as u64 * itemsize)
                .map_err(fail)?;
            written += buf.len() as u64;
        }
        Ok(written)
    }
}

/// `url` as a local path, if it is one.
pub(crate) fn local_path(url: &str) -> Option<PathBuf> {
    if !brisk_io::url::is_local(url) {
        return None;
    }
    Some(PathBuf::from(url.strip_prefix("file://").unwrap_or(url)))
}

impl<T: Elem> Array<T> {
    /// Runs one writer task per block (`write(offsets of the block)`, reading the
    /// block) on `executor`, in a layer named from `method` and `target`; each
    /// returns a `u64` count, and the sum is returned.
    pub(crate) fn write_blocks(
        &self,
        method: &str,
        target: &str,
        write: impl Fn(Vec<usize>) -> Arc<dyn brisk_core::op::Op>,
        executor: &dyn Executor,
    ) -> Result<u64> {
        let m = &self.meta;
        let layer = layer_name(method, &[&m.name.as_str(), &target])?;
        let tasks = ndindex(&m.numblocks())
            .map(|idx| {
                let offsets = m
                    .block_offsets(&idx)
                    .ok_or_else(|| error::invalid("a block of unknown offset"))?;
                let key: Vec<u32> = idx.iter().map(|&i| i as u32).collect();
                Ok(Task::new(
                    Key::new(layer.as_str(), &key),
                    write(offsets),
                    vec![m.key(&idx).clone()],
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let keys: Vec<Key> = tasks.iter().map(|t| t.key.clone()).collect();
        let graph = Graph::from_layer(Layer { name: layer, tasks }, [&m.graph]);
        let mut total = 0u64;
        for c in &executor.get(&graph, &keys)? {
            total += *c.expect_ref::<u64>()?;
        }
        Ok(total)
    }

    /// Writes `header` to the new file `path`, sizes it for the data (from
    /// `begin`, then `tail` zero bytes), and has every block's task write its
    /// region with `encoding`, on `executor`. Returns the data bytes written.
    pub(crate) fn write_regions(
        &self,
        path: &Path,
        header: &[u8],
        begin: u64,
        tail: u64,
        encoding: Encoding,
        executor: &dyn Executor,
    ) -> Result<u64> {
        let shape = self.shape()?;
        let itemsize = encoding.itemsize(T::DTYPE) as u64;
        let data = shape.iter().product::<usize>() as u64 * itemsize;
        {
            use std::io::Write;
            let fail = |e| error::io(format!("cannot create {}", path.display()), e);
            let mut f = std::fs::File::create(path).map_err(fail)?;
            f.write_all(header).map_err(fail)?;
            f.set_len(begin + data + tail).map_err(fail)?;
        }
        let total = self.write_blocks(
            "write-region",
            &path.display().to_string(),
            |offsets| {
                op(RegionWrite {
                    path: path.to_path_buf(),
                    begin,
                    shape: shape.clone(),
                    offsets,
                    dtype: T::DTYPE,
                    encoding,
                })
            },
            executor,
        )?;
        if total != data {
            return Err(error::malformed(format!(
                "the blocks wrote {total} bytes of {data} into {}",
                path.display()
            )));
        }
        Ok(total)
    }
}
