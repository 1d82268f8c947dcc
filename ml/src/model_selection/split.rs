//! Cross-validation splitters: which rows train and which test, fold by fold.
//!
//! The folds are scikit-learn's: `KFold` gives the first `n % k` folds one extra
//! row; `StratifiedKFold` deals each class's rows out to the folds in the order
//! scikit-learn does, so both libraries score the same rows; `ShuffleSplit` draws a
//! seeded permutation per split.
//!
//! ```
//! use brisk_ml::model_selection::{KFold, Splitter};
//! let folds = KFold::new(3).split(7, None).unwrap();
//! assert_eq!(folds[0].1, vec![0, 1, 2]);
//! assert_eq!(folds[1].1, vec![3, 4]);
//! assert_eq!(folds[2].0, vec![0, 1, 2, 3, 4]);
//! ```

use crate::error::{Error, Result};
use brisk_collections::datasets::Rng;
use ndarray::ArrayView1;
use serde::{Deserialize, Serialize};

/// Row indices of one fold: `(train, test)`.
pub type Fold = (Vec<u32>, Vec<u32>);

/// Something that splits `n` samples into folds.
pub trait Splitter: std::fmt::Debug + Send + Sync {
    /// The folds of `n` samples (`y` for the splitters that look at it).
    fn split(&self, n: usize, y: Option<ArrayView1<'_, f64>>) -> Result<Vec<Fold>>;
}

/// `k` consecutive folds, optionally of shuffled rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KFold {
    /// The number of folds (at least 2).
    pub n_splits: usize,
    /// Shuffle the rows before cutting them into folds.
    pub shuffle: bool,
    /// The seed of the shuffle.
    pub random_state: Option<u64>,
}

impl KFold {
    /// `n_splits` folds without shuffling.
    pub fn new(n_splits: usize) -> KFold {
        KFold {
            n_splits,
            shuffle: false,
            random_state: None,
        }
    }

    /// The same folds, of rows shuffled with `seed`.
    pub fn shuffled(mut self, seed: u64) -> KFold {
        self.shuffle = true;
        self.random_state = Some(seed);
        self
    }
}

/// Folds that keep each class's share, as scikit-learn's `StratifiedKFold`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StratifiedKFold {
    /// The number of folds (at least 2).
    pub n_splits: usize,
    /// Shuffle each class's rows before dealing them out.
    pub shuffle: bool,
    /// The seed of the shuffle.
    pub random_state: Option<u64>,
}

impl StratifiedKFold {
    /// `n_splits` stratified folds without shuffling.
    pub fn new(n_splits: usize) -> StratifiedKFold {
        StratifiedKFold {
            n_splits,
            shuffle: false,
            random_state: None,
        }
    }
}

/// Independent random splits, as scikit-learn's `ShuffleSplit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShuffleSplit {
    /// The number of splits.
    pub n_splits: usize,
    /// The test share (a fraction in (0, 1)).
    pub test_size: f64,
    /// The seed.
    pub random_state: Option<u64>,
}

impl ShuffleSplit {
    /// `n_splits` splits with `test_size` of the rows tested.
    pub fn new(n_splits: usize, test_size: f64, seed: u64) -> ShuffleSplit {
        ShuffleSplit {
            n_splits,
            test_size,
            random_state: Some(seed),
        }
    }
}

/// Folds given row by row (the splits another library made).
#[derive(Debug, Clone, PartialEq)]
pub struct PredefinedSplit(pub Vec<Fold>);

fn check_k(n_splits: usize, n: usize) -> Result<()> {
    if n_splits < 2 {
        return Err(Error::invalid(
            "the splitter",
            "n_splits",
            format!("needs at least 2 folds, got {n_splits}"),
        ));
    }
    if n_splits > n {
        return Err(Error::TooFewSamples {
            message: format!("cannot make {n_splits} folds of {n} samples"),
        });
    }
    Ok(())
}

/// Fisher–Yates, seeded.
fn shuffle(rows: &mut [u32], rng: &mut Rng) {
    for i in (1..rows.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        rows.swap(i, j);
    }
}

/// Train rows are every row not in `test`, in order.
fn complement(n: usize, test: &[u32]) -> Vec<u32> {
    let mut is_test = vec![false; n];
    for &t in test {
        is_test[t as usize] = true;
    }
    (0..n as u32).filter(|&i| !is_test[i as usize]).collect()
}

impl Splitter for KFold {
    fn split(&self, n: usize, _y: Option<ArrayView1<'_, f64>>) -> Result<Vec<Fold>> {
        check_k(self.n_splits, n)?;
        let mut rows: Vec<u32> = (0..n as u32).collect();
        if self.shuffle {
            shuffle(&mut rows, &mut Rng::new(self.random_state.unwrap_or(0)));
        }
        let k = self.n_splits;
        let mut start = 0;
        Ok((0..k)
            .map(|f| {
                let size = n / k + usize::from(f < n % k);
                let mut test = rows[start..start + size].to_vec();
                test.sort_unstable();
                start += size;
                let train = complement(n, &test);
                (train, test)
            })
            .collect())
    }
}

impl Splitter for StratifiedKFold {
    fn split(&self, n: usize, y: Option<ArrayView1<'_, f64>>) -> Result<Vec<Fold>> {
        check_k(self.n_splits, n)?;
        let y = y.ok_or_else(|| Error::Unsupported {
            kind: "StratifiedKFold".into(),
            what: "split without y".into(),
        })?;
        let k = self.n_splits;
        // Classes numbered by first appearance, as scikit-learn does.
        let mut first: Vec<f64> = Vec::new();
        let codes: Vec<usize> = y
            .iter()
            .map(|v| match first.iter().position(|f| f == v) {
                Some(i) => i,
                None => {
                    first.push(*v);
                    first.len() - 1
                }
            })
            .collect();
        let n_classes = first.len();
        let mut counts = vec![0usize; n_classes];
        for &c in &codes {
            counts[c] += 1;
        }
        if counts.iter().all(|&c| c < k) {
            return Err(Error::TooFewSamples {
                message: format!(
                    "n_splits={k} is more than the number of members of every class (largest: {})",
                    counts.iter().max().copied().unwrap_or(0)
                ),
            });
        }
        // Deal the sorted class codes round-robin: fold f gets positions f, f+k, ….
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        let mut allocation = vec![vec![0usize; n_classes]; k];
        for (i, &c) in sorted.iter().enumerate() {
            allocation[i % k][c] += 1;
        }
        let mut test_fold = vec![0usize; n];
        let mut rng = Rng::new(self.random_state.unwrap_or(0));
        for class in 0..n_classes {
            let mut folds_of_class: Vec<usize> = (0..k)
                .flat_map(|f| std::iter::repeat_n(f, allocation[f][class]))
                .collect();
            if self.shuffle {
                for i in (1..folds_of_class.len()).rev() {
                    let j = rng.below(i as u64 + 1) as usize;
                    folds_of_class.swap(i, j);
                }
            }
            let rows = codes.iter().enumerate().filter(|(_, &c)| c == class);
            for ((row, _), fold) in rows.zip(folds_of_class) {
                test_fold[row] = fold;
            }
        }
        Ok((0..k)
            .map(|f| {
                let test: Vec<u32> = (0..n as u32)
                    .filter(|&i| test_fold[i as usize] == f)
                    .collect();
                let train = complement(n, &test);
                (train, test)
            })
            .collect())
    }
}

impl Splitter for ShuffleSplit {
    fn split(&self, n: usize, _y: Option<ArrayView1<'_, f64>>) -> Result<Vec<Fold>> {
        if self.n_splits == 0 {
            return Err(Error::invalid(
                "ShuffleSplit",
                "n_splits",
                "must be at least 1",
            ));
        }
        if !(self.test_size > 0.0 && self.test_size < 1.0) {
            return Err(Error::invalid(
                "ShuffleSplit",
                "test_size",
                format!("must be in (0, 1), got {}", self.test_size),
            ));
        }
        let n_test = (self.test_size * n as f64).ceil() as usize;
        if n_test == 0 || n_test >= n {
            return Err(Error::TooFewSamples {
                message: format!(
                    "test_size {} of {n} samples leaves no train or no test rows",
                    self.test_size
                ),
            });
        }
        let mut rng = Rng::new(self.random_state.unwrap_or(0));
        Ok((0..self.n_splits)
            .map(|_| {
                let mut rows: Vec<u32> = (0..n as u32).collect();
                shuffle(&mut rows, &mut rng);
                let mut test = rows[..n_test].to_vec();
                let mut train = rows[n_test..].to_vec();
                test.sort_unstable();
                train.sort_unstable();
                (train, test)
            })
            .collect())
    }
}

impl Splitter for PredefinedSplit {
    fn split(&self, n: usize, _y: Option<ArrayView1<'_, f64>>) -> Result<Vec<Fold>> {
        if self.0.is_empty() {
            return Err(Error::invalid("PredefinedSplit", "folds", "no folds given"));
        }
        for (f, (train, test)) in self.0.iter().enumerate() {
            if let Some(&bad) = train.iter().chain(test).find(|&&i| i as usize >= n) {
                return Err(Error::TooFewSamples {
                    message: format!("fold {f} names row {bad}, but there are {n} samples"),
                });
            }
            if train.is_empty() || test.is_empty() {
                return Err(Error::TooFewSamples {
                    message: format!("fold {f} has an empty train or test part"),
                });
            }
        }
        Ok(self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn stratified_folds_keep_each_class_share() {
        let y = array![0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0];
        let folds = StratifiedKFold::new(2).split(10, Some(y.view())).unwrap();
        for (_, test) in &folds {
            let ones = test.iter().filter(|&&i| y[i as usize] == 1.0).count();
            assert_eq!((test.len(), ones), (5, 2));
        }
        // scikit-learn's folds for this y.
        assert_eq!(folds[0].1, vec![0, 1, 2, 4, 5]);
        assert_eq!(folds[1].1, vec![3, 6, 7, 8, 9]);
    }

    #[test]
    fn too_many_folds_is_an_error() {
        let e = KFold::new(5).split(3, None).unwrap_err().to_string();
        assert_eq!(e, "cannot make 5 folds of 3 samples");
        assert!(KFold::new(1).split(3, None).is_err());
    }

    #[test]
    fn shuffle_splits_are_seeded_and_disjoint() {
        let a = ShuffleSplit::new(3, 0.25, 7).split(20, None).unwrap();
        let b = ShuffleSplit::new(3, 0.25, 7).split(20, None).unwrap();
        assert_eq!(a, b);
        for (train, test) in &a {
            assert_eq!((train.len(), test.len()), (15, 5));
            assert!(test.iter().all(|t| !train.contains(t)));
        }
        assert_ne!(a[0], a[1]);
    }
}
