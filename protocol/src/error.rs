//! The crate's one decode error type.

use crate::quote::bounded_library_error;

/// Why bytes received from the lattice could not be turned into a protocol type.
///
/// Every variant names the type that failed (`what`) so a log line or a failure ack
/// says what was being decoded, not only that something was malformed. The text never
/// holds more of the input than a short quote ([`quote_input`](crate::quote_input)) and
/// never exceeds [`MAX_ERROR_CHARS`](crate::MAX_ERROR_CHARS) characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The bytes were not the msgpack encoding of `what` (wrong shape, missing
    /// required key, truncated input, a length larger than the bytes that follow ...).
    #[error("failed to decode {what} from msgpack: {detail}")]
    Msgpack {
        /// The type being decoded.
        what: &'static str,
        /// What was wrong: rmp-serde's text with quoted values cut short.
        detail: String,
    },
    /// `what` could not be encoded as msgpack (only possible for hand-written
    /// `Serialize` impls; never for this crate's types).
    #[error("failed to encode {what} as msgpack: {detail}")]
    MsgpackEncode {
        /// The type being encoded.
        what: &'static str,
        /// rmp-serde's reason.
        detail: String,
    },
    /// The bytes were not valid JSON for `what` (syntax error, missing required field,
    /// wrong type, `null` where a value is required ...).
    #[error("failed to decode {what} from JSON: {detail}")]
    Json {
        /// The type being decoded.
        what: &'static str,
        /// What was wrong and where: serde_json's text (with its line and column) with
        /// quoted values cut short.
        detail: String,
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

impl ProtocolError {
    /// A JSON decode failure of `what`, with serde_json's text bounded.
    pub(crate) fn json(what: &'static str, source: &serde_json::Error) -> Self {
        ProtocolError::Json {
            what,
            detail: bounded_library_error(&source.to_string()),
        }
    }

    /// A msgpack decode failure of `what`, with rmp-serde's text bounded.
    pub(crate) fn msgpack(what: &'static str, detail: &str) -> Self {
        ProtocolError::Msgpack {
            what,
            detail: bounded_library_error(detail),
        }
    }
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
    serde_json::from_slice(bytes).map_err(|e| ProtocolError::json(short_type_name::<T>(), &e))
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
