//! Fuzzing the NetCDF classic reader: files edited from valid CDF-1, CDF-2 and
//! CDF-5 files (see `support/fuzz.rs`) have their header parsed; those whose header
//! parses are written to disk, opened, and every variable read whole and by its
//! last value. Nothing panics or allocates beyond what the file's size allows, and
//! what is read has the variable's shape.
//!
//! The target runs for `BRISK_FUZZ_SECONDS` (default 3); `scripts/test.sh` runs it
//! for a minute. A failure prints the shrunk file as `hex("…")`: it belongs in the
//! regression tests at the end of this file.

#[path = "support/fuzz.rs"]
mod fuzz;
#[path = "support/nc_sample.rs"]
mod nc_sample;

use brisk_io::netcdf3::{self, header, Data, Dim, NcFile, NcType, NewVar, Opened, Var};
use brisk_io::url::StoreOptions;
use fuzz::{largest_allocation, Corpus, Scratch};
use std::path::Path;

#[global_allocator]
static ALLOCATOR: fuzz::Tracking = fuzz::Tracking;

fn ensure(condition: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if condition {
        Ok(())
    } else {
        Err(what())
    }
}

/// The most a reader may allocate at once for a file of `size` bytes: a few times
/// its size (values widen to `f64`, vectors double as they grow) and room for
/// bounded tables of the process (the cache of opened headers grows to about
/// 1.4 MB), never what a count in the header claims.
fn allowed(size: usize) -> usize {
    32 * size + (8 << 20)
}

// --- seeds

/// The file of the NetCDF tests: record variables interleaved, attributes.
fn records_file() -> NcFile {
    nc_sample::sample()
}

/// Every classic type in fixed variables, no records.
fn fixed_file() -> NcFile {
    NcFile {
        dims: vec![Dim {
            name: "n".into(),
            len: Some(3),
        }],
        attrs: vec![("history".into(), Data::Char(b"made by hand".to_vec()))],
        vars: vec![
            NewVar::new("b", &[0], Data::Byte(vec![1, -2, 3])),
            NewVar::new("c", &[0], Data::Char(b"abc".to_vec())),
            NewVar::new("s", &[0], Data::Short(vec![1, -2, 3])),
            NewVar::new("i", &[0], Data::Int(vec![1, -2, 3])),
            NewVar::new("f", &[0], Data::Float(vec![1.0, -2.0, 3.5])),
            NewVar::new("d", &[0], Data::Double(vec![1.0, -2.0, 3.5])),
            NewVar::new("scalar", &[], Data::Double(vec![42.0])),
        ],
    }
}

/// Record variables only (no fixed variable pins the other dimensions' lengths).
fn only_records_file() -> NcFile {
    NcFile {
        dims: vec![
            Dim {
                name: "time".into(),
                len: None,
            },
            Dim {
                name: "lat".into(),
                len: Some(2),
            },
            Dim {
                name: "lon".into(),
                len: Some(2),
            },
        ],
        attrs: vec![],
        vars: vec![NewVar::new(
            "temp",
            &[0, 1, 2],
            Data::Short(vec![1, 2, 3, 4, 5, 6, 7, 8]),
        )],
    }
}

/// A CDF-2 or CDF-5 file written by hand (the writer makes CDF-1 when offsets fit):
/// one fixed variable per type of `types` over a dimension `n` of 3 (values 1, 2,
/// 3), and `numrecs` records of two record variables: `r` (an `int`: 10, 20...)
/// and `rm` over a dimension `m` of 2 (`int`s: 1, 2, 3, 4...).
fn wide_file(version: u8, types: &[(NcType, u32)], numrecs: u64) -> Vec<u8> {
    struct Out {
        version: u8,
        buf: Vec<u8>,
    }
    impl Out {
        fn u32(&mut self, v: u32) {
            self.buf.extend_from_slice(&v.to_be_bytes());
        }
        fn count(&mut self, v: u64) {
            if self.version == 5 {
                self.buf.extend_from_slice(&v.to_be_bytes());
            } else {
                self.u32(v as u32);
            }
        }
        fn offset(&mut self, v: u64) {
            self.buf.extend_from_slice(&v.to_be_bytes());
        }
        fn name(&mut self, s: &str) {
            self.count(s.len() as u64);
            self.buf.extend_from_slice(s.as_bytes());
            while self.buf.len() % 4 != 0 {
                self.buf.push(0);
            }
        }
        /// A variable without attributes.
        fn var(&mut self, name: &str, dims: &[u64], code: u32, vsize: u64, begin: u64) {
            self.name(name);
            self.count(dims.len() as u64);
            for d in dims {
                self.count(*d);
            }
            self.u32(0);
            self.count(0);
            self.u32(code);
            self.count(vsize);
            self.offset(begin);
        }
    }
    let fixed_bytes = |t: &NcType| (3 * t.size() as u64).div_ceil(4) * 4;
    let header = |begins: &[u64]| {
        let mut o = Out {
            version,
            buf: vec![b'C', b'D', b'F', version],
        };
        o.count(numrecs);
        o.u32(0x0A);
        o.count(3);
        for (name, len) in [("rec", 0), ("n", 3), ("m", 2)] {
            o.name(name);
            o.count(len);
        }
        o.u32(0x0C);
        o.count(1);
        o.name("title");
        o.u32(2);
        o.count(4);
        o.buf.extend_from_slice(b"wide");
        o.u32(0x0B);
        o.count(types.len() as u64 + 2);
        for (i, (t, code)) in types.iter().enumerate() {
            o.var(&format!("v{code}"), &[1], *code, fixed_bytes(t), begins[i]);
        }
        o.var("r", &[0], 4, 4, begins[types.len()]);
        o.var("rm", &[0, 2], 4, 8, begins[types.len() + 1]);
        o.buf
    };
    let mut at = header(&vec![0; types.len() + 2]).len() as u64;
    let mut begins = Vec::new();
    for t in types {
        begins.push(at);
        at += fixed_bytes(&t.0);
    }
    begins.extend([at, at + 4]);
    let mut out = header(&begins);
    for (t, _) in types {
        for v in 1..=3u64 {
            match t {
                NcType::Float => out.extend_from_slice(&(v as f32).to_be_bytes()),
                NcType::Double => out.extend_from_slice(&(v as f64).to_be_bytes()),
                _ => out.extend_from_slice(&v.to_be_bytes()[8 - t.size()..]),
            }
        }
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    for r in 0..numrecs as i32 {
        for v in [10 * (r + 1), 2 * r + 1, 2 * r + 2] {
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
    out
}

const CLASSIC_TYPES: [(NcType, u32); 6] = [
    (NcType::Byte, 1),
    (NcType::Char, 2),
    (NcType::Short, 3),
    (NcType::Int, 4),
    (NcType::Float, 5),
    (NcType::Double, 6),
];

const CDF5_TYPES: [(NcType, u32); 5] = [
    (NcType::UByte, 7),
    (NcType::UShort, 8),
    (NcType::UInt, 9),
    (NcType::Int64, 10),
    (NcType::UInt64, 11),
];

fn seeds() -> Vec<Vec<u8>> {
    let mut streaming = netcdf3::encode(&only_records_file()).unwrap();
    // The record count left as written by a streaming writer (all ones).
    streaming[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
    // Record variables without a record yet.
    let mut empty = only_records_file();
    empty.vars[0].data = Data::Short(vec![]);
    vec![
        netcdf3::encode(&records_file()).unwrap(),
        netcdf3::encode(&fixed_file()).unwrap(),
        netcdf3::encode(&only_records_file()).unwrap(),
        streaming,
        netcdf3::encode(&empty).unwrap(),
        wide_file(2, &CLASSIC_TYPES[..3], 2),
        wide_file(5, &CDF5_TYPES, 2),
        wide_file(5, &CDF5_TYPES[..2], 0),
    ]
}

/// List tags, type codes and magic numbers, big-endian as the format has them.
fn netcdf_words() -> Vec<Vec<u8>> {
    let mut words: Vec<Vec<u8>> = [0x0Au32, 0x0B, 0x0C]
        .iter()
        .chain(&(1u32..=12).collect::<Vec<_>>())
        .map(|v| v.to_be_bytes().to_vec())
        .collect();
    words.extend([
        b"CDF\x01".to_vec(),
        b"CDF\x02".to_vec(),
        b"CDF\x05".to_vec(),
    ]);
    words
}

// --- the property

fn same(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
}

/// Reads `v` whole, as `f32` when it is a float, and by its last value alone.
fn read_variable(f: &Opened, v: &Var) -> Result<(), String> {
    let shape = f.header.shape(v);
    let start = vec![0u64; shape.len()];
    let elements = shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d));
    let (whole, largest) = largest_allocation(|| f.read(v, &start, &shape, |x| x));
    ensure(largest <= allowed(f.size as usize), || {
        format!("reading {} allocated {largest} bytes at once", v.name)
    })?;
    let Ok(whole) = whole else {
        return Ok(());
    };
    ensure(Some(whole.len() as u64) == elements, || {
        format!(
            "{} of shape {shape:?} read as {} values",
            v.name,
            whole.len()
        )
    })?;
    if v.nc_type == NcType::Float {
        let floats = f
            .read_f32(v, &start, &shape)
            .map_err(|e| format!("{} reads as f64 but not as f32: {e}", v.name))?;
        let widened: Vec<f64> = floats.iter().map(|&x| f64::from(x)).collect();
        ensure(same(&widened, &whole), || {
            format!("{} reads differently as f32", v.name)
        })?;
    }
    if let Some(last) = whole.last() {
        let end: Vec<u64> = shape.iter().map(|d| d - 1).collect();
        let ones = vec![1u64; shape.len()];
        let one = f
            .read(v, &end, &ones, |x| x)
            .map_err(|e| format!("the last value of {} does not read alone: {e}", v.name))?;
        ensure(same(&one, &[*last]), || {
            format!("the last value of {} reads as {one:?}, not {last}", v.name)
        })?;
    }
    Ok(())
}

/// The header of `bytes` parses or is an error; a file whose header parses opens
/// or is an error, and every variable reads (see [`read_variable`]) or is an error.
fn check_file(scratch: &Scratch, bytes: &[u8]) -> Result<(), String> {
    let (parsed, largest) = largest_allocation(|| header::parse(bytes));
    ensure(largest <= allowed(bytes.len()), || {
        format!(
            "parsing a header of {} bytes allocated {largest} at once",
            bytes.len()
        )
    })?;
    if parsed.is_err() {
        return Ok(());
    }
    let path = scratch.file("nc");
    std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
    let result = open_and_read(&path, bytes.len());
    let _ = std::fs::remove_file(&path);
    result
}

fn open_and_read(path: &Path, size: usize) -> Result<(), String> {
    let url = path.to_str().unwrap();
    let (opened, largest) = largest_allocation(|| netcdf3::open(url, &StoreOptions::default()));
    ensure(largest <= allowed(size), || {
        format!("opening a file of {size} bytes allocated {largest} at once")
    })?;
    let Ok(f) = opened else {
        return Ok(());
    };
    for v in &f.header.vars {
        read_variable(&f, v)?;
    }
    Ok(())
}

// --- the fuzz target

#[test]
fn fuzz_netcdf_files() {
    let scratch = Scratch::new("nc");
    let corpus = Corpus::new(seeds()).with_words(netcdf_words());
    fuzz::fuzz("netcdf", fuzz::inputs(corpus, 512), |bytes| {
        check_file(&scratch, &bytes.0)
    });
}

// --- the seeds are valid: what the fuzzer edits reads as it should

#[test]
fn every_seed_opens_and_reads() {
    let scratch = Scratch::new("nc-seeds");
    for (i, seed) in seeds().iter().enumerate() {
        let h = header::parse(seed).unwrap_or_else(|e| panic!("seed {i}: {e}"));
        assert!(!h.vars.is_empty());
        let path = scratch.file("nc");
        std::fs::write(&path, seed).unwrap();
        let f = netcdf3::open(path.to_str().unwrap(), &StoreOptions::default()).unwrap();
        for v in &f.header.vars {
            read_variable(&f, v).unwrap();
            let shape = f.header.shape(v);
            let start = vec![0; shape.len()];
            f.read(v, &start, &shape, |x| x).unwrap();
        }
    }
    // The hand-written wide files hold what they were written with.
    for (version, types) in [(2u8, &CLASSIC_TYPES[..]), (5, &CDF5_TYPES[..])] {
        for numrecs in [0, 2] {
            let path = scratch.file("nc");
            std::fs::write(&path, wide_file(version, types, numrecs)).unwrap();
            let f = netcdf3::open(path.to_str().unwrap(), &StoreOptions::default()).unwrap();
            assert_eq!(f.header.version, version);
            assert_eq!(f.header.numrecs, numrecs);
            for (t, code) in types {
                let v = f.header.var(&format!("v{code}")).unwrap();
                assert_eq!(v.nc_type, *t);
                let values: Vec<f64> = f.read(v, &[0], &[3], |x| x).unwrap();
                assert_eq!(values, [1.0, 2.0, 3.0], "{t:?}");
            }
            let r = f.header.var("r").unwrap();
            let rm = f.header.var("rm").unwrap();
            let n = numrecs as usize;
            assert_eq!(
                f.read(r, &[0], &[numrecs], |x| x).unwrap(),
                [10.0, 20.0][..n]
            );
            assert_eq!(
                f.read(rm, &[0, 0], &[numrecs, 2], |x| x).unwrap(),
                [1.0, 2.0, 3.0, 4.0][..2 * n]
            );
        }
    }
}

// --- regression tests: files the fuzzer found

/// A CDF-5 file without records whose record variable `rm` has a second axis of
/// 2^62 + 2: reading the (empty) variable computed the byte size of one of its
/// rows, which overflows. An empty slab now has no pieces to compute.
#[test]
fn an_empty_record_variable_with_a_huge_axis_reads_as_nothing() {
    let bytes = fuzz::hex(
        "4344460500000000000000000000000a000000000000000300000000000000037265630000000000\
         0000000000000000000000016e000000000000000000000300000000000000016d00000040000000\
         000000020000000c000000000000000100000000000000057469746c650000000000000200000000\
         00000004776964650000000b00000000000000040000000000000002763700000000000000000001\
         00000000000000010000000000000000000000000000000700000000000000040000000000000184\
         00000000000000027638000000000000000000010000000000000001000000000000000000000000\
         00000008000000000000000800000000000001880000000000000001720000000000000000000001\
         00000000000000000000000000000000000000000000000400000000000000040000000000000190\
         0000000000000002726d000000000000000000020000000000000000000000000000000200000000\
         00000000000000000000000400000000000000080000000000000194010203000001000200030000",
    );
    let scratch = Scratch::new("nc-regression");
    let path = scratch.file("nc");
    std::fs::write(&path, &bytes).unwrap();
    let f = netcdf3::open(path.to_str().unwrap(), &StoreOptions::default()).unwrap();
    let rm = f.header.var("rm").unwrap();
    assert_eq!(f.header.shape(rm), [0, (1 << 62) + 2]);
    let values = f.read(rm, &[0, 0], &[0, (1 << 62) + 2], |x| x).unwrap();
    assert!(values.is_empty());
    check_file(&scratch, &bytes).unwrap();
}

/// The same in a CDF-1 file: a record variable without records over two axes of
/// 2^32 - 1 `short`s, whose rows' byte size overflows 64 bits.
#[test]
fn an_empty_record_variable_with_huge_axes_reads_as_nothing() {
    let mut empty = only_records_file();
    empty.vars[0].data = Data::Short(vec![]);
    let mut bytes = netcdf3::encode(&empty).unwrap();
    let h = header::parse(&bytes).unwrap();
    assert_eq!(
        h.dims.iter().map(|d| d.len).collect::<Vec<_>>(),
        [None, Some(2), Some(2)]
    );
    // The lengths of `lat` and `lon`: each follows its name, padded to 4 bytes.
    for name in [&b"lat\0"[..], &b"lon\0"[..]] {
        let at = bytes.windows(4).position(|w| w == name).unwrap() + 4;
        bytes[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    }
    let scratch = Scratch::new("nc-regression-cdf1");
    let path = scratch.file("nc");
    std::fs::write(&path, &bytes).unwrap();
    let f = netcdf3::open(path.to_str().unwrap(), &StoreOptions::default()).unwrap();
    let temp = f.header.var("temp").unwrap();
    let shape = f.header.shape(temp);
    assert_eq!(shape, [0, u64::from(u32::MAX), u64::from(u32::MAX)]);
    assert!(f.read(temp, &[0, 0, 0], &shape, |x| x).unwrap().is_empty());
    check_file(&scratch, &bytes).unwrap();
}
