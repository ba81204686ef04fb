//! The optional policy callback: the embedding application approves or denies starts and invocations.

/// What is about to happen.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum PolicyRequest {
    /// An actor is about to start (before any instance exists).
    StartActor {
        /// Actor public key (M...).
        public_key: String,
        /// Account (A...) that signed the actor's claims.
        issuer: String,
        /// Where it came from: an OCI reference, a file path, or `bytes`.
        image_ref: String,
        /// Capability contract ids the actor's claims grant.
        capabilities: Vec<String>,
    },
    /// A capability provider is about to start.
    StartProvider {
        /// Provider public key (V...).
        public_key: String,
        /// Account (A...) that signed the provider's claims.
        issuer: String,
        /// Where it came from.
        image_ref: String,
        /// The provider's link name.
        link_name: String,
        /// The provider's contract id.
        contract_id: String,
    },
    /// An invocation is about to be delivered to an actor on this host.
    Invoke {
        /// Caller: an actor key, a provider key, or the embedding application (`host`).
        source: String,
        /// Contract id of the caller when it is a provider, else empty.
        source_contract_id: String,
        /// Target actor public key.
        target: String,
        /// Operation name.
        operation: String,
    },
}

/// The verdict of a [`Policy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyDecision {
    /// Go ahead.
    Permit,
    /// Refuse, with a reason that reaches the caller.
    Deny(String),
}

/// Approves or denies what the host is about to do. Called on the invocation path, so it should be fast.
#[async_trait::async_trait]
pub trait Policy: Send + Sync + 'static {
    /// Decides on one request.
    async fn evaluate(&self, request: &PolicyRequest) -> PolicyDecision;
}
