//! The crate's one decode error type.

/// Why bytes received from the lattice could not be turned into a protocol type.
///
/// Every variant names the type that failed (`what`) so a log line or a failure ack
/// says what was being decoded, not only that something was malformed.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// The bytes were not the msgpack encoding of `what` (wrong shape, missing
    /// required key, truncated input ...).
    #[error("failed to decode {what} from msgpack: {source}")]
    Msgpack {
        /// The type being decoded.
        what: &'static str,
        /// The underlying rmp-serde error.
        #[source]
        source: rmp_serde::decode::Error,
    },
    /// `what` could not be encoded as msgpack (only possible for hand-written
    /// `Serialize` impls; never for this crate's types).
    #[error("failed to encode {what} as msgpack: {source}")]
    MsgpackEncode {
        /// The type being encoded.
        what: &'static str,
        /// The underlying rmp-serde error.
        #[source]
        source: rmp_serde::encode::Error,
    },
    /// The bytes were not valid JSON for `what` (syntax error, missing required field,
    /// wrong type, `null` where a value is required ...).
    #[error("failed to decode {what} from JSON: {source}")]
    Json {
        /// The type being decoded.
        what: &'static str,
        /// The underlying serde_json error.
        #[source]
        source: serde_json::Error,
    },
    /// The input was well-formed but not acceptable as `what` (for example a HostData
    /// line that is not base64).
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// The type being decoded.
        what: &'static str,
        /// Human-readable reason.
        reason: String,
    },
}

/// Last path segment of a type name, e.g. `Invocation` for
/// `wasmhost_protocol::rpc::Invocation`, for error contexts.
pub(crate) fn short_type_name<T: ?Sized>() -> &'static str {
    let full = std::any::type_name::<T>();
    // Generic parameters contain `::` too; cut at the first `<` before looking for the last segment.
    let base_end = full.find('<').unwrap_or(full.len());
    let start = full[..base_end].rfind("::").map(|i| i + 2).unwrap_or(0);
    &full[start..]
}

/// Decodes JSON into `T`, naming `T` in the error.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ProtocolError> {
    serde_json::from_slice(bytes).map_err(|source| ProtocolError::Json {
        what: short_type_name::<T>(),
        source,
    })
}

/// Encodes `T` as compact JSON. Our types only hold strings, numbers, maps with string
/// keys and JSON values, for which serde_json cannot fail.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("protocol types always serialize to JSON")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names() {
        assert_eq!(short_type_name::<ProtocolError>(), "ProtocolError");
        assert_eq!(
            short_type_name::<Vec<String>>(),
            "Vec<alloc::string::String>"
        );
        assert_eq!(short_type_name::<u8>(), "u8");
    }

    #[test]
    fn json_error_names_the_type() {
        let err = from_json::<crate::ctl::StartActorCommand>(b"{}").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("StartActorCommand"), "{text}");
        assert!(text.contains("actor_ref"), "{text}");
    }
}
