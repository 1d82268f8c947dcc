//! A file as a partition's task names it: its URL plus what identifies its content
//! (size, modification time, entity tag), and the store settings to reach it.

use brisk_core::Result;
use brisk_io::glob::FileInfo;
use brisk_io::url::{parse, StoreOptions};
use serde::{Deserialize, Serialize};

/// A file as a task names it: URL plus what identifies its content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct FileRef {
    pub url: String,
    pub size: u64,
    pub modified_ns: i128,
    pub e_tag: Option<String>,
    pub store: StoreOptions,
}

impl FileRef {
    pub(crate) fn new(f: &FileInfo, store: &StoreOptions) -> FileRef {
        FileRef {
            url: f.url.clone(),
            size: f.size,
            modified_ns: f.modified_ns,
            e_tag: f.e_tag.clone(),
            store: store.clone(),
        }
    }

    pub(crate) fn info(&self) -> Result<(brisk_io::url::Location, FileInfo)> {
        let loc = parse(&self.url, &self.store)?;
        let path = loc.object_path(&loc.path)?;
        let info = FileInfo {
            url: self.url.clone(),
            path,
            size: self.size,
            modified_ns: self.modified_ns,
            e_tag: self.e_tag.clone(),
        };
        Ok((loc, info))
    }

    /// The local path, for files on local disk.
    pub(crate) fn local_path(&self) -> Option<String> {
        let loc = parse(&self.url, &self.store).ok()?;
        (loc.root == "file://").then(|| loc.url(&loc.path))
    }
}
