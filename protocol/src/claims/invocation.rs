//! The anti-forgery token every invocation carries in `encoded_claims` (§3.4, §5.6).

use super::jwt::Claims;
use super::ClaimsError;
use nkeys::KeyPair;
use serde::{Deserialize, Serialize};

/// The `wascap` metadata of an invocation token (wascap's `jwt::Invocation`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InvocationClaims {
    /// `{target entity url}/{operation}`.
    pub target_url: String,
    /// The origin entity's URL.
    pub origin_url: String,
    /// [`invocation_hash`](crate::rpc::invocation_hash) of the invocation.
    pub hash: String,
}

/// Signs invocation claims with `cluster` (normally the cluster key, C...): `iss` = its
/// public key, `sub` = `invocation_id`, a fresh `jti`, `iat` = now, no `exp`/`nbf`.
///
/// Fails with [`ClaimsError::Signing`] if `cluster` has no seed.
pub fn sign_invocation(
    cluster: &KeyPair,
    invocation_id: &str,
    origin_url: &str,
    target_url: &str,
    hash: &str,
) -> Result<String, ClaimsError> {
    let meta = InvocationClaims {
        target_url: target_url.to_string(),
        origin_url: origin_url.to_string(),
        hash: hash.to_string(),
    };
    Claims::new(cluster.public_key(), invocation_id, meta).encode(cluster)
}

/// Decodes and verifies an invocation token (signature, `exp`, `nbf`) and requires its
/// `wascap` metadata ([`ClaimsError::MissingMetadata`]). Matching it against the
/// invocation it came with is [`Invocation::validate`](crate::rpc::Invocation::validate).
pub fn verify_invocation(token: &str) -> Result<Claims<InvocationClaims>, ClaimsError> {
    let claims = Claims::<InvocationClaims>::decode_and_verify(token)?;
    if claims.wascap.is_none() {
        return Err(ClaimsError::MissingMetadata);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vectors;

    #[test]
    fn sign_then_verify() {
        let cluster = KeyPair::new_cluster();
        let token =
            sign_invocation(&cluster, "inv-1", "wasmbus://a", "wasmbus://b/Op", "ABC").unwrap();
        let claims = verify_invocation(&token).unwrap();
        assert_eq!(claims.iss, cluster.public_key());
        assert_eq!(claims.sub, "inv-1");
        assert_eq!((claims.exp, claims.nbf), (None, None));
        let meta = claims.wascap.unwrap();
        assert_eq!(
            (
                meta.origin_url.as_str(),
                meta.target_url.as_str(),
                meta.hash.as_str()
            ),
            ("wasmbus://a", "wasmbus://b/Op", "ABC")
        );
    }

    #[test]
    fn vector_token_verifies() {
        let token = vectors::json("invocation.json")["encoded_claims_decoded"]["jwt"]
            .as_str()
            .unwrap()
            .to_string();
        let claims = verify_invocation(&token).unwrap();
        assert_eq!(claims.iss, vectors::CLUSTER_PK);
        assert_eq!(claims.sub, vectors::INVOCATION_ID);
        assert_eq!(claims.jti, "Vectors0Invocation0001");
        assert_eq!(claims.iat, vectors::FIXED_IAT);
        assert_eq!(
            claims.wascap.unwrap().hash,
            "2B3BCAFDBB1D9C238B9FB3F47BA330218F4260280E1B9C051D7F8128AB64E6D5"
        );
    }

    #[test]
    fn missing_metadata_is_an_error() {
        let cluster = KeyPair::new_cluster();
        let claims = Claims::<InvocationClaims> {
            wascap: None,
            ..Claims::new(cluster.public_key(), "id", InvocationClaims::default())
        };
        let token = claims.encode(&cluster).unwrap();
        assert_eq!(
            verify_invocation(&token).unwrap_err(),
            ClaimsError::MissingMetadata
        );
    }
}
