//! Writing bags out: one text file per partition.

use super::{Bag, Item};
use crate::error;
use brisk_core::executor::{default_executor, Executor};
use brisk_core::Result;
use brisk_io::compression::Compression;
use brisk_io::objects;
use brisk_io::url::StoreOptions;

impl<T: Item + std::fmt::Display> Bag<T> {
    /// Writes one file per partition, one item per line, and returns the URLs written.
    ///
    /// `pattern` is a local path or URL with one `*`, replaced by the partition
    /// number (`out/part-*.json.gz`); a name ending in `.gz`, `.zst` or `.bz2` is
    /// compressed accordingly. The partitions are computed in one run.
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
        let values = executor.get(self.graph(), &self.keys())?;
        let mut written = Vec::with_capacity(values.len());
        for (i, v) in values.iter().enumerate() {
            let url = pattern.replace('*', &i.to_string());
            let mut text = String::new();
            for x in super::part::<T>(v)? {
                use std::fmt::Write;
                let _ = writeln!(text, "{x}");
            }
            let bytes = Compression::infer(&url)
                .compress(text.as_bytes())
                .map_err(|e| crate::error::io(format!("cannot compress {url}"), e))?;
            written.push(objects::put(&url, bytes, store)?);
        }
        Ok(written)
    }
}
