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

use super::{layer_name, part, Bag, Item, Partition};
use crate::error;
use brisk_core::spec_op::{rebuild_spec, Spec, SpecOp};
use brisk_core::token::Bytes;
use brisk_core::{Error, Result, Value};
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

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
        self.pluck_op(Pluck::Key(key.to_string()))
    }

    /// The value at `index` of every (array) item; a short array is an error.
    pub fn pluck_index(&self, index: usize) -> Result<Bag<J>> {
        self.pluck_op(Pluck::Index(index))
    }

    /// The string under `key` of every item (a missing key or a non-string is an error).
    pub fn pluck_str(&self, key: &str) -> Result<Bag<String>> {
        self.pluck_op(Pluck::Str(key.to_string()))
    }

    fn pluck_op<U>(&self, what: Pluck) -> Result<Bag<U>> {
        let spec = PluckSpec {
            what,
            item: J::PARTITION_TAG.to_string(),
            run: Some(PluckSpec::run::<J>),
        };
        let layer = layer_name("pluck", &[&self.name(), &Bytes(&spec_bytes(&spec)?)])?;
        Ok(self.blockwise(layer, Arc::new(SpecOp(spec))))
    }
}

/// What `pluck` takes from each item.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
enum Pluck {
    Key(String),
    Index(usize),
    Str(String),
}

/// A pluck on JSON items (of either JSON type, named by its partition tag), as a
/// registered op.
#[derive(serde::Serialize, serde::Deserialize)]
struct PluckSpec {
    what: Pluck,
    item: String,
    /// The typed code, when built in this process (any `JsonRecord` type); a
    /// rebuilt spec picks it by the item tag.
    #[serde(skip)]
    run: Option<PluckFn>,
}

type PluckFn = fn(&PluckSpec, &Value) -> Result<Value>;

fn spec_bytes(spec: &PluckSpec) -> Result<Vec<u8>> {
    rmp_serde::to_vec(spec).map_err(|e| Error::Tokenize {
        what: "a pluck".into(),
        reason: e.to_string(),
    })
}

impl PluckSpec {
    fn run<J: JsonRecord>(&self, partition: &Value) -> Result<Value> {
        let xs = part::<J>(partition)?;
        Ok(match &self.what {
            Pluck::Key(k) => Arc::new(Partition(
                xs.iter()
                    .map(|x| {
                        x.field(k).ok_or_else(|| {
                            crate::Error::MissingKey {
                                function: "pluck".into(),
                                key: k.clone(),
                                item: x.describe(),
                            }
                            .into()
                        })
                    })
                    .collect::<Result<Vec<J>>>()?,
            )),
            Pluck::Index(i) => Arc::new(Partition(
                xs.iter()
                    .map(|x| {
                        x.at(*i).ok_or_else(|| {
                            error::invalid(format!("pluck: no index {i} in {}", x.describe()))
                        })
                    })
                    .collect::<Result<Vec<J>>>()?,
            )),
            Pluck::Str(k) => Arc::new(Partition(
                xs.iter()
                    .map(|x| match x.field_str(k) {
                        Some(s) => Ok(s.to_string()),
                        None => Err(error::invalid(format!(
                            "pluck_str: no string under '{k}' in {}",
                            x.describe()
                        ))),
                    })
                    .collect::<Result<Vec<String>>>()?,
            )),
        })
    }
}

impl Spec for PluckSpec {
    const NAME: &'static str = "brisk::bag::pluck";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        let [p] = inputs else {
            return Err(Error::Arity {
                op: Self::NAME.into(),
                expected: 1,
                found: inputs.len(),
            });
        };
        if let Some(run) = self.run {
            return run(self, p);
        }
        match self.item.as_str() {
            t if t == Json::PARTITION_TAG => self.run::<Json>(p),
            t if t == <serde_json::Value as Item>::PARTITION_TAG => {
                self.run::<serde_json::Value>(p)
            }
            other => Err(error::invalid(format!(
                "pluck on {other} items runs only in the process that built it \
                 (workers know Json and serde_json::Value)"
            ))),
        }
    }
}

inventory::submit! {
    brisk_core::op::OpRegistration { name: PluckSpec::NAME, rebuild: rebuild_spec::<PluckSpec> }
}
