//! Whole objects: write bytes to a URL, read them back.

use crate::error::{Error, Result};
use crate::runtime::block_on;
use crate::url::{parse, StoreOptions};
use object_store::{ObjectStoreExt, PutPayload};

/// Writes `bytes` as the object at `url` (a local path, `file://` or `s3://` URL),
/// creating local parent directories, and returns the object's full URL (an absolute
/// path for local files).
///
/// ```
/// use brisk_io::{objects, url::StoreOptions};
/// let dir = std::env::temp_dir().join(format!("brisk-objects-doc-{}", std::process::id()));
/// let path = format!("{}/sub/a.txt", dir.display());
/// let url = objects::put(&path, b"hello".to_vec(), &StoreOptions::default()).unwrap();
/// assert_eq!(url, path);
/// assert_eq!(objects::get(&path, &StoreOptions::default()).unwrap(), b"hello");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn put(url: &str, bytes: Vec<u8>, options: &StoreOptions) -> Result<String> {
    let loc = parse(url, options)?;
    let full = loc.url(&loc.path);
    if loc.root == "file://" {
        if let Some(parent) = std::path::Path::new(&full).parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::Store {
                url: full.clone(),
                reason: format!("cannot create {}: {e}", parent.display()),
            })?;
        }
    }
    let path = loc.object_path(&loc.path)?;
    block_on(loc.store.put(&path, PutPayload::from(bytes))).map_err(|e| Error::Store {
        url: full.clone(),
        reason: e.to_string(),
    })?;
    Ok(full)
}

/// Reads the whole object at `url`; a missing object is [`Error::NotFound`].
pub fn get(url: &str, options: &StoreOptions) -> Result<Vec<u8>> {
    let loc = parse(url, options)?;
    let full = loc.url(&loc.path);
    let path = loc.object_path(&loc.path)?;
    let got = block_on(async { loc.store.get(&path).await?.bytes().await })
        .map_err(|e| Error::store(&full, e))?;
    Ok(Vec::from(got))
}
