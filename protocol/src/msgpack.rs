//! The msgpack encoding used by every RPC payload: structs as maps with string keys.
//!
//! This is `wasmbus_rpc::common::serialize` (`rmp_serde::to_vec_named`): field names are
//! written, so decoders match by name and ignore unknown keys.

use crate::error::{short_type_name, ProtocolError};
use serde::{de::DeserializeOwned, Serialize};

/// Encodes `value` as named-field msgpack.
///
/// # Panics
/// Only if `T`'s own `Serialize` impl reports an error, which never happens for the
/// types of this crate (use [`try_encode`] for arbitrary types).
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    try_encode(value).expect("protocol types always serialize to msgpack")
}

/// Encodes `value` as named-field msgpack; fails only if `T`'s `Serialize` impl does.
pub fn try_encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, ProtocolError> {
    rmp_serde::to_vec_named(value).map_err(|source| ProtocolError::MsgpackEncode {
        what: short_type_name::<T>(),
        source,
    })
}

/// Decodes named-field (or positional) msgpack into `T`.
///
/// Fails with [`ProtocolError::Msgpack`] naming `T` when the bytes are truncated, not
/// msgpack, or miss a required field.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ProtocolError> {
    rmp_serde::from_slice(bytes).map_err(|source| ProtocolError::Msgpack {
        what: short_type_name::<T>(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vectors;

    #[test]
    fn primitive_payloads_match_the_keyvalue_vectors() {
        // KeyValue.Get takes a bare msgpack str; Increment returns a bare i32.
        assert_eq!(encode("counter"), vectors::bytes("kv_get_request.msgpack"));
        assert_eq!(
            decode::<String>(&vectors::bytes("kv_get_request.msgpack")).unwrap(),
            "counter"
        );
        assert_eq!(
            encode(&1i32),
            vectors::bytes("kv_increment_response.msgpack")
        );
        assert_eq!(
            decode::<i32>(&vectors::bytes("kv_increment_response.msgpack")).unwrap(),
            1
        );
    }

    #[test]
    fn decode_error_names_the_type() {
        let err = decode::<crate::rpc::Invocation>(&[0x81]).unwrap_err();
        assert!(err.to_string().contains("Invocation"), "{err}");
    }
}
