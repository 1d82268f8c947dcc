//! Real files that packages ship, read by Brisk and checked against the Python
//! libraries that read them in the field, run on the same files:
//!
//! - NetCDF classic files of scipy (`scipy/io/tests/data`) and xarray
//!   (`xarray/tests/data/bears.nc`), and NetCDF classic and NetCDF-4 files of
//!   Debian's `r-cran-ncmeta` (`extdata/`: record variables, scale / fill
//!   attributes, scalars, chunked deflated NetCDF-4), against xarray's decoding
//!   (which Brisk's `mask_and_scale` follows);
//! - `char` variables, against netCDF4-python's `chartostring`;
//! - HDF5 files of PyTables (`tables/tests`: gzip and szip chunked datasets,
//!   big-endian types, a 0-d dataset), against h5py.
//!
//! `scripts/test.sh` installs the packages (and sets `BRISK_PYTHON`); without it a
//! missing package skips its files with a message, with it a missing file fails.

mod support;

use brisk_collections::array::{read_netcdf, read_netcdf_strings, Array, NetcdfOptions};
use brisk_scheduler as _;
use ndarray::ArrayD;
use serde_json::{json, Value as Json};
use std::path::{Path, PathBuf};

/// The Python that has the oracles, and whether the test script set it up (then
/// every package must be there).
fn python() -> Option<(String, bool)> {
    if let Ok(p) = std::env::var("BRISK_PYTHON") {
        return Some((p, true));
    }
    let venv = std::env::var("HOME").ok()? + "/.cache/brisk/venv/bin/python";
    Path::new(&venv).exists().then_some((venv, false))
}

/// Fails where the test script ran (it installs everything), else skips.
fn missing<T>(what: &str) -> Option<T> {
    assert!(
        std::env::var("BRISK_PYTHON").is_err(),
        "the test script installs it, but {what} is missing"
    );
    eprintln!("skipping: {what} is missing (scripts/test.sh installs it)");
    None
}

/// The folder `sub` of the installed Python package `package`, found without
/// importing it.
fn package_dir(package: &str, sub: &str) -> Option<PathBuf> {
    let Some((py, _)) = python() else {
        return missing("a Python with the oracles (set BRISK_PYTHON)");
    };
    let out = std::process::Command::new(&py)
        .arg("-c")
        .arg(format!(
            "import importlib.util as u; s = u.find_spec({package:?}); \
             print(s.submodule_search_locations[0] if s else '')"
        ))
        .output()
        .ok()?;
    let root = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let dir = Path::new(&root).join(sub);
    if root.is_empty() || !dir.exists() {
        return missing(&format!("{sub} of the Python package {package}"));
    }
    Some(dir)
}

/// The example files of Debian's `r-cran-ncmeta`: installed, or unpacked (without
/// R) by the test script into `~/.cache/brisk/testdata`.
fn ncmeta_dir() -> Option<PathBuf> {
    let tail = "usr/lib/R/site-library/ncmeta/extdata";
    let mut places = vec![Path::new("/").join(tail)];
    if let Ok(home) = std::env::var("HOME") {
        places.push(
            Path::new(&home)
                .join(".cache/brisk/testdata/r-cran-ncmeta")
                .join(tail),
        );
    }
    match places.into_iter().find(|d| d.exists()) {
        Some(d) => Some(d),
        None => missing("the example files of Debian's r-cran-ncmeta"),
    }
}

/// Runs the oracle on `(reader, file, variable)` requests, one answer each:
/// `xarray` (decoded as xarray does by default, as float64), `h5py` (raw, as
/// float64), `bytes` (netCDF4's raw `S1` values as uint8) and `chars`
/// (netCDF4's `chartostring`). Numbers come as shape, NaN count, NaN-aware sum and
/// every `step`-th value in C order (NaN as null).
fn oracle(requests: &[(&str, &Path, &str)]) -> Option<Vec<Json>> {
    let (py, _) = python()?;
    const SCRIPT: &str = r#"
import json, sys
import numpy as np
out = []
for kind, f, var in json.loads(sys.argv[1]):
    if kind == 'chars' or kind == 'bytes':
        import netCDF4
        with netCDF4.Dataset(f) as d:
            v = d[var]
            v.set_auto_maskandscale(False)
            raw = v[:]
            if kind == 'chars':
                s = np.asarray(netCDF4.chartostring(raw))
                out.append({'shape': list(s.shape), 'strings': [str(x) for x in s.ravel()]})
                continue
            a = np.asarray(raw).view('u1').astype('f8')
    elif kind == 'xarray':
        import xarray as xr
        with xr.open_dataset(f, engine='netcdf4', decode_times=False, decode_timedelta=False,
                             decode_coords=False, mask_and_scale=True) as ds:
            a = np.asarray(ds[var].values, dtype='f8')
    elif kind == 'h5py':
        import h5py
        with h5py.File(f, 'r') as h:
            a = np.asarray(h[var][()], dtype='f8')
    flat = a.ravel()
    step = max(1, -(-flat.size // 4000))
    out.append({'shape': list(a.shape), 'nan': int(np.isnan(flat).sum()),
                'sum': float(np.nansum(flat)), 'step': step,
                'values': [None if np.isnan(x) else float(x) for x in flat[::step]]})
print(json.dumps(out))
"#;
    let reqs: Vec<Json> = requests
        .iter()
        .map(|(k, f, v)| json!([k, f.to_str().unwrap(), v]))
        .collect();
    let out = std::process::Command::new(&py)
        .arg("-c")
        .arg(SCRIPT)
        .arg(Json::Array(reqs).to_string())
        .output()
        .expect("run the Python oracle");
    assert!(
        out.status.success(),
        "the Python oracle failed on {requests:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<Json> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answers.len(), requests.len());
    Some(answers)
}

fn shape_of(want: &Json) -> Vec<usize> {
    want["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect()
}

/// Brisk's values against the oracle's answer: shape, NaNs (masked values), sum
/// and the sampled values, to float32 precision (xarray decodes some variables in
/// float32, Brisk in float64).
fn assert_matches(what: &str, got: &ArrayD<f64>, want: &Json) {
    assert_eq!(got.shape(), shape_of(want).as_slice(), "{what}: shape");
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0);
    let nan = got.iter().filter(|x| x.is_nan()).count();
    assert_eq!(nan as u64, want["nan"].as_u64().unwrap(), "{what}: masked");
    let sum: f64 = got.iter().filter(|x| !x.is_nan()).sum();
    let want_sum = want["sum"].as_f64().unwrap();
    assert!(close(sum, want_sum), "{what}: sum {sum} vs {want_sum}");
    let step = want["step"].as_u64().unwrap() as usize;
    let flat: Vec<f64> = got.iter().copied().collect();
    for (i, w) in want["values"].as_array().unwrap().iter().enumerate() {
        let g = flat[i * step];
        match w.as_f64() {
            Some(w) => assert!(close(g, w), "{what}: value {} is {g}, want {w}", i * step),
            None => assert!(g.is_nan(), "{what}: value {} is {g}, want masked", i * step),
        }
    }
}

/// Variables read with `read_netcdf::<f64>` (in blocks of at most `chunk` along
/// each axis) against xarray's decoding of the same files.
fn check_against_xarray(cases: &[(PathBuf, &str)], chunk: usize) -> usize {
    let reqs: Vec<(&str, &Path, &str)> = cases
        .iter()
        .map(|(f, v)| ("xarray", f.as_path(), *v))
        .collect();
    let Some(answers) = oracle(&reqs) else {
        return 0;
    };
    for ((file, var), want) in cases.iter().zip(&answers) {
        let what = format!("{} {var}", file.display());
        let ndim = shape_of(want).len();
        let opts = NetcdfOptions {
            chunks: vec![Some(chunk); ndim],
            ..Default::default()
        };
        let a: Array<f64> = read_netcdf(&[file.to_str().unwrap()], var, &opts)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let got = a.compute().unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_matches(&what, &got, want);
    }
    cases.len()
}

#[test]
fn scipy_and_xarray_classic_files_read_as_xarray_decodes_them() {
    let (Some(scipy), Some(xr)) = (
        package_dir("scipy", "io/tests/data"),
        package_dir("xarray", "tests/data"),
    ) else {
        return;
    };
    let ex3 = scipy.join("example_3_maskedvals.nc");
    let bears = xr.join("bears.nc");
    let mut cases: Vec<(PathBuf, &str)> = vec![
        // A record variable of default fill values (xarray does not mask them),
        // and one of values, in a file with several record variables.
        (scipy.join("example_1.nc"), "temp"),
        (scipy.join("example_1.nc"), "rh"),
        (scipy.join("example_1.nc"), "time"),
        (scipy.join("example_1.nc"), "lon"),
        // int32 with a float32 scale_factor, an int add_offset and a fill value.
        (scipy.join("example_2.nc"), "Temperature"),
    ];
    for v in [
        "var1_fillval0",
        "var2_noFillval",
        "var3_fillvalAndMissingValue",
        "var4_missingValue",
        "var5_fillvalNaN",
        "var7_2d",
    ] {
        cases.push((ex3.clone(), v));
    }
    for v in ["i", "j", "order", "shot", "aloan", "cross", "l"] {
        cases.push((bears.clone(), v));
    }
    let n = check_against_xarray(&cases, 2);
    eprintln!("checked {n} variables of scipy's and xarray's files against xarray");
}

#[test]
fn ncmeta_classic_files_with_records_scales_and_scalars_read_as_xarray_decodes_them() {
    let Some(dir) = ncmeta_dir() else {
        return;
    };
    let mut cases: Vec<(PathBuf, &str)> = Vec::new();
    // OISST on a record axis: int16 with scale, offset, fill and missing values.
    for v in ["sst", "anom", "err", "ice", "time", "lat"] {
        cases.push((dir.join("stars/reduced.nc"), v));
    }
    // WRF output: three records of four record variables.
    for v in ["RAINNC_present", "T2_present", "Time", "XLAT"] {
        cases.push((dir.join("guam.nc"), v));
    }
    cases.push((dir.join("rasterwise-high-dim-test-1.nc"), "a"));
    // Zero records, and 0-d variables (a grid mapping; one with a missing value).
    cases.push((dir.join("daymet_sample.nc"), "prcp"));
    cases.push((dir.join("daymet_sample.nc"), "lambert_conformal_conic"));
    cases.push((
        dir.join("rasterwise-bad_examples_62-example3.nc"),
        "ETRS89-LAEA",
    ));
    cases.push((dir.join("rasterwise-timeseries.nc"), "pr"));
    let n = check_against_xarray(&cases, 7);
    eprintln!("checked {n} variables of r-cran-ncmeta's classic files against xarray");
}

#[test]
fn netcdf4_chunked_deflated_files_read_as_xarray_decodes_them() {
    let Some(dir) = ncmeta_dir() else {
        return;
    };
    let chl = dir.join("S2008001.L3m_DAY_CHL_chlor_a_9km.nc");
    let gridmet = dir.join("gridmet_sample.nc");
    let cases: Vec<(PathBuf, &str)> = vec![
        // float32 in 64 x 64 deflated chunks, with fill value, scale and offset.
        (chl.clone(), "chlor_a"),
        (chl.clone(), "lat"),
        (chl.clone(), "palette"),
        // uint16 with scale, offset, fill and missing values.
        (gridmet.clone(), "precipitation_amount"),
        (gridmet.clone(), "crs"),
    ];
    let n = check_against_xarray(&cases, 1000);
    eprintln!("checked {n} variables of NetCDF-4 files against xarray");
}

#[test]
fn char_variables_read_as_the_strings_chartostring_gives() {
    let (Some(scipy), Some(xr)) = (
        package_dir("scipy", "io/tests/data"),
        package_dir("xarray", "tests/data"),
    ) else {
        return;
    };
    let bears = xr.join("bears.nc");
    let ex3 = scipy.join("example_3_maskedvals.nc");
    let Some(answers) = oracle(&[
        ("chars", &bears, "bears"),
        ("chars", &ex3, "var6_char"),
        ("bytes", &bears, "bears"),
    ]) else {
        return;
    };
    let opts = NetcdfOptions::default();
    for ((file, var), want) in [(&bears, "bears"), (&ex3, "var6_char")]
        .iter()
        .zip(&answers)
    {
        let got = read_netcdf_strings(&[file.to_str().unwrap()], var, &opts).unwrap();
        assert_eq!(got.shape(), shape_of(want).as_slice(), "{var}: shape");
        let strings: Vec<&str> = want["strings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert_eq!(got.iter().collect::<Vec<_>>(), strings, "{var}");
    }
    // Values padded with NULs lose them; a variable of one axis is one string.
    let bears_strings = read_netcdf_strings(&[bears.to_str().unwrap()], "bears", &opts).unwrap();
    assert_eq!(bears_strings[[1, 2]], "le");
    let abc = read_netcdf_strings(&[ex3.to_str().unwrap()], "var6_char", &opts).unwrap();
    assert_eq!(abc[[]], "abc");
    // As bytes, the values NumPy's S1 array holds.
    let bytes: Array<u8> = read_netcdf(&[bears.to_str().unwrap()], "bears", &opts).unwrap();
    let bytes = bytes.compute().unwrap().mapv(f64::from);
    assert_matches("bears as bytes", &bytes, &answers[2]);
    // As numbers: an error that points at the string reader.
    let err = read_netcdf::<f64>(&[bears.to_str().unwrap()], "bears", &opts)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("bears.nc") && err.contains("read_netcdf_strings"),
        "{err}"
    );
    // And a numeric variable is no text.
    let err = read_netcdf_strings(&[bears.to_str().unwrap()], "order", &opts)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not text") && err.contains("read_netcdf"),
        "{err}"
    );
}

#[test]
fn scalar_variables_are_0d_arrays() {
    let Some(dir) = ncmeta_dir() else {
        return;
    };
    let file = dir.join("daymet_sample.nc");
    let file = file.to_str().unwrap();
    let a: Array<i16> =
        read_netcdf(&[file], "lambert_conformal_conic", &Default::default()).unwrap();
    assert_eq!(a.shape().unwrap(), Vec::<usize>::new());
    // ncdump prints it as -32767, the default fill value of short: never written.
    assert_eq!(a.compute().unwrap()[[]], -32767);
    let err = read_netcdf::<i16>(
        &[file, file],
        "lambert_conformal_conic",
        &Default::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("scalar") && err.contains("2 files"), "{err}");
}

/// The same real files converted to NetCDF-4 by `nccopy`: text and scalars read as
/// from the classic originals.
#[cfg(feature = "hdf5")]
#[test]
fn netcdf4_copies_of_real_files_keep_their_strings_and_scalars() {
    let (Some(xr), Some(dir)) = (package_dir("xarray", "tests/data"), ncmeta_dir()) else {
        return;
    };
    let scratch = support::scratch("real-nc4");
    let nc4 = |from: &Path| -> PathBuf {
        let to = scratch.join(from.file_name().unwrap());
        let status = std::process::Command::new("nccopy")
            .args(["-k", "nc4"])
            .arg(from)
            .arg(&to)
            .status()
            .expect("nccopy (Debian's netcdf-bin)");
        assert!(status.success(), "nccopy {}", from.display());
        to
    };
    let opts = NetcdfOptions::default();
    let bears = xr.join("bears.nc");
    let classic = read_netcdf_strings(&[bears.to_str().unwrap()], "bears", &opts).unwrap();
    let copy = nc4(&bears);
    let strings = read_netcdf_strings(&[copy.to_str().unwrap()], "bears", &opts).unwrap();
    assert_eq!(strings, classic);
    assert_eq!(strings[[0, 0]], "ind");
    let bytes: Array<u8> = read_netcdf(&[copy.to_str().unwrap()], "bears", &opts).unwrap();
    assert_eq!(bytes.shape().unwrap(), [2, 3, 4]);
    assert_eq!(
        bytes.compute().unwrap()[[1, 2, 2]],
        0,
        "the NUL after \"le\""
    );
    let daymet = nc4(&dir.join("daymet_sample.nc"));
    let a: Array<i16> = read_netcdf(
        &[daymet.to_str().unwrap()],
        "lambert_conformal_conic",
        &opts,
    )
    .unwrap();
    assert_eq!(a.shape().unwrap(), Vec::<usize>::new());
    assert_eq!(a.compute().unwrap()[[]], -32767);
}

#[cfg(feature = "hdf5")]
#[test]
fn pytables_hdf5_files_read_as_h5py_reads_them() {
    use brisk_collections::array::{read_hdf5, ChunkSpec};
    let Some(tables) = package_dir("tables", "tests") else {
        return;
    };
    let mut cases: Vec<(PathBuf, &str, ChunkSpec)> = vec![
        // gzip-compressed chunks of uint8.
        (
            tables.join("attr-u16.h5"),
            "/wfm_group0/axes/axis1/data_vector/data",
            ChunkSpec::Uniform(vec![100, 3]),
        ),
        // szip-compressed chunks of int32.
        (
            tables.join("test_szip.h5"),
            "/dset_szip",
            ChunkSpec::Uniform(vec![15, 7]),
        ),
        // Big-endian, chunked and extendible.
        (
            tables.join("smpl_SDSextendible.h5"),
            "/ExtendibleArray",
            ChunkSpec::Uniform(vec![3, 2]),
        ),
        // A 0-d dataset.
        (tables.join("zerodim-attrs-1.3.h5"), "/a", ChunkSpec::Auto),
    ];
    for f in ["smpl_f64be.h5", "smpl_i64be.h5", "smpl_i32be.h5"] {
        cases.push((tables.join(f), "/TestArray", ChunkSpec::Uniform(vec![4, 4])));
    }
    // NetCDF-4 is HDF5: the deflated chunks of a NetCDF-4 variable, raw.
    if let Some(dir) = ncmeta_dir() {
        cases.push((
            dir.join("S2008001.L3m_DAY_CHL_chlor_a_9km.nc"),
            "/chlor_a",
            ChunkSpec::Uniform(vec![500, 1000]),
        ));
    }
    let reqs: Vec<(&str, &Path, &str)> = cases
        .iter()
        .map(|(f, d, _)| ("h5py", f.as_path(), *d))
        .collect();
    let Some(answers) = oracle(&reqs) else {
        return;
    };
    for ((file, ds, chunks), want) in cases.iter().zip(&answers) {
        let what = format!("{} {ds}", file.display());
        let a: Array<f64> = read_hdf5(file.to_str().unwrap(), ds, chunks.clone())
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let got = a.compute().unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_matches(&what, &got, want);
    }
    eprintln!("checked {} HDF5 datasets against h5py", cases.len());
}
