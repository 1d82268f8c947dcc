//! Daily NetCDF files of 2-metre temperature on a 0.25° global grid, shaped like the
//! ERA-Interim files of Dask's "Distributed Dask Arrays" post.

use crate::error;
use brisk_core::Result;
use brisk_io::netcdf3::{self, Data, Dim, NcFile, NewVar};
use std::path::{Path, PathBuf};

/// Grid points from pole to pole (90° to -90° by 0.25°).
pub const LATITUDES: usize = 721;
/// Grid points around the globe (0° to 359.75° by 0.25°).
pub const LONGITUDES: usize = 1440;
/// Time steps a day (every six hours).
pub const STEPS_PER_DAY: usize = 4;

fn noise(seed: u64, i: u64) -> f32 {
    let mut z = seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    ((z >> 40) as f32 / (1u64 << 24) as f32) * 3.0 - 1.5
}

/// The values of one day: `STEPS_PER_DAY × LATITUDES × LONGITUDES` float32 Kelvin,
/// warm at the equator and cold at the poles, with seasons, a daily cycle that
/// follows the sun around the globe, a land/sea pattern and noise.
pub fn temperature_day(day: usize, seed: u64) -> Vec<f32> {
    let lat: Vec<f32> = (0..LATITUDES)
        .map(|i| (90.0 - 0.25 * i as f32).to_radians())
        .collect();
    let lon: Vec<f32> = (0..LONGITUDES)
        .map(|j| (0.25 * j as f32).to_radians())
        .collect();
    let season = (std::f32::consts::TAU * (day as f32 - 80.0) / 365.0).sin();
    let mut out = Vec::with_capacity(STEPS_PER_DAY * LATITUDES * LONGITUDES);
    for step in 0..STEPS_PER_DAY {
        let hour = step as f32 * 24.0 / STEPS_PER_DAY as f32;
        // The daily cycle peaks where the local time is 14:00.
        let sun: Vec<f32> = lon
            .iter()
            .map(|&l| (std::f32::consts::TAU * (hour / 24.0 - 14.0 / 24.0) + l).cos())
            .collect();
        let land: Vec<f32> = lon.iter().map(|&l| (3.0 * l).sin()).collect();
        for (i, &phi) in lat.iter().enumerate() {
            let c = phi.cos();
            let base = 245.0 + 55.0 * c * c + 12.0 * season * phi.sin();
            let daily = 6.0 * c;
            let sea = 3.0 * (2.0 * phi).cos();
            let row = ((day * STEPS_PER_DAY + step) * LATITUDES + i) as u64 * LONGITUDES as u64;
            for j in 0..LONGITUDES {
                out.push(base + daily * sun[j] + sea * land[j] + noise(seed, row + j as u64));
            }
        }
    }
    out
}

/// Writes `days` daily NetCDF classic files `t2m-DDDD.nc` into `dir`, each with the
/// variable `t2m(time, latitude, longitude)` float32 in Kelvin (4 × 721 × 1440, time
/// the record dimension) and its coordinates; returns their paths. The same
/// arguments write the same bytes.
pub fn temperature(days: usize, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)
        .map_err(|e| error::io(format!("cannot create {}", dir.display()), e))?;
    let latitude: Vec<f32> = (0..LATITUDES).map(|i| 90.0 - 0.25 * i as f32).collect();
    let longitude: Vec<f32> = (0..LONGITUDES).map(|j| 0.25 * j as f32).collect();
    let mut paths = Vec::with_capacity(days);
    for day in 0..days {
        // Hours since 2014-01-01.
        let time: Vec<f64> = (0..STEPS_PER_DAY)
            .map(|s| (day * 24 + s * 24 / STEPS_PER_DAY) as f64)
            .collect();
        let file = NcFile {
            dims: vec![
                Dim {
                    name: "time".into(),
                    len: None,
                },
                Dim {
                    name: "latitude".into(),
                    len: Some(LATITUDES as u64),
                },
                Dim {
                    name: "longitude".into(),
                    len: Some(LONGITUDES as u64),
                },
            ],
            attrs: vec![(
                "title".into(),
                Data::Char(b"Generated 2-metre temperature".to_vec()),
            )],
            vars: vec![
                NewVar::new("latitude", &[1], Data::Float(latitude.clone()))
                    .text("units", "degrees_north"),
                NewVar::new("longitude", &[2], Data::Float(longitude.clone()))
                    .text("units", "degrees_east"),
                NewVar::new("time", &[0], Data::Double(time))
                    .text("units", "hours since 2014-01-01 00:00:00"),
                NewVar::new(
                    "t2m",
                    &[0, 1, 2],
                    Data::Float(temperature_day(day, 0x7E3A_u64)),
                )
                .text("units", "K")
                .text("long_name", "2 metre temperature"),
            ],
        };
        let bytes = netcdf3::encode(&file).map_err(|source| crate::Error::Netcdf {
            context: String::new(),
            error: source,
        })?;
        let path = dir.join(format!("t2m-{day:04}.nc"));
        std::fs::write(&path, bytes)
            .map_err(|e| error::io(format!("cannot write {}", path.display()), e))?;
        paths.push(path);
    }
    Ok(paths)
}
