//! `Bag::to_dataframe`: records become rows (each record written as JSON and read
//! by Polars' NDJSON reader with one schema for every partition).

use super::dataframe::DataFrame;
use super::frame::Frame;
use super::schema::{from_schema, to_schema};
use crate::bag::{part, Bag, Item};
use crate::error;
use crate::layers::layer_name;
use brisk_core::executor::default_executor;
use brisk_core::op::{ClosureOp, Op};
use brisk_core::{Result, Value};
use polars::prelude as pl;
use polars::prelude::SerReader;
use std::sync::Arc;

fn records_to_frame<T: serde::Serialize>(
    items: &[T],
    schema: Option<&pl::Schema>,
) -> Result<pl::DataFrame> {
    let mut text = Vec::new();
    for x in items {
        serde_json::to_writer(&mut text, x).map_err(|source| crate::Error::Json {
            context: "to_dataframe".into(),
            error: source,
        })?;
        text.push(b'\n');
    }
    if items.is_empty() {
        return Ok(pl::DataFrame::empty_with_schema(
            schema.unwrap_or(&pl::Schema::default()),
        ));
    }
    let mut reader =
        pl::JsonReader::new(std::io::Cursor::new(text)).with_json_format(pl::JsonFormat::JsonLines);
    if let Some(s) = schema {
        reader = reader.with_schema(Arc::new(s.clone()));
    }
    reader
        .finish()
        .map_err(|e| error::polars("to_dataframe", e))
}

impl<T: Item> Bag<T> {
    /// The bag's records as a DataFrame, one partition per bag partition: objects
    /// become rows, their keys columns. The schema comes from the first non-empty
    /// partition (computed now, as Dask computes `meta`).
    pub fn to_dataframe(&self) -> Result<DataFrame> {
        let executor = default_executor()?;
        let mut schema: Option<pl::Schema> = None;
        for i in 0..self.npartitions() {
            let v = executor.get(self.graph(), &[self.key(i)])?;
            let items = part::<T>(&v[0])?;
            if !items.is_empty() {
                let sample = &items[..items.len().min(1000)];
                schema = Some(records_to_frame(sample, None)?.schema().as_ref().clone());
                break;
            }
        }
        let schema = schema.unwrap_or_default();
        let fields = from_schema(&schema);
        let layer = layer_name(
            "to_dataframe",
            &[&self.name(), &format!("{fields:?}").as_str()],
        )?;
        let s = to_schema(&fields);
        let op: Arc<dyn Op> = Arc::new(ClosureOp::new("to_dataframe", move |xs: &[Value]| {
            let items = part::<T>(&xs[0])?;
            Ok(Arc::new(Frame(records_to_frame(items, Some(&s))?)) as Value)
        }));
        let graph =
            crate::layers::per_partition(self.graph(), &layer, self.npartitions(), &op, |i| {
                vec![self.key(i)]
            });
        Ok(DataFrame::from_keys(
            layer,
            self.npartitions(),
            graph,
            fields,
        ))
    }
}
