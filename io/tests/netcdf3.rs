//! The NetCDF classic header parser and writer on raw bytes: round trips, every
//! truncation of a real header, and random bytes never panic or over-allocate.

use brisk_io::netcdf3::{self, header, Data, Dim, NcError, NcFile, NewVar};
use proptest::prelude::*;

#[path = "support/nc_sample.rs"]
mod nc_sample;

fn sample() -> NcFile {
    nc_sample::sample()
}

#[test]
fn written_files_parse_back_with_record_variables_interleaved() {
    let bytes = netcdf3::encode(&sample()).unwrap();
    let h = header::parse(&bytes).unwrap();
    assert_eq!(h.version, 1);
    assert_eq!(h.numrecs, 2);
    assert_eq!(h.dims[0].len, None);
    let t = h.var("t").unwrap();
    assert_eq!(h.shape(t), [2, 3, 2]);
    assert!(h.is_record(t));
    // time (4) + t (24) + s (4) per record.
    assert_eq!(h.record_size(), 32);
    assert_eq!(
        h.var("y").unwrap().attr("units"),
        Some(&header::AttrValue::Text("m".into()))
    );
    let err = h.var("nope").unwrap_err().to_string();
    assert!(err.contains("nope") && err.contains("\"t\""), "{err}");
}

#[test]
fn slabs_of_record_and_fixed_variables() {
    let dir = std::env::temp_dir().join(format!("brisk-nc3-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s.nc");
    std::fs::write(&path, netcdf3::encode(&sample()).unwrap()).unwrap();
    let f = netcdf3::open(path.to_str().unwrap(), &Default::default()).unwrap();
    let h = &f.header;
    let t = h.var("t").unwrap();
    let all: Vec<f64> = f.read(t, &[0, 0, 0], &[2, 3, 2], |x| x).unwrap();
    assert_eq!(all, (0..12).map(|i| i as f64 * 0.5).collect::<Vec<_>>());
    let part: Vec<f64> = f.read(t, &[1, 1, 1], &[1, 2, 1], |x| x).unwrap();
    assert_eq!(part, [4.5, 5.5]);
    let s: Vec<f64> = f
        .read(h.var("s").unwrap(), &[0, 1], &[2, 1], |x| x)
        .unwrap();
    assert_eq!(s, [-2.0, -4.0]);
    let y: Vec<f64> = f.read(h.var("y").unwrap(), &[1], &[2], |x| x).unwrap();
    assert_eq!(y, [20.0, 30.0]);
    let flag: Vec<f64> = f.read(h.var("flag").unwrap(), &[0], &[2], |x| x).unwrap();
    assert_eq!(flag, [-1.0, 7.0]);
    let time: Vec<f64> = f.read(h.var("time").unwrap(), &[0], &[2], |x| x).unwrap();
    assert_eq!(time, [0.0, 6.0]);
    let err = f
        .read(t, &[0, 0, 0], &[3, 1, 1], |x| x)
        .unwrap_err()
        .to_string();
    assert!(err.contains("do not fit"), "{err}");
}

#[test]
fn every_truncation_of_a_header_is_an_error() {
    let bytes = netcdf3::encode(&sample()).unwrap();
    let full = header::parse(&bytes).unwrap().len as usize;
    for n in 0..full {
        match header::parse(&bytes[..n]) {
            Err(NcError::Truncated { .. }) | Err(NcError::NotNetcdf3 { .. }) => {}
            other => panic!("{n} bytes: {other:?}"),
        }
    }
}

#[test]
fn hostile_counts_do_not_allocate() {
    // A dimension list claiming four billion entries, in twelve bytes.
    let mut b = b"CDF\x01\x00\x00\x00\x00\x00\x00\x00\x0a\xff\xff\xff\xff".to_vec();
    b.extend_from_slice(&[0, 0, 0, 1, b'x', 0, 0, 0]);
    assert!(header::parse(&b).is_err());
    // A name of 2^31 bytes.
    let b = b"CDF\x01\x00\x00\x00\x00\x00\x00\x00\x0a\x00\x00\x00\x01\x7f\xff\xff\xff";
    assert!(header::parse(b).is_err());
}

proptest! {
    #[test]
    fn random_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..400), version in prop_oneof![Just(1u8), Just(2), Just(5)]) {
        let mut b = b"CDF".to_vec();
        b.push(version);
        b.extend(tail);
        let _ = header::parse(&b);
    }

    #[test]
    fn mutated_headers_never_panic(at in 4usize..200, byte in any::<u8>()) {
        let mut b = netcdf3::encode(&sample()).unwrap();
        if at < b.len() {
            b[at] = byte;
        }
        let _ = header::parse(&b);
    }
}

#[test]
fn headers_claiming_more_than_the_file_holds_are_refused_at_open() {
    let dir = std::env::temp_dir().join(format!("brisk-nc3-big-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut bytes = netcdf3::encode(&sample()).unwrap();
    // Record count near 2^32: no per-record work may follow from it.
    bytes[4..8].copy_from_slice(&(u32::MAX - 1).to_be_bytes());
    let path = dir.join("many-records.nc");
    std::fs::write(&path, &bytes).unwrap();
    let err = netcdf3::open(path.to_str().unwrap(), &Default::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("many-records.nc") && err.contains("the file has"),
        "{err}"
    );
    // A variable beginning near the end of the 64-bit range (CDF-2).
    let mut f = sample();
    f.vars.truncate(2);
    let mut bytes = netcdf3::encode(&f).unwrap();
    let h = header::parse(&bytes).unwrap();
    let begin = h.var("flag").unwrap().begin as u32;
    let at = bytes
        .windows(4)
        .rposition(|w| w == begin.to_be_bytes())
        .unwrap();
    bytes[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    let path = dir.join("far.nc");
    std::fs::write(&path, &bytes).unwrap();
    assert!(netcdf3::open(path.to_str().unwrap(), &Default::default()).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A file with no records yet, whose record variables begin past its end (the
/// libnetcdf writer places them after the padded fixed variables, as in Daymet's
/// files): it opens, and its record variables have no values.
#[test]
fn record_variables_without_records_may_begin_past_the_end_of_the_file() {
    let dir = std::env::temp_dir().join(format!("brisk-nc3-norec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut f = sample();
    f.vars.retain(|v| v.name == "y");
    f.vars.push(NewVar::new("time", &[0], Data::Int(vec![])));
    let mut bytes = netcdf3::encode(&f).unwrap();
    let h = header::parse(&bytes).unwrap();
    assert_eq!(h.numrecs, 0);
    let begin = h.var("time").unwrap().begin as u32;
    let at = bytes
        .windows(4)
        .rposition(|w| w == begin.to_be_bytes())
        .unwrap();
    let past_the_end = bytes.len() as u32 + 4;
    bytes[at..at + 4].copy_from_slice(&past_the_end.to_be_bytes());
    let path = dir.join("no-records.nc");
    std::fs::write(&path, &bytes).unwrap();
    let o = netcdf3::open(path.to_str().unwrap(), &Default::default()).unwrap();
    let t = o.header.var("time").unwrap();
    assert_eq!(o.header.shape(t), [0]);
    assert!(o.read(t, &[0], &[0], |x| x).unwrap().is_empty());
    let y = o.header.var("y").unwrap();
    assert_eq!(o.read(y, &[0], &[3], |x| x).unwrap(), [10.0, 20.0, 30.0]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Float slabs read straight into `f32` (local files: the bytes land in the result
/// and are swapped in place) equal the generic read, whichever path a slab takes;
/// a file cut short after it was opened is an error naming it.
#[test]
fn float_slabs_read_straight_into_f32() {
    let (ny, nx) = (200usize, 200usize);
    let values: Vec<f32> = (0..3 * ny * nx).map(|i| (i as f32).sin() * 300.0).collect();
    let file = NcFile {
        dims: vec![
            Dim {
                name: "time".into(),
                len: None,
            },
            Dim {
                name: "y".into(),
                len: Some(ny as u64),
            },
            Dim {
                name: "x".into(),
                len: Some(nx as u64),
            },
        ],
        attrs: vec![],
        vars: vec![
            NewVar::new("time", &[0], Data::Int(vec![0, 6, 12])),
            NewVar::new("t", &[0, 1, 2], Data::Float(values.clone())),
        ],
    };
    let dir = std::env::temp_dir().join(format!("brisk-nc3-f32-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("f.nc");
    std::fs::write(&path, netcdf3::encode(&file).unwrap()).unwrap();
    let f = netcdf3::open(path.to_str().unwrap(), &Default::default()).unwrap();
    assert!(f.local.is_some());
    let t = f.header.var("t").unwrap();
    let slabs: [([u64; 3], [u64; 3]); 4] = [
        ([0, 0, 0], [3, ny as u64, nx as u64]), // whole records, read in place
        ([1, 0, 0], [2, ny as u64, nx as u64]),
        ([0, 10, 0], [3, 150, nx as u64]), // 120 KB pieces, in place
        ([1, 3, 5], [2, 7, 11]),           // small pieces: range reads
    ];
    for (start, count) in slabs {
        let fast = f.read_f32(t, &start, &count).unwrap();
        let generic: Vec<f32> = f.read(t, &start, &count, |x| x as f32).unwrap();
        assert_eq!(fast, generic, "{start:?} {count:?}");
    }
    assert_eq!(
        f.read_f32(t, &[0, 0, 0], &[3, ny as u64, nx as u64])
            .unwrap(),
        values
    );
    let not_float = f.read_f32(f.header.var("time").unwrap(), &[0], &[3]);
    assert!(not_float.unwrap_err().to_string().contains("not float"));
    // Cut short after opening (another process rewriting it).
    let len = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len - 50_000)
        .unwrap();
    let err = f
        .read_f32(t, &[0, 0, 0], &[3, ny as u64, nx as u64])
        .unwrap_err()
        .to_string();
    assert!(err.contains("f.nc"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
