//! RPC messages on `wasmbus.rpc.*` (msgpack, named fields; LATTICE.md §3, §4.3).
//!
//! Encoders write exactly what wasmbus-rpc 0.11 writes (same keys, same order, `bin`
//! payloads); decoders match by name, ignore unknown keys and accept the variants the
//! OTP host sends (payload as `str`, `error: nil`, `null` maps).

use crate::claims::{sign_invocation, Claims, ClaimsError, InvocationClaims, InvocationRejection};
use crate::error::ProtocolError;
use crate::serde_util::{lenient_bytes, null_default};
use data_encoding::HEXUPPER;
use nkeys::KeyPair;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// URL scheme of entity URLs.
pub const URL_SCHEME: &str = "wasmbus";

/// The caller or callee of an invocation: an actor (`public_key` only) or a provider
/// (`public_key`, `contract_id`, `link_name`). All three keys are always written
/// (wasmbus-rpc requires `contract_id`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct WasmCloudEntity {
    /// Actor (M...) or provider (V...) public key.
    #[serde(default, deserialize_with = "null_default")]
    pub public_key: String,
    /// Link name; `""` for actors.
    #[serde(default, deserialize_with = "null_default")]
    pub link_name: String,
    /// Contract id; `""` for actors.
    #[serde(default, deserialize_with = "null_default")]
    pub contract_id: String,
}

impl WasmCloudEntity {
    /// An actor entity: `{public_key, link_name: "", contract_id: ""}`.
    pub fn actor(public_key: impl Into<String>) -> Self {
        WasmCloudEntity {
            public_key: public_key.into(),
            ..Default::default()
        }
    }

    /// A provider entity.
    pub fn provider(
        public_key: impl Into<String>,
        contract_id: impl Into<String>,
        link_name: impl Into<String>,
    ) -> Self {
        WasmCloudEntity {
            public_key: public_key.into(),
            link_name: link_name.into(),
            contract_id: contract_id.into(),
        }
    }

    /// Whether this is an actor: its public key starts with `M` (case-insensitive), the
    /// rule both the host and wasmbus-rpc use for URLs.
    pub fn is_actor(&self) -> bool {
        self.public_key.starts_with(['M', 'm'])
    }

    /// The entity URL (§3.2): `wasmbus://{pk}` for actors, else
    /// `wasmbus://{contract_id, ':'→'/', ' '→'_', lowercase}/{link_name, ' '→'_', lowercase}/{pk}`.
    pub fn url(&self) -> String {
        if self.is_actor() {
            format!("{URL_SCHEME}://{}", self.public_key)
        } else {
            format!(
                "{URL_SCHEME}://{}/{}/{}",
                self.contract_id
                    .replace(':', "/")
                    .replace(' ', "_")
                    .to_lowercase(),
                self.link_name.replace(' ', "_").to_lowercase(),
                self.public_key
            )
        }
    }
}

impl std::fmt::Display for WasmCloudEntity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url())
    }
}

/// Uppercase hex SHA-256 of `origin_url ‖ target_url ‖ operation ‖ msg`, the `hash` an
/// invocation token signs (`target_url` already ends with `/{operation}`).
pub fn invocation_hash(origin_url: &str, target_url: &str, operation: &str, msg: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(origin_url.as_bytes());
    hasher.update(target_url.as_bytes());
    hasher.update(operation.as_bytes());
    hasher.update(msg);
    HEXUPPER.encode(&hasher.finalize())
}

/// A call from `origin` to `target` (§3.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invocation {
    /// Caller.
    pub origin: WasmCloudEntity,
    /// Callee.
    pub target: WasmCloudEntity,
    /// Operation, e.g. `HttpServer.HandleRequest`.
    #[serde(default, deserialize_with = "null_default")]
    pub operation: String,
    /// Payload (msgpack `bin`); empty when the payload was chunked.
    #[serde(default, with = "lenient_bytes")]
    pub msg: Vec<u8>,
    /// Invocation id (UUID; with hyphens from hosts, 32 hex digits from wasmbus-rpc).
    #[serde(default, deserialize_with = "null_default")]
    pub id: String,
    /// Signed [`InvocationClaims`] token.
    #[serde(default, deserialize_with = "null_default")]
    pub encoded_claims: String,
    /// Sender's host id (N...), or the cluster key when an OTP host sent it.
    #[serde(default, deserialize_with = "null_default")]
    pub host_id: String,
    /// Full payload length; `> msg.len()` means the payload is in the object store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_length: Option<u64>,
    /// Declared by the 2022 model but never filled: trace context travels in NATS headers.
    #[serde(
        rename = "traceContext",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub trace_context: Option<HashMap<String, String>>,
}

impl Invocation {
    /// Builds and signs an invocation: id = UUID v4 (with hyphens), `content_length` =
    /// `msg.len()`, token signed by `cluster` over the URLs and [`invocation_hash`].
    ///
    /// Fails with [`ClaimsError::Signing`] if `cluster` has no seed.
    pub fn new_signed(
        cluster: &KeyPair,
        origin: WasmCloudEntity,
        target: WasmCloudEntity,
        operation: &str,
        msg: Vec<u8>,
        host_id: &str,
    ) -> Result<Invocation, ClaimsError> {
        let id = uuid::Uuid::new_v4().hyphenated().to_string();
        let origin_url = origin.url();
        let target_url = format!("{}/{operation}", target.url());
        let hash = invocation_hash(&origin_url, &target_url, operation, &msg);
        let encoded_claims = sign_invocation(cluster, &id, &origin_url, &target_url, &hash)?;
        Ok(Invocation {
            origin,
            target,
            operation: operation.to_string(),
            content_length: Some(msg.len() as u64),
            msg,
            id,
            encoded_claims,
            host_id: host_id.to_string(),
            trace_context: None,
        })
    }

    /// The origin entity's URL.
    pub fn origin_url(&self) -> String {
        self.origin.url()
    }

    /// `{target entity url}/{operation}`.
    pub fn target_url(&self) -> String {
        format!("{}/{}", self.target.url(), self.operation)
    }

    /// [`invocation_hash`] of this invocation as received.
    pub fn hash(&self) -> String {
        invocation_hash(
            &self.origin_url(),
            &self.target_url(),
            &self.operation,
            &self.msg,
        )
    }

    /// Whether the payload is in the object store (`content_length > msg.len()`).
    pub fn is_chunked(&self) -> bool {
        self.content_length
            .is_some_and(|len| len > self.msg.len() as u64)
    }

    /// The anti-forgery check of the v0.59 host (§3.4), in its order:
    /// token readable, not expired, signed by `iss`, not before `nbf`, has metadata;
    /// the hash matches (skipped when `msg` is empty, i.e. chunked); `host_id` plausible
    /// (starts with `N` or is 56 characters); `iss` ∈ `cluster_issuers`; signed target
    /// and origin URLs equal this invocation's.
    ///
    /// Failures are [`ClaimsError::Invocation`] with the host's texts (e.g. "Invocation
    /// hash does not match signed claims hash (A / B)"), or [`ClaimsError::Malformed`] /
    /// [`ClaimsError::InvalidHeader`] / [`ClaimsError::MissingMetadata`] for a bad token.
    /// The capability check (target actor's `caps`) is the caller's job.
    pub fn validate(&self, cluster_issuers: &[String]) -> Result<(), ClaimsError> {
        self.validate_at(cluster_issuers, crate::claims::now_secs())
    }

    /// [`validate`](Self::validate) with an explicit "now" (unix seconds).
    pub fn validate_at(&self, cluster_issuers: &[String], now: u64) -> Result<(), ClaimsError> {
        let (claims, signature_valid) =
            Claims::<InvocationClaims>::decode_checking_signature(&self.encoded_claims)?;
        let reject = |r: InvocationRejection| Err(ClaimsError::Invocation(r));
        if claims.is_expired_at(now) {
            return reject(InvocationRejection::Expired);
        }
        if !signature_valid {
            return reject(InvocationRejection::BadSignature);
        }
        if claims.is_not_yet_valid_at(now) {
            return reject(InvocationRejection::NotYetValid);
        }
        let signed = claims.wascap.as_ref().ok_or(ClaimsError::MissingMetadata)?;
        if !self.msg.is_empty() {
            let computed = self.hash();
            if signed.hash != computed {
                return reject(InvocationRejection::HashMismatch {
                    claimed: crate::quote_input(&signed.hash),
                    computed,
                });
            }
        }
        // The host's own (lenient) rule: OTP hosts send their cluster key here.
        if !self.host_id.starts_with('N') && self.host_id.len() != 56 {
            return reject(InvocationRejection::InvalidHostId(crate::quote_input(
                &self.host_id,
            )));
        }
        if !cluster_issuers.contains(&claims.iss) {
            return reject(InvocationRejection::UnknownIssuer);
        }
        if signed.target_url != self.target_url() {
            return reject(InvocationRejection::TargetUrlMismatch);
        }
        if signed.origin_url != self.origin_url() {
            return reject(InvocationRejection::OriginUrlMismatch);
        }
        Ok(())
    }

    /// Named-field msgpack, as wasmbus-rpc writes it.
    pub fn encode(&self) -> Vec<u8> {
        crate::msgpack::encode(self)
    }

    /// Decodes an invocation; `origin` and `target` are required, everything else
    /// defaults. Fails with [`ProtocolError::Msgpack`].
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        crate::msgpack::decode(bytes)
    }
}

/// The reply to an [`Invocation`] (§3.3).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InvocationResponse {
    /// Result payload (`bin` on output; `bin` or `str` accepted); ignore it when `error`
    /// is set.
    #[serde(default, with = "lenient_bytes")]
    pub msg: Vec<u8>,
    /// The invocation's `id`.
    #[serde(default, deserialize_with = "null_default")]
    pub invocation_id: String,
    /// Failure text; `nil` and absent both mean success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Full response length; `> msg.len()` means it is in the object store as `{id}-r`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_length: Option<u64>,
    /// Actor instance that handled the call (OTP host extra; ignored by wasmbus-rpc).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
}

impl InvocationResponse {
    /// A successful reply carrying `msg`, with `content_length` = its length.
    pub fn success(invocation_id: impl Into<String>, msg: Vec<u8>) -> Self {
        InvocationResponse {
            content_length: Some(msg.len() as u64),
            msg,
            invocation_id: invocation_id.into(),
            ..Default::default()
        }
    }

    /// A failed reply: empty `msg`, `error` set, `content_length` 0 (as wasmbus-rpc).
    pub fn failure(invocation_id: impl Into<String>, error: impl Into<String>) -> Self {
        InvocationResponse {
            invocation_id: invocation_id.into(),
            error: Some(error.into()),
            content_length: Some(0),
            ..Default::default()
        }
    }

    /// Whether the payload is in the object store (`content_length > msg.len()`).
    pub fn is_chunked(&self) -> bool {
        self.content_length
            .is_some_and(|len| len > self.msg.len() as u64)
    }

    /// Named-field msgpack.
    pub fn encode(&self) -> Vec<u8> {
        crate::msgpack::encode(self)
    }

    /// Decodes a reply; every field defaults. Fails with [`ProtocolError::Msgpack`].
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        crate::msgpack::decode(bytes)
    }
}

/// A link between an actor and a provider (§1.6, §4.3), in both JSON (control
/// interface, HostData) and msgpack (pushed to providers).
///
/// `values` is always written (wasmbus-rpc requires it); on input it may be missing
/// or `null`. Extra keys the OTP host sends (`id`, `deleted`) are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LinkDefinition {
    /// Actor public key (M...).
    #[serde(default, deserialize_with = "null_default")]
    pub actor_id: String,
    /// Provider public key (V...).
    #[serde(default, deserialize_with = "null_default")]
    pub provider_id: String,
    /// Link name, e.g. `default`.
    #[serde(default, deserialize_with = "null_default")]
    pub link_name: String,
    /// Contract id, e.g. `wasmcloud:keyvalue`.
    #[serde(default, deserialize_with = "null_default")]
    pub contract_id: String,
    /// Provider-specific configuration.
    #[serde(default, deserialize_with = "null_default")]
    pub values: HashMap<String, String>,
}

impl LinkDefinition {
    /// The deterministic link id of v0.60+ hosts and the `LATTICEDATA` bucket (§7.2):
    /// uppercase hex SHA-256 of `actor_id ‖ contract_id ‖ link_name`.
    pub fn hash_id(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.actor_id.as_bytes());
        hasher.update(self.contract_id.as_bytes());
        hasher.update(self.link_name.as_bytes());
        HEXUPPER.encode(&hasher.finalize())
    }

    /// Compact JSON, as the control-interface client writes it.
    pub fn to_json(&self) -> Vec<u8> {
        crate::error::to_json(self)
    }

    /// Decodes JSON. Fails with [`ProtocolError::Json`].
    pub fn from_json(bytes: &[u8]) -> Result<Self, ProtocolError> {
        crate::error::from_json(bytes)
    }

    /// Named-field msgpack, as pushed to providers.
    pub fn encode(&self) -> Vec<u8> {
        crate::msgpack::encode(self)
    }

    /// Decodes msgpack. Fails with [`ProtocolError::Msgpack`].
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        crate::msgpack::decode(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vectors;

    fn provider_origin() -> WasmCloudEntity {
        WasmCloudEntity::provider(vectors::PROVIDER_PK, "wasmcloud:httpserver", "default")
    }

    /// The vector's invocation, rebuilt from its fixed inputs.
    fn vector_invocation() -> Invocation {
        let cluster = KeyPair::from_seed(vectors::CLUSTER_SEED).unwrap();
        let origin = provider_origin();
        let target = WasmCloudEntity::actor(vectors::MODULE_PK);
        let operation = "HttpServer.HandleRequest";
        let msg = vectors::bytes("http_request.msgpack");
        let target_url = format!("{}/{operation}", target.url());
        let meta = InvocationClaims {
            target_url: target_url.clone(),
            origin_url: origin.url(),
            hash: invocation_hash(&origin.url(), &target_url, operation, &msg),
        };
        let mut claims = Claims::new(cluster.public_key(), vectors::INVOCATION_ID, meta);
        claims.jti = "Vectors0Invocation0001".into();
        claims.iat = vectors::FIXED_IAT;
        Invocation {
            origin,
            target,
            operation: operation.into(),
            content_length: Some(msg.len() as u64),
            msg,
            id: vectors::INVOCATION_ID.into(),
            encoded_claims: claims.encode(&cluster).unwrap(),
            host_id: vectors::HOST_PK.into(),
            trace_context: None,
        }
    }

    fn issuers() -> Vec<String> {
        vec![vectors::CLUSTER_PK.to_string()]
    }

    #[test]
    fn urls_and_hash_match_the_vector() {
        let sidecar = vectors::json("invocation.json");
        let inv = Invocation::decode(&vectors::bytes("invocation.msgpack")).unwrap();
        assert_eq!(inv.origin_url(), sidecar["hash"]["origin_url"]);
        assert_eq!(inv.target_url(), sidecar["hash"]["target_url"]);
        assert_eq!(inv.hash(), sidecar["hash"]["expected_hash"]);
        assert!(inv
            .origin
            .url()
            .starts_with("wasmbus://wasmcloud/httpserver/default/"));
        assert!(!inv.origin.is_actor() && inv.target.is_actor());
        let input = [
            inv.origin_url().as_bytes(),
            inv.target_url().as_bytes(),
            inv.operation.as_bytes(),
            &inv.msg,
        ]
        .concat();
        assert_eq!(
            input,
            vectors::unhex(sidecar["hash"]["hash_input_hex"].as_str().unwrap())
        );
    }

    #[test]
    fn entity_url_rules() {
        let odd = WasmCloudEntity::provider("VXYZ", "Acme:Key Value", "My Link");
        assert_eq!(odd.url(), "wasmbus://acme/key_value/my_link/VXYZ");
        assert_eq!(WasmCloudEntity::actor("mlower").url(), "wasmbus://mlower");
        assert_eq!(odd.to_string(), odd.url());
    }

    #[test]
    fn reproduces_the_invocation_vector_byte_for_byte() {
        let inv = vector_invocation();
        assert_eq!(inv.encode(), vectors::bytes("invocation.msgpack"));
        assert_eq!(
            Invocation::decode(&vectors::bytes("invocation.msgpack")).unwrap(),
            inv
        );
        inv.validate(&issuers()).unwrap();
    }

    #[test]
    fn live_rpcclient_capture_decodes_and_validates() {
        // Random id/jti/iat from a real wasmbus-rpc RpcClient::send.
        let inv =
            Invocation::decode(&vectors::bytes("invocation_rpcclient_capture.msgpack")).unwrap();
        assert_eq!(inv.id.len(), 32);
        assert_eq!(inv.trace_context, None);
        inv.validate(&issuers()).unwrap();
        assert_eq!(
            inv.encode(),
            vectors::bytes("invocation_rpcclient_capture.msgpack")
        );
    }

    #[test]
    fn tampered_msg_gives_the_hash_error() {
        let mut inv = vector_invocation();
        *inv.msg.last_mut().unwrap() ^= 0x01;
        let err = inv.validate(&issuers()).unwrap_err();
        assert!(
            matches!(
                err,
                ClaimsError::Invocation(InvocationRejection::HashMismatch { .. })
            ),
            "{err:?}"
        );
        // The exact text wasmbus-rpc put in invocation_response_error.msgpack.
        let expected =
            InvocationResponse::decode(&vectors::bytes("invocation_response_error.msgpack"))
                .unwrap();
        assert_eq!(Some(err.to_string()), expected.error);
        // With an empty (chunked) msg the host skips the hash check.
        inv.msg.clear();
        inv.validate(&issuers()).unwrap();
    }

    #[test]
    fn every_antiforgery_check_has_its_text() {
        let base = vector_invocation();
        let text =
            |inv: &Invocation, issuers: &[String]| inv.validate(issuers).unwrap_err().to_string();

        assert_eq!(
            text(&base, &["CSOMEONEELSE".into()]),
            "Issuer of this invocation is not among the list of valid issuers"
        );
        assert_eq!(
            text(&base, &[]),
            "Issuer of this invocation is not among the list of valid issuers"
        );

        let mut inv = base.clone();
        inv.host_id = "bogus".into();
        assert_eq!(
            text(&inv, &issuers()),
            "Invalid host ID on invocation: 'bogus'"
        );
        inv.host_id = vectors::CLUSTER_PK.into(); // OTP hosts send the cluster key: accepted
        inv.validate(&issuers()).unwrap();

        // URL checks come after the hash check, so tamper with an empty (chunked) msg.
        let mut inv = base.clone();
        inv.msg.clear();
        inv.operation = "HttpServer.Other".into();
        assert_eq!(
            text(&inv, &issuers()),
            "Invocation claims and invocation target URL do not match"
        );
        let mut inv = base.clone();
        inv.msg.clear();
        inv.origin.link_name = "other".into();
        assert_eq!(
            text(&inv, &issuers()),
            "Invocation claims and invocation origin URL do not match"
        );
        // With the payload present, a changed URL already breaks the hash.
        let mut inv = base.clone();
        inv.target = WasmCloudEntity::actor("MOTHERACTOR");
        assert!(text(&inv, &issuers())
            .starts_with("Invocation hash does not match signed claims hash ("));

        // Token signed by a key other than its iss.
        let mut inv = base.clone();
        let claims = Claims::<InvocationClaims>::decode_unverified(&inv.encoded_claims).unwrap();
        inv.encoded_claims = claims.encode(&KeyPair::new_cluster()).unwrap();
        assert_eq!(
            text(&inv, &issuers()),
            "Invocation claims signature invalid"
        );

        let cluster = KeyPair::from_seed(vectors::CLUSTER_SEED).unwrap();
        let resign = |f: &dyn Fn(&mut Claims<InvocationClaims>)| {
            let mut inv = base.clone();
            let mut claims =
                Claims::<InvocationClaims>::decode_unverified(&inv.encoded_claims).unwrap();
            f(&mut claims);
            inv.encoded_claims = claims.encode(&cluster).unwrap();
            inv
        };
        let expired = resign(&|c| c.exp = Some(1));
        assert_eq!(
            text(&expired, &issuers()),
            "Invocation claims token expired"
        );
        let early = resign(&|c| c.nbf = Some(u64::MAX));
        assert_eq!(
            text(&early, &issuers()),
            "Attempt to use invocation before claims token allows"
        );
        let bare = resign(&|c| c.wascap = None);
        assert_eq!(bare.validate(&issuers()), Err(ClaimsError::MissingMetadata));
        assert_eq!(
            text(&bare, &issuers()),
            "No wascap metadata found on claims"
        );

        let mut inv = base.clone();
        inv.encoded_claims = "garbage".into();
        assert!(matches!(
            inv.validate(&issuers()),
            Err(ClaimsError::Malformed(_))
        ));
    }

    #[test]
    fn new_signed_validates() {
        let cluster = KeyPair::new_cluster();
        let inv = Invocation::new_signed(
            &cluster,
            WasmCloudEntity::actor(vectors::MODULE_PK),
            WasmCloudEntity::provider(vectors::PROVIDER_PK, "wasmcloud:keyvalue", "default"),
            "KeyValue.Get",
            vectors::bytes("kv_get_request.msgpack"),
            vectors::HOST_PK,
        )
        .unwrap();
        assert_eq!(inv.id.len(), 36);
        assert_eq!(uuid::Uuid::parse_str(&inv.id).unwrap().get_version_num(), 4);
        assert_eq!(inv.content_length, Some(8));
        assert!(!inv.is_chunked());
        assert_eq!(
            inv.target_url(),
            format!(
                "wasmbus://wasmcloud/keyvalue/default/{}/KeyValue.Get",
                vectors::PROVIDER_PK
            )
        );
        inv.validate(&[cluster.public_key()]).unwrap();
        assert_eq!(Invocation::decode(&inv.encode()).unwrap(), inv);
        let claims = crate::claims::verify_invocation(&inv.encoded_claims).unwrap();
        assert_eq!(claims.sub, inv.id);
    }

    #[test]
    fn invocation_decoding_is_lenient_but_needs_entities() {
        #[derive(Serialize)]
        struct Minimal<'a> {
            origin: HashMap<&'a str, Option<&'a str>>,
            target: HashMap<&'a str, &'a str>,
            msg: &'a str, // as a str, like Elixir's Msgpax
        }
        let bytes = rmp_serde::to_vec_named(&Minimal {
            origin: [("public_key", Some("MA")), ("contract_id", None)].into(),
            target: [("public_key", "MB")].into(),
            msg: "hi",
        })
        .unwrap();
        let inv = Invocation::decode(&bytes).unwrap();
        assert_eq!(inv.origin, WasmCloudEntity::actor("MA"));
        assert_eq!(inv.msg, b"hi");
        assert_eq!((inv.operation.as_str(), inv.content_length), ("", None));
        assert!(matches!(
            Invocation::decode(&crate::msgpack::encode(&InvocationResponse::default())),
            Err(ProtocolError::Msgpack {
                what: "Invocation",
                ..
            })
        ));
        assert!(Invocation::decode(b"").is_err());
        assert!(Invocation::decode(&[0xc1]).is_err());
    }

    #[test]
    fn trace_context_round_trips_when_present() {
        let mut inv = vector_invocation();
        inv.trace_context = Some([("traceparent".to_string(), "00-abc".to_string())].into());
        let back = Invocation::decode(&inv.encode()).unwrap();
        assert_eq!(back, inv);
        let raw: HashMap<String, serde::de::IgnoredAny> =
            rmp_serde::from_slice(&inv.encode()).unwrap();
        assert!(raw.contains_key("traceContext"));
    }

    #[test]
    fn responses_match_the_vectors() {
        let ok = InvocationResponse::success(
            vectors::INVOCATION_ID,
            vectors::bytes("http_response.msgpack"),
        );
        assert_eq!(ok.encode(), vectors::bytes("invocation_response.msgpack"));
        assert_eq!(
            InvocationResponse::decode(&vectors::bytes("invocation_response.msgpack")).unwrap(),
            ok
        );

        let expected_error = vectors::json("invocation_response_error.json")["decoded"]["error"]
            .as_str()
            .unwrap()
            .to_string();
        let err = InvocationResponse::failure(vectors::INVOCATION_ID, expected_error);
        assert_eq!(
            err.encode(),
            vectors::bytes("invocation_response_error.msgpack")
        );
        assert_eq!(
            InvocationResponse::decode(&vectors::bytes("invocation_response_error.msgpack"))
                .unwrap(),
            err
        );
    }

    #[test]
    fn responses_from_the_otp_host_decode() {
        // Msgpax: msg as str, error nil, instance_id present.
        #[derive(Serialize)]
        struct Otp<'a> {
            msg: &'a str,
            invocation_id: &'a str,
            error: Option<&'a str>,
            instance_id: &'a str,
        }
        let bytes = rmp_serde::to_vec_named(&Otp {
            msg: "hello",
            invocation_id: "i",
            error: None,
            instance_id: "x",
        })
        .unwrap();
        let resp = InvocationResponse::decode(&bytes).unwrap();
        assert_eq!(resp.msg, b"hello");
        assert_eq!(resp.error, None);
        assert_eq!(resp.instance_id.as_deref(), Some("x"));
        let bytes = rmp_serde::to_vec_named(&Otp {
            msg: "",
            invocation_id: "",
            error: Some("Failed to deserialize msgpack invocation"),
            instance_id: "",
        })
        .unwrap();
        assert_eq!(
            InvocationResponse::decode(&bytes).unwrap().error.as_deref(),
            Some("Failed to deserialize msgpack invocation")
        );
        assert_eq!(
            InvocationResponse::decode(&[0x80]).unwrap(),
            InvocationResponse::default()
        );
    }

    #[test]
    fn linkdef_matches_json_and_msgpack_vectors() {
        let ld = LinkDefinition {
            actor_id: vectors::MODULE_PK.into(),
            provider_id: vectors::PROVIDER_PK.into(),
            link_name: "default".into(),
            contract_id: "wasmcloud:keyvalue".into(),
            values: [("URL".to_string(), "redis://127.0.0.1:6379/".to_string())].into(),
        };
        assert_eq!(ld.encode(), vectors::bytes("linkdef.msgpack"));
        assert_eq!(ld.to_json(), vectors::bytes("linkdef.json"));
        assert_eq!(
            LinkDefinition::decode(&vectors::bytes("linkdef.msgpack")).unwrap(),
            ld
        );
        assert_eq!(
            LinkDefinition::from_json(&vectors::bytes("linkdef.json")).unwrap(),
            ld
        );
        assert_eq!(
            LinkDefinition::from_json(&vectors::bytes("ctl_linkdefs_put.json")).unwrap(),
            ld
        );
    }

    #[test]
    fn linkdef_input_is_lenient() {
        let ld = LinkDefinition::from_json(br#"{"actor_id":"M","provider_id":"V","link_name":"default","contract_id":"c","values":null,"id":"x","deleted":false}"#).unwrap();
        assert!(ld.values.is_empty());
        assert_eq!(ld.to_json(), br#"{"actor_id":"M","provider_id":"V","link_name":"default","contract_id":"c","values":{}}"#);
        let ld = LinkDefinition::from_json(br#"{"actor_id":"M"}"#).unwrap();
        assert_eq!((ld.link_name.as_str(), ld.values.len()), ("", 0));
        assert!(matches!(
            LinkDefinition::from_json(b"[1]"),
            Err(ProtocolError::Json {
                what: "LinkDefinition",
                ..
            })
        ));
    }

    #[test]
    fn linkdef_hash_id_matches_the_cic_vector() {
        let ld = LinkDefinition {
            actor_id: "Mbob".into(),
            contract_id: "wasmcloud:testy".into(),
            link_name: "default".into(),
            ..Default::default()
        };
        assert_eq!(
            ld.hash_id(),
            "B40411AD09B70A2C83D59923584F66BA2C5A3C274DC4F19416DA49CCD6531F9C"
        );
    }
}
