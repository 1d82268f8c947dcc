//! Parameters: an estimator's fields by name, as JSON values.
//!
//! An estimator is plain serde data, so its parameters are its fields: reading them
//! serialises it, setting them writes the new values into that map and deserialises
//! it back, which checks each value's type. Names that are not fields are an error
//! listing the fields, as scikit-learn's `set_params` is.
//!
//! ```
//! use brisk_ml::params::{get_params, set_params, Params};
//! use brisk_ml::PCA;
//! let pca = PCA::default();
//! let mut p = Params::new();
//! p.insert("n_components".into(), 3.into());
//! let three: PCA = set_params(&pca, &p).unwrap();
//! assert_eq!(get_params(&three).unwrap()["n_components"], 3);
//! p.insert("n_component".into(), 3.into());
//! let err = set_params(&pca, &p).unwrap_err().to_string();
//! assert!(err.contains("no parameter 'n_component'"), "{err}");
//! ```

use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::BTreeMap;

/// Parameter values by name, in name order (so equal parameters print, and hash,
/// the same).
pub type Params = BTreeMap<String, serde_json::Value>;

/// One parameter value: anything that converts into JSON (`3`, `0.5`, `"l1"`,
/// `true`, `serde_json::Value::Null` for None).
pub type ParamValue = serde_json::Value;

/// The parameters of `est` by name.
pub fn get_params<E: Serialize>(est: &E) -> Result<Params> {
    match serde_json::to_value(est) {
        Ok(serde_json::Value::Object(map)) => Ok(map.into_iter().collect()),
        Ok(other) => Err(Error::Encode {
            kind: std::any::type_name::<E>().to_string(),
            message: format!("parameters must be a struct of fields, got {other}"),
        }),
        Err(e) => Err(Error::Encode {
            kind: std::any::type_name::<E>().to_string(),
            message: e.to_string(),
        }),
    }
}

/// A copy of `est` with the parameters of `params` set.
pub fn set_params<E: Serialize + DeserializeOwned>(est: &E, params: &Params) -> Result<E> {
    let owner = short_type_name::<E>();
    let mut fields = get_params(est)?;
    for (name, value) in params {
        match fields.get_mut(name) {
            Some(slot) => *slot = value.clone(),
            None => {
                return Err(Error::UnknownParameter {
                    owner,
                    name: name.clone(),
                    known: fields.keys().cloned().collect(),
                })
            }
        }
    }
    from_params(&owner, fields)
}

/// An estimator of type `E` from its complete parameters.
pub(crate) fn from_params<E: DeserializeOwned>(owner: &str, fields: Params) -> Result<E> {
    let map: serde_json::Map<String, serde_json::Value> = fields.into_iter().collect();
    serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| Error::InvalidParameter {
        owner: owner.to_string(),
        name: field_of(&e.to_string()),
        message: e.to_string(),
    })
}

/// The field a serde message is about, when it names one.
fn field_of(message: &str) -> String {
    message
        .split('`')
        .nth(1)
        .map(str::to_string)
        .unwrap_or_else(|| "?".into())
}

/// The last path segment of a type's name: `brisk_ml::decomposition::PCA` → `PCA`.
pub(crate) fn short_type_name<E>() -> String {
    let full = std::any::type_name::<E>();
    full.rsplit("::").next().unwrap_or(full).to_string()
}

/// Parameters in one canonical text (sorted names, shortest round-tripping
/// numbers): what names them in a task key and in `cv_results`.
pub fn canonical(params: &Params) -> String {
    serde_json::to_string(params).unwrap_or_default()
}

/// `step__param` split at its first `__`.
pub(crate) fn split_name(name: &str) -> Option<(&str, &str)> {
    name.split_once("__")
}
