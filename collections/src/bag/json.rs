//! JSON records: the items of [`super::read_json`], and `pluck` over them.
//!
//! [`Json`] is a parsed JSON value (SIMD parsing by `sonic-rs`, several times faster
//! than building a `serde_json::Value`). It dereferences to [`sonic_rs::Value`], so
//! records read like `serde_json` ones once [`JsonValueTrait`] is in scope:
//!
//! ```
//! use brisk_collections::bag::{Json, JsonValueTrait};
//! let e = Json::parse(br#"{"repo": {"name": "jupyter/notebook"}, "id": 7}"#).unwrap();
//! assert_eq!(e["repo"]["name"].as_str(), Some("jupyter/notebook"));
//! assert_eq!(e["id"].as_u64(), Some(7));
//! assert!(e["missing"].is_null());
//! ```
//!
//! Between processes a record travels as its JSON text and is parsed again on
//! arrival, so a hostile message can at worst be malformed JSON.

use super::{Bag, Item};
use brisk_core::{Error, Result};
use std::fmt;
use std::ops::Deref;

pub use sonic_rs::{JsonContainerTrait, JsonValueTrait};

/// A parsed JSON value: one record of an NDJSON file.
#[derive(Clone, PartialEq, Default)]
pub struct Json(pub sonic_rs::Value);

impl Json {
    /// Parses one JSON text.
    pub fn parse(text: &[u8]) -> std::result::Result<Json, sonic_rs::Error> {
        sonic_rs::from_slice(text).map(Json)
    }

    /// The JSON text of this value.
    pub fn to_text(&self) -> String {
        // Serialising an in-memory sonic value cannot fail (keys are strings).
        sonic_rs::to_string(&self.0).unwrap_or_default()
    }

    /// The same value as a `serde_json::Value`.
    pub fn to_serde(&self) -> serde_json::Value {
        serde_json::from_str(&self.to_text()).unwrap_or(serde_json::Value::Null)
    }

    /// The start of the value's text, for messages.
    fn brief(&self) -> String {
        brief_text(self.to_text())
    }
}

impl Deref for Json {
    type Target = sonic_rs::Value;
    fn deref(&self) -> &sonic_rs::Value {
        &self.0
    }
}

impl From<sonic_rs::Value> for Json {
    fn from(v: sonic_rs::Value) -> Json {
        Json(v)
    }
}

impl fmt::Debug for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// In human-readable formats (serde_json...) a record is its JSON value; in binary
/// formats (msgpack between processes) it is its JSON text, parsed again on arrival.
impl serde::Serialize for Json {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            self.0.serialize(s)
        } else {
            s.serialize_str(&self.to_text())
        }
    }
}

impl<'de> serde::Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Json, D::Error> {
        if d.is_human_readable() {
            let v = serde_json::Value::deserialize(d)?;
            Json::parse(v.to_string().as_bytes()).map_err(serde::de::Error::custom)
        } else {
            let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            Json::parse(text.as_bytes()).map_err(serde::de::Error::custom)
        }
    }
}

crate::bag_item! {
    Json => "bag<json>", nbytes = |j: &Json| sonic_nbytes(&j.0);
    (String, Json) => "bag<(str,json)>";
    (String, Vec<Json>) => "bag<(str,vec<json>)>";
}

/// A rough size of a JSON value (walks the value: JSON records are small).
fn sonic_nbytes(v: &sonic_rs::Value) -> usize {
    if let Some(s) = v.as_str() {
        24 + s.len()
    } else if let Some(a) = v.as_array() {
        24 + a.iter().map(sonic_nbytes).sum::<usize>()
    } else if let Some(o) = v.as_object() {
        48 + o
            .iter()
            .map(|(k, v)| 24 + k.len() + sonic_nbytes(v))
            .sum::<usize>()
    } else {
        16
    }
}

/// A JSON value `pluck` can look into: [`Json`] and `serde_json::Value`.
pub trait JsonRecord: Item {
    /// The value under `key` of an object.
    fn field(&self, key: &str) -> Option<Self>;
    /// The value at `index` of an array.
    fn at(&self, index: usize) -> Option<Self>;
    /// The string under `key` of an object.
    fn field_str(&self, key: &str) -> Option<&str>;
    /// The start of the value's text, for messages.
    fn describe(&self) -> String;
}

impl JsonRecord for Json {
    fn field(&self, key: &str) -> Option<Json> {
        self.0.get(key).cloned().map(Json)
    }
    fn at(&self, index: usize) -> Option<Json> {
        self.0.get(index).cloned().map(Json)
    }
    fn field_str(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.as_str())
    }
    fn describe(&self) -> String {
        self.brief()
    }
}

impl JsonRecord for serde_json::Value {
    fn field(&self, key: &str) -> Option<Self> {
        self.get(key).cloned()
    }
    fn at(&self, index: usize) -> Option<Self> {
        self.get(index).cloned()
    }
    fn field_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(|v| v.as_str())
    }
    fn describe(&self) -> String {
        brief_text(self.to_string())
    }
}

fn brief_text(s: String) -> String {
    match s.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

impl<J: JsonRecord> Bag<J> {
    /// The value under `key` of every item (Dask's `pluck`); a missing key is an
    /// error naming it.
    pub fn pluck(&self, key: &str) -> Result<Bag<J>> {
        let k = key.to_string();
        self.map_partitions(&format!("pluck:{key}"), move |xs| {
            xs.iter()
                .map(|x| {
                    x.field(&k).ok_or_else(|| {
                        Error::user(format!("pluck: no key '{k}' in {}", x.describe()))
                    })
                })
                .collect()
        })
    }

    /// The value at `index` of every (array) item; a short array is an error.
    pub fn pluck_index(&self, index: usize) -> Result<Bag<J>> {
        self.map_partitions(&format!("pluck-index:{index}"), move |xs| {
            xs.iter()
                .map(|x| {
                    x.at(index).ok_or_else(|| {
                        Error::user(format!("pluck: no index {index} in {}", x.describe()))
                    })
                })
                .collect()
        })
    }

    /// The string under `key` of every item (a missing key or a non-string is an error).
    pub fn pluck_str(&self, key: &str) -> Result<Bag<String>> {
        let k = key.to_string();
        self.map_partitions(&format!("pluck-str:{key}"), move |xs| {
            xs.iter()
                .map(|x| match x.field_str(&k) {
                    Some(s) => Ok(s.to_string()),
                    None => Err(Error::user(format!(
                        "pluck_str: no string under '{k}' in {}",
                        x.describe()
                    ))),
                })
                .collect()
        })
    }
}
