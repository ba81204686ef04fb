//! The wascap JWT: `base64url(header).base64url(claims).base64url(signature)` (§5.2).

use super::ClaimsError;
use crate::quote::{bounded_library_error, quote_input};
use data_encoding::BASE64URL_NOPAD;
use nkeys::KeyPair;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::collections::HashMap;

/// The only header wascap writes and accepts, byte for byte.
const HEADER_JSON: &str = r#"{"typ":"jwt","alg":"Ed25519"}"#;
const HEADER_TYPE: &str = "jwt";
const HEADER_ALGORITHM: &str = "Ed25519";

/// A wascap claims set; `T` is the type of the `wascap` metadata.
///
/// Field order is wascap's (`exp, jti, iat, iss, sub, nbf, wascap, wascap_revision`), so
/// a token encoded here from the same values is byte-identical to wascap's. Optional
/// fields are omitted when `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims<T> {
    /// Expiry, unix seconds; `None` = never expires.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub exp: Option<u64>,
    /// Unique token id (a 22-character NUID, see [`generate_nuid`]).
    pub jti: String,
    /// Issued at, unix seconds.
    pub iat: u64,
    /// Issuer public key: the key that signed the token (A... for actors/providers,
    /// C... for invocations).
    pub iss: String,
    /// Subject: the actor (M...) or provider (V...) key, or the invocation id.
    pub sub: String,
    /// Not valid before, unix seconds; `None` = valid immediately.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub nbf: Option<u64>,
    /// Type-specific metadata.
    #[serde(skip_serializing_if = "Option::is_none", default = "Option::default")]
    pub wascap: Option<T>,
    /// wascap's internal revision (`2`+ from wascap 0.9; absent from 0.8 tokens).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub wascap_revision: Option<u32>,
}

/// The `wascap` metadata of a capability provider (`claims.jwt` inside a `.par`, §5.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CapabilityProvider {
    /// Descriptive name; written as `null` when absent (wascap does not skip it).
    #[serde(default)]
    pub name: Option<String>,
    /// Contract id the provider implements, e.g. `wasmcloud:httpserver`.
    pub capid: String,
    /// Vendor string.
    pub vendor: String,
    /// Monotonic revision.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rev: Option<i32>,
    /// Human-readable version.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ver: Option<String>,
    /// Target (`x86_64-linux` ...) → uppercase hex SHA-256 of that target's binary.
    #[serde(default)]
    pub target_hashes: HashMap<String, String>,
}

#[derive(Deserialize)]
struct Header {
    typ: String,
    alg: String,
}

impl<T> Claims<T> {
    /// New claims issued now with a fresh `jti`, no expiry, no not-before.
    pub fn new(iss: impl Into<String>, sub: impl Into<String>, wascap: T) -> Self {
        Claims {
            exp: None,
            jti: generate_nuid(),
            iat: now_secs(),
            iss: iss.into(),
            sub: sub.into(),
            nbf: None,
            wascap: Some(wascap),
            wascap_revision: None,
        }
    }

    /// Whether `exp` is before `now` (unix seconds).
    pub fn is_expired_at(&self, now: u64) -> bool {
        self.exp.is_some_and(|exp| exp < now)
    }

    /// Whether `nbf` is after `now` (unix seconds).
    pub fn is_not_yet_valid_at(&self, now: u64) -> bool {
        self.nbf.is_some_and(|nbf| now < nbf)
    }
}

impl<T: Serialize> Claims<T> {
    /// Signs these claims with `signer` and returns the compact JWT.
    ///
    /// The token verifies only if `signer`'s public key is `self.iss`; this is not
    /// checked here (wascap does not either). Fails with [`ClaimsError::Signing`] if
    /// `signer` has no seed.
    pub fn encode(&self, signer: &KeyPair) -> Result<String, ClaimsError> {
        let claims_json =
            serde_json::to_vec(self).map_err(|e| ClaimsError::Signing(e.to_string()))?;
        let head_and_claims = format!(
            "{}.{}",
            BASE64URL_NOPAD.encode(HEADER_JSON.as_bytes()),
            BASE64URL_NOPAD.encode(&claims_json)
        );
        let sig = signer
            .sign(head_and_claims.as_bytes())
            .map_err(|e| ClaimsError::Signing(e.to_string()))?;
        Ok(format!(
            "{head_and_claims}.{}",
            BASE64URL_NOPAD.encode(&sig)
        ))
    }
}

impl<T: DeserializeOwned> Claims<T> {
    /// Decodes `token` and verifies it against the current clock: header, base64url
    /// (no padding), non-empty `iss`/`sub`, Ed25519 signature by `iss`, `exp`, `nbf`.
    ///
    /// Fails with [`ClaimsError::Malformed`] / [`ClaimsError::InvalidHeader`] for a token
    /// that cannot be read, then [`ClaimsError::BadSignature`], [`ClaimsError::Expired`],
    /// [`ClaimsError::NotYetValid`] in that order.
    pub fn decode_and_verify(token: &str) -> Result<Self, ClaimsError> {
        Self::decode_and_verify_at(token, now_secs())
    }

    /// [`decode_and_verify`](Self::decode_and_verify) with an explicit "now" (unix seconds).
    pub fn decode_and_verify_at(token: &str, now: u64) -> Result<Self, ClaimsError> {
        let (claims, signature_valid) = Self::decode_checking_signature(token)?;
        if !signature_valid {
            return Err(ClaimsError::BadSignature);
        }
        if claims.is_expired_at(now) {
            return Err(ClaimsError::Expired);
        }
        if claims.is_not_yet_valid_at(now) {
            return Err(ClaimsError::NotYetValid);
        }
        Ok(claims)
    }

    /// Decodes `token` **without** verifying signature or dates (header, base64url and
    /// JSON are still checked). For display and diagnostics only: never trust the result.
    pub fn decode_unverified(token: &str) -> Result<Self, ClaimsError> {
        let [header, claims, _sig] = split_token(token)?;
        check_header(header)?;
        decode_claims(claims)
    }

    /// Decodes `token` and reports whether its signature is valid, leaving the policy to
    /// the caller (invocation checks report each failure with its own text).
    pub(crate) fn decode_checking_signature(token: &str) -> Result<(Self, bool), ClaimsError> {
        let [header, claims_b64, sig_b64] = split_token(token)?;
        check_header(header)?;
        let claims: Self = decode_claims(claims_b64)?;
        let sig = BASE64URL_NOPAD
            .decode(sig_b64.as_bytes())
            .map_err(|e| ClaimsError::Malformed(format!("signature is not base64url: {e}")))?;
        let issuer = issuer_key(&claims.iss)?;
        // The signed input is the first two segments exactly as received.
        let signed_len = header.len() + 1 + claims_b64.len();
        let valid = issuer.verify(&token.as_bytes()[..signed_len], &sig).is_ok();
        Ok((claims, valid))
    }
}

/// The verifying key of `iss`, decoded once per process: every invocation of a lattice carries
/// one of a few cluster keys, and decoding one (base32, CRC, point decompression) costs a good
/// part of a verification. Bounded: a flood of distinct issuers only empties the cache.
fn issuer_key(iss: &str) -> Result<std::sync::Arc<KeyPair>, ClaimsError> {
    use std::collections::HashMap;
    use std::sync::{Arc, OnceLock, RwLock};
    const MAX_CACHED_ISSUERS: usize = 256;
    static KEYS: OnceLock<RwLock<HashMap<String, Arc<KeyPair>>>> = OnceLock::new();
    let keys = KEYS.get_or_init(Default::default);
    if let Some(key) = keys.read().ok().and_then(|k| k.get(iss).cloned()) {
        return Ok(key);
    }
    let key = Arc::new(KeyPair::from_public_key(iss).map_err(|e| {
        ClaimsError::Malformed(format!(
            "issuer '{}' is not a public nkey: {}",
            quote_input(iss),
            bounded_library_error(&e.to_string())
        ))
    })?);
    if let Ok(mut keys) = keys.write() {
        if keys.len() >= MAX_CACHED_ISSUERS {
            keys.clear();
        }
        keys.insert(iss.to_string(), key.clone());
    }
    Ok(key)
}

fn split_token(token: &str) -> Result<[&str; 3], ClaimsError> {
    let parts: Vec<&str> = token.split('.').collect();
    match parts.as_slice() {
        [h, c, s] => Ok([*h, *c, *s]),
        _ => Err(ClaimsError::Malformed(format!(
            "expected 3 dot-separated segments, found {}",
            parts.len()
        ))),
    }
}

fn check_header(segment: &str) -> Result<(), ClaimsError> {
    let bytes = BASE64URL_NOPAD
        .decode(segment.as_bytes())
        .map_err(|_| ClaimsError::InvalidHeader)?;
    let header: Header = serde_json::from_slice(&bytes).map_err(|_| ClaimsError::InvalidHeader)?;
    if header.typ != HEADER_TYPE || header.alg != HEADER_ALGORITHM {
        return Err(ClaimsError::InvalidHeader);
    }
    Ok(())
}

fn decode_claims<T: DeserializeOwned>(segment: &str) -> Result<Claims<T>, ClaimsError> {
    let bytes = BASE64URL_NOPAD
        .decode(segment.as_bytes())
        .map_err(|e| ClaimsError::Malformed(format!("claims segment is not base64url: {e}")))?;
    let claims: Claims<T> = serde_json::from_slice(&bytes).map_err(|e| {
        ClaimsError::Malformed(format!(
            "claims JSON: {}",
            bounded_library_error(&e.to_string())
        ))
    })?;
    if claims.iss.is_empty() {
        return Err(ClaimsError::Malformed("missing issuer (iss)".into()));
    }
    if claims.sub.is_empty() {
        return Err(ClaimsError::Malformed("missing subject (sub)".into()));
    }
    Ok(claims)
}

/// Current unix time in seconds (0 if the clock is before 1970).
pub(crate) fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A random 22-character base62 id, the shape of the NATS NUIDs wascap uses as `jti`.
pub fn generate_nuid() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::thread_rng();
    (0..22)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::{Actor, InvocationClaims};
    use crate::vectors;

    fn vector_token(sidecar: &str, pointer: &str) -> String {
        vectors::json(sidecar)
            .pointer(pointer)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn header_is_wascaps() {
        let token = vector_token("invocation.json", "/encoded_claims_decoded/jwt");
        assert_eq!(
            token.split('.').next().unwrap(),
            BASE64URL_NOPAD.encode(HEADER_JSON.as_bytes())
        );
    }

    #[test]
    fn reencoding_vector_claims_reproduces_the_tokens() {
        let account = KeyPair::from_seed(vectors::ACCOUNT_SEED).unwrap();
        for sidecar in ["actor_wascap08.claims.json", "actor_wascap09.claims.json"] {
            let token = vector_token(sidecar, "/token/jwt");
            let claims = Claims::<Actor>::decode_and_verify(&token).unwrap();
            assert_eq!(claims.encode(&account).unwrap(), token, "{sidecar}");
        }
        let cluster = KeyPair::from_seed(vectors::CLUSTER_SEED).unwrap();
        let token = vector_token("invocation.json", "/encoded_claims_decoded/jwt");
        let claims = Claims::<InvocationClaims>::decode_and_verify(&token).unwrap();
        assert_eq!(claims.encode(&cluster).unwrap(), token);
    }

    #[test]
    fn provider_token_from_the_par_verifies() {
        let token = vector_token("provider.claims.json", "/token/jwt");
        let claims = Claims::<CapabilityProvider>::decode_and_verify(&token).unwrap();
        assert_eq!(claims.iss, vectors::ACCOUNT_PK);
        assert_eq!(claims.sub, vectors::PROVIDER_PK);
        let meta = claims.wascap.as_ref().unwrap();
        assert_eq!(meta.capid, "wasmcloud:testing");
        assert_eq!(meta.vendor, "wasmcloud-vectors");
        assert_eq!(meta.name.as_deref(), Some("Vectors Dummy Provider"));
        assert_eq!(meta.rev, Some(1));
        assert_eq!(meta.ver.as_deref(), Some("0.1.0"));
        assert_eq!(
            meta.target_hashes["x86_64-linux"],
            "4A4FC96F0739259F73166C26ED831EF70F3C00030E175DB3724F89AA36862EA4"
        );
        // One target hash only, so re-encoding is deterministic and must be identical.
        let account = KeyPair::from_seed(vectors::ACCOUNT_SEED).unwrap();
        assert_eq!(claims.encode(&account).unwrap(), token);
    }

    fn sample(exp: Option<u64>, nbf: Option<u64>) -> (KeyPair, String) {
        let kp = KeyPair::new_account();
        let mut claims = Claims::new(kp.public_key(), "MSUBJECT", InvocationClaims::default());
        claims.exp = exp;
        claims.nbf = nbf;
        let token = claims.encode(&kp).unwrap();
        (kp, token)
    }

    #[test]
    fn dates_are_checked() {
        let (_, token) = sample(Some(1000), None);
        assert_eq!(
            Claims::<InvocationClaims>::decode_and_verify(&token),
            Err(ClaimsError::Expired)
        );
        assert!(Claims::<InvocationClaims>::decode_and_verify_at(&token, 1000).is_ok());
        assert_eq!(
            Claims::<InvocationClaims>::decode_and_verify_at(&token, 1001),
            Err(ClaimsError::Expired)
        );
        let (_, token) = sample(None, Some(now_secs() + 3600));
        assert_eq!(
            Claims::<InvocationClaims>::decode_and_verify(&token),
            Err(ClaimsError::NotYetValid)
        );
        let (_, token) = sample(Some(now_secs() + 3600), Some(now_secs() - 10));
        assert!(Claims::<InvocationClaims>::decode_and_verify(&token).is_ok());
    }

    #[test]
    fn signature_by_another_key_is_rejected() {
        let claimed = KeyPair::new_account();
        let actual = KeyPair::new_account();
        let claims = Claims::new(
            claimed.public_key(),
            "MSUBJECT",
            InvocationClaims::default(),
        );
        let token = claims.encode(&actual).unwrap();
        assert_eq!(
            Claims::<InvocationClaims>::decode_and_verify(&token),
            Err(ClaimsError::BadSignature)
        );
        // Unverified decoding still reads it.
        assert_eq!(
            Claims::<InvocationClaims>::decode_unverified(&token).unwrap(),
            claims
        );
    }

    #[test]
    fn tampered_claims_segment_is_rejected() {
        let (_, token) = sample(None, None);
        let mut parts: Vec<String> = token.split('.').map(String::from).collect();
        let mut claims: Claims<InvocationClaims> = Claims::decode_unverified(&token).unwrap();
        claims.sub = "MOTHER".into();
        parts[1] = BASE64URL_NOPAD.encode(&serde_json::to_vec(&claims).unwrap());
        let forged = parts.join(".");
        assert_eq!(
            Claims::<InvocationClaims>::decode_and_verify(&forged),
            Err(ClaimsError::BadSignature)
        );
    }

    #[test]
    fn malformed_tokens_are_errors_not_panics() {
        let (_, good) = sample(None, None);
        let parts: Vec<&str> = good.split('.').collect();
        let bad_header = BASE64URL_NOPAD.encode(br#"{"typ":"JWT","alg":"Ed25519"}"#);
        let bad_alg = BASE64URL_NOPAD.encode(br#"{"typ":"jwt","alg":"HS256"}"#);
        let empty_iss = BASE64URL_NOPAD.encode(br#"{"jti":"x","iat":1,"iss":"","sub":"s"}"#);
        let cases = [
            (String::new(), "Malformed"),
            ("a.b".to_string(), "Malformed"),
            ("a.b.c.d".to_string(), "Malformed"),
            (
                format!("{bad_header}.{}.{}", parts[1], parts[2]),
                "InvalidHeader",
            ),
            (
                format!("{bad_alg}.{}.{}", parts[1], parts[2]),
                "InvalidHeader",
            ),
            (format!("!!.{}.{}", parts[1], parts[2]), "InvalidHeader"),
            (
                format!("{}.{}=.{}", parts[0], parts[1], parts[2]),
                "Malformed",
            ),
            (
                format!("{}.{empty_iss}.{}", parts[0], parts[2]),
                "Malformed",
            ),
            (format!("{}.{}.%%", parts[0], parts[1]), "Malformed"),
            (format!("{}.{}.", parts[0], parts[1]), "BadSignature"),
            (format!("{}.{}.AAAA", parts[0], parts[1]), "BadSignature"),
        ];
        for (token, kind) in cases {
            let err = Claims::<InvocationClaims>::decode_and_verify(&token).unwrap_err();
            assert!(format!("{err:?}").starts_with(kind), "{token}: {err:?}");
        }
    }

    #[test]
    fn issuer_that_is_not_a_key_is_malformed() {
        let kp = KeyPair::new_account();
        let claims = Claims::new("not-a-key", "MSUBJECT", InvocationClaims::default());
        let token = claims.encode(&kp).unwrap();
        let err = Claims::<InvocationClaims>::decode_and_verify(&token).unwrap_err();
        assert!(matches!(err, ClaimsError::Malformed(_)), "{err:?}");
    }

    #[test]
    fn signing_needs_a_seed() {
        let public_only = KeyPair::from_public_key(vectors::ACCOUNT_PK).unwrap();
        let claims = Claims::new(vectors::ACCOUNT_PK, "MSUBJECT", InvocationClaims::default());
        assert!(matches!(
            claims.encode(&public_only),
            Err(ClaimsError::Signing(_))
        ));
    }

    /// Any change to a valid token (one character replaced, or cut short) is an error,
    /// never a panic and never a verified token.
    #[test]
    fn mutated_tokens_never_verify() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let token = vector_token("invocation.json", "/encoded_claims_decoded/jwt");
        assert!(Claims::<InvocationClaims>::decode_and_verify(&token).is_ok());
        let alphabet: Vec<char> = "ABCXYZabcxyz0189-_.=+/ \u{e9}".chars().collect();
        for _ in 0..3000 {
            let mut chars: Vec<char> = token.chars().collect();
            let i = rng.gen_range(0..chars.len());
            let replacement = alphabet[rng.gen_range(0..alphabet.len())];
            if chars[i] == replacement {
                continue;
            }
            chars[i] = replacement;
            let mutated: String = chars.into_iter().collect();
            assert!(
                Claims::<InvocationClaims>::decode_and_verify(&mutated).is_err(),
                "{mutated}"
            );
        }
        for len in 0..token.len() {
            assert!(
                Claims::<InvocationClaims>::decode_and_verify(&token[..len]).is_err(),
                "cut at {len}"
            );
        }
    }

    #[test]
    fn nuids_look_like_nuids() {
        let a = generate_nuid();
        assert_eq!(a.len(), 22);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, generate_nuid());
    }
}
