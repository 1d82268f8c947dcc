//! The NetCDF classic file of the io tests: a record dimension, record variables
//! interleaved with fixed ones, and global and variable attributes.

use brisk_io::netcdf3::{Data, Dim, NcFile, NewVar};

/// The sample file.
pub fn sample() -> NcFile {
    NcFile {
        dims: vec![
            Dim {
                name: "time".into(),
                len: None,
            },
            Dim {
                name: "y".into(),
                len: Some(3),
            },
            Dim {
                name: "x".into(),
                len: Some(2),
            },
        ],
        attrs: vec![
            ("title".into(), Data::Char(b"sample".to_vec())),
            ("version".into(), Data::Int(vec![3])),
        ],
        vars: vec![
            NewVar::new("y", &[1], Data::Double(vec![10.0, 20.0, 30.0])).text("units", "m"),
            NewVar::new("flag", &[2], Data::Byte(vec![-1, 7])),
            NewVar::new("time", &[0], Data::Int(vec![0, 6])),
            NewVar::new(
                "t",
                &[0, 1, 2],
                Data::Float((0..12).map(|i| i as f32 * 0.5).collect()),
            ),
            NewVar::new("s", &[0, 2], Data::Short(vec![1, -2, 3, -4])),
        ],
    }
}
