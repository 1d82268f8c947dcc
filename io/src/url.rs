//! URLs to object stores: local paths, `file://` and `s3://`.

use crate::error::{Error, Result};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, RetryConfig};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Options for building stores, beyond what the environment says.
///
/// S3 reads the usual AWS variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_REGION`, `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`, ...); the fields here override
/// them, e.g. for an S3-compatible server on a local address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct StoreOptions {
    /// S3 endpoint, e.g. `http://127.0.0.1:9000`.
    pub endpoint: Option<String>,
    /// S3 region.
    pub region: Option<String>,
    /// Allow plain HTTP (set automatically for an `http://` endpoint).
    pub allow_http: bool,
    /// Access key id.
    pub access_key_id: Option<String>,
    /// Secret access key.
    pub secret_access_key: Option<String>,
}

/// Where a URL points: a store, the URL of the store's root (`s3://bucket`,
/// `file://`), and a path inside it.
#[derive(Clone)]
pub struct Location {
    /// The store.
    pub store: Arc<dyn ObjectStore>,
    /// The scheme and authority, e.g. `s3://bucket` or `file://`.
    pub root: String,
    /// The path inside the store (may hold glob characters).
    pub path: String,
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Location({})", self.url(&self.path))
    }
}

impl Location {
    /// The full URL of `path` in this store.
    pub fn url(&self, path: &str) -> String {
        if self.root == "file://" {
            format!("/{}", path.trim_start_matches('/'))
        } else {
            format!("{}/{}", self.root, path.trim_start_matches('/'))
        }
    }

    /// The object-store path of `path`.
    pub fn object_path(&self, path: &str) -> Result<Path> {
        Path::parse(path).map_err(|e| Error::BadUrl {
            url: self.url(path),
            reason: e.to_string(),
        })
    }
}

/// Whether `url` names a file on the local disk (a path or a `file://` URL).
///
/// ```
/// use brisk_io::url::is_local;
/// assert!(is_local("/data/day1.nc") && is_local("file:///data/day1.nc") && is_local("day1.nc"));
/// assert!(!is_local("s3://bucket/day1.nc"));
/// ```
pub fn is_local(url: &str) -> bool {
    url.starts_with("file://") || !url.contains("://")
}

/// Parses a URL or local path into a [`Location`].
///
/// ```
/// use brisk_io::url::{parse, StoreOptions};
/// let loc = parse("/tmp/data/*.json.gz", &StoreOptions::default()).unwrap();
/// assert_eq!(loc.root, "file://");
/// assert_eq!(loc.path, "tmp/data/*.json.gz");
/// assert!(parse("ftp://host/x", &StoreOptions::default()).is_err());
/// ```
pub fn parse(url: &str, options: &StoreOptions) -> Result<Location> {
    let bad = |reason: &str| Error::BadUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    if let Some(rest) = url.strip_prefix("s3://") {
        let (bucket, path) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad("no bucket name"));
        }
        // One client per bucket and options, shared by every task that reads from it.
        type Cache = Mutex<HashMap<(String, StoreOptions), Arc<dyn ObjectStore>>>;
        static CACHE: OnceLock<Cache> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        let cache_key = (bucket.to_string(), options.clone());
        if let Some(store) = cache.lock().ok().and_then(|c| c.get(&cache_key).cloned()) {
            return Ok(Location {
                store,
                root: format!("s3://{bucket}"),
                path: path.to_string(),
            });
        }
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_retry(RetryConfig {
                max_retries: 2,
                retry_timeout: Duration::from_secs(10),
                ..Default::default()
            });
        if let Some(e) = &options.endpoint {
            b = b
                .with_endpoint(e.clone())
                .with_allow_http(options.allow_http || e.starts_with("http://"));
        } else if options.allow_http {
            b = b.with_allow_http(true);
        }
        if let Some(r) = &options.region {
            b = b.with_region(r.clone());
        }
        if let Some(k) = &options.access_key_id {
            b = b.with_access_key_id(k.clone());
        }
        if let Some(s) = &options.secret_access_key {
            b = b.with_secret_access_key(s.clone());
        }
        let store: Arc<dyn ObjectStore> = Arc::new(b.build().map_err(|e| bad(&e.to_string()))?);
        if let Ok(mut c) = cache.lock() {
            c.insert(cache_key, store.clone());
        }
        return Ok(Location {
            store,
            root: format!("s3://{bucket}"),
            path: path.to_string(),
        });
    }
    let local = match url.strip_prefix("file://") {
        Some(p) => p.to_string(),
        None if url.contains("://") => {
            return Err(bad(
                "unsupported scheme (use a local path, file:// or s3://)",
            ))
        }
        None => url.to_string(),
    };
    let joined = if local.starts_with('/') {
        local
    } else {
        let cwd =
            std::env::current_dir().map_err(|e| bad(&format!("no current directory: {e}")))?;
        format!("{}/{local}", cwd.display())
    };
    // Resolve `.` and `..` lexically (object-store paths have neither).
    let mut parts: Vec<&str> = Vec::new();
    for seg in joined.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let abs = parts.join("/");
    Ok(Location {
        store: Arc::new(LocalFileSystem::new()),
        root: "file://".into(),
        path: abs,
    })
}
