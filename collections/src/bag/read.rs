//! Reading bags from files: lines of text, or one JSON value per line.

use super::{layer_name, Bag, Json, Partition};
use brisk_core::graph::{Graph, Task};
use brisk_core::op::{Op, OpRegistration};
use brisk_core::token::{tag, Hasher, Tokenize};
use brisk_core::{Error, Key, Result, Value};
use brisk_io::blocks::{self, Block};
use brisk_io::compression::Compression;
use brisk_io::glob::{self, FileInfo};
use brisk_io::url::{parse, StoreOptions};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How to read text files into a bag.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Cut uncompressed files into blocks of about this many bytes (`None`: one
    /// partition per file). Compressed files are always one partition.
    pub blocksize: Option<u64>,
    /// Compression of every file (`None`: inferred from each file's extension).
    pub compression: Option<Compression>,
    /// Store settings (S3 endpoint, credentials...).
    pub store: StoreOptions,
}

/// What one read task reads: a block of a file, and how to turn it into items.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct ReadSpec {
    url: String,
    size: u64,
    modified_ns: i128,
    e_tag: Option<String>,
    offset: u64,
    length: Option<u64>,
    compression: Compression,
    store: StoreOptions,
    json: bool,
}

struct ReadOp(ReadSpec);

const READ_OP: &str = "brisk::bag::read_text";

impl Op for ReadOp {
    fn name(&self) -> &str {
        READ_OP
    }
    fn tokenize_params(&self, h: &mut Hasher) -> Result<()> {
        let s = &self.0;
        h.write_tag(tag::FILE);
        h.write_str(&s.url);
        h.write_raw(&s.size.to_le_bytes());
        h.write_raw(&s.modified_ns.to_le_bytes());
        s.e_tag.tokenize(h)?;
        (s.offset, s.length, s.compression, s.json).tokenize(h)
    }
    fn params(&self) -> Result<Vec<u8>> {
        rmp_serde::to_vec(&self.0).map_err(|e| Error::OpParams {
            op: READ_OP.into(),
            message: e.to_string(),
        })
    }
    fn call(&self, _inputs: &[Value]) -> Result<Value> {
        let s = &self.0;
        let loc = parse(&s.url, &s.store)?;
        let file = FileInfo {
            url: s.url.clone(),
            path: loc.object_path(&loc.path)?,
            size: s.size,
            modified_ns: s.modified_ns,
            e_tag: s.e_tag.clone(),
        };
        let block = Block {
            file,
            offset: s.offset,
            length: s.length,
            compression: s.compression,
        };
        let bytes = blocks::read(loc.store.as_ref(), &block, b"\n")?;
        let whole_file = s.length.is_none();
        let block = (!whole_file).then_some(s.offset);
        let lines = split_lines(&bytes);
        if s.json {
            let mut items = Vec::with_capacity(lines.len());
            for (i, line) in lines.iter().enumerate() {
                if line.iter().all(|b| b.is_ascii_whitespace()) {
                    continue;
                }
                let v = Json::parse(line).map_err(|source| crate::Error::MalformedJson {
                    file: s.url.clone(),
                    line: i + 1,
                    block,
                    error: source,
                })?;
                items.push(v);
            }
            Ok(Arc::new(Partition(items)))
        } else {
            let items = lines
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    String::from_utf8(l.to_vec()).map_err(|source| {
                        crate::Error::InvalidUtf8 {
                            file: s.url.clone(),
                            line: i + 1,
                            block,
                            error: source,
                        }
                        .into()
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Arc::new(Partition(items)))
        }
    }
}

inventory::submit! {
    OpRegistration {
        name: READ_OP,
        rebuild: |bytes| {
            let spec: ReadSpec = rmp_serde::from_slice(bytes)
                .map_err(|e| Error::OpParams { op: READ_OP.into(), message: e.to_string() })?;
            Ok(Arc::new(ReadOp(spec)))
        },
    }
}

/// Splits on `\n`, dropping a trailing `\r` and the empty piece after a final newline.
fn split_lines(bytes: &[u8]) -> Vec<&[u8]> {
    if bytes.is_empty() {
        return Vec::new();
    }
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let mut lines = Vec::with_capacity(body.len() / 64 + 1);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', body).chain(std::iter::once(body.len())) {
        let l = &body[start..end];
        lines.push(l.strip_suffix(b"\r").unwrap_or(l));
        start = end + 1;
    }
    lines
}

fn read<T>(urls: &[&str], options: &ReadOptions, json: bool) -> Result<Bag<T>> {
    let mut specs = Vec::new();
    for url in urls {
        let (_, files) = glob::expand(url, &options.store)?;
        for b in blocks::plan(&files, options.blocksize, options.compression) {
            specs.push(ReadSpec {
                url: b.file.url.clone(),
                size: b.file.size,
                modified_ns: b.file.modified_ns,
                e_tag: b.file.e_tag.clone(),
                offset: b.offset,
                length: b.length,
                compression: b.compression,
                store: options.store.clone(),
                json,
            });
        }
    }
    let ops: Vec<Arc<dyn Op>> = specs
        .into_iter()
        .map(|s| Arc::new(ReadOp(s)) as Arc<dyn Op>)
        .collect();
    let mut h = Hasher::new();
    for op in &ops {
        op.tokenize_params(&mut h)?;
    }
    let name = layer_name(if json { "read-json" } else { "read-text" }, &[&h.finish()])?;
    let tasks: Vec<Task> = ops
        .into_iter()
        .enumerate()
        .map(|(i, op)| Task::new(Key::new(name.as_str(), &[i as u32]), op, vec![]))
        .collect();
    let n = tasks.len();
    Ok(Bag::from_parts(
        name.clone(),
        n,
        Graph::from_tasks(name, tasks),
    ))
}

/// Lines of text files (local paths, `file://` or `s3://` URLs, globs allowed), one
/// partition per file or per block; lines lose their line ending.
///
/// A file that is not valid UTF-8 is an error naming the file and line.
pub fn read_text(urls: &[&str], options: &ReadOptions) -> Result<Bag<String>> {
    read(urls, options, false)
}

/// One JSON value per line (NDJSON), read like [`read_text`]; blank lines are
/// skipped and a malformed line is an error naming the file and line.
pub fn read_json(urls: &[&str], options: &ReadOptions) -> Result<Bag<Json>> {
    read(urls, options, true)
}
