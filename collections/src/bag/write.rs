//! Writing bags out: one text file per partition, written by the task that holds
//! the partition (on a cluster, by the worker that computed it: the items never
//! pass through the caller's process, which gets back only the names written).

use super::json::Json;
use super::{part, Bag, Item};
use crate::error;
use crate::layers::layer_name;
use brisk_core::executor::{default_executor, Executor};
use brisk_core::graph::{Graph, Layer, Task};
use brisk_core::op::{ClosureOp, Op, OpRegistration};
use brisk_core::spec_op::{rebuild_spec, Spec, SpecOp};
use brisk_core::{Key, Result, Value};
use brisk_io::compression::Compression;
use brisk_io::objects;
use brisk_io::url::StoreOptions;
use serde::{Deserialize, Serialize};
use std::any::TypeId;
use std::fmt::Display;
use std::sync::Arc;

/// The item types a worker can write without knowing the caller's types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Kind {
    String,
    Json,
    I64,
    U64,
    F64,
}

impl Kind {
    fn of<T: 'static>() -> Option<Kind> {
        let t = TypeId::of::<T>();
        [
            (TypeId::of::<String>(), Kind::String),
            (TypeId::of::<Json>(), Kind::Json),
            (TypeId::of::<i64>(), Kind::I64),
            (TypeId::of::<u64>(), Kind::U64),
            (TypeId::of::<f64>(), Kind::F64),
        ]
        .into_iter()
        .find_map(|(id, k)| (id == t).then_some(k))
    }
}

/// One item a line, compressed as the name says, stored at `url`; the URL written.
fn write_lines<T: Item + Display>(items: &[T], url: &str, store: &StoreOptions) -> Result<Value> {
    let mut text = String::new();
    for x in items {
        use std::fmt::Write;
        let _ = writeln!(text, "{x}");
    }
    let bytes = Compression::infer(url)
        .compress(text.as_bytes())
        .map_err(|e| error::io(format!("cannot compress {url}"), e))?;
    Ok(Arc::new(objects::put(url, bytes, store)?))
}

/// The task writing one partition of a bag of a [`Kind`].
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TextWrite {
    url: String,
    store: StoreOptions,
    kind: Kind,
}

impl Spec for TextWrite {
    const NAME: &'static str = "brisk::bag::write_text";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        let p = inputs
            .first()
            .ok_or_else(|| error::malformed("a text write without its partition"))?;
        let (url, store) = (&self.url, &self.store);
        match self.kind {
            Kind::String => write_lines(part::<String>(p)?, url, store),
            Kind::Json => write_lines(part::<Json>(p)?, url, store),
            Kind::I64 => write_lines(part::<i64>(p)?, url, store),
            Kind::U64 => write_lines(part::<u64>(p)?, url, store),
            Kind::F64 => write_lines(part::<f64>(p)?, url, store),
        }
    }
}

inventory::submit! {
    OpRegistration { name: TextWrite::NAME, rebuild: rebuild_spec::<TextWrite> }
}

impl<T: Item + Display> Bag<T> {
    /// Writes one file per partition, one item per line, and returns the URLs written.
    ///
    /// `pattern` is a local path or URL with one `*`, replaced by the partition
    /// number (`out/part-*.json.gz`); a name ending in `.gz`, `.zst` or `.bz2` is
    /// compressed accordingly. Each partition is written by the task that holds
    /// it: bags of `String`, `Json`, `i64`, `u64` or `f64` on any scheduler, other
    /// item types on the local scheduler (map them to strings for a cluster).
    pub fn to_textfiles(&self, pattern: &str, store: &StoreOptions) -> Result<Vec<String>> {
        self.to_textfiles_with(pattern, store, default_executor()?.as_ref())
    }

    /// [`Bag::to_textfiles`] on `executor`.
    pub fn to_textfiles_with(
        &self,
        pattern: &str,
        store: &StoreOptions,
        executor: &dyn Executor,
    ) -> Result<Vec<String>> {
        if pattern.matches('*').count() != 1 {
            return Err(error::invalid(format!(
                "to_textfiles: the pattern '{pattern}' needs exactly one '*'"
            )));
        }
        let layer = layer_name("to-textfiles", &[&self.name(), &pattern])?;
        let tasks = (0..self.npartitions())
            .map(|i| {
                let url = pattern.replace('*', &i.to_string());
                let op: Arc<dyn Op> = match Kind::of::<T>() {
                    Some(kind) => Arc::new(SpecOp(TextWrite {
                        url,
                        store: store.clone(),
                        kind,
                    })),
                    None => {
                        let store = store.clone();
                        Arc::new(ClosureOp::new(
                            format!("to-textfiles:{url}"),
                            move |xs: &[Value]| write_lines(part::<T>(&xs[0])?, &url, &store),
                        ))
                    }
                };
                Task::new(Key::new(layer.as_str(), &[i as u32]), op, vec![self.key(i)])
            })
            .collect::<Vec<_>>();
        let keys: Vec<Key> = tasks.iter().map(|t| t.key.clone()).collect();
        let graph = Graph::from_layer(Layer { name: layer, tasks }, [self.graph()]);
        executor
            .get(&graph, &keys)?
            .iter()
            .map(|v| v.expect_ref::<String>().cloned())
            .collect()
    }
}
