//! Glob patterns over store paths: `*` and `?` and `[..]` within one path segment,
//! `**` across any number of segments. Expansion lists the store below the pattern's
//! literal prefix and keeps the matches, sorted.

use crate::error::{Error, Result};
use crate::runtime::block_on;
use crate::url::{parse, Location, StoreOptions};
use brisk_core::token::{tag, Hasher, Tokenize};
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStoreExt};

/// One file found in a store, with what identifies its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// The full URL (a local path for local files).
    pub url: String,
    /// The path inside its store.
    pub path: Path,
    /// Size in bytes.
    pub size: u64,
    /// Last modification, nanoseconds since the epoch.
    pub modified_ns: i128,
    /// The store's entity tag, where it has one.
    pub e_tag: Option<String>,
}

impl FileInfo {
    fn from_meta(loc: &Location, m: ObjectMeta) -> FileInfo {
        FileInfo {
            url: loc.url(m.location.as_ref()),
            size: m.size,
            modified_ns: m.last_modified.timestamp_nanos_opt().map_or(0, i128::from),
            e_tag: m.e_tag,
            path: m.location,
        }
    }
}

impl Tokenize for FileInfo {
    /// A file's token is its identity (URL, size, modification time, entity tag),
    /// never its bytes: a changed file gets a new token without being read.
    fn tokenize(&self, h: &mut Hasher) -> brisk_core::Result<()> {
        h.write_tag(tag::FILE);
        h.write_str(&self.url);
        h.write_raw(&self.size.to_le_bytes());
        h.write_raw(&self.modified_ns.to_le_bytes());
        self.e_tag.tokenize(h)
    }
}

/// True when `s` holds a glob character.
pub fn has_magic(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Finds the files a URL names: one file, or every match of a glob, sorted by path.
///
/// A URL without glob characters that names nothing is [`Error::NotFound`]; a glob
/// that matches nothing is [`Error::NoMatch`] naming the pattern.
pub fn expand(url: &str, options: &StoreOptions) -> Result<(Location, Vec<FileInfo>)> {
    let loc = parse(url, options)?;
    if !has_magic(&loc.path) {
        let path = loc.object_path(&loc.path)?;
        let meta = block_on(loc.store.head(&path)).map_err(|e| Error::store(url, e))?;
        let info = FileInfo::from_meta(&loc, meta);
        return Ok((loc, vec![info]));
    }
    let segments: Vec<&str> = loc.path.split('/').filter(|s| !s.is_empty()).collect();
    let literal: Vec<&str> = segments
        .iter()
        .take_while(|s| !has_magic(s))
        .copied()
        .collect();
    let prefix = if literal.is_empty() {
        None
    } else {
        Some(loc.object_path(&literal.join("/"))?)
    };
    let metas: Vec<ObjectMeta> = block_on(loc.store.list(prefix.as_ref()).try_collect())
        .map_err(|e| Error::store(url, e))?;
    let mut files: Vec<FileInfo> = metas
        .into_iter()
        .filter(|m| {
            let parts: Vec<&str> = m.location.as_ref().split('/').collect();
            match_segments(&segments, &parts)
        })
        .map(|m| FileInfo::from_meta(&loc, m))
        .collect();
    if files.is_empty() {
        return Err(Error::NoMatch {
            pattern: url.to_string(),
        });
    }
    files.sort_by(|a, b| a.path.as_ref().cmp(b.path.as_ref()));
    Ok((loc, files))
}

/// Matches path segments against pattern segments (`**` spans zero or more segments).
pub fn match_segments(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|skip| match_segments(rest, &path[skip..])),
        Some((p, rest)) => match path.split_first() {
            Some((s, tail)) => match_segment(p, s) && match_segments(rest, tail),
            None => false,
        },
    }
}

/// Matches one segment: `*` any run, `?` one character, `[abc]`, `[a-z]`, `[!x]`.
///
/// ```
/// use brisk_io::glob::match_segment;
/// assert!(match_segment("2015-01-*.json.gz", "2015-01-01-0.json.gz"));
/// assert!(match_segment("part-[0-9].csv", "part-7.csv"));
/// assert!(!match_segment("part-[!0-9].csv", "part-7.csv"));
/// assert!(match_segment("caf?.txt", "café.txt")); // characters, not bytes
/// ```
pub fn match_segment(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    match_chars(&pattern, &text)
}

fn match_chars(pattern: &[char], text: &[char]) -> bool {
    // Iterative matcher with one backtrack point for the last `*`.
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() {
            match pattern[p] {
                '*' => {
                    star = Some((p, t));
                    p += 1;
                    continue;
                }
                '?' => {
                    p += 1;
                    t += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, next)) = match_class(&pattern[p..], text[t]) {
                        if matched {
                            p += next;
                            t += 1;
                            continue;
                        }
                    } else if text[t] == '[' {
                        p += 1;
                        t += 1;
                        continue;
                    }
                }
                c if c == text[t] => {
                    p += 1;
                    t += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, st)) => {
                p = sp + 1;
                t = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// Matches a character class at the start of `pattern` (which starts with `[`):
/// `Some((matched, class length))`, or `None` when the class is not closed.
fn match_class(pattern: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(pattern.get(1), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < pattern.len() {
        let x = pattern[i];
        if x == ']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if i + 2 < pattern.len() && pattern[i + 1] == '-' && pattern[i + 2] != ']' {
            if pattern[i] <= c && c <= pattern[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if x == c {
                matched = true;
            }
            i += 1;
        }
    }
    None
}
