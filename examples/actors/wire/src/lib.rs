//! Wire structs shared by the example actors.
//!
//! MessagePack maps with named fields (`rmp_serde::to_vec_named`), key names exactly as in
//! LATTICE.md §6.6 (`wasmcloud:httpserver`) and §6.7 (`wasmcloud:keyvalue`). Byte fields are
//! msgpack **bin** (serde_bytes); on input a msgpack str or array of u8 is accepted as well.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// `HttpServer.HandleRequest` input: what the httpserver provider sends to an actor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpRequest {
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub path: String,
    #[serde(rename = "queryString", default)]
    pub query_string: String,
    #[serde(default)]
    pub header: HashMap<String, Vec<String>>,
    #[serde(with = "serde_bytes", default)]
    pub body: Vec<u8>,
}

/// `HttpServer.HandleRequest` output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpResponse {
    #[serde(rename = "statusCode", default)]
    pub status_code: u16,
    #[serde(default)]
    pub header: HashMap<String, Vec<String>>,
    #[serde(with = "serde_bytes", default)]
    pub body: Vec<u8>,
}

/// `KeyValue.Increment` input (the provider answers with a msgpack i32, the new value).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncrementRequest {
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub value: i32,
}

/// The error type handlers return (the same as wapc-guest's `CallResult` error).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Encode as a msgpack map with named fields.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, BoxError> {
    rmp_serde::to_vec_named(value).map_err(|e| format!("msgpack encode: {}", e).into())
}

/// Decode msgpack.
pub fn decode<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, BoxError> {
    rmp_serde::from_slice(bytes).map_err(|e| format!("msgpack decode: {}", e).into())
}

impl HttpRequest {
    /// The value of `name` in the query string (`a=1&name=value`), if present. No percent-decoding.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query_string
            .trim_start_matches('?')
            .split('&')
            .filter_map(|kv| {
                let mut it = kv.splitn(2, '=');
                Some((it.next()?, it.next().unwrap_or("")))
            })
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }
}

impl HttpResponse {
    /// A response with `content-type: application/json` and the given body.
    pub fn json(status_code: u16, body: Vec<u8>) -> Self {
        let mut header = HashMap::new();
        header.insert("content-type".to_string(), vec!["application/json".to_string()]);
        HttpResponse { status_code, header, body }
    }
}

/// The text of a failed `host_call`: wapc-guest 1.2 displays its error as
/// `Host error: <text the host put in __host_error>`; this returns `<text>`.
pub fn host_error_text(e: &BoxError) -> String {
    let s = e.to_string();
    match s.strip_prefix("Host error: ") {
        Some(rest) => rest.to_string(),
        None => s,
    }
}
