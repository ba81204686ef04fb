//! The one error type of the host, with kinds a caller can act on.

use std::fmt;

/// What went wrong, in terms a caller can act on. Every binding (C, Python, Elixir) maps these kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An actor, provider, link or host that was named does not exist here.
    NotFound,
    /// The caller passed something malformed: bad wasm, bad JSON, an empty key, an out-of-range count.
    InvalidInput,
    /// Claims are missing, expired, not yet valid, badly signed, or do not match the module.
    Claims,
    /// The policy callback, a missing capability claim or a missing link refused the operation.
    Denied,
    /// The operation did not finish in time.
    Timeout,
    /// The lattice (NATS) or a registry could not be reached or answered with an error.
    Transport,
    /// The actor trapped, ran out of memory or fuel, or returned a guest error.
    Runtime,
    /// The host has been stopped or is stopping.
    Stopped,
    /// A bug or an unexpected state inside the host.
    Internal,
}

impl ErrorKind {
    /// Every kind, once: the list each binding's tests check their mapping against (the enum is
    /// `non_exhaustive`, so a binding's `match` alone cannot notice a new kind).
    pub const ALL: [ErrorKind; 9] = [
        ErrorKind::NotFound,
        ErrorKind::InvalidInput,
        ErrorKind::Claims,
        ErrorKind::Denied,
        ErrorKind::Timeout,
        ErrorKind::Transport,
        ErrorKind::Runtime,
        ErrorKind::Stopped,
        ErrorKind::Internal,
    ];

    /// A stable lower-case name for the kind, used by the bindings (`not_found`, `claims`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Claims => "claims",
            ErrorKind::Denied => "denied",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Transport => "transport",
            ErrorKind::Runtime => "runtime",
            ErrorKind::Stopped => "stopped",
            ErrorKind::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from the host: a kind and a human-readable message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    /// Builds an error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }
    /// The kind, for callers that branch on it.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// The message alone, without the kind.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }
    pub(crate) fn denied(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Denied, message)
    }
    pub(crate) fn timeout(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Timeout, message)
    }
    pub(crate) fn runtime(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Runtime, message)
    }
    pub(crate) fn stopped() -> Self {
        Self::new(ErrorKind::Stopped, "the host is stopped")
    }
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
}

impl From<wasmhost_protocol::claims::ClaimsError> for Error {
    fn from(e: wasmhost_protocol::claims::ClaimsError) -> Self {
        Error::new(ErrorKind::Claims, e.to_string())
    }
}

impl From<wasmhost_protocol::ProtocolError> for Error {
    fn from(e: wasmhost_protocol::ProtocolError) -> Self {
        Error::new(ErrorKind::InvalidInput, e.to_string())
    }
}

impl From<wasmhost_protocol::ArchiveError> for Error {
    fn from(e: wasmhost_protocol::ArchiveError) -> Self {
        use wasmhost_protocol::ArchiveError as A;
        let kind = match &e {
            A::Malformed(_) | A::InvalidSpec(_) => ErrorKind::InvalidInput,
            A::Claims(_)
            | A::MissingMetadata
            | A::BinaryHashMismatch { .. }
            | A::UnsignedBinary { .. } => ErrorKind::Claims,
            A::NoBinaryForTarget { .. } => ErrorKind::NotFound,
            A::Build(_) => ErrorKind::Internal,
        };
        Error::new(kind, e.to_string())
    }
}

/// The host's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<wasmhost_nats::NatsError> for Error {
    fn from(e: wasmhost_nats::NatsError) -> Self {
        use wasmhost_nats::NatsError as N;
        let kind = match &e {
            N::Settings { .. } => ErrorKind::InvalidInput,
            N::Refused(_) => ErrorKind::Denied,
            N::Timeout(_) => ErrorKind::Timeout,
            N::NoResponders(_) => ErrorKind::NotFound,
            N::Transport(_) => ErrorKind::Transport,
        };
        Error::new(kind, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed_once_with_a_distinct_name() {
        let names: std::collections::BTreeSet<&str> =
            ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), ErrorKind::ALL.len());
        for kind in ErrorKind::ALL {
            // A kind added to the enum but not to ALL would still need a name here.
            assert_eq!(kind.to_string(), kind.as_str());
            assert!(kind
                .as_str()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_'));
        }
    }
}
