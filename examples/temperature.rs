//! The 2016 "Distributed Dask Arrays" session on generated weather data: daily
//! NetCDF files of 2-metre temperature joined along time, then `x[0,0,0]`, `x[0]`,
//! `x.mean()`, the geo-located z-score `(x - x.mean(axis=0)) / x.std(axis=0)`,
//! `z[100]`, and the mean of z by latitude over time, each with its wall time.
//!
//! ```text
//! cargo run --release --example temperature             # generates 8 days (133 MB)
//! cargo run --release --example temperature -- DIR [DAYS]  # reads DIR/*.nc (generates DAYS if empty)
//! ```

use brisk::collections::array::{read_netcdf, Ix, NetcdfOptions};
use brisk::collections::datasets::temperature;
use std::path::PathBuf;
use std::time::Instant;

fn timed<T>(label: &str, f: impl FnOnce() -> brisk::Result<T>) -> brisk::Result<T> {
    let t = Instant::now();
    let out = f()?;
    println!("  ({label}: {:.3} s)", t.elapsed().as_secs_f64());
    Ok(out)
}

fn main() -> anyhow::Result<()> {
    brisk::init();
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("brisk-temperature"));
    let days: usize = args.next().map(|d| d.parse()).transpose()?.unwrap_or(8);
    let has_nc = std::fs::read_dir(&dir)
        .map(|d| {
            d.flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "nc"))
        })
        .unwrap_or(false);
    if !has_nc {
        let t = Instant::now();
        temperature(days, &dir)?;
        println!(
            "generated {days} daily files in {} ({:.2} s)",
            dir.display(),
            t.elapsed().as_secs_f64()
        );
    }
    let source = format!("{}/*.nc", dir.display());
    let x = read_netcdf::<f32>(&[&source], "t2m", &NetcdfOptions::default())?;
    let shape = x.shape()?;
    println!(
        "x: {shape:?} float32 ({:.0} MB) in {} blocks of {:?}",
        x.nbytes()? as f64 / 1e6,
        x.npartitions(),
        x.chunks()
            .iter()
            .map(|c| c.sizes().map_or(0, |s| s[0]))
            .collect::<Vec<_>>()
    );

    let v = timed("x[0, 0, 0]", || {
        x.get(&[Ix::i(0), Ix::i(0), Ix::i(0)])?.compute()
    })?;
    println!("x[0, 0, 0] = {:.2} K", v[[]]);

    let first = timed("x[0]", || x.index(0)?.compute())?;
    println!(
        "x[0]: {:?}, mean {:.2} K",
        first.shape(),
        first.mean().unwrap_or(f32::NAN)
    );

    let mean = timed("x.mean()", || x.mean(&[], false)?.compute())?;
    println!("x.mean() = {:.3} K", mean[[]]);

    let z = x.sub(&x.mean(&[0], false)?)?.div(&x.std(&[0], 0, false)?)?;
    let zs = timed("z = (x - x.mean(axis=0)) / x.std(axis=0); z.std()", || {
        z.std(&[], 0, false)?.compute()
    })?;
    println!("z.std() = {:.4} (1 by construction)", zs[[]]);

    // z[100] as in the post (the last step when there are fewer).
    let i = 100.min(shape[0] - 1);
    let zi = timed(&format!("z[{i}]"), || z.index(i as isize)?.compute())?;
    println!(
        "z[{i}]: {:?}, range {:.2} .. {:.2}",
        zi.shape(),
        zi.fold(f32::INFINITY, |a, &b| a.min(b)),
        zi.fold(f32::NEG_INFINITY, |a, &b| a.max(b))
    );

    let by_lat = timed("z.mean(axis=-1) by latitude over time", || {
        z.mean(&[-1], false)?.compute()
    })?;
    println!(
        "mean of z by latitude over time: {:?}; at the equator, first step: {:.4}",
        by_lat.shape(),
        by_lat[[0, 360]]
    );
    Ok(())
}
