//! Arrays from and to HDF5 datasets, and NetCDF-4 files (HDF5 inside) read like
//! classic ones: the `hdf5` feature, against the system's libhdf5 and libnetcdf.
#![cfg(feature = "hdf5")]

mod support;

use brisk_collections::array::{
    self, read_hdf5, read_netcdf, Array, AxisChunks, ChunkSpec, NetcdfOptions,
};
use brisk_scheduler as _;
use ndarray::{ArrayD, Axis, IxDyn};
use support::scratch;

#[test]
fn datasets_round_trip_and_blocks_read_their_hyperslab() {
    let dir = scratch("roundtrip");
    let path = dir.join("a.h5");
    let path = path.to_str().unwrap();
    let x = ArrayD::from_shape_fn(IxDyn(&[9, 7, 5]), |i| {
        (i[0] * 35 + i[1] * 5 + i[2]) as f64 * 0.25 - 30.0
    });
    let a = array::from_array(&x, &[4, 7, 5]).unwrap();
    a.to_hdf5(path, "x").unwrap();
    a.astype::<i32>().unwrap().to_hdf5(path, "xi").unwrap();
    for chunks in [
        ChunkSpec::Uniform(vec![1, 1, 5]),
        ChunkSpec::Uniform(vec![4, 3, 2]),
        ChunkSpec::Explicit(vec![vec![2, 7], vec![7], vec![1, 4]]),
    ] {
        let b: Array<f64> = read_hdf5(path, "x", chunks.clone()).unwrap();
        assert_eq!(b.shape().unwrap(), [9, 7, 5]);
        assert_eq!(b.compute().unwrap(), x, "{chunks:?}");
        let m = b.mean(&[0], false).unwrap().compute().unwrap();
        let want = x.mean_axis(Axis(0)).unwrap();
        assert!(m.iter().zip(want.iter()).all(|(p, q)| (p - q).abs() < 1e-9));
    }
    let b: Array<f64> = read_hdf5(path, "x", &[4, 7, 5]).unwrap();
    assert_eq!(b.chunks()[0], AxisChunks::Known(vec![4, 4, 1]));
    let ints: Array<i32> = read_hdf5(path, "xi", &[5, 5, 5]).unwrap();
    assert_eq!(ints.compute().unwrap(), x.mapv(|v| v as i32));
    let err = read_hdf5::<f64>(path, "nope", &[1, 1, 1])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("nope") && err.contains("/x") && err.contains("/xi"),
        "{err}"
    );
    let err = read_hdf5::<f64>(dir.join("missing.h5").to_str().unwrap(), "x", &[1, 1, 1])
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing.h5"), "{err}");
}

/// `nccopy -k nc4 from to`, or `None` with a message where netcdf-bin is missing.
fn to_netcdf4(from: &str, to: &str) -> Option<()> {
    match std::process::Command::new("nccopy")
        .args(["-k", "nc4", from, to])
        .status()
    {
        Ok(s) if s.success() => Some(()),
        other => {
            assert!(
                std::env::var("BRISK_PYTHON").is_err(),
                "the test script installs netcdf-bin, but nccopy failed: {other:?}"
            );
            eprintln!("skipping: nccopy (Debian's netcdf-bin) is not available");
            None
        }
    }
}

#[test]
fn netcdf4_files_read_like_their_classic_originals() {
    let dir = scratch("nc4");
    let x = ArrayD::from_shape_fn(IxDyn(&[6, 4, 3]), |i| {
        (i[0] * 12 + i[1] * 3 + i[2]) as f32 + 0.5
    });
    let classic = dir.join("c.nc");
    array::from_array(&x, &[6, 4, 3])
        .unwrap()
        .to_netcdf(
            classic.to_str().unwrap(),
            "v",
            &["t", "y", "x"],
            &Default::default(),
        )
        .unwrap();
    let nc4 = dir.join("n.nc");
    if to_netcdf4(classic.to_str().unwrap(), nc4.to_str().unwrap()).is_none() {
        return;
    }
    let opts = NetcdfOptions {
        chunks: vec![Some(4), Some(3), None],
        ..Default::default()
    };
    let a = read_netcdf::<f32>(&[nc4.to_str().unwrap()], "v", &opts).unwrap();
    assert_eq!(a.chunks()[0], AxisChunks::Known(vec![4, 2]));
    assert_eq!(a.compute().unwrap(), x);
    let err = read_netcdf::<f32>(&[nc4.to_str().unwrap()], "w", &opts)
        .unwrap_err()
        .to_string();
    assert!(err.contains("'w'") && err.contains("\"v\""), "{err}");
    // A real NOAA file converted to NetCDF-4 gives the same values, masks included.
    let noaa = "/usr/share/ferret-vis/data/levitus_climatology.cdf";
    if std::path::Path::new(noaa).exists() {
        let converted = dir.join("levitus.nc");
        to_netcdf4(noaa, converted.to_str().unwrap()).unwrap();
        let a = read_netcdf::<f64>(&[noaa], "TEMP", &NetcdfOptions::default())
            .unwrap()
            .compute()
            .unwrap();
        let b = read_netcdf::<f64>(
            &[converted.to_str().unwrap()],
            "TEMP",
            &NetcdfOptions {
                chunks: vec![Some(7)],
                ..Default::default()
            },
        )
        .unwrap()
        .compute()
        .unwrap();
        assert_eq!(a.shape(), b.shape());
        assert!(a
            .iter()
            .zip(b.iter())
            .all(|(p, q)| p == q || (p.is_nan() && q.is_nan())));
        assert!(a.iter().any(|v| v.is_nan()), "the land is masked");
    }
}
