//! A search as one task graph.
//!
//! The data are two literal tasks, each fold's rows are `take_rows` tasks, and each
//! candidate on each fold is a chain of `fit` and `transform` tasks ending in a
//! `score`. Every key is a content token of its op's parameters and its inputs'
//! keys, so a fit of the same step with the same parameters on the same
//! (transformed) fold has the same key whichever candidate asks for it: the
//! candidates share it, and it runs once. Two searches on the same data planned
//! into one graph share their common fits the same way.

use super::ops::{Fit, FitSeconds, Score, TakeRows, Transform};
use super::split::Fold;
use crate::error::Result;
use crate::estimator::Role;
use crate::pipeline::Pipeline;
use brisk_core::graph::{Graph, Task};
use brisk_core::op::LiteralOp;
use brisk_core::{tokenize, Key};
use ndarray::{ArrayD, ArrayView1, ArrayView2};
use std::collections::HashMap;
use std::sync::Arc;

/// Tasks keyed by their key, added once each.
#[derive(Default)]
pub(crate) struct Tasks {
    by_key: HashMap<Key, Task>,
    order: Vec<Key>,
    /// The estimator kind of each fit task.
    fit_kinds: HashMap<Key, String>,
}

impl Tasks {
    pub(crate) fn add(&mut self, task: Task) -> Key {
        let key = task.key.clone();
        if !self.by_key.contains_key(&key) {
            self.order.push(key.clone());
            self.by_key.insert(key.clone(), task);
        }
        key
    }

    pub(crate) fn call(
        &mut self,
        prefix: &str,
        op: Arc<dyn brisk_core::op::Op>,
        inputs: Vec<Key>,
    ) -> Result<Key> {
        Ok(self.add(Task::tokenized(prefix, op, inputs)?))
    }

    /// The distinct fit tasks whose step is of `kind`.
    pub(crate) fn count_fits(&self, kind: &str) -> usize {
        self.fit_kinds.values().filter(|k| *k == kind).count()
    }

    pub(crate) fn order_len(&self) -> usize {
        self.order.len()
    }

    /// One layer of the tasks. Graphs keep one layer per name, so the name carries
    /// a token of the keys: two different searches make two layers.
    pub(crate) fn into_graph(self, name: &str) -> Graph {
        let mut h = brisk_core::token::Hasher::new();
        h.write_len(self.order.len());
        for k in &self.order {
            h.write_str(k.name());
        }
        let mut by_key = self.by_key;
        let tasks = self.order.iter().filter_map(|k| by_key.remove(k)).collect();
        Graph::from_tasks(format!("{name}-{}", h.finish()), tasks)
    }
}

/// The key prefix of fits of `kind`: `fit-PCA`.
pub(crate) fn fit_prefix(kind: &str) -> String {
    format!("fit-{}", kind.rsplit("::").next().unwrap_or(kind))
}

/// A literal array task: its key is the content token of the data.
pub(crate) fn literal(tasks: &mut Tasks, name: &str, a: ArrayD<f64>) -> Result<Key> {
    let token = tokenize(&a)?;
    let key = Key::from_token(name, &token, &[]);
    Ok(tasks.add(Task::new(
        key,
        Arc::new(LiteralOp::new(Arc::new(a), token)),
        vec![],
    )))
}

/// The keys of `X` and `y` as literal tasks.
pub(crate) fn data(
    tasks: &mut Tasks,
    x: ArrayView2<'_, f64>,
    y: ArrayView1<'_, f64>,
) -> Result<(Key, Key)> {
    let xk = literal(tasks, "X", x.to_owned().into_dyn())?;
    let yk = literal(tasks, "y", y.to_owned().into_dyn())?;
    Ok((xk, yk))
}

/// Keys of one fold's parts.
pub(crate) struct FoldKeys {
    pub x_train: Key,
    pub y_train: Key,
    pub x_test: Key,
    pub y_test: Key,
}

pub(crate) fn fold(tasks: &mut Tasks, x: &Key, y: &Key, f: &Fold) -> Result<FoldKeys> {
    let take = |tasks: &mut Tasks, prefix: &str, rows: &[u32], of: &Key| {
        tasks.call(
            prefix,
            Arc::new(TakeRows::new(rows.to_vec())),
            vec![of.clone()],
        )
    };
    Ok(FoldKeys {
        x_train: take(tasks, "X-train", &f.0, x)?,
        y_train: take(tasks, "y-train", &f.0, y)?,
        x_test: take(tasks, "X-test", &f.1, x)?,
        y_test: take(tasks, "y-test", &f.1, y)?,
    })
}

/// The keys of one fitted pipeline: each step's fit.
pub(crate) struct Chain {
    pub fits: Vec<Key>,
}

/// The fit chain of `pipeline` on `(x, y)`.
pub(crate) fn fit_chain(tasks: &mut Tasks, pipeline: &Pipeline, x: &Key, y: &Key) -> Result<Chain> {
    let steps = pipeline.steps();
    let mut cur = x.clone();
    let mut fits = Vec::with_capacity(steps.len());
    for (i, s) in steps.iter().enumerate() {
        // Unsupervised steps do not read y: their fits are shared by any y.
        let inputs = match s.role()? {
            Role::Transformer | Role::Clusterer => vec![cur.clone()],
            Role::Classifier | Role::Regressor => vec![cur.clone(), y.clone()],
        };
        let fit = tasks.call(&fit_prefix(&s.kind), Arc::new(Fit::new(s)), inputs)?;
        tasks.fit_kinds.insert(fit.clone(), s.kind.clone());
        if i + 1 < steps.len() {
            cur = tasks.call("transform", Arc::new(Transform), vec![fit.clone(), cur])?;
        }
        fits.push(fit);
    }
    Ok(Chain { fits })
}

/// The keys of one candidate on one fold: its score and each step's fit time.
pub(crate) struct Scored {
    pub score: Key,
    pub fit_seconds: Vec<Key>,
}

/// Fits `pipeline` on the fold's training part and scores it on its test part.
pub(crate) fn score_on_fold(
    tasks: &mut Tasks,
    pipeline: &Pipeline,
    f: &FoldKeys,
    scoring: &str,
) -> Result<Scored> {
    let chain = fit_chain(tasks, pipeline, &f.x_train, &f.y_train)?;
    let mut test = f.x_test.clone();
    let n = chain.fits.len();
    for fit in &chain.fits[..n - 1] {
        test = tasks.call("transform", Arc::new(Transform), vec![fit.clone(), test])?;
    }
    let score = tasks.call(
        "score",
        Arc::new(Score::new(scoring)),
        vec![chain.fits[n - 1].clone(), test, f.y_test.clone()],
    )?;
    let fit_seconds = chain
        .fits
        .iter()
        .map(|k| tasks.call("fit-seconds", Arc::new(FitSeconds), vec![k.clone()]))
        .collect::<Result<_>>()?;
    Ok(Scored { score, fit_seconds })
}
