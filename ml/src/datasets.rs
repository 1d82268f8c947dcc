//! Data sets for models: seeded generators like scikit-learn's `make_classification`
//! and `make_regression`, the handwritten digits scikit-learn ships, and `.npy`
//! files (what the benchmark and the scikit-learn oracle exchange).
//!
//! ```
//! use brisk_ml::datasets::make_classification;
//! let (x, y) = make_classification(100, 20, 5, 10, 2, 0);
//! assert_eq!(x.dim(), (100, 20));
//! assert!(y.iter().all(|&c| c == 0.0 || c == 1.0));
//! ```

use crate::error::{Error, Result};
use brisk_collections::datasets::Rng;
use ndarray::{Array1, Array2, ArrayD, IxDyn};
use std::io::Read;
use std::path::Path;

/// A standard normal draw (Box–Muller).
pub fn normal(rng: &mut Rng) -> f64 {
    let u1 = rng.f64().max(f64::MIN_POSITIVE);
    let u2 = rng.f64();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A classification problem in the manner of scikit-learn's `make_classification`:
/// two Gaussian clusters per class centred on vertices of a hypercube (side 2) in
/// the `n_informative` first features, `n_redundant` random linear combinations of
/// them, the rest noise; 1 % of labels flipped; rows shuffled. Seeded by `seed`.
pub fn make_classification(
    n_samples: usize,
    n_features: usize,
    n_informative: usize,
    n_redundant: usize,
    n_classes: usize,
    seed: u64,
) -> (Array2<f64>, Array1<f64>) {
    let mut rng = Rng::new(seed);
    let n_features = n_features.max(1);
    let n_informative = n_informative.clamp(1, n_features);
    let n_redundant = n_redundant.min(n_features - n_informative);
    let n_classes = n_classes.max(2);
    let n_clusters = n_classes * 2;
    // Distinct hypercube vertices, one per cluster.
    let mut vertices: Vec<Vec<f64>> = Vec::with_capacity(n_clusters);
    while vertices.len() < n_clusters {
        let v: Vec<f64> = (0..n_informative)
            .map(|_| if rng.below(2) == 0 { -1.0 } else { 1.0 })
            .collect();
        if !vertices.contains(&v) || vertices.len() >= 1 << n_informative.min(20) {
            vertices.push(v);
        }
    }
    // A random linear map per cluster gives each its own covariance.
    let mixes: Vec<Array2<f64>> = (0..n_clusters)
        .map(|_| Array2::from_shape_fn((n_informative, n_informative), |_| 2.0 * rng.f64() - 1.0))
        .collect();
    let redundant = Array2::from_shape_fn((n_informative, n_redundant), |_| 2.0 * rng.f64() - 1.0);
    let mut x = Array2::<f64>::zeros((n_samples, n_features));
    let mut y = Array1::<f64>::zeros(n_samples);
    for i in 0..n_samples {
        let cluster = i % n_clusters;
        y[i] = (cluster % n_classes) as f64;
        let z: Array1<f64> = (0..n_informative).map(|_| normal(&mut rng)).collect();
        let informative = mixes[cluster].t().dot(&z) + Array1::from(vertices[cluster].clone());
        for j in 0..n_informative {
            x[[i, j]] = informative[j];
        }
        let r = informative.dot(&redundant);
        for j in 0..n_redundant {
            x[[i, n_informative + j]] = r[j];
        }
        for j in n_informative + n_redundant..n_features {
            x[[i, j]] = normal(&mut rng);
        }
        if rng.f64() < 0.01 {
            y[i] = rng.below(n_classes as u64) as f64;
        }
    }
    shuffle_rows(x, y, &mut rng)
}

/// A regression problem: `y = X·w + noise·N(0, 1)` with `n_informative` non-zero
/// weights drawn in [0, 100).
pub fn make_regression(
    n_samples: usize,
    n_features: usize,
    n_informative: usize,
    noise: f64,
    seed: u64,
) -> (Array2<f64>, Array1<f64>) {
    let mut rng = Rng::new(seed);
    let x = Array2::from_shape_fn((n_samples, n_features), |_| normal(&mut rng));
    let w: Array1<f64> = (0..n_features)
        .map(|j| {
            if j < n_informative {
                100.0 * rng.f64()
            } else {
                0.0
            }
        })
        .collect();
    let y = x.dot(&w) + Array1::from_shape_fn(n_samples, |_| noise * normal(&mut rng));
    (x, y)
}

fn shuffle_rows(x: Array2<f64>, y: Array1<f64>, rng: &mut Rng) -> (Array2<f64>, Array1<f64>) {
    let n = y.len();
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    (
        x.select(ndarray::Axis(0), &order),
        y.select(ndarray::Axis(0), &order),
    )
}

/// The handwritten digits of scikit-learn (`sklearn/datasets/data/digits.csv.gz`
/// in its wheel): 1,797 rows of 64 pixel values (0–16) followed by the digit.
pub fn load_digits(path: &Path) -> Result<(Array2<f64>, Array1<f64>)> {
    let err = |m: String| Error::Data {
        path: path.display().to_string(),
        message: m,
    };
    let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .map_err(|e| err(e.to_string()))?;
    let mut values = Vec::new();
    let mut labels = Vec::new();
    for (line_no, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != 65 {
            return Err(err(format!(
                "line {}: {} fields, expected 65",
                line_no + 1,
                fields.len()
            )));
        }
        for (c, f) in fields.iter().enumerate() {
            let v: f64 = f.trim().parse().map_err(|_| {
                err(format!(
                    "line {}, field {}: '{f}' is not a number",
                    line_no + 1,
                    c + 1
                ))
            })?;
            if c < 64 {
                values.push(v);
            } else {
                labels.push(v);
            }
        }
    }
    let n = labels.len();
    let x = Array2::from_shape_vec((n, 64), values).map_err(|e| err(e.to_string()))?;
    Ok((x, Array1::from(labels)))
}

/// Writes a float array as a `.npy` file.
pub fn write_npy<D: ndarray::Dimension>(path: &Path, a: &ndarray::Array<f64, D>) -> Result<()> {
    let bytes = brisk_collections::array::npy_bytes(&a.clone().into_dyn());
    std::fs::write(path, bytes).map_err(|e| Error::Data {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// Reads a `.npy` file of little-endian `f8`, `f4`, `i8` or `i4` values in C order
/// as floats.
pub fn read_npy(path: &Path) -> Result<ArrayD<f64>> {
    let err = |m: String| Error::Data {
        path: path.display().to_string(),
        message: m,
    };
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(err("not a .npy file (no magic string)".into()));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(err(format!("unsupported .npy version {v}"))),
    };
    let header = bytes
        .get(start..start + header_len)
        .ok_or_else(|| err("truncated header".into()))?;
    let header = String::from_utf8_lossy(header);
    let field = |name: &str| -> Option<String> {
        let at = header.find(&format!("'{name}'"))? + name.len() + 2;
        let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
        Some(rest.to_string())
    };
    let descr = field("descr").ok_or_else(|| err("no descr in header".into()))?;
    let descr = descr.trim_start_matches('\'');
    let dtype: String = descr.chars().take_while(|c| *c != '\'').collect();
    if field("fortran_order").is_some_and(|f| f.starts_with("True")) {
        return Err(err("Fortran-ordered arrays are not supported".into()));
    }
    let shape_text = field("shape").ok_or_else(|| err("no shape in header".into()))?;
    let inner: String = shape_text
        .trim_start_matches('(')
        .chars()
        .take_while(|c| *c != ')')
        .collect();
    let shape: Vec<usize> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| err(format!("bad shape '{shape_text}'")))
        })
        .collect::<Result<_>>()?;
    let data = &bytes[start + header_len..];
    let count = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| err(format!("shape {shape:?} is too large")))?;
    let values: Vec<f64> = match dtype.as_str() {
        "<f8" => read_le::<8>(data, count, |b| f64::from_le_bytes(b)),
        "<f4" => read_le::<4>(data, count, |b| f32::from_le_bytes(b) as f64),
        "<i8" => read_le::<8>(data, count, |b| i64::from_le_bytes(b) as f64),
        "<i4" => read_le::<4>(data, count, |b| i32::from_le_bytes(b) as f64),
        other => return Err(err(format!("unsupported dtype '{other}'"))),
    }
    .ok_or_else(|| {
        err(format!(
            "truncated data: {count} values of {dtype} expected"
        ))
    })?;
    ArrayD::from_shape_vec(IxDyn(&shape), values).map_err(|e| err(e.to_string()))
}

fn read_le<const N: usize>(
    data: &[u8],
    count: usize,
    f: impl Fn([u8; N]) -> f64,
) -> Option<Vec<f64>> {
    let data = data.get(..count.checked_mul(N)?)?;
    Some(
        data.chunks_exact(N)
            .map(|c| f(c.try_into().unwrap_or([0; N])))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_files_read_back() {
        let dir = std::env::temp_dir().join(format!("brisk-ml-npy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = Array2::from_shape_fn((3, 2), |(i, j)| (i * 2 + j) as f64 + 0.5);
        let p = dir.join("a.npy");
        write_npy(&p, &a).unwrap();
        assert_eq!(read_npy(&p).unwrap(), a.into_dyn());
        std::fs::write(&p, b"\x93NUMPY\x01\x00").unwrap();
        assert!(read_npy(&p).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn generated_classes_are_balanced_and_seeded() {
        let (x, y) = make_classification(400, 10, 4, 2, 2, 5);
        let (x2, y2) = make_classification(400, 10, 4, 2, 2, 5);
        assert_eq!((x.clone(), y.clone()), (x2, y2));
        let ones = y.iter().filter(|&&c| c == 1.0).count();
        assert!((180..=220).contains(&ones), "{ones}");
    }
}
