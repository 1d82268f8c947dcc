//! Reshaping bags: `groupby` (a hash shuffle), `repartition`, `zip`.
//!
//! ```text
//!  groupby, n partitions in, m out:
//!   part_i ─▶ split_i (m buckets by hash of key) ─┬─▶ group_0 (bucket 0 of every split)
//!                                                  ├─▶ group_1
//!                                                  └─▶ … group_(m-1)
//! ```

use super::hash::stable_hash;
use super::item_ops::{Reshape, ReshapeSpec};
use super::partition::Buckets;
use super::task_fn::Apply;
use super::{layer_name, part, Bag, Item, Partition};
use crate::error;
use crate::user_fn::{Code, IntoCode, OnItem};
use brisk_core::graph::{Graph, Layer, Task};
use brisk_core::op::{ClosureOp, Op};
use brisk_core::{Key, Result, Value};
use std::collections::BTreeMap;
use std::hash::Hash;
use std::sync::Arc;

impl<T: Item> Bag<T> {
    /// Groups items by `key` with a hash shuffle into `npartitions` partitions (the
    /// same number as the input when `None`): every key's items end up together in
    /// one `(key, items)` pair, items in their original order, pairs sorted by key
    /// within each partition. `key` is a registered function or a named closure
    /// `("name", |x: &T| -> K)`.
    pub fn groupby<K, M>(
        &self,
        key: impl IntoCode<T, K, OnItem<T, K>, M>,
        npartitions: Option<usize>,
    ) -> Result<Bag<(K, Vec<T>)>>
    where
        K: Item + Ord + Hash,
        (K, Vec<T>): Item,
    {
        let m = npartitions.unwrap_or(self.npartitions).max(1);
        if m > super::task_fn::MAX_GROUPS {
            return Err(error::invalid(format!(
                "groupby into {m} partitions (at most {})",
                super::task_fn::MAX_GROUPS
            )));
        }
        let (name, key) = match key.into_code() {
            Code::Registered(key) => {
                let split = key.apply_op(Apply::GroupSplit { m })?;
                let name = format!("task-{}", key.token(Apply::GroupSplit { m })?);
                return self.shuffle_groups(&name, m, split, |j| key.apply_op(Apply::Group { j }));
            }
            Code::Closure(name, key) => (name, key),
        };
        let k1 = key.clone();
        let split: Arc<dyn Op> = Arc::new(ClosureOp::new(
            format!("groupby-split:{name}"),
            move |xs: &[Value]| {
                let mut buckets: Vec<Vec<T>> = vec![Vec::new(); m];
                for x in part::<T>(&xs[0])? {
                    buckets[(stable_hash(&k1(x)) % m as u64) as usize].push(x.clone());
                }
                Ok(Arc::new(Buckets(buckets)) as Value)
            },
        ));
        let group = |j: usize| -> Result<Arc<dyn Op>> {
            let k = key.clone();
            Ok(Arc::new(ClosureOp::new(
                format!("groupby:{name}#{j}"),
                move |xs: &[Value]| {
                    let mut groups: BTreeMap<K, Vec<T>> = BTreeMap::new();
                    for v in xs {
                        let b = v.expect_ref::<Buckets<T>>()?;
                        for x in b.0.get(j).into_iter().flatten() {
                            groups.entry(k(x)).or_default().push(x.clone());
                        }
                    }
                    Ok(
                        Arc::new(Partition(groups.into_iter().collect::<Vec<(K, Vec<T>)>>()))
                            as Value,
                    )
                },
            )))
        };
        self.shuffle_groups(&name, m, split, group)
    }

    /// A hash shuffle into `m` groups: `split` on every partition, then output `j`
    /// runs `group(j)` on bucket `j` of every split.
    fn shuffle_groups<K>(
        &self,
        name: &str,
        m: usize,
        split: Arc<dyn Op>,
        group: impl Fn(usize) -> Result<Arc<dyn Op>>,
    ) -> Result<Bag<(K, Vec<T>)>> {
        let split_layer = layer_name("groupby-split", &[&self.name(), &name, &m])?;
        let split_bag: Bag<T> = self.blockwise(split_layer.clone(), split);
        let group_layer = layer_name("groupby", &[&split_layer.as_str()])?;
        let tasks: Vec<Task> = (0..m)
            .map(|j| {
                Ok(Task::new(
                    Key::new(group_layer.as_str(), &[j as u32]),
                    group(j)?,
                    split_bag.keys(),
                ))
            })
            .collect::<Result<_>>()?;
        let graph = Graph::from_layer(
            Layer {
                name: group_layer.clone(),
                tasks,
            },
            [split_bag.graph()],
        );
        Ok(Bag::from_parts(group_layer, m, graph))
    }

    /// The same items in `n` partitions: fewer by joining neighbours, more by cutting
    /// partitions into near-equal pieces. Order is kept.
    pub fn repartition(&self, n: usize) -> Result<Bag<T>> {
        let n = n.max(1);
        let cur = self.npartitions;
        let layer = layer_name("repartition", &[&self.name(), &n])?;
        let mut tasks = Vec::with_capacity(n);
        // With no input partitions, every output joins nothing and is empty.
        if cur == 0 || n <= cur {
            // Output j joins inputs [j*cur/n, (j+1)*cur/n).
            let concat: Arc<dyn Op> = ReshapeSpec::op::<T>(Reshape::Join);
            for j in 0..n {
                let inputs = (j * cur / n..(j + 1) * cur / n)
                    .map(|i| self.key(i))
                    .collect();
                tasks.push(Task::new(
                    Key::new(layer.as_str(), &[j as u32]),
                    concat.clone(),
                    inputs,
                ));
            }
        } else {
            // Input i is cut into pieces_i near-equal pieces, the pieces adding up to n.
            let mut j = 0u32;
            for i in 0..cur {
                let pieces = (i + 1) * n / cur - i * n / cur;
                for p in 0..pieces {
                    let op: Arc<dyn Op> = ReshapeSpec::op::<T>(Reshape::Cut { p, pieces });
                    tasks.push(Task::new(
                        Key::new(layer.as_str(), &[j]),
                        op,
                        vec![self.key(i)],
                    ));
                    j += 1;
                }
            }
        }
        let graph = Graph::from_layer(
            Layer {
                name: layer.clone(),
                tasks,
            },
            [self.graph()],
        );
        Ok(Bag::from_parts(layer, n, graph))
    }

    /// Pairs the items of two bags with the same partitioning, item by item; partitions
    /// of different lengths are an error naming the partition.
    pub fn zip<U: Item>(&self, other: &Bag<U>) -> Result<Bag<(T, U)>>
    where
        (T, U): Item,
    {
        if self.npartitions != other.npartitions {
            return Err(error::invalid(format!(
                "zip: the bags have {} and {} partitions",
                self.npartitions, other.npartitions
            )));
        }
        let layer = layer_name("zip", &[&self.name(), &other.name()])?;
        let tasks = (0..self.npartitions)
            .map(|i| {
                let op: Arc<dyn Op> = Arc::new(ClosureOp::new("zip", move |xs: &[Value]| {
                    let (a, b) = (part::<T>(&xs[0])?, part::<U>(&xs[1])?);
                    if a.len() != b.len() {
                        return Err(error::invalid(format!(
                            "zip: partition {i} has {} and {} items",
                            a.len(),
                            b.len()
                        )));
                    }
                    Ok(Arc::new(Partition(
                        a.iter()
                            .cloned()
                            .zip(b.iter().cloned())
                            .collect::<Vec<(T, U)>>(),
                    )) as Value)
                }));
                Task::new(
                    Key::new(layer.as_str(), &[i as u32]),
                    op,
                    vec![self.key(i), other.key(i)],
                )
            })
            .collect();
        let graph = Graph::from_layer(
            Layer {
                name: layer.clone(),
                tasks,
            },
            [self.graph(), other.graph()],
        );
        Ok(Bag::from_parts(layer, self.npartitions, graph))
    }
}
