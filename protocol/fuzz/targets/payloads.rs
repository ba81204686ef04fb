//! Capability contract payloads (msgpack): `wasmcloud:httpserver`, `wasmcloud:keyvalue`.

use super::{assert_error_bounded, assert_round_trip, decode_bounded, ALLOC_SLACK};
use serde::{de::DeserializeOwned, Serialize};
use std::fmt::Debug;
use wasmhost_protocol::keyvalue::*;
use wasmhost_protocol::msgpack;
use wasmhost_protocol::{HttpRequest, HttpResponse};

/// Decodes the input as an HTTP request and as a response: round trip, bounded errors.
pub fn http(data: &[u8]) {
    check::<HttpRequest>(data);
    check::<HttpResponse>(data);
}

/// Decodes the input as every key-value operation's input and output, the structs and
/// the bare scalars alike: round trip, bounded errors.
pub fn keyvalue(data: &[u8]) {
    check::<GetResponse>(data);
    check::<SetRequest>(data);
    check::<IncrementRequest>(data);
    check::<ListAddRequest>(data);
    check::<ListDelRequest>(data);
    check::<ListRangeRequest>(data);
    check::<SetAddRequest>(data);
    check::<SetDelRequest>(data);
    check::<String>(data);
    check::<bool>(data);
    check::<i32>(data);
    check::<u32>(data);
    check::<Vec<String>>(data);
}

fn check<T: Serialize + DeserializeOwned + PartialEq + Debug>(data: &[u8]) {
    let what = std::any::type_name::<T>();
    match decode_bounded(what, data, ALLOC_SLACK, || msgpack::decode::<T>(data)) {
        Ok(value) => {
            let back = msgpack::decode::<T>(&msgpack::encode(&value))
                .unwrap_or_else(|e| panic!("{what}: its own encoding does not decode: {e}"));
            assert_round_trip(what, &value, &back);
        }
        Err(err) => assert_error_bounded(what, &err, &[data]),
    }
}
