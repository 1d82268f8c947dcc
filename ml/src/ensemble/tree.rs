//! One CART decision tree: grown on bootstrap weights, stored as a flat arena.
//!
//! Growth is depth first from the root, over one array of the tree's in-bag samples
//! in which every node owns a contiguous range. At a node the candidate features are
//! drawn without replacement (a Fisher–Yates shuffle driven by the tree's generator);
//! for each the node's samples are sorted by that feature once, and one scan with
//! running sums scores every threshold halfway between two distinct consecutive
//! values (values closer than 1e-7 count as one, as in scikit-learn). The split of
//! least weighted child impurity wins (Gini or entropy of the class weights, or the
//! squared error of the values); ties keep the first found. A feature that is
//! constant in the node does not count towards `max_features`, so a node keeps
//! drawing until it has scored that many features that can split it or has run out.
//!
//! A node becomes a leaf when it is pure, at `max_depth`, when it has fewer than
//! `min_samples_split` (or `2 min_samples_leaf`) samples, or when no threshold leaves
//! `min_samples_leaf` samples on each side (counted as distinct samples, as
//! scikit-learn does; weights are the bootstrap counts). A leaf stores the weighted
//! class fractions, or the weighted mean, of its samples.
//!
//! The impurity decrease of each split, weighted by the node's share of the
//! samples, adds up per feature into the tree's feature importances.

use brisk_collections::datasets::Rng;
use ndarray::{ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

/// Feature values closer than this are one value when splitting.
const FEATURE_THRESHOLD: f64 = 1e-7;

/// A fitted decision tree, as a flat arena of nodes (node 0 is the root).
///
/// Node `i` is a split when `left[i] != 0` (the root is no node's child, so a child
/// index is never 0): a row goes to `left[i]` when its value of feature `feature[i]`
/// is at most `threshold[i]`, else to `right[i]`. A leaf has `left[i] == right[i] ==
/// 0` and `feature[i]` is its row in `values`, which holds `n_outputs` numbers per
/// leaf (class fractions, or one mean).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    n_outputs: usize,
    feature: Vec<usize>,
    threshold: Vec<f64>,
    left: Vec<usize>,
    right: Vec<usize>,
    values: Vec<f64>,
}

impl Tree {
    fn empty(n_outputs: usize) -> Tree {
        Tree {
            n_outputs,
            feature: Vec::new(),
            threshold: Vec::new(),
            left: Vec::new(),
            right: Vec::new(),
            values: Vec::new(),
        }
    }

    /// The number of nodes, splits and leaves.
    pub fn node_count(&self) -> usize {
        self.feature.len()
    }

    /// The number of leaves.
    pub fn n_leaves(&self) -> usize {
        self.left.iter().filter(|&&l| l == 0).count()
    }

    /// The numbers each leaf holds: the number of classes, or 1 for values.
    pub fn n_outputs(&self) -> usize {
        self.n_outputs
    }

    /// The values of the leaf `row` falls in; `None` only for a tree that is not
    /// well formed (a decoded model whose indices lead nowhere or loop).
    pub fn leaf_value(&self, row: ArrayView1<'_, f64>) -> Option<&[f64]> {
        let mut node = 0usize;
        // Children come after their parent, so a well formed path visits each node
        // at most once.
        for _ in 0..self.feature.len() {
            let left = *self.left.get(node)?;
            let feature = *self.feature.get(node)?;
            if left == 0 {
                let start = feature.checked_mul(self.n_outputs)?;
                return self.values.get(start..start.checked_add(self.n_outputs)?);
            }
            let x = *row.get(feature)?;
            node = if x <= *self.threshold.get(node)? {
                left
            } else {
                *self.right.get(node)?
            };
        }
        None
    }

    fn add_node(&mut self) -> usize {
        self.feature.push(0);
        self.threshold.push(0.0);
        self.left.push(0);
        self.right.push(0);
        self.feature.len() - 1
    }
}

/// What the trees learn: class indices, or values.
pub(crate) enum Target {
    /// Each sample's class index, below `n_classes`; `entropy` picks the entropy
    /// criterion over Gini.
    Classes {
        y: Vec<usize>,
        n_classes: usize,
        entropy: bool,
    },
    /// Each sample's value (squared error).
    Values(Vec<f64>),
}

/// The training data of a forest, shared by its trees: `X` by feature (each column
/// contiguous, so sorting a node by a feature reads one slice) and the target.
pub(crate) struct TrainingSet {
    columns: Vec<f64>,
    n_samples: usize,
    n_features: usize,
    target: Target,
}

impl TrainingSet {
    /// `x` (samples in rows) and its target, one per row.
    pub(crate) fn new(x: ArrayView2<'_, f64>, target: Target) -> TrainingSet {
        TrainingSet {
            columns: x.t().iter().copied().collect(),
            n_samples: x.nrows(),
            n_features: x.ncols(),
            target,
        }
    }
}

/// How a tree grows: the resolved stopping rules and sampling.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Growth {
    /// Deepest level of a split's children (`usize::MAX` for no limit).
    pub max_depth: usize,
    pub min_samples_split: usize,
    pub min_samples_leaf: usize,
    /// Features to score per node, between 1 and the number of features.
    pub max_features: usize,
    /// Bootstrap draws (with replacement), or `None` for every sample once.
    pub draws: Option<usize>,
}

/// Grows one tree from the generator seeded with `seed`; returns it and its feature
/// importances (normalised to sum to 1, or all zero for a single leaf).
pub(crate) fn grow(data: &TrainingSet, growth: Growth, seed: u64) -> (Tree, Vec<f64>) {
    let n = data.n_samples;
    let mut rng = Rng::new(seed);
    let mut weight = vec![0.0; n];
    match growth.draws {
        Some(draws) if n > 0 => {
            for _ in 0..draws {
                if let Some(w) = weight.get_mut(rng.below(n as u64) as usize) {
                    *w += 1.0;
                }
            }
        }
        _ => weight.fill(1.0),
    }
    let samples: Vec<usize> = (0..n).filter(|&i| weight[i] > 0.0).collect();
    let n_outputs = match &data.target {
        Target::Classes { n_classes, .. } => *n_classes,
        Target::Values(_) => 1,
    };
    let mut builder = Builder {
        data,
        growth,
        rng,
        weight,
        samples,
        sorted: Vec::with_capacity(n),
        features: (0..data.n_features).collect(),
        totals: vec![0.0; n_outputs],
        left_counts: vec![0.0; n_outputs],
        tree: Tree::empty(n_outputs.max(1)),
        importances: vec![0.0; data.n_features],
        leaves: 0,
    };
    builder.run();
    let mut importances = builder.importances;
    let total: f64 = importances.iter().sum();
    if total > 0.0 {
        importances.iter_mut().for_each(|v| *v /= total);
    }
    (builder.tree, importances)
}

/// A node's weighted statistics.
struct NodeStats {
    /// Sum of the weights.
    weight: f64,
    /// Gini, entropy (bits) or variance.
    impurity: f64,
    /// One class, or one value.
    pure: bool,
    /// Weighted sum of the values (regression only).
    sum: f64,
}

/// The best split of a node.
struct Split {
    feature: usize,
    threshold: f64,
    /// Larger is better: minus the weighted child impurity, up to a constant.
    proxy: f64,
}

/// A node waiting to be grown: its arena index and its range of `samples`.
struct Pending {
    node: usize,
    start: usize,
    end: usize,
    depth: usize,
    parent_feature: Option<usize>,
}

/// The state of one tree's growth; every buffer is allocated once per tree.
struct Builder<'a> {
    data: &'a TrainingSet,
    growth: Growth,
    rng: Rng,
    /// Bootstrap count of every sample (0 when out of bag).
    weight: Vec<f64>,
    /// In-bag samples; each node owns a range.
    samples: Vec<usize>,
    /// (value, sample) of a node, sorted by value.
    sorted: Vec<(f64, usize)>,
    /// A permutation of the features, shuffled in part at each node.
    features: Vec<usize>,
    /// Class weights of the current node.
    totals: Vec<f64>,
    /// Class weights left of the scanned threshold.
    left_counts: Vec<f64>,
    tree: Tree,
    importances: Vec<f64>,
    leaves: usize,
}

impl Builder<'_> {
    fn run(&mut self) {
        let root = self.tree.add_node();
        let mut stack = vec![Pending {
            node: root,
            start: 0,
            end: self.samples.len(),
            depth: 0,
            parent_feature: None,
        }];
        let g = self.growth;
        while let Some(p) = stack.pop() {
            let stats = self.node_stats(p.start, p.end);
            if let Some(f) = p.parent_feature {
                self.importances[f] -= stats.weight * stats.impurity;
            }
            let m = p.end - p.start;
            let stop = p.depth >= g.max_depth
                || m < g.min_samples_split
                || m < g.min_samples_leaf.saturating_mul(2)
                || stats.pure
                || stats.impurity <= f64::EPSILON;
            let split = if stop {
                None
            } else {
                self.find_split(p.start, p.end, &stats)
            };
            let Some(split) = split else {
                self.make_leaf(p.node, &stats);
                continue;
            };
            let mid = self.partition(p.start, p.end, split.feature, split.threshold);
            if mid == p.start || mid == p.end {
                // Cannot happen for a split the scan found; a leaf is the safe answer.
                self.make_leaf(p.node, &stats);
                continue;
            }
            self.importances[split.feature] += stats.weight * stats.impurity;
            let left = self.tree.add_node();
            let right = self.tree.add_node();
            self.tree.feature[p.node] = split.feature;
            self.tree.threshold[p.node] = split.threshold;
            self.tree.left[p.node] = left;
            self.tree.right[p.node] = right;
            let depth = p.depth + 1;
            let parent_feature = Some(split.feature);
            stack.push(Pending {
                node: right,
                start: mid,
                end: p.end,
                depth,
                parent_feature,
            });
            stack.push(Pending {
                node: left,
                start: p.start,
                end: mid,
                depth,
                parent_feature,
            });
        }
    }

    /// The statistics of `samples[start..end]`; for classes, also fills `totals`.
    fn node_stats(&mut self, start: usize, end: usize) -> NodeStats {
        let data = self.data;
        let samples = &self.samples[start..end];
        match &data.target {
            Target::Classes { y, entropy, .. } => {
                self.totals.fill(0.0);
                let mut weight = 0.0;
                for &i in samples {
                    let w = self.weight[i];
                    self.totals[y[i]] += w;
                    weight += w;
                }
                let mut impurity = if *entropy { 0.0 } else { 1.0 };
                let mut present = 0;
                for &t in &self.totals {
                    if t > 0.0 {
                        present += 1;
                        let p = t / weight;
                        if *entropy {
                            impurity -= p * p.log2();
                        } else {
                            impurity -= p * p;
                        }
                    }
                }
                NodeStats {
                    weight,
                    impurity: impurity.max(0.0),
                    pure: present <= 1,
                    sum: 0.0,
                }
            }
            Target::Values(y) => {
                let (mut weight, mut sum, mut squares) = (0.0, 0.0, 0.0);
                let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
                for &i in samples {
                    let (w, v) = (self.weight[i], y[i]);
                    weight += w;
                    sum += w * v;
                    squares += w * v * v;
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
                let mean = sum / weight;
                NodeStats {
                    weight,
                    impurity: (squares / weight - mean * mean).max(0.0),
                    pure: lo >= hi,
                    sum,
                }
            }
        }
    }

    /// Makes `node` a leaf holding the class fractions (from `totals`) or the mean.
    fn make_leaf(&mut self, node: usize, stats: &NodeStats) {
        match &self.data.target {
            Target::Classes { .. } => {
                let w = stats.weight;
                self.tree.values.extend(self.totals.iter().map(|t| t / w));
            }
            Target::Values(_) => self.tree.values.push(stats.sum / stats.weight),
        }
        self.tree.feature[node] = self.leaves;
        self.tree.threshold[node] = 0.0;
        self.tree.left[node] = 0;
        self.tree.right[node] = 0;
        self.leaves += 1;
    }

    /// The best split of `samples[start..end]` over the drawn features, if any
    /// threshold leaves `min_samples_leaf` samples on each side.
    fn find_split(&mut self, start: usize, end: usize, stats: &NodeStats) -> Option<Split> {
        let data = self.data;
        let n = data.n_samples;
        let n_features = data.n_features;
        let min_leaf = self.growth.min_samples_leaf;
        let mut best: Option<Split> = None;
        let mut scored = 0;
        for j in 0..n_features {
            if scored >= self.growth.max_features {
                break;
            }
            let r = j + self.rng.below((n_features - j) as u64) as usize;
            self.features.swap(j, r);
            let f = self.features[j];
            let column = &data.columns[f * n..(f + 1) * n];
            self.sorted.clear();
            self.sorted
                .extend(self.samples[start..end].iter().map(|&i| (column[i], i)));
            self.sorted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
            let (Some(first), Some(last)) = (self.sorted.first(), self.sorted.last()) else {
                continue;
            };
            if last.0 <= first.0 + FEATURE_THRESHOLD {
                continue; // constant here: does not count
            }
            scored += 1;
            let found = match &data.target {
                Target::Classes { y, entropy, .. } => scan_classes(
                    &self.sorted,
                    &self.weight,
                    y,
                    &self.totals,
                    &mut self.left_counts,
                    min_leaf,
                    *entropy,
                ),
                Target::Values(y) => scan_values(
                    &self.sorted,
                    &self.weight,
                    y,
                    (stats.sum, stats.weight),
                    min_leaf,
                ),
            };
            if let Some((proxy, pos)) = found {
                if best.as_ref().is_none_or(|b| proxy > b.proxy) {
                    let threshold = midpoint(self.sorted[pos - 1].0, self.sorted[pos].0);
                    best = Some(Split {
                        feature: f,
                        threshold,
                        proxy,
                    });
                }
            }
        }
        best
    }

    /// Reorders `samples[start..end]` so the samples whose `feature` is at most
    /// `threshold` come first; returns where the others start.
    fn partition(&mut self, start: usize, end: usize, feature: usize, threshold: f64) -> usize {
        let data = self.data;
        let n = data.n_samples;
        let column = &data.columns[feature * n..(feature + 1) * n];
        let part = &mut self.samples[start..end];
        let (mut i, mut j) = (0, part.len());
        while i < j {
            if column[part[i]] <= threshold {
                i += 1;
            } else {
                j -= 1;
                part.swap(i, j);
            }
        }
        start + i
    }
}

/// A threshold between `a < b`: their midpoint, or `a` when the midpoint rounds to
/// `b` (as scikit-learn does).
fn midpoint(a: f64, b: f64) -> f64 {
    let m = a / 2.0 + b / 2.0;
    if m >= b || !m.is_finite() {
        a
    } else {
        m
    }
}

/// Whether a split between positions `p - 1` and `p` of `sorted` is allowed: two
/// distinct values, and `min_leaf` samples on each side.
fn splittable(sorted: &[(f64, usize)], p: usize, min_leaf: usize) -> bool {
    p >= min_leaf
        && sorted.len() - p >= min_leaf
        && sorted[p].0 > sorted[p - 1].0 + FEATURE_THRESHOLD
}

/// The best (proxy, position) of a node of classes sorted by one feature. The proxy
/// is `Σ left²/w_left + Σ right²/w_right` for Gini (kept up to date in O(1) per
/// sample) and `Σ l ln(l/w_left) + Σ r ln(r/w_right)` for entropy: both are the
/// weighted child impurity negated, up to a constant.
fn scan_classes(
    sorted: &[(f64, usize)],
    weight: &[f64],
    y: &[usize],
    totals: &[f64],
    left: &mut [f64],
    min_leaf: usize,
    entropy: bool,
) -> Option<(f64, usize)> {
    left.fill(0.0);
    let w_total: f64 = totals.iter().sum();
    let mut w_left = 0.0;
    let mut sq_left = 0.0;
    let mut sq_right: f64 = totals.iter().map(|t| t * t).sum();
    let mut best: Option<(f64, usize)> = None;
    let m = sorted.len();
    for p in 1..m {
        let i = sorted[p - 1].1;
        let (c, w) = (y[i], weight[i]);
        let l = left[c];
        let r = totals[c] - l;
        sq_left += w * (2.0 * l + w);
        sq_right -= w * (2.0 * r - w);
        left[c] = l + w;
        w_left += w;
        if m - p < min_leaf {
            break;
        }
        if !splittable(sorted, p, min_leaf) {
            continue;
        }
        let w_right = w_total - w_left;
        let proxy = if entropy {
            entropy_proxy(left, totals, w_left, w_right)
        } else {
            sq_left / w_left + sq_right / w_right
        };
        if best.is_none_or(|(b, _)| proxy > b) {
            best = Some((proxy, p));
        }
    }
    best
}

/// `Σ l ln(l/w_left) + Σ r ln(r/w_right)` over the classes.
fn entropy_proxy(left: &[f64], totals: &[f64], w_left: f64, w_right: f64) -> f64 {
    let mut s = 0.0;
    for (&l, &t) in left.iter().zip(totals) {
        let r = t - l;
        if l > 0.0 {
            s += l * (l / w_left).ln();
        }
        if r > 0.0 {
            s += r * (r / w_right).ln();
        }
    }
    s
}

/// The best (proxy, position) of a node of values sorted by one feature; the proxy
/// `sum_left²/w_left + sum_right²/w_right` is the weighted squared error of the
/// children negated, up to a constant. `(sum, weight)` are the node's.
fn scan_values(
    sorted: &[(f64, usize)],
    weight: &[f64],
    y: &[f64],
    (sum, w_total): (f64, f64),
    min_leaf: usize,
) -> Option<(f64, usize)> {
    let (mut sum_left, mut w_left) = (0.0, 0.0);
    let mut best: Option<(f64, usize)> = None;
    let m = sorted.len();
    for p in 1..m {
        let i = sorted[p - 1].1;
        let w = weight[i];
        sum_left += w * y[i];
        w_left += w;
        if m - p < min_leaf {
            break;
        }
        if !splittable(sorted, p, min_leaf) {
            continue;
        }
        let sum_right = sum - sum_left;
        let proxy = sum_left * sum_left / w_left + sum_right * sum_right / (w_total - w_left);
        if best.is_none_or(|(b, _)| proxy > b) {
            best = Some((proxy, p));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn every_feature(n_features: usize) -> Growth {
        Growth {
            max_depth: usize::MAX,
            min_samples_split: 2,
            min_samples_leaf: 1,
            max_features: n_features,
            draws: None,
        }
    }

    fn classes(y: Vec<usize>, n_classes: usize) -> Target {
        Target::Classes {
            y,
            n_classes,
            entropy: false,
        }
    }

    #[test]
    fn a_tree_splits_two_separable_points() {
        let x = array![[0.0], [1.0]];
        let data = TrainingSet::new(x.view(), classes(vec![0, 1], 2));
        let (tree, importances) = grow(&data, every_feature(1), 0);
        assert_eq!(tree.node_count(), 3);
        assert_eq!(tree.n_leaves(), 2);
        assert_eq!(tree.threshold[0], 0.5);
        assert_eq!(tree.leaf_value(array![0.2].view()), Some(&[1.0, 0.0][..]));
        assert_eq!(tree.leaf_value(array![0.7].view()), Some(&[0.0, 1.0][..]));
        assert_eq!(importances, vec![1.0]);
    }

    #[test]
    fn a_regression_tree_predicts_leaf_means() {
        let x = array![[0.0], [1.0], [2.0], [3.0]];
        let data = TrainingSet::new(x.view(), Target::Values(vec![1.0, 1.0, 5.0, 5.0]));
        let (tree, _) = grow(&data, every_feature(1), 0);
        assert_eq!(tree.node_count(), 3);
        assert_eq!(tree.threshold[0], 1.5);
        assert_eq!(tree.leaf_value(array![-4.0].view()), Some(&[1.0][..]));
        assert_eq!(tree.leaf_value(array![2.5].view()), Some(&[5.0][..]));
    }

    #[test]
    fn min_samples_leaf_forces_the_only_allowed_split() {
        // The best split alone would isolate the last sample; with two samples per
        // leaf the only split is in the middle, and the halves are not split again.
        let x = array![[0.0], [1.0], [2.0], [3.0]];
        let data = TrainingSet::new(x.view(), Target::Values(vec![0.0, 0.0, 0.0, 1.0]));
        let growth = Growth {
            min_samples_leaf: 2,
            ..every_feature(1)
        };
        let (tree, _) = grow(&data, growth, 0);
        assert_eq!(tree.node_count(), 3);
        assert_eq!(tree.threshold[0], 1.5);
        assert_eq!(tree.leaf_value(array![3.0].view()), Some(&[0.5][..]));
    }

    #[test]
    fn max_depth_stops_growth() {
        let x = array![[0.0], [1.0], [2.0], [3.0]];
        let data = TrainingSet::new(x.view(), Target::Values(vec![0.0, 1.0, 2.0, 3.0]));
        let (deep, _) = grow(&data, every_feature(1), 0);
        assert_eq!(deep.n_leaves(), 4);
        let growth = Growth {
            max_depth: 1,
            ..every_feature(1)
        };
        let (shallow, _) = grow(&data, growth, 0);
        assert_eq!(shallow.node_count(), 3);
        assert_eq!(shallow.leaf_value(array![0.0].view()), Some(&[0.5][..]));
    }

    #[test]
    fn a_constant_feature_does_not_use_up_max_features() {
        let x = array![[5.0, 0.0], [5.0, 1.0]];
        let data = TrainingSet::new(x.view(), classes(vec![0, 1], 2));
        for seed in 0..8 {
            let growth = Growth {
                max_features: 1,
                ..every_feature(2)
            };
            let (tree, importances) = grow(&data, growth, seed);
            assert_eq!(tree.node_count(), 3, "seed {seed}");
            assert_eq!(importances, vec![0.0, 1.0]);
        }
    }

    #[test]
    fn entropy_and_gini_both_find_a_clean_split() {
        let x = array![[0.0], [1.0], [2.0], [3.0]];
        let data = TrainingSet::new(
            x.view(),
            Target::Classes {
                y: vec![0, 0, 1, 1],
                n_classes: 2,
                entropy: true,
            },
        );
        let (tree, _) = grow(&data, every_feature(1), 0);
        assert_eq!(tree.node_count(), 3);
        assert_eq!(tree.threshold[0], 1.5);
    }

    #[test]
    fn bootstrap_weights_count_in_leaf_fractions() {
        // One feature value for all: a single leaf, whose fractions are the
        // bootstrap-weighted class shares.
        let x = array![[1.0], [1.0], [1.0]];
        let data = TrainingSet::new(x.view(), classes(vec![0, 1, 1], 2));
        let growth = Growth {
            draws: Some(30),
            ..every_feature(1)
        };
        let (tree, _) = grow(&data, growth, 7);
        assert_eq!(tree.node_count(), 1);
        let v = tree.leaf_value(array![1.0].view()).unwrap();
        assert!((v[0] + v[1] - 1.0).abs() < 1e-12);
        // Each fraction is a whole number of the 30 draws.
        assert!((v[0] * 30.0 - (v[0] * 30.0).round()).abs() < 1e-9, "{v:?}");
    }

    #[test]
    fn a_malformed_tree_gives_no_value_instead_of_panicking() {
        let tree = Tree {
            n_outputs: 1,
            feature: vec![0],
            threshold: vec![0.0],
            left: vec![0],
            right: vec![0],
            values: vec![],
        };
        assert_eq!(tree.leaf_value(array![1.0].view()), None);
        let looping = Tree {
            n_outputs: 1,
            feature: vec![0, 0],
            threshold: vec![0.0, 0.0],
            left: vec![1, 1],
            right: vec![1, 1],
            values: vec![1.0],
        };
        assert_eq!(looping.leaf_value(array![0.0].view()), None);
    }
}
