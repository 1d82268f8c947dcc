//! k-means clustering (scikit-learn's `KMeans`) by Lloyd's algorithm.
//!
//! Each run starts from k-means++ centres (the greedy variant: `2 + ⌊ln k⌋`
//! candidates drawn in proportion to the squared distance to the nearest centre so
//! far, keeping the one that lowers the total most), from `n_clusters` distinct
//! samples drawn at random, or from given centres. It then alternates assigning each
//! sample to its nearest centre (squared Euclidean distance, the first of equals) and
//! moving each centre to the mean of its samples. **A centre left with no samples
//! keeps its place** (scikit-learn moves it to a far sample instead). A run stops when
//! no label changes, when the squared centre shifts add up to at most `tol` times the
//! mean variance of the features of `X` (scikit-learn's scaled tolerance), or after
//! `max_iter` iterations; it then assigns once more, so labels and inertia belong to
//! the final centres. Of `n_init` runs, each seeded from one sequence drawn from
//! `random_state`, the one of least inertia wins (the first of equals).
//!
//! Assignment works on fixed blocks of rows in parallel and adds the blocks' sums in
//! block order, so the result does not depend on the number of threads.

use crate::check::{check_features, check_x};
use crate::error::{Error, Result};
use crate::estimator::{Estimator, Predictor, Role, Transformer};
use brisk_collections::datasets::Rng;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rayon::prelude::*;
use serde::de::{self, Deserializer, SeqAccess, Unexpected, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

const OWNER: &str = "KMeans";

/// Rows per parallel block of the assignment step.
const BLOCK: usize = 2048;

/// How a run chooses its first centres: scikit-learn's `init`, written as its values
/// are (`"k-means++"`, `"random"`, or a list of centres).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum KMeansInit {
    /// `"k-means++"`: spread-out centres, each drawn in proportion to the squared
    /// distance to the nearest centre so far (greedy, as scikit-learn).
    #[default]
    KMeansPlusPlus,
    /// `"random"`: `n_clusters` distinct samples, drawn at random.
    Random,
    /// The initial centres: `n_clusters` lists of `n_features` numbers.
    Centers(Vec<Vec<f64>>),
}

/// How many runs to make: scikit-learn's `n_init`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NInit {
    /// `"auto"`: 10 runs for `"random"`, else 1.
    #[default]
    Auto,
    /// This many runs (at least 1); explicit centres make only one, as every run
    /// would be the same.
    Runs(usize),
}

/// k-means clustering (scikit-learn's `KMeans`, algorithm `"lloyd"`); its fields are
/// scikit-learn's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KMeans {
    /// The number of clusters, between 1 and the number of samples.
    pub n_clusters: usize,
    /// How each run chooses its first centres.
    pub init: KMeansInit,
    /// How many runs to make; the one of least inertia wins.
    pub n_init: NInit,
    /// The most iterations of a run (at least 1).
    pub max_iter: usize,
    /// Convergence: a run stops when its centres moved (sum of squared shifts) by at
    /// most `tol` times the mean variance of the features. 0 runs until no label
    /// changes.
    pub tol: f64,
    /// The seed of the runs' generators; `None` is seed 0, so fits repeat.
    pub random_state: Option<u64>,
}

impl Default for KMeans {
    fn default() -> Self {
        KMeans {
            n_clusters: 8,
            init: KMeansInit::KMeansPlusPlus,
            n_init: NInit::Auto,
            max_iter: 300,
            tol: 1e-4,
            random_state: None,
        }
    }
}

/// A fitted [`KMeans`]: the centres, the training labels and inertia.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "FittedKMeansParts")]
pub struct FittedKMeans {
    /// The centres, row-major (`n_clusters × n_features`).
    cluster_centers: Vec<f64>,
    n_features: usize,
    /// The cluster of each training sample.
    pub labels: Vec<usize>,
    /// The sum of squared distances of the training samples to their centres.
    pub inertia: f64,
    /// The iterations the winning run made.
    pub n_iter: usize,
}

/// The fields of [`FittedKMeans`] as decoded, before their shapes are checked.
#[derive(Deserialize)]
struct FittedKMeansParts {
    cluster_centers: Vec<f64>,
    n_features: usize,
    labels: Vec<usize>,
    inertia: f64,
    n_iter: usize,
}

impl TryFrom<FittedKMeansParts> for FittedKMeans {
    type Error = String;

    fn try_from(p: FittedKMeansParts) -> Result<FittedKMeans, String> {
        if p.n_features == 0
            || p.cluster_centers.is_empty()
            || !p.cluster_centers.len().is_multiple_of(p.n_features)
        {
            return Err(format!(
                "{} centre values do not make whole centres of {} features",
                p.cluster_centers.len(),
                p.n_features
            ));
        }
        Ok(FittedKMeans {
            cluster_centers: p.cluster_centers,
            n_features: p.n_features,
            labels: p.labels,
            inertia: p.inertia,
            n_iter: p.n_iter,
        })
    }
}

impl FittedKMeans {
    /// The centres, one row per cluster.
    pub fn cluster_centers(&self) -> Array2<f64> {
        let d = self.n_features;
        Array2::from_shape_fn((self.n_clusters(), d), |(i, j)| {
            self.cluster_centers[i * d + j]
        })
    }

    /// The number of clusters.
    pub fn n_clusters(&self) -> usize {
        self.cluster_centers.len() / self.n_features
    }

    /// The number of features it was fit on.
    pub fn n_features(&self) -> usize {
        self.n_features
    }
}

impl Estimator for KMeans {
    const KIND: &'static str = "brisk_ml::KMeans";
    const ROLE: Role = Role::Clusterer;
    type Fitted = FittedKMeans;

    fn fit(&self, x: ArrayView2<'_, f64>, _y: Option<ArrayView1<'_, f64>>) -> Result<FittedKMeans> {
        let k = self.n_clusters;
        if k == 0 {
            return Err(Error::invalid(
                OWNER,
                "n_clusters",
                "must be at least 1, got 0",
            ));
        }
        if self.max_iter == 0 {
            return Err(Error::invalid(
                OWNER,
                "max_iter",
                "must be at least 1, got 0",
            ));
        }
        if !(self.tol >= 0.0 && self.tol.is_finite()) {
            return Err(Error::invalid(
                OWNER,
                "tol",
                format!("must be a finite number at least 0, got {}", self.tol),
            ));
        }
        let runs = match (&self.init, self.n_init) {
            (_, NInit::Runs(0)) => {
                return Err(Error::invalid(OWNER, "n_init", "must be at least 1, got 0"))
            }
            (KMeansInit::Centers(_), _) => 1,
            (KMeansInit::Random, NInit::Auto) => 10,
            (KMeansInit::KMeansPlusPlus, NInit::Auto) => 1,
            (_, NInit::Runs(r)) => r,
        };
        check_x(x)?;
        let (n, d) = x.dim();
        if d == 0 {
            return Err(Error::TooFewSamples {
                message: format!("{OWNER}: X has no columns (features)"),
            });
        }
        if k > n {
            return Err(Error::invalid(
                OWNER,
                "n_clusters",
                format!("must be at most the number of samples ({n}), got {k}"),
            ));
        }
        let given = match &self.init {
            KMeansInit::Centers(c) => Some(given_centers(c, k, d)?),
            _ => None,
        };
        let data: Vec<f64> = x.iter().copied().collect();
        let tol = self.tol * mean_variance(&data, d);
        let mut master = Rng::new(self.random_state.unwrap_or(0));
        let seeds: Vec<u64> = (0..runs).map(|_| master.next_u64()).collect();
        let results: Vec<Run> = seeds
            .into_par_iter()
            .map(|seed| {
                let mut rng = Rng::new(seed);
                let start = match (&given, &self.init) {
                    (Some(c), _) => c.clone(),
                    (None, KMeansInit::Random) => random_centers(&data, d, k, &mut rng),
                    (None, _) => plus_plus_centers(&data, d, k, &mut rng),
                };
                lloyd(&data, d, start, self.max_iter, tol)
            })
            .collect();
        let best = results
            .into_iter()
            .reduce(|best, run| {
                if run.inertia < best.inertia {
                    run
                } else {
                    best
                }
            })
            .ok_or_else(|| Error::numerical("KMeans", "no run was made"))?;
        Ok(FittedKMeans {
            cluster_centers: best.centers,
            n_features: d,
            labels: best.labels,
            inertia: best.inertia,
            n_iter: best.n_iter,
        })
    }
}

impl Transformer for FittedKMeans {
    /// The Euclidean distance of each row to each centre (`n_samples × n_clusters`).
    fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        check_features(OWNER, self.n_features, x)?;
        let d = self.n_features;
        let k = self.n_clusters();
        let data: Vec<f64> = x.iter().copied().collect();
        let mut out = vec![0.0; x.nrows() * k];
        out.par_chunks_mut(k)
            .zip(data.par_chunks(d))
            .for_each(|(slot, row)| {
                for (s, centre) in slot.iter_mut().zip(self.cluster_centers.chunks_exact(d)) {
                    *s = squared_distance(row, centre).sqrt();
                }
            });
        Array2::from_shape_vec((x.nrows(), k), out)
            .map_err(|e| Error::numerical("KMeans.transform", e))
    }
}

impl Predictor for FittedKMeans {
    /// The index of the nearest centre of each row (the first of equals), as `f64`.
    fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        check_features(OWNER, self.n_features, x)?;
        let data: Vec<f64> = x.iter().copied().collect();
        let mut labels = vec![0; x.nrows()];
        assign(&data, self.n_features, &self.cluster_centers, &mut labels);
        Ok(labels.into_iter().map(|l| l as f64).collect())
    }
}

/// The centres given as `init`, checked against `n_clusters` and the features, as
/// one row-major vector.
fn given_centers(given: &[Vec<f64>], k: usize, d: usize) -> Result<Vec<f64>> {
    if given.len() != k {
        return Err(Error::invalid(
            OWNER,
            "init",
            format!("has {} centres but n_clusters is {k}", given.len()),
        ));
    }
    for (j, centre) in given.iter().enumerate() {
        if centre.len() != d {
            return Err(Error::invalid(
                OWNER,
                "init",
                format!(
                    "centre {j} has {} values but X has {d} features",
                    centre.len()
                ),
            ));
        }
        if let Some(v) = centre.iter().find(|v| !v.is_finite()) {
            return Err(Error::invalid(
                OWNER,
                "init",
                format!("centre {j} holds a non-finite value ({v})"),
            ));
        }
    }
    Ok(given.concat())
}

/// The mean over the features of their variance (`data` row-major, `d` columns).
fn mean_variance(data: &[f64], d: usize) -> f64 {
    let n = (data.len() / d) as f64;
    let mut mean = vec![0.0; d];
    for row in data.chunks_exact(d) {
        mean.iter_mut().zip(row).for_each(|(m, v)| *m += v);
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut var = 0.0;
    for row in data.chunks_exact(d) {
        var += row
            .iter()
            .zip(&mean)
            .map(|(v, m)| (v - m) * (v - m))
            .sum::<f64>();
    }
    var / n / d as f64
}

fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// The nearest of `centers` (row-major, `d` columns) to `row`, and its squared
/// distance; the first of equals.
fn nearest(row: &[f64], centers: &[f64], d: usize) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (j, centre) in centers.chunks_exact(d).enumerate() {
        let dist = squared_distance(row, centre);
        if dist < best.1 {
            best = (j, dist);
        }
    }
    best
}

/// One assignment step: the labels, the inertia and each cluster's sum and count.
struct Pass {
    inertia: f64,
    sums: Vec<f64>,
    counts: Vec<usize>,
}

impl Pass {
    fn zero(k: usize, d: usize) -> Pass {
        Pass {
            inertia: 0.0,
            sums: vec![0.0; k * d],
            counts: vec![0; k],
        }
    }
}

/// Assigns each row of `data` to its nearest centre, into `labels`, in parallel
/// blocks whose sums add up in block order.
fn assign(data: &[f64], d: usize, centers: &[f64], labels: &mut [usize]) -> Pass {
    let k = centers.len() / d;
    let parts: Vec<Pass> = labels
        .par_chunks_mut(BLOCK)
        .zip(data.par_chunks(BLOCK * d))
        .map(|(labels, rows)| {
            let mut part = Pass::zero(k, d);
            for (label, row) in labels.iter_mut().zip(rows.chunks_exact(d)) {
                let (j, dist) = nearest(row, centers, d);
                *label = j;
                part.inertia += dist;
                part.counts[j] += 1;
                let sum = &mut part.sums[j * d..(j + 1) * d];
                sum.iter_mut().zip(row).for_each(|(s, v)| *s += v);
            }
            part
        })
        .collect();
    let mut total = Pass::zero(k, d);
    for part in parts {
        total.inertia += part.inertia;
        total
            .sums
            .iter_mut()
            .zip(&part.sums)
            .for_each(|(t, s)| *t += s);
        total
            .counts
            .iter_mut()
            .zip(&part.counts)
            .for_each(|(t, c)| *t += c);
    }
    total
}

/// The outcome of one run.
struct Run {
    centers: Vec<f64>,
    labels: Vec<usize>,
    inertia: f64,
    n_iter: usize,
}

/// Lloyd's iterations from `centers` (see the module documentation).
fn lloyd(data: &[f64], d: usize, mut centers: Vec<f64>, max_iter: usize, tol: f64) -> Run {
    let n = data.len() / d;
    let mut labels = vec![usize::MAX; n];
    let mut previous = labels.clone();
    let mut n_iter = 0;
    for iteration in 0..max_iter {
        let pass = assign(data, d, &centers, &mut labels);
        let mut shift = 0.0;
        let moves = centers.chunks_exact_mut(d).zip(pass.sums.chunks_exact(d));
        for ((centre, sum), &count) in moves.zip(&pass.counts) {
            if count == 0 {
                continue; // an empty cluster keeps its centre
            }
            for (c, s) in centre.iter_mut().zip(sum) {
                let mean = s / count as f64;
                shift += (mean - *c) * (mean - *c);
                *c = mean;
            }
        }
        n_iter = iteration + 1;
        if labels == previous || shift <= tol {
            break;
        }
        previous.copy_from_slice(&labels);
    }
    let pass = assign(data, d, &centers, &mut labels);
    Run {
        centers,
        labels,
        inertia: pass.inertia,
        n_iter,
    }
}

/// `k` distinct rows of `data`, drawn at random.
fn random_centers(data: &[f64], d: usize, k: usize, rng: &mut Rng) -> Vec<f64> {
    let n = data.len() / d;
    let mut order: Vec<usize> = (0..n).collect();
    let mut centers = Vec::with_capacity(k * d);
    for j in 0..k.min(n) {
        let r = j + rng.below((n - j) as u64) as usize;
        order.swap(j, r);
        let i = order[j];
        centers.extend_from_slice(&data[i * d..(i + 1) * d]);
    }
    centers
}

/// Greedy k-means++: the first centre a uniformly drawn row; each next one the best
/// (lowest total squared distance to the nearest centre) of `2 + ⌊ln k⌋` rows drawn
/// in proportion to their squared distance to the nearest centre so far.
fn plus_plus_centers(data: &[f64], d: usize, k: usize, rng: &mut Rng) -> Vec<f64> {
    let rows: Vec<&[f64]> = data.chunks_exact(d).collect();
    let n = rows.len();
    let mut centers = Vec::with_capacity(k * d);
    let Some(&first) = rows.get(rng.below(n as u64) as usize) else {
        return centers;
    };
    centers.extend_from_slice(first);
    let trials = 2 + (k as f64).ln() as usize;
    let mut closest: Vec<f64> = rows.iter().map(|r| squared_distance(r, first)).collect();
    let mut potential: f64 = closest.iter().sum();
    let mut cumulative = vec![0.0; n];
    let mut trial = vec![0.0; n];
    let mut best_closest = vec![0.0; n];
    for _ in 1..k {
        let mut acc = 0.0;
        for (c, &v) in cumulative.iter_mut().zip(&closest) {
            acc += v;
            *c = acc;
        }
        let mut best: Option<(usize, f64)> = None;
        for _ in 0..trials {
            let target = rng.f64() * potential;
            let candidate = cumulative.partition_point(|&c| c < target).min(n - 1);
            let centre = rows[candidate];
            let mut total = 0.0;
            for ((t, &c), row) in trial.iter_mut().zip(&closest).zip(&rows) {
                *t = c.min(squared_distance(row, centre));
                total += *t;
            }
            if best.is_none_or(|(_, b)| total < b) {
                best = Some((candidate, total));
                std::mem::swap(&mut trial, &mut best_closest);
            }
        }
        if let Some((candidate, total)) = best {
            centers.extend_from_slice(rows[candidate]);
            potential = total;
            std::mem::swap(&mut closest, &mut best_closest);
        }
    }
    centers
}

impl Serialize for KMeansInit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            KMeansInit::KMeansPlusPlus => s.serialize_str("k-means++"),
            KMeansInit::Random => s.serialize_str("random"),
            KMeansInit::Centers(c) => c.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for KMeansInit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(InitVisitor)
    }
}

/// Reads a [`KMeansInit`] from a string or a list of lists.
struct InitVisitor;

impl<'de> Visitor<'de> for InitVisitor {
    type Value = KMeansInit;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"k-means++\", \"random\" or a list of initial centres (lists of numbers)")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<KMeansInit, E> {
        match v {
            "k-means++" => Ok(KMeansInit::KMeansPlusPlus),
            "random" => Ok(KMeansInit::Random),
            _ => Err(E::invalid_value(Unexpected::Str(v), &self)),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<KMeansInit, A::Error> {
        let rows = de::value::SeqAccessDeserializer::new(seq);
        Ok(KMeansInit::Centers(Vec::<Vec<f64>>::deserialize(rows)?))
    }
}

impl Serialize for NInit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            NInit::Auto => s.serialize_str("auto"),
            NInit::Runs(r) => s.serialize_u64(r as u64),
        }
    }
}

impl<'de> Deserialize<'de> for NInit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NInitVisitor)
    }
}

/// Reads an [`NInit`] from `"auto"` or a count.
struct NInitVisitor;

impl<'de> Visitor<'de> for NInitVisitor {
    type Value = NInit;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"auto\" or a number of runs")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<NInit, E> {
        match v {
            "auto" => Ok(NInit::Auto),
            _ => Err(E::invalid_value(Unexpected::Str(v), &self)),
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<NInit, E> {
        usize::try_from(v)
            .map(NInit::Runs)
            .map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<NInit, E> {
        match u64::try_from(v) {
            Ok(u) => self.visit_u64(u),
            Err(_) => Err(E::invalid_value(Unexpected::Signed(v), &self)),
        }
    }
}

crate::register_estimator!(KMeans => FittedKMeans: transformer, predictor);

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use serde_json::json;

    /// Two squares of side 2, around (1, 1) and (11, 11).
    fn two_blobs() -> Array2<f64> {
        array![
            [0.0, 0.0],
            [0.0, 2.0],
            [2.0, 0.0],
            [2.0, 2.0],
            [10.0, 10.0],
            [10.0, 12.0],
            [12.0, 10.0],
            [12.0, 12.0],
        ]
    }

    #[test]
    fn two_blobs_from_given_centres_converge_to_their_means() {
        let x = two_blobs();
        let model = KMeans {
            n_clusters: 2,
            init: KMeansInit::Centers(vec![vec![0.0, 0.0], vec![12.0, 12.0]]),
            ..Default::default()
        }
        .fit(x.view(), None)
        .unwrap();
        assert_eq!(model.cluster_centers(), array![[1.0, 1.0], [11.0, 11.0]]);
        assert_eq!(model.labels, vec![0, 0, 0, 0, 1, 1, 1, 1]);
        // Every sample is at squared distance 1 + 1 from its centre.
        assert_eq!(model.inertia, 16.0);
        // The first iteration moves the centres, the second changes no label.
        assert_eq!(model.n_iter, 2);
    }

    #[test]
    fn k_means_plus_plus_and_random_find_the_two_blobs() {
        let x = two_blobs();
        for init in [KMeansInit::KMeansPlusPlus, KMeansInit::Random] {
            let model = KMeans {
                n_clusters: 2,
                init: init.clone(),
                random_state: Some(1),
                ..Default::default()
            }
            .fit(x.view(), None)
            .unwrap();
            assert_eq!(model.inertia, 16.0, "{init:?}");
            let l = &model.labels;
            assert!(l[..4].iter().all(|&v| v == l[0]) && l[4..].iter().all(|&v| v == l[4]));
            assert_ne!(l[0], l[4]);
        }
    }

    #[test]
    fn transform_gives_distances_and_predict_the_nearest_centre() {
        let x = two_blobs();
        let model = KMeans {
            n_clusters: 2,
            init: KMeansInit::Centers(vec![vec![0.0, 0.0], vec![12.0, 12.0]]),
            ..Default::default()
        }
        .fit(x.view(), None)
        .unwrap();
        let q = array![[1.0, 1.0], [11.0, 14.0]];
        let t = model.transform(q.view()).unwrap();
        assert_eq!(
            t,
            array![[0.0, 200f64.sqrt()], [(100.0 + 169.0f64).sqrt(), 3.0]]
        );
        assert_eq!(model.predict(q.view()).unwrap(), array![0.0, 1.0]);
        let e = model.predict(array![[1.0]].view()).unwrap_err();
        assert!(matches!(e, Error::FeatureMismatch { .. }), "{e}");
    }

    #[test]
    fn an_empty_cluster_keeps_its_centre() {
        let x = array![[0.0], [1.0], [1.0]];
        let model = KMeans {
            n_clusters: 3,
            init: KMeansInit::Centers(vec![vec![0.0], vec![1.0], vec![100.0]]),
            tol: 0.0,
            ..Default::default()
        }
        .fit(x.view(), None)
        .unwrap();
        assert_eq!(model.cluster_centers(), array![[0.0], [1.0], [100.0]]);
        assert_eq!(model.labels, vec![0, 1, 1]);
        assert_eq!(model.inertia, 0.0);
        assert_eq!(model.n_iter, 1);
    }

    #[test]
    fn bad_parameters_are_errors() {
        let x = two_blobs();
        let fit = |km: KMeans| km.fit(x.view(), None).unwrap_err().to_string();
        let e = fit(KMeans {
            n_clusters: 9,
            ..Default::default()
        });
        assert!(e.contains("n_clusters") && e.contains("(8)"), "{e}");
        let e = fit(KMeans {
            n_clusters: 0,
            ..Default::default()
        });
        assert!(e.contains("n_clusters"), "{e}");
        let e = fit(KMeans {
            n_clusters: 2,
            init: KMeansInit::Centers(vec![vec![0.0, 0.0]]),
            ..Default::default()
        });
        assert!(e.contains("init") && e.contains("1 centres"), "{e}");
        let e = fit(KMeans {
            n_clusters: 2,
            init: KMeansInit::Centers(vec![vec![0.0, 0.0], vec![1.0]]),
            ..Default::default()
        });
        assert!(e.contains("centre 1 has 1 values"), "{e}");
        let e = fit(KMeans {
            n_clusters: 2,
            n_init: NInit::Runs(0),
            ..Default::default()
        });
        assert!(e.contains("n_init"), "{e}");
    }

    #[test]
    fn parameters_read_and_write_as_scikit_learn_writes_them() {
        let p = serde_json::to_value(KMeans::default()).unwrap();
        assert_eq!(p["init"], "k-means++");
        assert_eq!(p["n_init"], "auto");
        let km: KMeans = serde_json::from_value(json!({
            "init": [[0, 0], [1.5, 2]], "n_init": 3, "n_clusters": 2
        }))
        .unwrap();
        assert_eq!(
            km.init,
            KMeansInit::Centers(vec![vec![0.0, 0.0], vec![1.5, 2.0]])
        );
        assert_eq!(km.n_init, NInit::Runs(3));
        let written = serde_json::to_value(&km).unwrap();
        assert_eq!(written["init"], json!([[0.0, 0.0], [1.5, 2.0]]));
        let random: KMeans = serde_json::from_value(json!({"init": "random"})).unwrap();
        assert_eq!(random.init, KMeansInit::Random);
        assert!(serde_json::from_value::<KMeans>(json!({"init": "kmeans"})).is_err());
        assert!(serde_json::from_value::<KMeans>(json!({"n_init": "many"})).is_err());
    }

    #[test]
    fn a_fitted_model_survives_encoding_and_rejects_bad_shapes() {
        let model = KMeans {
            n_clusters: 2,
            ..Default::default()
        }
        .fit(two_blobs().view(), None)
        .unwrap();
        let bytes = rmp_serde::to_vec_named(&model).unwrap();
        let back: FittedKMeans = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(back, model);
        let bad = json!({
            "cluster_centers": [1.0, 2.0, 3.0], "n_features": 2,
            "labels": [], "inertia": 0.0, "n_iter": 1
        });
        assert!(serde_json::from_value::<FittedKMeans>(bad).is_err());
    }
}
