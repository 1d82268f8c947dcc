//! `brisk-bench io`: the readers against the reference libraries' layouts. A
//! NetCDF classic record variable over 24 daily files of hourly records (two record
//! variables, so each variable's records are strided through the file), and, with
//! the `hdf5` feature, a `u8` HDF5 dataset of 120 MB read as `u8` and summed.
//! `benches/compare/xarray_h5py.py` reads the same files with xarray and h5py.

use anyhow::{bail, Result};
use brisk::collections::array::{read_netcdf, NetcdfOptions};
use brisk::io::netcdf3::{encode, Data, Dim, NcFile, NewVar};
use brisk_benches::{emit, median_seconds, round};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Daily files.
const FILES: usize = 24;
/// Hourly records a file.
const HOURS: usize = 24;
/// A 1° grid.
const LAT: usize = 181;
const LON: usize = 360;
const REPS: usize = 5;

fn data_dir(args: &[String]) -> Result<PathBuf> {
    let dir = match args {
        [] => std::env::temp_dir().join("brisk-bench-io"),
        [flag, dir] if flag == "--data" => PathBuf::from(dir),
        _ => bail!("usage: brisk-bench io [--data DIR]"),
    };
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn hourly_files(dir: &Path) -> Result<String> {
    let n = HOURS * LAT * LON;
    for d in 0..FILES {
        let path = dir.join(format!("hourly-{d:02}.nc"));
        if path.exists() {
            continue;
        }
        let t: Vec<f32> = (0..n)
            .map(|i| 250.0 + ((d * n + i) % 997) as f32 * 0.1)
            .collect();
        let u: Vec<f32> = (0..n)
            .map(|i| ((d * n + i) % 211) as f32 * 0.2 - 20.0)
            .collect();
        let time: Vec<f64> = (0..HOURS).map(|h| (d * 24 + h) as f64).collect();
        let file = NcFile {
            dims: vec![
                Dim {
                    name: "time".into(),
                    len: None,
                },
                Dim {
                    name: "lat".into(),
                    len: Some(LAT as u64),
                },
                Dim {
                    name: "lon".into(),
                    len: Some(LON as u64),
                },
            ],
            attrs: vec![],
            vars: vec![
                NewVar::new("time", &[0], Data::Double(time)),
                NewVar::new("t", &[0, 1, 2], Data::Float(t)),
                NewVar::new("u", &[0, 1, 2], Data::Float(u)),
            ],
        };
        std::fs::write(&path, encode(&file)?)?;
    }
    Ok(format!("{}/hourly-*.nc", dir.display()))
}

pub fn run(args: &[String]) -> Result<()> {
    let dir = data_dir(args)?;
    let glob = hourly_files(&dir)?;
    let open = || read_netcdf::<f32>(&[&glob], "t", &NetcdfOptions::default());
    let mb = open()?.nbytes()? as f64 / 1e6;
    let (s, n) = median_seconds(brisk_benches::reps(REPS), || -> brisk::Result<usize> {
        Ok(open()?.compute()?.len())
    });
    n?;
    emit(
        "io.netcdf3_records",
        &[
            ("files", json!(FILES)),
            ("records_per_file", json!(HOURS)),
            ("variable_mb", json!(round(mb, 1))),
            ("seconds", json!(round(s, 4))),
        ],
    );
    #[cfg(feature = "hdf5")]
    hdf5_u8(&dir)?;
    Ok(())
}

/// 120 × 1000 × 1000 bytes: a stack of 8-bit images.
#[cfg(feature = "hdf5")]
fn hdf5_u8(dir: &Path) -> Result<()> {
    use brisk::collections::array::{from_array, read_hdf5};
    let shape = [120, 1000, 1000];
    let path = dir.join("images-u8.h5");
    let path_s = path.display().to_string();
    if !path.exists() {
        let a = ndarray::ArrayD::from_shape_fn(ndarray::IxDyn(&shape), |i| {
            ((i[0] * 7 + i[1] * 3 + i[2]) % 251) as u8
        });
        from_array(&a, &[10, 1000, 1000])?.to_hdf5(&path_s, "images")?;
    }
    let open = || read_hdf5::<u8>(&path_s, "images", &[10, 1000, 1000]);
    let mb = shape.iter().product::<usize>() as f64 / 1e6;
    // In twelve blocks (joined into one array by `compute`), and as one block (the
    // reader alone, as h5py reads it).
    for (name, blocks) in [("io.hdf5_u8_read", 12), ("io.hdf5_u8_read_one_block", 1)] {
        let chunks = [shape[0] / blocks, shape[1], shape[2]];
        let (s, n) = median_seconds(brisk_benches::reps(REPS), || -> brisk::Result<usize> {
            Ok(read_hdf5::<u8>(&path_s, "images", &chunks)?
                .compute()?
                .len())
        });
        n?;
        emit(
            name,
            &[
                ("dataset_mb", json!(round(mb, 1))),
                ("blocks", json!(blocks)),
                ("seconds", json!(round(s, 4))),
            ],
        );
    }
    let (s, total) = median_seconds(brisk_benches::reps(REPS), || -> brisk::Result<u64> {
        Ok(open()?.sum(&[], false)?.compute()?[[]])
    });
    emit(
        "io.hdf5_u8_sum",
        &[
            ("dataset_mb", json!(round(mb, 1))),
            ("seconds", json!(round(s, 4))),
            ("sum", json!(total?)),
        ],
    );
    Ok(())
}
