//! The SDK's one error type.

/// Why a provider operation failed. `Display` is the text sent back to a caller in
/// `InvocationResponse.error`, so handler failures ([`Other`](Self::Other)) show their
/// message unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The HostData line on stdin is missing or not base64 HostData JSON.
    #[error("invalid host data: {0}")]
    HostData(String),
    /// A request payload could not be decoded, or an argument is unacceptable.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// The invocation was refused: bad claims, untrusted issuer, wrong target, unlinked actor.
    #[error("{0}")]
    Denied(String),
    /// A call got no reply in time.
    #[error("{0}")]
    Timeout(String),
    /// Nobody listens on the subject of a call (the actor runs nowhere).
    #[error("{0}")]
    NoResponders(String),
    /// NATS or the object store failed.
    #[error("transport error: {0}")]
    Transport(String),
    /// The callee answered with an error (`InvocationResponse.error`).
    #[error("{0}")]
    Remote(String),
    /// A handler failed; the text goes to the caller as is.
    #[error("{0}")]
    Other(String),
}

impl ProviderError {
    /// A handler failure with `message`.
    pub fn other(message: impl std::fmt::Display) -> Self {
        ProviderError::Other(message.to_string())
    }

    /// `unknown operation {operation}`: the reply to an operation the provider lacks.
    pub fn unknown_operation(operation: &str) -> Self {
        ProviderError::Other(format!("unknown operation {operation}"))
    }

    /// An undecodable payload for `what`.
    pub fn invalid(what: impl std::fmt::Display) -> Self {
        ProviderError::Invalid(what.to_string())
    }
}

impl From<wasmhost_protocol::ProtocolError> for ProviderError {
    fn from(e: wasmhost_protocol::ProtocolError) -> Self {
        ProviderError::Invalid(e.to_string())
    }
}

impl From<wasmhost_nats::NatsError> for ProviderError {
    fn from(e: wasmhost_nats::NatsError) -> Self {
        use wasmhost_nats::NatsError as N;
        match e {
            // Connection settings come from HostData: a setting that can never work is its fault.
            N::Settings { .. } => ProviderError::HostData(e.to_string()),
            N::Timeout(m) => ProviderError::Timeout(m),
            N::NoResponders(m) => ProviderError::NoResponders(m),
            N::Refused(m) | N::Transport(m) => ProviderError::Transport(m),
        }
    }
}
