//! `wasmcloud:keyvalue` payloads (LATTICE.md §6.7, interface version 0.1.1).
//!
//! Operations whose input or output is a single string, bool, number or list use bare
//! msgpack scalars: encode them with [`crate::msgpack::encode`] (e.g. `KeyValue.Get`
//! takes the key as a msgpack str and `KeyValue.Increment` returns an i32).

use serde::{Deserialize, Serialize};

/// Contract id of the key-value capability.
pub const CONTRACT_ID: &str = "wasmcloud:keyvalue";

/// Operation names (`KeyValue.{Method}`).
pub mod ops {
    /// str key → [`GetResponse`](super::GetResponse).
    pub const GET: &str = "KeyValue.Get";
    /// [`SetRequest`](super::SetRequest) → nothing.
    pub const SET: &str = "KeyValue.Set";
    /// str key → bool.
    pub const DEL: &str = "KeyValue.Del";
    /// str key → bool.
    pub const CONTAINS: &str = "KeyValue.Contains";
    /// [`IncrementRequest`](super::IncrementRequest) → i32.
    pub const INCREMENT: &str = "KeyValue.Increment";
    /// [`ListAddRequest`](super::ListAddRequest) → u32.
    pub const LIST_ADD: &str = "KeyValue.ListAdd";
    /// [`ListDelRequest`](super::ListDelRequest) → bool.
    pub const LIST_DEL: &str = "KeyValue.ListDel";
    /// str list name → bool.
    pub const LIST_CLEAR: &str = "KeyValue.ListClear";
    /// [`ListRangeRequest`](super::ListRangeRequest) → [str].
    pub const LIST_RANGE: &str = "KeyValue.ListRange";
    /// [`SetAddRequest`](super::SetAddRequest) → u32.
    pub const SET_ADD: &str = "KeyValue.SetAdd";
    /// [`SetDelRequest`](super::SetDelRequest) → u32.
    pub const SET_DEL: &str = "KeyValue.SetDel";
    /// str set name → bool.
    pub const SET_CLEAR: &str = "KeyValue.SetClear";
    /// str set name → [str].
    pub const SET_QUERY: &str = "KeyValue.SetQuery";
    /// [str] set names → [str].
    pub const SET_UNION: &str = "KeyValue.SetUnion";
    /// [str] set names → [str].
    pub const SET_INTERSECTION: &str = "KeyValue.SetIntersection";
}

/// Output of `KeyValue.Get`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GetResponse {
    /// The value (`""` if absent).
    #[serde(default)]
    pub value: String,
    /// Whether the key exists.
    #[serde(default)]
    pub exists: bool,
}

/// Input of `KeyValue.Set`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SetRequest {
    /// Key.
    #[serde(default)]
    pub key: String,
    /// Value.
    #[serde(default)]
    pub value: String,
    /// Expiry in seconds; 0 = never.
    #[serde(default)]
    pub expires: u32,
}

/// Input of `KeyValue.Increment`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IncrementRequest {
    /// Key.
    #[serde(default)]
    pub key: String,
    /// Amount to add (may be negative).
    #[serde(default)]
    pub value: i32,
}

/// Input of `KeyValue.ListAdd`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ListAddRequest {
    /// List name.
    #[serde(rename = "listName", default)]
    pub list_name: String,
    /// Value to append.
    #[serde(default)]
    pub value: String,
}

/// Input of `KeyValue.ListDel`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ListDelRequest {
    /// List name.
    #[serde(rename = "listName", default)]
    pub list_name: String,
    /// Value to remove.
    #[serde(default)]
    pub value: String,
}

/// Input of `KeyValue.ListRange`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ListRangeRequest {
    /// List name.
    #[serde(rename = "listName", default)]
    pub list_name: String,
    /// First index (inclusive).
    #[serde(default)]
    pub start: i32,
    /// Last index (inclusive).
    #[serde(default)]
    pub stop: i32,
}

/// Input of `KeyValue.SetAdd`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SetAddRequest {
    /// Set name.
    #[serde(rename = "setName", default)]
    pub set_name: String,
    /// Member to add.
    #[serde(default)]
    pub value: String,
}

/// Input of `KeyValue.SetDel`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SetDelRequest {
    /// Set name.
    #[serde(rename = "setName", default)]
    pub set_name: String,
    /// Member to remove.
    #[serde(default)]
    pub value: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msgpack::{decode, encode};
    use crate::vectors;

    #[test]
    fn match_the_vectors() {
        let inc = IncrementRequest {
            key: "counter".into(),
            value: 1,
        };
        assert_eq!(encode(&inc), vectors::bytes("kv_increment_request.msgpack"));
        assert_eq!(
            decode::<IncrementRequest>(&vectors::bytes("kv_increment_request.msgpack")).unwrap(),
            inc
        );
        let get = GetResponse {
            value: "1".into(),
            exists: true,
        };
        assert_eq!(encode(&get), vectors::bytes("kv_get_response.msgpack"));
        assert_eq!(
            decode::<GetResponse>(&vectors::bytes("kv_get_response.msgpack")).unwrap(),
            get
        );
        let sidecar = vectors::json("kv.json");
        for (file, op) in [
            ("kv_increment_request.msgpack", ops::INCREMENT),
            ("kv_get_request.msgpack", ops::GET),
        ] {
            assert_eq!(sidecar[file]["operation"], op);
        }
    }

    #[test]
    fn camel_case_keys() {
        let keys = |bytes: Vec<u8>| -> Vec<String> {
            let map: std::collections::BTreeMap<String, serde::de::IgnoredAny> =
                decode(&bytes).unwrap();
            map.into_keys().collect()
        };
        assert_eq!(
            keys(encode(&ListAddRequest::default())),
            ["listName", "value"]
        );
        assert_eq!(
            keys(encode(&ListDelRequest::default())),
            ["listName", "value"]
        );
        assert_eq!(
            keys(encode(&ListRangeRequest::default())),
            ["listName", "start", "stop"]
        );
        assert_eq!(
            keys(encode(&SetAddRequest::default())),
            ["setName", "value"]
        );
        assert_eq!(
            keys(encode(&SetDelRequest::default())),
            ["setName", "value"]
        );
        assert_eq!(
            keys(encode(&SetRequest::default())),
            ["expires", "key", "value"]
        );
        let req = ListRangeRequest {
            list_name: "l".into(),
            start: -1,
            stop: 5,
        };
        assert_eq!(decode::<ListRangeRequest>(&encode(&req)).unwrap(), req);
        let req = SetRequest {
            key: "k".into(),
            value: "v".into(),
            expires: 30,
        };
        assert_eq!(decode::<SetRequest>(&encode(&req)).unwrap(), req);
    }
}
