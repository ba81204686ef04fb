//! wascap-compatible claims: JWTs signed with nkeys (LATTICE.md §5, §3.4).
//!
//! * [`Claims`]: the token itself, generic over its `wascap` metadata ([`Actor`],
//!   [`CapabilityProvider`], [`InvocationClaims`]); encode with a signing key, decode
//!   with full verification.
//! * Actor modules: [`extract_actor_claims`] reads and verifies the token embedded in a
//!   module, [`sign_actor`] embeds one.
//! * Invocations: [`sign_invocation`] / [`verify_invocation`] for the anti-forgery token
//!   every RPC carries (the full check of an invocation is
//!   [`Invocation::validate`](crate::rpc::Invocation::validate)).

mod actor;
mod invocation;
mod jwt;
mod wasm;

pub use actor::{
    embed_claims, extract_actor_claims, module_hash_without_claims, sign_actor, Actor, ActorClaims,
    ActorSigning, CLAIMS_SECTION_NAMES, SIGNED_SECTION_NAME,
};
pub use invocation::{sign_invocation, verify_invocation, InvocationClaims};
pub(crate) use jwt::now_secs;
pub use jwt::{generate_nuid, CapabilityProvider, Claims};

use nkeys::KeyPairType;

/// Why a claims token or a signed module was rejected, or could not be signed.
///
/// Each variant is a distinct reason a caller can act on; `Display` gives the text the
/// 0.5x host uses where one exists.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimsError {
    /// The module has no `jwt` / `wasmcloud_jwt` custom section.
    #[error("No claims found in source module")]
    NoClaims,
    /// The module's bytes (without the claims section) do not hash to the signed `hash`:
    /// it was altered after signing.
    #[error("Invalid module hash")]
    InvalidModuleHash,
    /// `exp` is in the past.
    #[error("Claims token expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("Claims token cannot be used yet")]
    NotYetValid,
    /// The Ed25519 signature was not made by the key in `iss`.
    #[error("Claims token signature is invalid")]
    BadSignature,
    /// The JWT header is not exactly `{"typ":"jwt","alg":"Ed25519"}`.
    #[error("Invalid claims token header (expected typ \"jwt\" and alg \"Ed25519\")")]
    InvalidHeader,
    /// The token is well-formed but carries no `wascap` metadata.
    #[error("No wascap metadata found on claims")]
    MissingMetadata,
    /// The bytes are not a WebAssembly core module this crate can read.
    #[error("Invalid WebAssembly module: {0}")]
    InvalidWasm(String),
    /// The token is not a well-formed wascap JWT (segments, base64url, JSON, empty
    /// `iss`/`sub`, unreadable issuer key ...).
    #[error("Malformed claims token: {0}")]
    Malformed(String),
    /// A key has the wrong nkey type for its role (e.g. an actor subject that is not an
    /// `M...` module key). `found` is the key as received, quoted with
    /// [`quote_input`](crate::quote_input).
    #[error("{role} must be {expected} key ({prefix}...), got '{found}'")]
    WrongKeyType {
        /// What the key is used for, e.g. "actor subject".
        role: &'static str,
        /// The expected kind with its article, e.g. "a module".
        expected: &'static str,
        /// First letter of that kind's public keys.
        prefix: char,
        /// The key (public part only) that was given.
        found: String,
    },
    /// Signing failed (e.g. the key pair has no seed).
    #[error("Failed to sign claims: {0}")]
    Signing(String),
    /// An invocation's anti-forgery check failed.
    #[error(transparent)]
    Invocation(#[from] InvocationRejection),
}

/// Why an invocation failed its anti-forgery check; `Display` texts are the ones the
/// v0.59 host puts in `InvocationResponse.error` (LATTICE.md §3.4).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvocationRejection {
    /// The token's `exp` is in the past.
    #[error("Invocation claims token expired")]
    Expired,
    /// The token was not signed by its `iss`.
    #[error("Invocation claims signature invalid")]
    BadSignature,
    /// The token's `nbf` is in the future.
    #[error("Attempt to use invocation before claims token allows")]
    NotYetValid,
    /// The signed hash differs from the hash of the received invocation.
    #[error("Invocation hash does not match signed claims hash ({claimed} / {computed})")]
    HashMismatch {
        /// Hash in the token, quoted with [`quote_input`](crate::quote_input).
        claimed: String,
        /// Hash of what arrived.
        computed: String,
    },
    /// `host_id` neither starts with `N` nor has the length of a public key; the id as
    /// received, quoted with [`quote_input`](crate::quote_input).
    #[error("Invalid host ID on invocation: '{0}'")]
    InvalidHostId(String),
    /// `iss` is not one of the accepted cluster issuers.
    #[error("Issuer of this invocation is not among the list of valid issuers")]
    UnknownIssuer,
    /// The signed target URL differs from the invocation's.
    #[error("Invocation claims and invocation target URL do not match")]
    TargetUrlMismatch,
    /// The signed origin URL differs from the invocation's.
    #[error("Invocation claims and invocation origin URL do not match")]
    OriginUrlMismatch,
}

/// Checks that `key` is a public nkey of `kind`, for error messages naming `role`.
pub(crate) fn require_key_type(
    role: &'static str,
    key: &str,
    kind: KeyPairType,
) -> Result<(), ClaimsError> {
    let (expected, prefix) = match kind {
        KeyPairType::Account => ("an account", 'A'),
        KeyPairType::Module => ("a module", 'M'),
        KeyPairType::Cluster => ("a cluster", 'C'),
        KeyPairType::Server => ("a server", 'N'),
        KeyPairType::Service => ("a service", 'V'),
        KeyPairType::Operator => ("an operator", 'O'),
        KeyPairType::User => ("a user", 'U'),
        KeyPairType::Curve => ("a curve", 'X'),
    };
    let wrong = || ClaimsError::WrongKeyType {
        role,
        expected,
        prefix,
        found: crate::quote_input(key),
    };
    // nkeys maps unknown prefixes to Operator, so check the letter as well as the type.
    if !key.starts_with(prefix) {
        return Err(wrong());
    }
    match nkeys::KeyPair::from_public_key(key) {
        Ok(kp) if kp.key_pair_type() == kind => Ok(()),
        _ => Err(wrong()),
    }
}
