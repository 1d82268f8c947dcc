//! Arrays read from NetCDF files on a real S3-compatible server: the values are
//! those of the same files on local disk, and a record variable (the unlimited
//! time axis, the layout of daily weather files) costs at most two GET requests
//! per file: the header when the graph is built, then the variable's records in
//! one ranged read.

#[path = "../../io/tests/support/moto.rs"]
mod moto;

use brisk_collections::array::{read_netcdf, NetcdfOptions};
use brisk_io::netcdf3::{encode, Data, Dim, NcFile, NewVar};
use brisk_io::objects;
use brisk_scheduler as _;

const FILES: usize = 4;
const HOURS: usize = 24;
const Y: usize = 10;
const X: usize = 12;

/// A day of hourly records of two variables, so that the records of `t` lie
/// between those of `p` in the file.
fn day(d: usize) -> (Vec<u8>, Vec<f32>) {
    let n = HOURS * Y * X;
    let t: Vec<f32> = (0..n).map(|i| (d * n + i) as f32 * 0.5).collect();
    let p: Vec<f64> = (0..n).map(|i| -((d * n + i) as f64)).collect();
    let file = NcFile {
        dims: vec![
            Dim {
                name: "time".into(),
                len: None,
            },
            Dim {
                name: "y".into(),
                len: Some(Y as u64),
            },
            Dim {
                name: "x".into(),
                len: Some(X as u64),
            },
        ],
        attrs: vec![],
        vars: vec![
            NewVar::new("t", &[0, 1, 2], Data::Float(t.clone())),
            NewVar::new("p", &[0, 1, 2], Data::Double(p)),
        ],
    };
    (encode(&file).unwrap(), t)
}

#[test]
fn record_variables_from_s3_take_two_gets_per_file_and_match_local_disk() {
    let Some(server) = moto::start_moto() else {
        return;
    };
    assert_eq!(moto::http(server.port, "PUT", "/weather").unwrap(), 200);
    let store = moto::options(server.port);
    let dir = std::env::temp_dir().join(format!("brisk-array-s3-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut want = Vec::new();
    for d in 0..FILES {
        let (bytes, t) = day(d);
        std::fs::write(dir.join(format!("day{d}.nc")), &bytes).unwrap();
        objects::put(&format!("s3://weather/2016/day{d}.nc"), bytes, &store).unwrap();
        want.extend(t);
    }
    server.start_recording();
    let options = NetcdfOptions {
        store: store.clone(),
        ..Default::default()
    };
    let remote = read_netcdf::<f32>(&["s3://weather/2016/day*.nc"], "t", &options)
        .unwrap()
        .compute()
        .unwrap();
    let gets: Vec<String> = server
        .recorded()
        .into_iter()
        .filter(|(method, url)| method == "GET" && !url.contains("list-type"))
        .map(|(_, url)| url)
        .collect();
    // Every file's data is fetched (the recording sees the requests)...
    for d in 0..FILES {
        assert!(
            gets.iter().any(|u| u.contains(&format!("day{d}.nc"))),
            "{gets:#?}"
        );
    }
    // ...with at most two requests a file.
    assert!(
        gets.len() <= 2 * FILES,
        "{} GET requests for {FILES} files: {gets:#?}",
        gets.len()
    );
    assert_eq!(remote.shape(), [FILES * HOURS, Y, X]);
    assert_eq!(remote.iter().copied().collect::<Vec<f32>>(), want);
    let local = read_netcdf::<f32>(
        &[&format!("{}/day*.nc", dir.display())],
        "t",
        &NetcdfOptions::default(),
    )
    .unwrap()
    .compute()
    .unwrap();
    assert_eq!(local, remote);
    let _ = std::fs::remove_dir_all(&dir);
}
