//! Arrays read from NetCDF classic files: generated temperature files checked
//! against the generator, real NOAA files (Debian's `ferret-datasets`) checked
//! against Python's netCDF4 on the same files, and bad files.

mod support;

use brisk_collections::array::{self, read_netcdf, Array, AxisChunks, Ix, NetcdfOptions};
use brisk_collections::datasets::{
    temperature, temperature_day, LATITUDES, LONGITUDES, STEPS_PER_DAY,
};
use brisk_scheduler as _;
use ndarray::{ArrayD, Axis, IxDyn};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use support::scratch;

/// Three generated days, shared by the tests and by test processes: generated once
/// into a private directory, then renamed into place (the same arguments always
/// write the same bytes, so whichever process wins, the files are the same).
fn three_days() -> &'static (PathBuf, ArrayD<f32>) {
    static DAYS: OnceLock<(PathBuf, ArrayD<f32>)> = OnceLock::new();
    DAYS.get_or_init(|| {
        let dir = std::env::temp_dir().join("brisk-array-nc-three-days-v1");
        if !dir.join("t2m-0002.nc").exists() {
            let mine = scratch("days");
            temperature(3, &mine).unwrap();
            if std::fs::rename(&*mine, &dir).is_err() {
                let _ = std::fs::remove_dir_all(&*mine);
            }
        }
        let all: Vec<f32> = (0..3).flat_map(|d| temperature_day(d, 0x7E3A)).collect();
        let x = ArrayD::from_shape_vec(IxDyn(&[3 * STEPS_PER_DAY, LATITUDES, LONGITUDES]), all)
            .unwrap();
        (dir, x)
    })
}

fn glob(dir: &Path) -> String {
    format!("{}/*.nc", dir.display())
}

#[test]
fn generated_days_read_back_exactly_one_block_per_file() {
    let (dir, want) = three_days();
    let x = read_netcdf::<f32>(&[&glob(dir)], "t2m", &NetcdfOptions::default()).unwrap();
    assert_eq!(x.shape().unwrap(), [12, 721, 1440]);
    assert_eq!(x.chunks()[0], AxisChunks::Known(vec![4, 4, 4]));
    assert_eq!(x.numblocks(), [3, 1, 1]);
    let got = x.compute().unwrap();
    assert_eq!(&got, want);
    // Plausible Kelvin: warm equator, cold poles.
    let equator = want.index_axis(Axis(1), 360).mean().unwrap();
    let pole = want.index_axis(Axis(1), 0).mean().unwrap();
    assert!(
        equator > 290.0 && equator < 310.0 && pole < 260.0,
        "{equator} {pole}"
    );
    // Coordinates and attributes come along as variables.
    let lat = read_netcdf::<f32>(
        &[&glob(dir)],
        "latitude",
        &NetcdfOptions {
            concat_dim: None,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(lat.shape().unwrap(), [3 * 721]);
}

#[test]
fn inlined_slabs_are_read_by_each_reader_with_the_same_answer() {
    let (dir, want) = three_days();
    let zscore = |inline_array: bool| {
        let opts = NetcdfOptions {
            chunks: vec![Some(2)],
            inline_array,
            ..Default::default()
        };
        let x = read_netcdf::<f32>(&[&glob(dir)], "t2m", &opts).unwrap();
        x.sub(&x.mean(&[0], false).unwrap())
            .unwrap()
            .div(&x.std(&[0], 0, false).unwrap())
            .unwrap()
    };
    let read_tasks = |z: &Array<f32>| {
        let tg = z.graph().lower(z.keys()).unwrap();
        let names: Vec<String> = (0..tg.len() as u32)
            .map(|i| tg.op(brisk_core::TaskId(i)).name().to_string())
            .collect();
        names
            .iter()
            .filter(|n| n.as_str() == "brisk::array::read_netcdf")
            .count()
    };
    let (held, inlined) = (zscore(false), zscore(true));
    assert_eq!(
        read_tasks(&held),
        6,
        "one read per block, held for both passes"
    );
    assert_eq!(read_tasks(&inlined), 0, "each reader reads its own slab");
    let m = want.mean_axis(Axis(0)).unwrap();
    let s = want.std_axis(Axis(0), 0.0);
    let oracle = (want - &m) / &s;
    for z in [&held, &inlined] {
        let got = z.compute().unwrap();
        let worst = got
            .iter()
            .zip(oracle.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(worst < 1e-3, "{worst}");
    }
    assert_eq!(held.compute().unwrap(), inlined.compute().unwrap());
}

#[test]
fn requested_chunks_split_files_and_read_only_their_hyperslab() {
    let (dir, want) = three_days();
    let opts = NetcdfOptions {
        chunks: vec![Some(3), Some(300), Some(1000)],
        ..Default::default()
    };
    let x = read_netcdf::<f64>(&[&glob(dir)], "t2m", &opts).unwrap();
    assert_eq!(x.chunks()[0], AxisChunks::Known(vec![3, 1, 3, 1, 3, 1]));
    assert_eq!(x.chunks()[1], AxisChunks::Known(vec![300, 300, 121]));
    assert_eq!(x.chunks()[2], AxisChunks::Known(vec![1000, 440]));
    let w64 = want.mapv(f64::from);
    assert_eq!(x.compute().unwrap(), w64);
    // The post's operations against ndarray on the whole array.
    let mean0 = w64.mean_axis(Axis(0)).unwrap();
    let std0 = w64.std_axis(Axis(0), 0.0);
    let z = x
        .sub(&x.mean(&[0], false).unwrap())
        .unwrap()
        .div(&x.std(&[0], 0, false).unwrap())
        .unwrap();
    let z5 = z.index(5).unwrap().compute().unwrap();
    let want5 = (&w64.index_axis(Axis(0), 5) - &mean0) / &std0;
    for (a, b) in z5.iter().zip(want5.iter()) {
        assert!((a - b).abs() < 1e-9, "{a} {b}");
    }
    let point = x
        .get(&[Ix::i(7), Ix::i(-1), Ix::i(1439)])
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(point[[]], w64[[7, 720, 1439]]);
    // x[0] needs one read task.
    let first = x.index(0).unwrap();
    let reads = first
        .graph()
        .lower(first.keys())
        .unwrap()
        .tasks()
        .iter()
        .filter(|t| t.op.name() == "brisk::array::read_netcdf")
        .count();
    assert_eq!(reads, 6, "one per block of the first step (3 × 2)");
}

#[test]
fn arrays_round_trip_through_netcdf_and_npy() {
    let dir = scratch("roundtrip");
    let x = ArrayD::from_shape_fn(IxDyn(&[5, 4, 3]), |i| {
        (i[0] * 12 + i[1] * 3 + i[2]) as f64 * 0.5 - 7.0
    });
    let a = array::from_array(&x, &[2, 3, 3]).unwrap();
    let path = dir.join("a.nc");
    a.to_netcdf(
        path.to_str().unwrap(),
        "v",
        &["t", "y", "x"],
        &Default::default(),
    )
    .unwrap();
    let back =
        read_netcdf::<f64>(&[path.to_str().unwrap()], "v", &NetcdfOptions::default()).unwrap();
    assert_eq!(back.compute().unwrap(), x);
    let ints: Array<i32> = a.astype().unwrap();
    let p2 = dir.join("i.nc");
    ints.to_netcdf(
        p2.to_str().unwrap(),
        "i",
        &["t", "y", "x"],
        &Default::default(),
    )
    .unwrap();
    let back: Array<i32> =
        read_netcdf(&[p2.to_str().unwrap()], "i", &NetcdfOptions::default()).unwrap();
    assert_eq!(back.compute().unwrap(), x.mapv(|v| v as i32));
    // .npy: NumPy's header then little-endian values.
    let npy = dir.join("a.npy");
    a.to_npy(npy.to_str().unwrap(), &Default::default())
        .unwrap();
    let bytes = std::fs::read(&npy).unwrap();
    assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
    let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + hlen]).unwrap();
    assert!(
        header.contains("'descr': '<f8'") && header.contains("'shape': (5, 4, 3)"),
        "{header}"
    );
    assert_eq!((10 + hlen) % 64, 0);
    let values: Vec<f64> = bytes[10 + hlen..]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(values, x.iter().copied().collect::<Vec<_>>());
}

#[test]
fn a_missing_variable_lists_the_variables_present() {
    let (dir, _) = three_days();
    let err = read_netcdf::<f32>(&[&glob(dir)], "t3m", &NetcdfOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("t3m")
            && err.contains("t2m")
            && err.contains("latitude")
            && err.contains("t2m-0000.nc"),
        "{err}"
    );
}

#[test]
fn files_whose_shapes_disagree_name_both_files() {
    let dir = scratch("disagree");
    let (src, _) = three_days();
    std::fs::copy(src.join("t2m-0000.nc"), dir.join("a.nc")).unwrap();
    let x = ArrayD::<f32>::zeros(IxDyn(&[4, 720, 1440]));
    array::from_array(&x, &[4, 720, 1440])
        .unwrap()
        .to_netcdf(
            dir.join("b.nc").to_str().unwrap(),
            "t2m",
            &["time", "latitude", "longitude"],
            &Default::default(),
        )
        .unwrap();
    let err = read_netcdf::<f32>(&[&glob(&dir)], "t2m", &NetcdfOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("a.nc") && err.contains("b.nc") && err.contains("latitude"),
        "{err}"
    );
    // A file of another rank is named as such, not by an axis that only seems to
    // differ because the axes are shifted.
    let rank = scratch("rank");
    std::fs::copy(src.join("t2m-0000.nc"), rank.join("a.nc")).unwrap();
    let y = ArrayD::<f32>::zeros(IxDyn(&[721, 1440]));
    array::from_array(&y, &[721, 1440])
        .unwrap()
        .to_netcdf(
            rank.join("c.nc").to_str().unwrap(),
            "t2m",
            &["latitude", "longitude"],
            &Default::default(),
        )
        .unwrap();
    let err = read_netcdf::<f32>(&[&glob(&rank)], "t2m", &NetcdfOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("c.nc has t2m with 2 axes") && err.contains("a.nc has 3 axes"),
        "{err}"
    );
}

#[test]
fn truncated_and_foreign_files_are_errors_naming_them() {
    let dir = scratch("truncated");
    let (src, _) = three_days();
    let bytes = std::fs::read(src.join("t2m-0001.nc")).unwrap();
    // Cut in the data: the header says more than the file holds.
    std::fs::write(dir.join("cut.nc"), &bytes[..bytes.len() / 2]).unwrap();
    let err = read_netcdf::<f32>(
        &[dir.join("cut.nc").to_str().unwrap()],
        "t2m",
        &NetcdfOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("cut.nc") && err.contains("the file has"),
        "{err}"
    );
    // Cut after the arrays were made: the compute error names the file.
    std::fs::write(dir.join("later.nc"), &bytes).unwrap();
    let x = read_netcdf::<f32>(
        &[dir.join("later.nc").to_str().unwrap()],
        "t2m",
        &NetcdfOptions::default(),
    )
    .unwrap();
    std::fs::write(dir.join("later.nc"), &bytes[..bytes.len() - 1000]).unwrap();
    let err = x.compute().unwrap_err().to_string();
    assert!(err.contains("later.nc"), "{err}");
    // Cut in the header.
    std::fs::write(dir.join("head.nc"), &bytes[..100]).unwrap();
    let err = read_netcdf::<f32>(
        &[dir.join("head.nc").to_str().unwrap()],
        "t2m",
        &NetcdfOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("head.nc") && err.contains("cut short"),
        "{err}"
    );
    // Not NetCDF at all.
    std::fs::write(dir.join("text.nc"), b"hello, this is not a NetCDF file").unwrap();
    let err = read_netcdf::<f32>(
        &[dir.join("text.nc").to_str().unwrap()],
        "t2m",
        &NetcdfOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("text.nc") && err.contains("not a NetCDF classic file"),
        "{err}"
    );
    // No hint about NetCDF-4 for a file that is not one.
    assert!(!err.contains("hdf5") && !err.contains("NetCDF-4"), "{err}");
}

/// Statistics of `var` in `file` from Python's netCDF4 (masked values excluded),
/// or `None` with a message when Python or netCDF4 is missing.
fn python_stats(file: &str, var: &str, samples: &[Vec<usize>]) -> Option<serde_json::Value> {
    let python = std::env::var("BRISK_PYTHON").ok().or_else(|| {
        let venv = std::env::var("HOME").ok()? + "/.cache/brisk/venv/bin/python";
        Path::new(&venv).exists().then_some(venv)
    })?;
    let script = format!(
        "import json, netCDF4, numpy as np\n\
         v = netCDF4.Dataset({file:?}).variables[{var:?}]\n\
         a = v[:]\n\
         m = np.ma.getmaskarray(a)\n\
         d = np.ma.filled(a.astype('f8'), np.nan)\n\
         s = {samples:?}\n\
         print(json.dumps({{'shape': list(a.shape), 'sum': float(np.nansum(d)), 'masked': int(m.sum()),\
         'samples': [None if np.isnan(d[tuple(i)]) else float(d[tuple(i)]) for i in s]}}))\n"
    );
    let out = std::process::Command::new(&python)
        .arg("-c")
        .arg(script)
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "skipping: {python} could not read {file} with netCDF4: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

#[test]
fn noaa_files_from_ferret_datasets_match_python_netcdf4() {
    let data = Path::new("/usr/share/ferret-vis/data");
    if !data.exists() {
        assert!(
            std::env::var("BRISK_PYTHON").is_err(),
            "the test script installs ferret-datasets, but {} is missing",
            data.display()
        );
        eprintln!(
            "skipping: Debian's ferret-datasets is not installed (apt-get install ferret-datasets)"
        );
        return;
    }
    let cases: &[(&str, &str, Vec<Option<usize>>, Vec<Vec<usize>>)] = &[
        (
            "etopo5.cdf",
            "ROSE",
            vec![Some(500), Some(1000)],
            vec![
                vec![0, 0],
                vec![1080, 2160],
                vec![2160, 4319],
                vec![700, 33],
            ],
        ),
        (
            "levitus_climatology.cdf",
            "TEMP",
            vec![Some(7), Some(50), None],
            vec![vec![0, 90, 180], vec![19, 0, 0], vec![3, 100, 200]],
        ),
        (
            "levitus_climatology.cdf",
            "SALT",
            vec![],
            vec![vec![0, 90, 180], vec![10, 45, 300]],
        ),
        (
            "coads_climatology.cdf",
            "SST",
            vec![Some(5), None, Some(100)],
            vec![vec![0, 45, 90], vec![11, 10, 170]],
        ),
    ];
    let mut checked = 0;
    for (file, var, chunks, samples) in cases {
        let path = data.join(file);
        let path = path.to_str().unwrap();
        let Some(want) = python_stats(path, var, samples) else {
            eprintln!("skipping {file}: no Python with netCDF4 (set BRISK_PYTHON)");
            continue;
        };
        let opts = NetcdfOptions {
            chunks: chunks.clone(),
            ..Default::default()
        };
        let x = read_netcdf::<f64>(&[path], var, &opts).unwrap();
        let shape: Vec<usize> = want["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(x.shape().unwrap(), shape, "{file} {var}");
        // A lazy NaN-aware sum and a count of the masked (NaN) values.
        let sum = x.nansum(&[], false).unwrap().compute().unwrap()[[]];
        let want_sum = want["sum"].as_f64().unwrap();
        assert!(
            (sum - want_sum).abs() <= 1e-9 * want_sum.abs().max(1.0),
            "{file} {var}: {sum} vs {want_sum}"
        );
        let masked = x
            .isnan()
            .unwrap()
            .astype::<i64>()
            .unwrap()
            .sum(&[], false)
            .unwrap()
            .compute()
            .unwrap()[[]];
        assert_eq!(
            masked as u64,
            want["masked"].as_u64().unwrap(),
            "{file} {var} masked"
        );
        let all = x.compute().unwrap();
        for (idx, w) in samples.iter().zip(want["samples"].as_array().unwrap()) {
            let got = all[IxDyn(idx)];
            match w.as_f64() {
                Some(w) => assert_eq!(got, w, "{file} {var} at {idx:?}"),
                None => assert!(got.is_nan(), "{file} {var} at {idx:?} should be masked"),
            }
        }
        checked += 1;
    }
    eprintln!("checked {checked} NOAA variables against netCDF4");
}

#[test]
fn integers_keep_their_values_and_masked_integers_are_refused() {
    let dir = scratch("ints");
    let x = ArrayD::from_shape_fn(IxDyn(&[4, 3]), |i| (i[0] * 60 + i[1] * 7) as u8);
    let path = dir.join("u8.nc");
    array::from_array(&x, &[2, 3])
        .unwrap()
        .to_netcdf(
            path.to_str().unwrap(),
            "b",
            &["y", "x"],
            &Default::default(),
        )
        .unwrap();
    let back: Array<u8> =
        read_netcdf(&[path.to_str().unwrap()], "b", &NetcdfOptions::default()).unwrap();
    assert_eq!(back.compute().unwrap(), x, "values above 127 survive");
    // An empty axis cannot be stored in the classic format.
    let empty = array::from_array(&ArrayD::<f32>::zeros(IxDyn(&[0, 2])), &[1, 2]).unwrap();
    let err = empty
        .to_netcdf(
            dir.join("e.nc").to_str().unwrap(),
            "e",
            &["y", "x"],
            &Default::default(),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("length 0"), "{err}");
    // A variable with fill values read as integers: NaN has nowhere to go.
    let noaa = "/usr/share/ferret-vis/data/levitus_climatology.cdf";
    if Path::new(noaa).exists() {
        let err = read_netcdf::<i32>(&[noaa], "TEMP", &NetcdfOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("float type"), "{err}");
        let raw = read_netcdf::<i32>(
            &[noaa],
            "TEMP",
            &NetcdfOptions {
                mask_and_scale: false,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(raw.shape().unwrap(), [20, 180, 360]);
    }
}

#[test]
fn npy_files_keep_int64_values_exactly() {
    let dir = scratch("npy64");
    let x = ArrayD::from_shape_vec(IxDyn(&[3]), vec![i64::MAX, -(1 << 60) - 1, 7]).unwrap();
    let path = dir.join("i.npy");
    array::from_array(&x, &[2])
        .unwrap()
        .to_npy(path.to_str().unwrap(), &Default::default())
        .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    assert!(std::str::from_utf8(&bytes[10..10 + hlen])
        .unwrap()
        .contains("'<i8'"));
    let values: Vec<i64> = bytes[10 + hlen..]
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(values, x.iter().copied().collect::<Vec<_>>());
}
