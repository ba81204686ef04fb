//! Actor claims: the token embedded in a module's custom section (§5.3, §5.5).
//!
//! **Reading.** The first custom section named `jwt` (wascap 0.8) or `wasmcloud_jwt`
//! (wascap 0.9) holds the token. The signed `hash` must equal the uppercase hex SHA-256
//! of the module without its claims section(s). That single rule verifies both 2022
//! signers' output: wascap 0.8 hashes the module minus `jwt`, and wascap 0.9.1/0.9.2
//! re-encode the module before hashing, so their file minus `wasmcloud_jwt` is exactly
//! what they hashed (vectors/README §7). Modules signed by wascap 0.9.0 (a different
//! hash rule) and modules whose encoding parity-wasm would have normalised are rejected
//! with [`ClaimsError::InvalidModuleHash`].
//!
//! **Signing (our documented rule).** Remove every `jwt`/`wasmcloud_jwt` section, hash
//! the result, append one custom section named **`jwt`** holding the token, and set no
//! `wascap_revision`: 0.5x hosts (wascap 0.8) read exactly that, and wascap 0.9 reads the
//! `jwt` section too.

use super::jwt::{generate_nuid, now_secs, Claims};
use super::{require_key_type, wasm, ClaimsError};
use crate::humanize::humanize_time_from_now;
use data_encoding::HEXUPPER;
use nkeys::{KeyPair, KeyPairType};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Custom-section names that may hold an actor's token, in the order wascap 0.9 looks
/// for them (the first section with either name wins).
pub const CLAIMS_SECTION_NAMES: [&str; 2] = ["jwt", "wasmcloud_jwt"];

/// The section name [`sign_actor`] writes (wascap 0.8's, which 0.5x hosts read).
pub const SIGNED_SECTION_NAME: &str = "jwt";

/// The `wascap` metadata of an actor (wascap field names and order).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Actor {
    /// Descriptive name.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    /// Uppercase hex SHA-256 of the module without its claims section.
    pub hash: String,
    /// Free-form tags.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tags: Option<Vec<String>>,
    /// Capability contract ids the actor may call, e.g. `wasmcloud:keyvalue`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub caps: Option<Vec<String>>,
    /// Monotonic revision (the host uses `iat` when this is absent or 0).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rev: Option<i32>,
    /// Human-readable version.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ver: Option<String>,
    /// Alias other actors may use instead of the public key.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub call_alias: Option<String>,
    /// "This module is a provider" flag; false for actors.
    #[serde(default)]
    pub prov: bool,
}

/// Verified claims of an actor module, with the token they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorClaims {
    /// The decoded claims; `claims.wascap` is always `Some` for values built by this crate.
    pub claims: Claims<Actor>,
    /// The JWT as found in the module.
    pub token: String,
}

impl ActorClaims {
    /// Verifies an actor token on its own (no module hash check): signature, dates,
    /// `wascap` metadata present, subject an `M...` key, issuer an `A...` key.
    pub fn from_token(token: &str) -> Result<Self, ClaimsError> {
        let claims = Claims::<Actor>::decode_and_verify(token)?;
        if claims.wascap.is_none() {
            return Err(ClaimsError::MissingMetadata);
        }
        require_key_type("actor subject", &claims.sub, KeyPairType::Module)?;
        require_key_type("actor issuer", &claims.iss, KeyPairType::Account)?;
        Ok(ActorClaims {
            claims,
            token: token.to_string(),
        })
    }

    fn meta(&self) -> Option<&Actor> {
        self.claims.wascap.as_ref()
    }

    /// The actor's public key (`sub`, M...).
    pub fn public_key(&self) -> &str {
        &self.claims.sub
    }

    /// The account that signed it (`iss`, A...).
    pub fn issuer(&self) -> &str {
        &self.claims.iss
    }

    /// The name, if the claims have one.
    pub fn name(&self) -> Option<&str> {
        self.meta()?.name.as_deref()
    }

    /// Capability contract ids (empty if none).
    pub fn caps(&self) -> &[String] {
        self.meta().and_then(|m| m.caps.as_deref()).unwrap_or(&[])
    }

    /// Tags (empty if none).
    pub fn tags(&self) -> &[String] {
        self.meta().and_then(|m| m.tags.as_deref()).unwrap_or(&[])
    }

    /// Whether `caps` contains `contract_id`.
    pub fn has_cap(&self, contract_id: &str) -> bool {
        self.caps().iter().any(|c| c == contract_id)
    }

    /// The revision the host uses: `rev` if > 0, else `iat` (`revision_or_iat`),
    /// saturated to `i32::MAX`.
    pub fn revision(&self) -> i32 {
        match self.meta().and_then(|m| m.rev) {
            Some(rev) if rev > 0 => rev,
            _ => i32::try_from(self.claims.iat).unwrap_or(i32::MAX),
        }
    }

    /// The human-readable version (`ver`), if any.
    pub fn version(&self) -> Option<&str> {
        self.meta()?.ver.as_deref()
    }

    /// The call alias, if any.
    pub fn call_alias(&self) -> Option<&str> {
        self.meta()?.call_alias.as_deref()
    }

    /// The signed module hash.
    pub fn module_hash(&self) -> &str {
        self.meta().map(|m| m.hash.as_str()).unwrap_or("")
    }

    /// `"never"` without `exp`, else a relative time like `"in 2 months"`.
    pub fn expires_human(&self) -> String {
        self.claims
            .exp
            .map_or_else(|| "never".to_string(), humanize_time_from_now)
    }

    /// `"immediately"` without `nbf`, else a relative time like `"in 3 days"`.
    pub fn not_before_human(&self) -> String {
        self.claims
            .nbf
            .map_or_else(|| "immediately".to_string(), humanize_time_from_now)
    }

    /// The flat string map the host stores and returns from `get.claims` (§1.5): `sub`,
    /// `iss`, `name`, `call_alias`, comma-joined `caps` and `tags`, `rev` as a string,
    /// `version`; absent values are `""` (rev `"0"`), never null.
    pub fn claims_map(&self) -> HashMap<String, String> {
        let rev = self.meta().and_then(|m| m.rev).unwrap_or(0);
        [
            ("sub", self.public_key().to_string()),
            ("iss", self.issuer().to_string()),
            ("name", self.name().unwrap_or_default().to_string()),
            (
                "call_alias",
                self.call_alias().unwrap_or_default().to_string(),
            ),
            ("caps", self.caps().join(",")),
            ("tags", self.tags().join(",")),
            ("rev", rev.to_string()),
            ("version", self.version().unwrap_or_default().to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

fn is_claims_section(s: &wasm::Section) -> bool {
    CLAIMS_SECTION_NAMES.iter().any(|n| s.is_custom_named(n))
}

fn sha256_upper(bytes: &[u8]) -> String {
    HEXUPPER.encode(&Sha256::digest(bytes))
}

/// Uppercase hex SHA-256 of `module` without any `jwt` / `wasmcloud_jwt` custom section:
/// the value a signed actor's `hash` claim must hold.
///
/// Fails with [`ClaimsError::InvalidWasm`] if the section framing is broken.
pub fn module_hash_without_claims(module: &[u8]) -> Result<String, ClaimsError> {
    let sections = wasm::sections(module)?;
    Ok(sha256_upper(&wasm::without_sections(
        module,
        &sections,
        is_claims_section,
    )))
}

/// Reads, verifies and returns the claims embedded in an actor module.
///
/// Checks, in order: the module's section framing ([`ClaimsError::InvalidWasm`]); a
/// `jwt`/`wasmcloud_jwt` section exists ([`ClaimsError::NoClaims`]); the token is valid
/// UTF-8 and well-formed, signed by its `iss`, not expired, already valid, and carries
/// actor metadata; `sub` is an `M...` and `iss` an `A...` key
/// ([`ClaimsError::WrongKeyType`]); the signed hash matches the module without its
/// claims section ([`ClaimsError::InvalidModuleHash`]). Never panics, whatever the input.
pub fn extract_actor_claims(module: &[u8]) -> Result<ActorClaims, ClaimsError> {
    let sections = wasm::sections(module)?;
    let found = sections
        .iter()
        .find(|s| is_claims_section(s))
        .ok_or(ClaimsError::NoClaims)?;
    let token = std::str::from_utf8(&module[found.data_start..found.end])
        .map_err(|_| ClaimsError::Malformed("claims section is not UTF-8".into()))?;
    let claims = ActorClaims::from_token(token)?;

    // Hash without every claims section (what we and wascap 0.9.2 sign) or, for a module
    // carrying both names, without only the section the token came from.
    let signed = claims.module_hash();
    let without_all = sha256_upper(&wasm::without_sections(
        module,
        &sections,
        is_claims_section,
    ));
    let matches = signed == without_all
        || signed == sha256_upper(&wasm::without_sections(module, &sections, |s| s == found));
    if !matches {
        return Err(ClaimsError::InvalidModuleHash);
    }
    Ok(claims)
}

/// What to put in a new actor token; `hash` is computed by [`sign_actor`].
///
/// ```
/// use wasmhost_protocol::claims::ActorSigning;
/// let signing = ActorSigning::new("echo").cap("wasmcloud:httpserver").rev(1).ver("0.1.0");
/// assert_eq!(signing.caps, ["wasmcloud:httpserver"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActorSigning {
    /// Descriptive name.
    pub name: Option<String>,
    /// Capability contract ids (left out of the token when empty).
    pub caps: Vec<String>,
    /// Tags (left out of the token when empty).
    pub tags: Vec<String>,
    /// Revision.
    pub rev: Option<i32>,
    /// Human-readable version.
    pub ver: Option<String>,
    /// Call alias.
    pub call_alias: Option<String>,
    /// Token expires this many seconds after signing; `None` = never.
    pub expires_in_secs: Option<u64>,
    /// Token becomes valid this many seconds after signing; `None` = immediately.
    pub not_before_secs: Option<u64>,
}

impl ActorSigning {
    /// Signing options with a name and nothing else.
    pub fn new(name: impl Into<String>) -> Self {
        ActorSigning {
            name: Some(name.into()),
            ..Default::default()
        }
    }
    /// Adds one capability contract id.
    pub fn cap(mut self, contract_id: impl Into<String>) -> Self {
        self.caps.push(contract_id.into());
        self
    }
    /// Replaces the capability list.
    pub fn caps<I: IntoIterator<Item = S>, S: Into<String>>(mut self, caps: I) -> Self {
        self.caps = caps.into_iter().map(Into::into).collect();
        self
    }
    /// Replaces the tag list.
    pub fn tags<I: IntoIterator<Item = S>, S: Into<String>>(mut self, tags: I) -> Self {
        self.tags = tags.into_iter().map(Into::into).collect();
        self
    }
    /// Sets the revision.
    pub fn rev(mut self, rev: i32) -> Self {
        self.rev = Some(rev);
        self
    }
    /// Sets the version string.
    pub fn ver(mut self, ver: impl Into<String>) -> Self {
        self.ver = Some(ver.into());
        self
    }
    /// Sets the call alias.
    pub fn call_alias(mut self, alias: impl Into<String>) -> Self {
        self.call_alias = Some(alias.into());
        self
    }
    /// Token expires `secs` seconds after signing.
    pub fn expires_in_secs(mut self, secs: u64) -> Self {
        self.expires_in_secs = Some(secs);
        self
    }
    /// Token becomes valid `secs` seconds after signing.
    pub fn not_before_secs(mut self, secs: u64) -> Self {
        self.not_before_secs = Some(secs);
        self
    }
    /// Same as [`sign_actor`]`(module, self, issuer, subject)`.
    pub fn sign(
        &self,
        module: &[u8],
        issuer: &KeyPair,
        subject: &KeyPair,
    ) -> Result<Vec<u8>, ClaimsError> {
        sign_actor(module, self, issuer, subject)
    }

    /// The claims this would sign now (hash still empty).
    fn to_claims(&self, issuer: &KeyPair, subject: &KeyPair) -> Claims<Actor> {
        let now = now_secs();
        let non_empty = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
        Claims {
            exp: self.expires_in_secs.map(|s| now.saturating_add(s)),
            jti: generate_nuid(),
            iat: now,
            iss: issuer.public_key(),
            sub: subject.public_key(),
            nbf: self.not_before_secs.map(|s| now.saturating_add(s)),
            wascap: Some(Actor {
                name: self.name.clone(),
                hash: String::new(),
                tags: non_empty(&self.tags),
                caps: non_empty(&self.caps),
                rev: self.rev,
                ver: self.ver.clone(),
                call_alias: self.call_alias.clone(),
                prov: false,
            }),
            wascap_revision: None,
        }
    }
}

/// Signs an actor module: returns `module` without any previous claims section, plus a
/// `jwt` custom section holding a token issued by `issuer` (an account key, A...) for
/// `subject` (a module key, M...), with `hash` = [`module_hash_without_claims`].
///
/// Fails with [`ClaimsError::WrongKeyType`] for keys of the wrong kind,
/// [`ClaimsError::Signing`] if `issuer` has no seed, [`ClaimsError::InvalidWasm`] if
/// `module` is not a readable core module.
pub fn sign_actor(
    module: &[u8],
    signing: &ActorSigning,
    issuer: &KeyPair,
    subject: &KeyPair,
) -> Result<Vec<u8>, ClaimsError> {
    require_key_type("actor issuer", &issuer.public_key(), KeyPairType::Account)?;
    require_key_type("actor subject", &subject.public_key(), KeyPairType::Module)?;
    embed_claims(module, &signing.to_claims(issuer, subject), issuer)
}

/// Embeds `claims` (with `wascap.hash` replaced by the module's hash) into `module`,
/// signed by `issuer`: the primitive under [`sign_actor`] for callers that need full
/// control of the claims (fixed `jti`/`iat`, absolute dates).
///
/// Fails with [`ClaimsError::MissingMetadata`] if `claims.wascap` is `None`,
/// [`ClaimsError::Signing`] if `issuer` is not the key named in `claims.iss` or has no
/// seed, [`ClaimsError::InvalidWasm`] for an unreadable module.
pub fn embed_claims(
    module: &[u8],
    claims: &Claims<Actor>,
    issuer: &KeyPair,
) -> Result<Vec<u8>, ClaimsError> {
    if issuer.public_key() != claims.iss {
        return Err(ClaimsError::Signing(format!(
            "signing key {} is not the claims issuer {}",
            issuer.public_key(),
            crate::quote_input(&claims.iss)
        )));
    }
    let sections = wasm::sections(module)?;
    let mut out = wasm::without_sections(module, &sections, is_claims_section);
    let mut claims = claims.clone();
    claims
        .wascap
        .as_mut()
        .ok_or(ClaimsError::MissingMetadata)?
        .hash = sha256_upper(&out);
    let token = claims.encode(issuer)?;
    wasm::append_custom_section(&mut out, SIGNED_SECTION_NAME, token.as_bytes())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vectors;

    fn account() -> KeyPair {
        KeyPair::from_seed(vectors::ACCOUNT_SEED).unwrap()
    }
    fn module_key() -> KeyPair {
        KeyPair::from_seed(vectors::MODULE_SEED).unwrap()
    }

    fn assert_vector_claims(claims: &ActorClaims, sidecar: &str) {
        let expected = vectors::json(sidecar);
        assert_eq!(claims.public_key(), vectors::MODULE_PK);
        assert_eq!(claims.issuer(), vectors::ACCOUNT_PK);
        assert_eq!(claims.name(), Some("vectors"));
        assert_eq!(claims.caps(), ["wasmcloud:httpserver"]);
        assert!(claims.has_cap("wasmcloud:httpserver"));
        assert!(!claims.has_cap("wasmcloud:keyvalue"));
        assert_eq!(claims.revision(), 1);
        assert_eq!(claims.version(), Some("0.1.0"));
        assert_eq!(claims.call_alias(), None);
        assert!(claims.tags().is_empty());
        assert_eq!(claims.claims.iat, vectors::FIXED_IAT);
        assert_eq!(claims.token, expected["token"]["jwt"]);
        assert_eq!(claims.module_hash(), expected["hash"]["claims_hash"]);
        assert_eq!(
            claims.expires_human(),
            expected["token"]["validate_token"]["expires_human"]
        );
        assert_eq!(
            claims.not_before_human(),
            expected["token"]["validate_token"]["not_before_human"]
        );
        let decoded: Claims<Actor> =
            serde_json::from_value(expected["extract_claims_token_claims"].clone()).unwrap();
        assert_eq!(claims.claims, decoded);
    }

    #[test]
    fn wascap08_vector_verifies() {
        let claims = extract_actor_claims(&vectors::bytes("actor_wascap08.wasm")).unwrap();
        assert_vector_claims(&claims, "actor_wascap08.claims.json");
        assert_eq!(claims.claims.wascap_revision, None);
        // wascap 0.8's hash is the plain SHA-256 of the unsigned module.
        let unsigned = vectors::bytes("actor_unsigned.wasm");
        assert_eq!(
            module_hash_without_claims(&unsigned).unwrap(),
            claims.module_hash()
        );
        assert_eq!(
            module_hash_without_claims(&vectors::bytes("actor_wascap08.wasm")).unwrap(),
            claims.module_hash()
        );
    }

    #[test]
    fn wascap09_vector_verifies() {
        let claims = extract_actor_claims(&vectors::bytes("actor_wascap09.wasm")).unwrap();
        assert_vector_claims(&claims, "actor_wascap09.claims.json");
        assert_eq!(claims.claims.wascap_revision, Some(2));
    }

    #[test]
    fn tampered_vectors_have_invalid_hashes() {
        for file in [
            "actor_wascap08_tampered.wasm",
            "actor_wascap09_tampered.wasm",
        ] {
            let err = extract_actor_claims(&vectors::bytes(file)).unwrap_err();
            assert_eq!(err, ClaimsError::InvalidModuleHash, "{file}");
            assert_eq!(err.to_string(), "Invalid module hash");
        }
        let sidecar = vectors::json("actor_wascap08.claims.json");
        assert_eq!(
            module_hash_without_claims(&vectors::bytes("actor_wascap08_tampered.wasm")).unwrap(),
            sidecar["tampered"]["sha256_of_tampered_minus_jwt"]
        );
    }

    #[test]
    fn unsigned_module_has_no_claims() {
        let err = extract_actor_claims(&vectors::bytes("actor_unsigned.wasm")).unwrap_err();
        assert_eq!(err, ClaimsError::NoClaims);
        assert_eq!(err.to_string(), "No claims found in source module");
    }

    #[test]
    fn reproduces_the_wascap08_module_byte_for_byte() {
        // Same claims, same key, same section rule => the exact file wascap 0.8 wrote.
        let expected = vectors::bytes("actor_wascap08.wasm");
        let original = extract_actor_claims(&expected).unwrap();
        let signed = embed_claims(
            &vectors::bytes("actor_unsigned.wasm"),
            &original.claims,
            &account(),
        )
        .unwrap();
        assert_eq!(signed, expected);
    }

    #[test]
    fn sign_then_extract_round_trips() {
        let signing = ActorSigning::new("roundtrip")
            .caps(["wasmcloud:httpserver", "wasmcloud:keyvalue"])
            .tags(["a", "b"])
            .rev(7)
            .ver("1.2.3")
            .call_alias("rt")
            .expires_in_secs(95 * 86_400); // "in 3 months", with slack for a slow clock
        let signed = signing
            .sign(
                &vectors::bytes("actor_unsigned.wasm"),
                &account(),
                &module_key(),
            )
            .unwrap();
        let claims = extract_actor_claims(&signed).unwrap();
        assert_eq!(claims.name(), Some("roundtrip"));
        assert_eq!(
            claims.caps(),
            ["wasmcloud:httpserver", "wasmcloud:keyvalue"]
        );
        assert_eq!(claims.tags(), ["a", "b"]);
        assert_eq!(claims.revision(), 7);
        assert_eq!(claims.version(), Some("1.2.3"));
        assert_eq!(claims.call_alias(), Some("rt"));
        assert_eq!(claims.expires_human(), "in 3 months");
        assert_eq!(claims.not_before_human(), "immediately");
        assert_eq!(claims.claims.jti.len(), 22);
        assert_eq!(claims.claims.wascap_revision, None);
        // Exactly one claims section, named jwt, at the end.
        let sections = wasm::sections(&signed).unwrap();
        let names: Vec<_> = sections.iter().filter(|s| is_claims_section(s)).collect();
        assert_eq!(names.len(), 1);
        assert!(sections
            .last()
            .unwrap()
            .is_custom_named(SIGNED_SECTION_NAME));
        let map = claims.claims_map();
        assert_eq!(map["caps"], "wasmcloud:httpserver,wasmcloud:keyvalue");
        assert_eq!(map["tags"], "a,b");
        assert_eq!(map["rev"], "7");
        assert_eq!(map["version"], "1.2.3");
        assert_eq!(map["sub"], vectors::MODULE_PK);
        assert_eq!(map.len(), 8);
    }

    #[test]
    fn resigning_replaces_both_section_kinds() {
        for file in ["actor_wascap08.wasm", "actor_wascap09.wasm"] {
            let resigned = ActorSigning::new("again")
                .sign(&vectors::bytes(file), &account(), &module_key())
                .unwrap();
            let claims = extract_actor_claims(&resigned).unwrap();
            assert_eq!(claims.name(), Some("again"), "{file}");
            let count = wasm::sections(&resigned)
                .unwrap()
                .iter()
                .filter(|s| is_claims_section(s))
                .count();
            assert_eq!(count, 1, "{file}");
        }
    }

    #[test]
    fn revision_falls_back_to_iat() {
        let signed = ActorSigning::new("norev")
            .sign(
                &vectors::bytes("actor_unsigned.wasm"),
                &account(),
                &module_key(),
            )
            .unwrap();
        let claims = extract_actor_claims(&signed).unwrap();
        assert_eq!(i64::from(claims.revision()), claims.claims.iat as i64);
        let map = claims.claims_map();
        assert_eq!(map["rev"], "0");
        assert_eq!(map["caps"], "");
        assert_eq!(map["call_alias"], "");
    }

    #[test]
    fn expired_and_future_tokens_are_rejected() {
        let unsigned = vectors::bytes("actor_unsigned.wasm");
        let mut claims = ActorSigning::new("dated").to_claims(&account(), &module_key());
        claims.exp = Some(now_secs() - 60);
        let expired = embed_claims(&unsigned, &claims, &account()).unwrap();
        assert_eq!(
            extract_actor_claims(&expired).unwrap_err(),
            ClaimsError::Expired
        );

        let future = ActorSigning::new("dated")
            .not_before_secs(3600)
            .sign(&unsigned, &account(), &module_key())
            .unwrap();
        assert_eq!(
            extract_actor_claims(&future).unwrap_err(),
            ClaimsError::NotYetValid
        );
    }

    #[test]
    fn signature_by_another_key_is_rejected() {
        // The token names the vector account as issuer but is signed by a stranger.
        let unsigned = vectors::bytes("actor_unsigned.wasm");
        let mut claims = ActorSigning::new("forged").to_claims(&account(), &module_key());
        claims.wascap.as_mut().unwrap().hash = module_hash_without_claims(&unsigned).unwrap();
        let token = claims.encode(&KeyPair::new_account()).unwrap();
        let mut forged = unsigned.clone();
        wasm::append_custom_section(&mut forged, "jwt", token.as_bytes()).unwrap();
        assert_eq!(
            extract_actor_claims(&forged).unwrap_err(),
            ClaimsError::BadSignature
        );
        // embed_claims refuses to produce such a module.
        assert!(matches!(
            embed_claims(&unsigned, &claims, &KeyPair::new_account()),
            Err(ClaimsError::Signing(_))
        ));
    }

    #[test]
    fn key_types_are_enforced() {
        let unsigned = vectors::bytes("actor_unsigned.wasm");
        let wrong_issuer = KeyPair::new_cluster();
        let err = sign_actor(
            &unsigned,
            &ActorSigning::new("x"),
            &wrong_issuer,
            &module_key(),
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                ClaimsError::WrongKeyType {
                    role: "actor issuer",
                    prefix: 'A',
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("actor issuer must be an account key (A...), got 'C"),
            "{err}"
        );
        let err = sign_actor(
            &unsigned,
            &ActorSigning::new("x"),
            &account(),
            &KeyPair::new_service(),
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                ClaimsError::WrongKeyType {
                    role: "actor subject",
                    prefix: 'M',
                    ..
                }
            ),
            "{err}"
        );

        // A validly signed token whose subject is a provider key is refused on read.
        let service = KeyPair::new_service();
        let mut claims = ActorSigning::new("x").to_claims(&account(), &module_key());
        claims.sub = service.public_key();
        let signed = embed_claims(&unsigned, &claims, &account()).unwrap();
        let err = extract_actor_claims(&signed).unwrap_err();
        assert!(
            matches!(
                err,
                ClaimsError::WrongKeyType {
                    role: "actor subject",
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn token_without_metadata_is_rejected() {
        let unsigned = vectors::bytes("actor_unsigned.wasm");
        let claims = Claims::<Actor> {
            wascap: None,
            ..ActorSigning::new("x").to_claims(&account(), &module_key())
        };
        let token = claims.encode(&account()).unwrap();
        let mut module = unsigned.clone();
        wasm::append_custom_section(&mut module, "wasmcloud_jwt", token.as_bytes()).unwrap();
        assert_eq!(
            extract_actor_claims(&module).unwrap_err(),
            ClaimsError::MissingMetadata
        );
        assert_eq!(
            embed_claims(&unsigned, &claims, &account()).unwrap_err(),
            ClaimsError::MissingMetadata
        );
    }

    #[test]
    fn garbage_claims_sections_are_errors() {
        let unsigned = vectors::bytes("actor_unsigned.wasm");
        for payload in [&b""[..], b"not a token", b"a.b.c", &[0xff, 0xfe, 0x00]] {
            let mut module = unsigned.clone();
            wasm::append_custom_section(&mut module, "jwt", payload).unwrap();
            assert!(matches!(
                extract_actor_claims(&module),
                Err(ClaimsError::Malformed(_) | ClaimsError::InvalidHeader)
            ));
        }
    }

    /// Truncations, bit flips and random bytes never panic and never verify.
    #[test]
    fn fuzzed_modules_never_panic() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
        let signed = vectors::bytes("actor_wascap08.wasm");
        for len in 0..signed.len() {
            // Cutting anywhere removes part of the trailing jwt section or the module.
            assert!(
                extract_actor_claims(&signed[..len]).is_err(),
                "truncated at {len}"
            );
        }
        for _ in 0..2000 {
            let mut m = signed.clone();
            for _ in 0..rng.gen_range(1..4) {
                let i = rng.gen_range(0..m.len());
                m[i] ^= 1 << rng.gen_range(0..8);
            }
            // Every byte is covered by the hash, the signature or the section framing.
            assert!(
                extract_actor_claims(&m).is_err(),
                "a mutated module verified"
            );
        }
        for _ in 0..2000 {
            let len = rng.gen_range(0..64);
            let mut m: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            if rng.gen_bool(0.5) && m.len() >= 8 {
                m[..8].copy_from_slice(b"\0asm\x01\0\0\0");
            }
            let _ = extract_actor_claims(&m);
            let _ = module_hash_without_claims(&m);
        }
    }
}
