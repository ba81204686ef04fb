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
    rmp_serde::to_vec_named(value).map_err(|e| ProtocolError::MsgpackEncode {
        what: short_type_name::<T>(),
        detail: e.to_string(),
    })
}

/// Decodes named-field (or positional) msgpack into `T`.
///
/// Fails with [`ProtocolError::Msgpack`] naming `T` when the bytes are truncated, not
/// msgpack, miss a required field, declare a string, array or map longer than the bytes
/// that follow (checked before decoding, so no buffer is ever sized by a length the
/// input does not back), or nest containers deeper than [`MAX_DEPTH`].
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ProtocolError> {
    let what = short_type_name::<T>();
    check_declared_lengths(bytes).map_err(|detail| ProtocolError::msgpack(what, &detail))?;
    rmp_serde::from_slice(bytes).map_err(|e| ProtocolError::msgpack(what, &e.to_string()))
}

/// Most arrays and maps [`decode`] accepts inside one another: far more than any payload
/// of the lattice protocol nests (an `HttpRequest` header value is 3 deep).
pub const MAX_DEPTH: usize = 64;

/// Walks the first msgpack value of `bytes` and fails if a length prefix claims more than
/// the bytes left: a `str`/`bin`/`ext` longer than the rest of the input, or an array or
/// map with more elements than bytes remain (every element takes at least one). Through
/// serde, rmp-serde would otherwise reserve room for up to a megabyte of elements per
/// container on the word of a 5-byte header.
///
/// It also fails for containers nested deeper than [`MAX_DEPTH`]: rmp-serde recurses once
/// per level up to 1024 levels, which overflows a 2 MiB thread stack in a debug build.
///
/// Anything else that is wrong (a truncated header or scalar, a reserved marker) is left
/// to rmp-serde, which reports it in its own words. One pass, no recursion.
fn check_declared_lengths(bytes: &[u8]) -> Result<(), String> {
    let mut pos = 0usize;
    // Values announced by the containers read so far; each needs at least one byte.
    let mut pending: u64 = 1;
    // Values still to read in each open container, the outermost (the input) first.
    let mut open: Vec<u64> = vec![1];
    while pending > 0 {
        while open.last() == Some(&0) {
            open.pop();
        }
        let Some(&marker) = bytes.get(pos) else {
            return Ok(());
        };
        let at = pos;
        pos += 1;
        pending -= 1;
        if let Some(left_here) = open.last_mut() {
            *left_here -= 1;
        }
        let Some((shape, header_len)) = Shape::of(marker, &bytes[pos..]) else {
            return Ok(());
        };
        pos += header_len;
        let left = (bytes.len() - pos) as u64;
        match shape {
            Shape::Fixed(n) if n > left => return Ok(()),
            Shape::Fixed(n) => pos += n as usize,
            Shape::Bytes(n) if n > left => {
                return Err(format!(
                    "the string or binary at offset {at} declares {n} bytes but only {left} follow"
                ))
            }
            Shape::Bytes(n) => pos += n as usize,
            Shape::Array(n) | Shape::Map(n) => {
                let values = if matches!(shape, Shape::Map(_)) {
                    2 * n
                } else {
                    n
                };
                if pending + values > left {
                    let kind = if values == n { "array" } else { "map" };
                    return Err(format!(
                        "the {kind} at offset {at} declares {n} entries but only {left} bytes follow"
                    ));
                }
                pending += values;
                if values > 0 {
                    if open.len() > MAX_DEPTH {
                        return Err(format!(
                            "the value at offset {at} is nested deeper than {MAX_DEPTH} arrays and maps"
                        ));
                    }
                    open.push(values);
                }
            }
        }
    }
    Ok(())
}

/// What follows a msgpack marker.
#[derive(Clone, Copy)]
enum Shape {
    /// A scalar of this many bytes (numbers, fixext with its type byte).
    Fixed(u64),
    /// A `str`, `bin` or `ext` payload of this many bytes (ext: with its type byte).
    Bytes(u64),
    /// An array of this many values.
    Array(u64),
    /// A map of this many key/value pairs.
    Map(u64),
}

impl Shape {
    /// The shape announced by `marker` and the length of its length field, read from the
    /// start of `after`; `None` for the reserved marker or a length field cut short.
    fn of(marker: u8, after: &[u8]) -> Option<(Shape, usize)> {
        let length = |width: usize| -> Option<(u64, usize)> {
            let field = after.get(..width)?;
            Some((
                field.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b)),
                width,
            ))
        };
        let with = |(n, width): (u64, usize), f: fn(u64) -> Shape| (f(n), width);
        Some(match marker {
            0x00..=0x7f | 0xc0 | 0xc2 | 0xc3 | 0xe0..=0xff => (Shape::Fixed(0), 0),
            0x80..=0x8f => (Shape::Map(u64::from(marker & 0x0f)), 0),
            0x90..=0x9f => (Shape::Array(u64::from(marker & 0x0f)), 0),
            0xa0..=0xbf => (Shape::Bytes(u64::from(marker & 0x1f)), 0),
            0xc4 | 0xd9 => with(length(1)?, Shape::Bytes),
            0xc5 | 0xda => with(length(2)?, Shape::Bytes),
            0xc6 | 0xdb => with(length(4)?, Shape::Bytes),
            0xc7 => with(length(1)?, |n| Shape::Bytes(n + 1)),
            0xc8 => with(length(2)?, |n| Shape::Bytes(n + 1)),
            0xc9 => with(length(4)?, |n| Shape::Bytes(n + 1)),
            0xcc | 0xd0 => (Shape::Fixed(1), 0),
            0xcd | 0xd1 => (Shape::Fixed(2), 0),
            0xca | 0xce | 0xd2 => (Shape::Fixed(4), 0),
            0xcb | 0xcf | 0xd3 => (Shape::Fixed(8), 0),
            0xd4 => (Shape::Fixed(2), 0),
            0xd5 => (Shape::Fixed(3), 0),
            0xd6 => (Shape::Fixed(5), 0),
            0xd7 => (Shape::Fixed(9), 0),
            0xd8 => (Shape::Fixed(17), 0),
            0xdc => with(length(2)?, Shape::Array),
            0xdd => with(length(4)?, Shape::Array),
            0xde => with(length(2)?, Shape::Map),
            0xdf => with(length(4)?, Shape::Map),
            0xc1 => return None,
        })
    }
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
    fn lengths_larger_than_the_input_are_refused_before_decoding() {
        // array32 of u32::MAX elements, map32, str32, bin32, ext32: 5-6 bytes each.
        for (bytes, kind) in [
            (&[0xdd, 0xff, 0xff, 0xff, 0xff][..], "array"),
            (&[0xdf, 0xff, 0xff, 0xff, 0xff], "map"),
            (&[0xdb, 0x7f, 0xff, 0xff, 0xff], "string or binary"),
            (&[0xc6, 0xff, 0xff, 0xff, 0xff], "string or binary"),
            (&[0xc9, 0x00, 0x00, 0x10, 0x00, 0x01], "string or binary"),
            // Nested: a 2-entry map whose second value claims 1000 elements.
            (
                &[0x82, 0xa1, b'a', 0xc0, 0xa1, b'b', 0xdc, 0x03, 0xe8],
                "array",
            ),
        ] {
            let err = decode::<Vec<crate::rpc::LinkDefinition>>(bytes).unwrap_err();
            assert!(err.to_string().contains(kind), "{err}");
            assert!(err.to_string().contains("follow"), "{err}");
        }
        // A fixarray(3) holding 2 values with 2 bytes left: refused, 3 values need 3 bytes.
        assert!(decode::<Vec<u8>>(&[0x93, 0x01, 0x02])
            .unwrap_err()
            .to_string()
            .contains("declares 3 entries but only 2 bytes follow"));
    }

    /// Regression (found by the fuzz corpus in a debug test thread): arrays nested a few
    /// hundred deep overflowed the stack inside rmp-serde, aborting the process.
    #[test]
    fn deep_nesting_is_refused_before_decoding() {
        let deep: Vec<u8> = [vec![0x91; 100_000], vec![0xc0]].concat();
        let err = decode::<crate::HttpRequest>(&deep).unwrap_err().to_string();
        assert!(err.contains("nested deeper than 64"), "{err}");
        let mut map_in_maps = [0x81, 0xa1, b'k'].repeat(MAX_DEPTH);
        map_in_maps.push(0xc0);
        assert!(
            decode::<serde::de::IgnoredAny>(&map_in_maps).is_ok(),
            "64 levels decode"
        );
        let deeper = [&[0x91][..], &map_in_maps].concat();
        assert!(
            decode::<serde::de::IgnoredAny>(&deeper).is_err(),
            "65 do not"
        );
        // Siblings do not add up: 1000 arrays side by side are 2 levels deep.
        let wide: Vec<u8> = [vec![0xdc, 0x03, 0xe8], [0x91, 0x01].repeat(1000)].concat();
        assert_eq!(decode::<Vec<Vec<u8>>>(&wide).unwrap().len(), 1000);
    }

    #[test]
    fn well_formed_and_truncated_input_keep_rmp_serdes_behaviour() {
        assert_eq!(decode::<Vec<u8>>(&[0x93, 1, 2, 3]).unwrap(), [1, 2, 3]);
        assert_eq!(
            decode::<Vec<String>>(&[0xdc, 0x00, 0x01, 0xa1, b'x']).unwrap(),
            ["x"]
        );
        // A u32 cut short, an empty input, the reserved marker: rmp-serde's own errors.
        for bytes in [&[0xce, 0x01][..], b"", &[0xc1]] {
            let err = decode::<u32>(bytes).unwrap_err().to_string();
            assert!(!err.contains("follow"), "{err}");
        }
        // Bytes after the first value are not looked at (rmp-serde ignores them too).
        assert_eq!(decode::<u8>(&[0x07, 0xdd, 0xff]).unwrap(), 7);
    }

    #[test]
    fn decode_error_names_the_type() {
        let err = decode::<crate::rpc::Invocation>(&[0x81]).unwrap_err();
        assert!(err.to_string().contains("Invocation"), "{err}");
    }
}
