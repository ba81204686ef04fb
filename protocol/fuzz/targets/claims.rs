//! Claims: JWT decoding and verification, and claims embedded in actor modules.

use super::rpc::NOW;
use super::{assert_error_bounded, assert_round_trip, decode_bounded, ALLOC_SLACK};
use data_encoding::BASE64URL_NOPAD;
use serde::{de::DeserializeOwned, Serialize};
use std::fmt::Debug;
use wasmhost_protocol::claims::{
    extract_actor_claims, module_hash_without_claims, sign_actor, verify_invocation, Actor,
    ActorClaims, ActorSigning, CapabilityProvider, Claims, ClaimsError, InvocationClaims,
};
use wasmhost_protocol::nkeys::KeyPair;

/// The fixed account and module seeds of the test vectors (README "Fixed inputs").
const ACCOUNT_SEED: &str = "SAAAEVJMLL3FL6LOWRCS5FCWYCXK34GWAR24NGPV2RPEJH7OTF3BUURQOE";
const MODULE_SEED: &str = "SMANYW4KW55RQDL2T6ZBR6WCJTMZU5KN2R3RP5S677D4KW5LDTAZZR7GM4";
/// The only JWT header wascap writes.
const HEADER_JSON: &[u8] = br#"{"typ":"jwt","alg":"Ed25519"}"#;

/// Two readings of the input, for each kind of `wascap` metadata (actor, provider,
/// invocation):
///
/// * as a token: a verified token also decodes unverified to the same claims; the claims
///   re-signed by a known key decode to themselves and verify exactly when that key is
///   their issuer and their dates allow;
/// * as the claims JSON of a token signed here by the account key: it verifies exactly
///   when it parses, names that key as issuer, and its dates allow.
pub fn claims_jwt(data: &[u8]) {
    let signer = KeyPair::from_seed(ACCOUNT_SEED).expect("vector seed");
    if let Ok(token) = std::str::from_utf8(data) {
        check_token::<Actor>(token, data, &signer);
        check_token::<CapabilityProvider>(token, data, &signer);
        check_token::<InvocationClaims>(token, data, &signer);
        if let Err(err) = ActorClaims::from_token(token) {
            assert_error_bounded("ActorClaims::from_token", &err, &[data]);
        }
        if let Err(err) = verify_invocation(token) {
            assert_error_bounded("verify_invocation", &err, &[data]);
        }
    }
    let signed = sign_raw_claims(data, &signer);
    check_signed_json::<Actor>(&signed, data, &signer);
    check_signed_json::<CapabilityProvider>(&signed, data, &signer);
    check_signed_json::<InvocationClaims>(&signed, data, &signer);
}

/// A wascap token whose claims segment is `claims_json` as given, signed by `signer`.
fn sign_raw_claims(claims_json: &[u8], signer: &KeyPair) -> String {
    let head_and_claims = format!(
        "{}.{}",
        BASE64URL_NOPAD.encode(HEADER_JSON),
        BASE64URL_NOPAD.encode(claims_json)
    );
    let signature = signer
        .sign(head_and_claims.as_bytes())
        .expect("the seed signs");
    format!("{head_and_claims}.{}", BASE64URL_NOPAD.encode(&signature))
}

fn check_token<T>(token: &str, data: &[u8], signer: &KeyPair)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let what = std::any::type_name::<T>();
    let verified = decode_bounded(what, data, ALLOC_SLACK, || {
        Claims::<T>::decode_and_verify_at(token, NOW)
    });
    let unverified = Claims::<T>::decode_unverified(token);
    match (&verified, &unverified) {
        (Ok(v), Ok(u)) => assert_round_trip(what, v, u),
        (Ok(v), Err(e)) => panic!("{what}: verifies as {v:?} but does not decode: {e}"),
        (Err(err), _) => assert_error_bounded(what, err, &[data]),
    }
    let Ok(claims) = unverified else {
        return;
    };
    let resigned = claims.encode(signer).expect("the seed signs");
    let back = Claims::<T>::decode_unverified(&resigned).expect("re-signed claims decode");
    assert_round_trip(what, &claims, &back);
    check_verdict(
        what,
        &claims,
        Claims::<T>::decode_and_verify_at(&resigned, NOW),
        signer,
    );
}

fn check_signed_json<T>(token: &str, data: &[u8], signer: &KeyPair)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let what = std::any::type_name::<T>();
    let verdict = Claims::<T>::decode_and_verify_at(token, NOW);
    match Claims::<T>::decode_unverified(token) {
        Ok(claims) => check_verdict(what, &claims, verdict, signer),
        Err(err) => {
            assert_eq!(
                verdict.as_ref().err(),
                Some(&err),
                "{what}: verify and decode disagree"
            );
            assert_error_bounded(what, &err, &[data]);
        }
    }
}

/// The verdict on a token holding `claims`, signed by `signer`: valid exactly when the
/// signer is the issuer and the dates allow, and then the claims are the ones signed.
fn check_verdict<T: PartialEq + Debug>(
    what: &str,
    claims: &Claims<T>,
    verdict: Result<Claims<T>, ClaimsError>,
    signer: &KeyPair,
) {
    let signed_by_issuer = claims.iss == signer.public_key();
    match verdict {
        Ok(verified) => {
            assert!(
                signed_by_issuer,
                "{what}: verified with issuer {:?}",
                claims.iss
            );
            assert!(!claims.is_expired_at(NOW) && !claims.is_not_yet_valid_at(NOW));
            assert_round_trip(what, claims, &verified);
        }
        Err(ClaimsError::BadSignature) | Err(ClaimsError::Malformed(_)) if !signed_by_issuer => {}
        Err(ClaimsError::Expired) => assert!(signed_by_issuer && claims.is_expired_at(NOW)),
        Err(ClaimsError::NotYetValid) => {
            assert!(signed_by_issuer && claims.is_not_yet_valid_at(NOW))
        }
        Err(err) => panic!(
            "{what}: signed by its issuer {:?} yet refused: {err}",
            claims.iss
        ),
    }
}

/// Reads the input as a WebAssembly module: extracting its claims fails with a bounded
/// error or yields claims whose accessors all work; signing it works exactly when its
/// sections can be read, and the signed module yields the claims just signed, with the
/// same module hash.
pub fn actor_module(data: &[u8]) {
    match decode_bounded("extract_actor_claims", data, ALLOC_SLACK, || {
        extract_actor_claims(data)
    }) {
        Ok(claims) => {
            let _ = (
                claims.claims_map(),
                claims.revision(),
                claims.expires_human(),
            );
            let _ = claims.not_before_human();
        }
        Err(err) => assert_error_bounded("extract_actor_claims", &err, &[data]),
    }
    let hash = module_hash_without_claims(data);
    let account = KeyPair::from_seed(ACCOUNT_SEED).expect("vector seed");
    let module = KeyPair::from_seed(MODULE_SEED).expect("vector seed");
    let signing = ActorSigning::new("fuzzed").cap("wasmcloud:keyvalue").rev(7);
    match (sign_actor(data, &signing, &account, &module), hash) {
        (Ok(signed), Ok(hash)) => {
            let claims = extract_actor_claims(&signed)
                .unwrap_or_else(|e| panic!("a module signed here is refused: {e}"));
            assert_eq!(claims.module_hash(), hash);
            assert_eq!(
                module_hash_without_claims(&signed).as_deref(),
                Ok(hash.as_str())
            );
            assert_eq!(
                (claims.name(), claims.caps(), claims.revision()),
                (Some("fuzzed"), &["wasmcloud:keyvalue".to_string()][..], 7)
            );
            assert_eq!(claims.public_key(), module.public_key());
        }
        (Err(ClaimsError::InvalidWasm(_)), Err(err @ ClaimsError::InvalidWasm(_))) => {
            assert_error_bounded("module_hash_without_claims", &err, &[data]);
        }
        (signed, hash) => panic!(
            "signing and hashing disagree on whether the module is readable: {:?} / {hash:?}",
            signed.map(|s| s.len())
        ),
    }
}
