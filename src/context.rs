//! The report's context: what the collectors found (and what failed), what status
//! made of it, in one sorted JSON map. A leaf: collect writes it, status and report
//! read it, and it knows none of them.

use serde::Serialize;
use serde_json::{Map, Value};

/// The merged context: collector maps under their keys, plus `hostname`,
/// `generated_at`, `sections`, `status` and `errors`. Keys are sorted (a
/// `BTreeMap`) so the JSON is the same shape on every run. A section that is not
/// shown has no key at all; a collector that failed has null.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(transparent)]
pub struct Context(pub Map<String, Value>);

impl Context {
    pub(crate) fn put(&mut self, key: &str, value: impl Serialize) {
        // Serializing our own plain structs into a JSON value cannot fail.
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.0.insert(key.to_string(), value);
    }
}

/// One entry of the context's `errors` list.
#[derive(Debug, Clone, Serialize)]
pub struct CollectorFailure {
    pub collector: String,
    pub message: String,
}
