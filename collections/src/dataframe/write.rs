//! Writers: one file per partition, written by the partition's own task (in
//! parallel, each partition dropped once written).

use super::dataframe::DataFrame;
use super::frame::{frame, Frame};
use super::parquet_write::{write_parquet, DEFAULT_ROW_GROUP};
use crate::error;
use crate::layers::layer_name;
use brisk_core::executor::default_executor;
use brisk_core::graph::{Graph, Layer, Task};
use brisk_core::op::{Op, OpRegistration};
use brisk_core::spec_op::{rebuild_spec, Spec, SpecOp};
use brisk_core::{Key, Result, Value};
use brisk_io::compression::Compression;
use brisk_io::objects;
use brisk_io::url::StoreOptions;
use polars::prelude as pl;
use polars::prelude::SerWriter;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Format {
    Parquet,
    Csv,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct WriteSpec {
    url: String,
    format: Format,
    store: StoreOptions,
}

impl Spec for WriteSpec {
    const NAME: &'static str = "brisk::dataframe::write";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        let s = self;
        let mut df = frame(&inputs[0])?.clone();
        let mut buf = Vec::new();
        let written = match s.format {
            Format::Parquet => write_parquet(&df, &mut buf, DEFAULT_ROW_GROUP).map(|_| ()),
            Format::Csv => pl::CsvWriter::new(&mut buf).finish(&mut df),
        };
        written.map_err(|e| error::polars(format!("cannot write {}", s.url), e))?;
        let bytes = match s.format {
            Format::Csv => Compression::infer(&s.url)
                .compress(&buf)
                .map_err(|e| error::io(format!("cannot compress {}", s.url), e))?,
            Format::Parquet => buf,
        };
        let url = objects::put(&s.url, bytes, &s.store)?;
        let out = pl::DataFrame::new_infer_height(vec![pl::Column::new("path".into(), [url])])
            .map_err(|e| error::polars("", e))?;
        Ok(Arc::new(Frame(out)))
    }
}

inventory::submit! {
    OpRegistration { name: WriteSpec::NAME, rebuild: rebuild_spec::<WriteSpec> }
}

impl DataFrame {
    fn write(&self, pattern: &str, format: Format, store: &StoreOptions) -> Result<Vec<String>> {
        if pattern.matches('*').count() != 1 {
            return Err(error::invalid(format!(
                "the output pattern '{pattern}' needs exactly one '*' (the partition number)"
            )));
        }
        let parts = self.parts(&[])?;
        let layer = layer_name("write", &[&parts.name.as_str(), &pattern])?;
        let tasks = (0..parts.npartitions)
            .map(|i| {
                Task::new(
                    Key::new(layer.as_str(), &[i as u32]),
                    Arc::new(SpecOp(WriteSpec {
                        url: pattern.replace('*', &i.to_string()),
                        format,
                        store: store.clone(),
                    })) as Arc<dyn Op>,
                    vec![parts.key(i)],
                )
            })
            .collect::<Vec<_>>();
        let keys: Vec<Key> = tasks.iter().map(|t| t.key.clone()).collect();
        let graph = Graph::from_layer(Layer { name: layer, tasks }, [&parts.graph]);
        let values = default_executor()?.get(&graph, &keys)?;
        let mut out = Vec::with_capacity(values.len());
        for v in &values {
            let df = frame(v)?;
            let path = df
                .column("path")
                .and_then(|c| c.str().map(|s| s.get(0).map(str::to_string)))
                .map_err(|e| error::polars("", e))?;
            out.extend(path);
        }
        Ok(out)
    }

    /// Writes one Parquet file per partition; `pattern` (a local path or URL) has one
    /// `*`, replaced by the partition number. Returns the files written. Files are
    /// zstd-compressed, in row groups of 262,144 rows, and float columns whose values
    /// repeat are dictionary-encoded, as pyarrow writes them ([`write_parquet`]).
    pub fn to_parquet(&self, pattern: &str, store: &StoreOptions) -> Result<Vec<String>> {
        self.write(pattern, Format::Parquet, store)
    }

    /// Writes one CSV file (with a header) per partition, compressed when the name
    /// ends in `.gz`, `.zst` or `.bz2`. Returns the files written.
    pub fn to_csv(&self, pattern: &str, store: &StoreOptions) -> Result<Vec<String>> {
        self.write(pattern, Format::Csv, store)
    }
}
