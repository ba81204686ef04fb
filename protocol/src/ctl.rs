//! Control-interface JSON (`wasmbus.ctl.{lattice}.*`, LATTICE.md §1).
//!
//! Replies always carry every field the 2022 client requires (empty maps and lists
//! rather than absent keys). Requests decode the way the v0.59 host reads them:
//! fields the host requires (present and non-null) are required here, the rest take
//! defaults, unknown keys are ignored. Request field order is the client's
//! (alphabetical), so a request encoded here is byte-identical to the client's.

use crate::error::ProtocolError;
use crate::rpc::LinkDefinition;
use crate::serde_util::{map_null_values, null_default, sorted_map};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::collections::HashMap;

/// String-to-string map used for labels, annotations and constraints.
pub type StringMap = HashMap<String, String>;

/// Decodes any control-interface JSON body into `T`.
///
/// Fails with [`ProtocolError::Json`] naming `T` when the body is not JSON, lacks a
/// field the host requires, or has a wrong type (e.g. `null` for a required string).
pub fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ProtocolError> {
    crate::error::from_json(bytes)
}

/// Encodes any control-interface value as compact JSON.
pub fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    crate::error::to_json(value)
}

/// The reply to most requests: `{"accepted":true,"error":""}` on success (§1.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CtlOperationAck {
    /// Whether the request was accepted (the work may still fail later, see events).
    #[serde(default)]
    pub accepted: bool,
    /// Failure text; `""` on success.
    #[serde(default, deserialize_with = "null_default")]
    pub error: String,
}

impl CtlOperationAck {
    /// `{"accepted":true,"error":""}`.
    pub fn ok() -> Self {
        CtlOperationAck {
            accepted: true,
            error: String::new(),
        }
    }

    /// `{"accepted":false,"error":msg}`.
    pub fn fail(msg: impl Into<String>) -> Self {
        CtlOperationAck {
            accepted: false,
            error: msg.into(),
        }
    }

    /// Compact JSON.
    pub fn to_json(&self) -> Vec<u8> {
        to_json(self)
    }
}

/// One host's reply to `ping.hosts` (v0.59 fields, §1.3).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HostPing {
    /// Host public key (N...).
    #[serde(deserialize_with = "null_default")]
    pub id: String,
    /// Cluster key that signs this host's invocations (C...).
    #[serde(deserialize_with = "null_default")]
    pub issuer: String,
    /// Host labels.
    #[serde(deserialize_with = "null_default", serialize_with = "sorted_map")]
    pub labels: StringMap,
    /// Generated adjective-noun-number name.
    #[serde(deserialize_with = "null_default")]
    pub friendly_name: String,
    /// Seconds since start.
    pub uptime_seconds: u64,
    /// Humanized uptime, e.g. `"1 minute, 13 seconds"`.
    #[serde(deserialize_with = "null_default")]
    pub uptime_human: String,
    /// Host version.
    #[serde(deserialize_with = "null_default")]
    pub version: String,
    /// Accepted cluster issuers, **comma-joined**.
    #[serde(deserialize_with = "null_default")]
    pub cluster_issuers: String,
    /// JetStream domain; written as `null` when unset.
    pub js_domain: Option<String>,
    /// NATS host of the control connection.
    #[serde(deserialize_with = "null_default")]
    pub ctl_host: String,
    /// NATS host handed to providers.
    #[serde(deserialize_with = "null_default")]
    pub prov_rpc_host: String,
    /// NATS host of the RPC connection.
    #[serde(deserialize_with = "null_default")]
    pub rpc_host: String,
    /// Lattice id.
    #[serde(deserialize_with = "null_default")]
    pub lattice_prefix: String,
}

/// Reply to `get.{host}.inv` (§1.4).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HostInventory {
    /// Host public key.
    #[serde(deserialize_with = "null_default")]
    pub host_id: String,
    /// Host's cluster key (OTP extra).
    #[serde(deserialize_with = "null_default")]
    pub issuer: String,
    /// Host labels.
    #[serde(deserialize_with = "null_default", serialize_with = "sorted_map")]
    pub labels: StringMap,
    /// Friendly name (OTP extra).
    #[serde(deserialize_with = "null_default")]
    pub friendly_name: String,
    /// One entry per actor, with its instances.
    #[serde(deserialize_with = "null_default")]
    pub actors: Vec<ActorDescription>,
    /// One entry per running provider instance.
    #[serde(deserialize_with = "null_default")]
    pub providers: Vec<ProviderDescription>,
}

/// An actor in a [`HostInventory`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ActorDescription {
    /// Actor public key.
    #[serde(deserialize_with = "null_default")]
    pub id: String,
    /// Reference it was started from (`null` if unknown).
    pub image_ref: Option<String>,
    /// Name from its claims.
    pub name: Option<String>,
    /// Running instances.
    #[serde(deserialize_with = "null_default")]
    pub instances: Vec<ActorInstance>,
}

/// One running instance of an actor.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ActorInstance {
    /// Annotations given at start.
    #[serde(deserialize_with = "null_default", serialize_with = "sorted_map")]
    pub annotations: StringMap,
    /// Instance id (UUID v4).
    #[serde(deserialize_with = "null_default")]
    pub instance_id: String,
    /// Claims revision (`rev`, or 0).
    pub revision: i32,
}

/// A provider in a [`HostInventory`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProviderDescription {
    /// Provider public key.
    #[serde(deserialize_with = "null_default")]
    pub id: String,
    /// Reference it was started from.
    pub image_ref: Option<String>,
    /// Link name.
    #[serde(deserialize_with = "null_default")]
    pub link_name: String,
    /// Name from its claims.
    pub name: Option<String>,
    /// Instance id (UUID v4).
    #[serde(deserialize_with = "null_default")]
    pub instance_id: String,
    /// Annotations given at start.
    #[serde(deserialize_with = "null_default", serialize_with = "sorted_map")]
    pub annotations: StringMap,
    /// Claims revision.
    pub revision: i32,
    /// Contract id (v0.60+ field; omitted when `None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract_id: Option<String>,
}

/// Reply to `get.claims`: one flat string map per actor/provider (§1.5). `null`
/// values (the OTP host's `version`) are read as `""`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GetClaimsResponse {
    /// Claims maps (`sub`, `iss`, `name`, `call_alias`, `caps`, `tags`, `rev`, `version`).
    #[serde(default, deserialize_with = "claims_list")]
    pub claims: Vec<StringMap>,
}

fn claims_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<StringMap>, D::Error> {
    #[derive(Deserialize)]
    struct Lenient(#[serde(deserialize_with = "map_null_values")] StringMap);
    let list: Option<Vec<Lenient>> = Option::deserialize(d)?;
    Ok(list.unwrap_or_default().into_iter().map(|l| l.0).collect())
}

/// Reply to `get.links`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LinkDefinitionList {
    /// Every link definition.
    #[serde(default, deserialize_with = "null_default")]
    pub links: Vec<LinkDefinition>,
}

fn default_count() -> u16 {
    1
}

fn default_link_name() -> String {
    "default".to_string()
}

/// `cmd.{host}.la` (§1.8). Requires `actor_ref`; `count` defaults to 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartActorCommand {
    /// OCI or `bindle://` reference.
    pub actor_ref: String,
    /// Annotations for the new instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<StringMap>,
    /// Instances to start (missing or null → 1; 0 is the caller's to refuse or map).
    #[serde(default = "default_count", deserialize_with = "count_or_one")]
    pub count: u16,
    /// Informational; the host does not check it for `la`.
    #[serde(default, deserialize_with = "null_default")]
    pub host_id: String,
}

fn count_or_one<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    Ok(Option::<u16>::deserialize(d)?.unwrap_or(1))
}

/// `cmd.{host}.sa`. Requires `actor_ref` (the actor's public key) and `count`
/// (0 = all instances matching `annotations`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopActorCommand {
    /// The actor's public key.
    pub actor_ref: String,
    /// Only stop instances whose annotations include all of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<StringMap>,
    /// Instances to stop; 0 = all.
    pub count: u16,
    /// Target host.
    #[serde(default, deserialize_with = "null_default")]
    pub host_id: String,
}

/// `cmd.{host}.scale`. Requires `actor_id`, `actor_ref` (may be `""`) and `count`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScaleActorCommand {
    /// The actor's public key.
    pub actor_id: String,
    /// Reference to start new instances from (`""` = the running instance's).
    pub actor_ref: String,
    /// Ignored by the v0.59 host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<StringMap>,
    /// Desired number of instances.
    pub count: u16,
    /// Target host.
    #[serde(default, deserialize_with = "null_default")]
    pub host_id: String,
}

/// `cmd.{host}.lp`. Requires `provider_ref` and `link_name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartProviderCommand {
    /// Annotations for the provider instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<StringMap>,
    /// Opaque string passed to the provider as `HostData.config_json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<String>,
    /// Target host.
    #[serde(default, deserialize_with = "null_default")]
    pub host_id: String,
    /// Link name.
    pub link_name: String,
    /// OCI/bindle reference, or a provider public key.
    pub provider_ref: String,
}

/// `cmd.{host}.sp`. Requires `provider_ref` (the provider's public key) and `link_name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopProviderCommand {
    /// Accepted, unused by the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<StringMap>,
    /// Accepted, unused by the host.
    #[serde(default, deserialize_with = "null_default")]
    pub contract_id: String,
    /// Target host.
    #[serde(default, deserialize_with = "null_default")]
    pub host_id: String,
    /// Link name.
    pub link_name: String,
    /// The provider's public key.
    pub provider_ref: String,
}

/// `cmd.{host}.upd`. Requires `new_actor_ref`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateActorCommand {
    /// The actor's public key.
    #[serde(default, deserialize_with = "null_default")]
    pub actor_id: String,
    /// Annotations (unused by the host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<StringMap>,
    /// Target host.
    #[serde(default, deserialize_with = "null_default")]
    pub host_id: String,
    /// Reference of the new module (same public key, higher revision).
    pub new_actor_ref: String,
}

/// `cmd.{host}.stop`. Every field optional.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StopHostCommand {
    /// Target host.
    #[serde(default, deserialize_with = "null_default")]
    pub host_id: String,
    /// Timeout (ignored by the host; seconds or ms depending on the client's docs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
}

/// `linkdefs.del` body. Requires all three keys; the client sends a full
/// [`LinkDefinition`] (extra keys ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveLinkDefinitionRequest {
    /// Actor public key.
    pub actor_id: String,
    /// Contract id.
    pub contract_id: String,
    /// Link name.
    pub link_name: String,
}

/// `auction.actor` request. Requires `actor_ref`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorAuctionRequest {
    /// Reference of the actor to place.
    pub actor_ref: String,
    /// Labels a host must have (missing or null → none).
    #[serde(
        default,
        deserialize_with = "null_default",
        serialize_with = "sorted_map"
    )]
    pub constraints: StringMap,
}

/// A host's answer to an actor auction (v0.59 shape; the client reads `actor_ref`, `host_id`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ActorAuctionAck {
    /// Echo of the request.
    #[serde(deserialize_with = "null_default")]
    pub actor_ref: String,
    /// Echo of the request.
    #[serde(deserialize_with = "null_default", serialize_with = "sorted_map")]
    pub constraints: StringMap,
    /// The answering host.
    #[serde(deserialize_with = "null_default")]
    pub host_id: String,
}

/// `auction.provider` request. Requires `provider_ref`; `link_name` defaults to `default`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderAuctionRequest {
    /// Labels a host must have (missing or null → none).
    #[serde(
        default,
        deserialize_with = "null_default",
        serialize_with = "sorted_map"
    )]
    pub constraints: StringMap,
    /// Link name.
    #[serde(default = "default_link_name")]
    pub link_name: String,
    /// Reference of the provider to place.
    pub provider_ref: String,
}

/// A host's answer to a provider auction.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProviderAuctionAck {
    /// Echo of the request.
    #[serde(deserialize_with = "null_default")]
    pub provider_ref: String,
    /// Echo of the request.
    #[serde(deserialize_with = "null_default")]
    pub link_name: String,
    /// Echo of the request.
    #[serde(deserialize_with = "null_default", serialize_with = "sorted_map")]
    pub constraints: StringMap,
    /// The answering host.
    #[serde(deserialize_with = "null_default")]
    pub host_id: String,
}

/// Credentials for one registry (`registries.put`, §1.9).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RegistryCredential {
    /// Password (basic auth).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// User name (basic auth).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// `"oci"` or `"bindle"`. Missing reads as `""`, so one bad entry does not reject
    /// the whole map; [`is_usable`](Self::is_usable) filters such entries.
    #[serde(rename = "registryType", default, deserialize_with = "null_default")]
    pub registry_type: String,
}

impl RegistryCredential {
    /// The v0.59 host keeps an entry only if it has a `registryType` and at least one
    /// of username, password or token.
    pub fn is_usable(&self) -> bool {
        !self.registry_type.is_empty()
            && (self.username.is_some() || self.password.is_some() || self.token.is_some())
    }
}

/// `registries.put` body: registry server → credentials.
pub type RegistryCredentialMap = HashMap<String, RegistryCredential>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vectors;

    /// Decodes a captured request, checks it re-encodes to the exact captured bytes.
    fn round_trip<T: Serialize + DeserializeOwned>(file: &str) -> T {
        let bytes = vectors::bytes(file);
        let value: T = from_json(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(
            String::from_utf8(to_json(&value)).unwrap(),
            String::from_utf8(bytes).unwrap(),
            "{file}"
        );
        value
    }

    fn one(k: &str, v: &str) -> Option<StringMap> {
        Some([(k.to_string(), v.to_string())].into())
    }

    #[test]
    fn ack_matches_the_vector() {
        assert_eq!(
            CtlOperationAck::ok().to_json(),
            vectors::bytes("ctl_ack_success.json")
        );
        assert_eq!(
            round_trip::<CtlOperationAck>("ctl_ack_success.json"),
            CtlOperationAck::ok()
        );
        assert_eq!(
            CtlOperationAck::fail("nope").to_json(),
            br#"{"accepted":false,"error":"nope"}"#
        );
        assert_eq!(
            from_json::<CtlOperationAck>(b"{}").unwrap(),
            CtlOperationAck {
                accepted: false,
                error: String::new()
            }
        );
    }

    #[test]
    fn every_captured_command_decodes() {
        let host = vectors::HOST_PK.to_string();
        let actor_ref = "registry.example.com/vectors/actor:0.1.0".to_string();
        assert_eq!(
            round_trip::<StartActorCommand>("ctl_start_actor.json"),
            StartActorCommand {
                actor_ref: actor_ref.clone(),
                annotations: one("vectors", "start"),
                count: 1,
                host_id: host.clone()
            }
        );
        assert_eq!(
            round_trip::<ScaleActorCommand>("ctl_scale_actor.json"),
            ScaleActorCommand {
                actor_id: vectors::MODULE_PK.into(),
                actor_ref,
                annotations: one("vectors", "scale"),
                count: 3,
                host_id: host.clone()
            }
        );
        assert_eq!(
            round_trip::<StopActorCommand>("ctl_stop_actor.json"),
            StopActorCommand {
                actor_ref: vectors::MODULE_PK.into(),
                annotations: None,
                count: 1,
                host_id: host.clone()
            }
        );
        assert_eq!(
            round_trip::<StartProviderCommand>("ctl_start_provider.json"),
            StartProviderCommand {
                annotations: one("vectors", "provider"),
                configuration: Some("eyJ2ZWN0b3JzIjp0cnVlfQ==".into()),
                host_id: host.clone(),
                link_name: "default".into(),
                provider_ref: "registry.example.com/vectors/provider:0.1.0".into(),
            }
        );
        assert_eq!(
            round_trip::<StopProviderCommand>("ctl_stop_provider.json"),
            StopProviderCommand {
                annotations: None,
                contract_id: "wasmcloud:testing".into(),
                host_id: host.clone(),
                link_name: "default".into(),
                provider_ref: vectors::PROVIDER_PK.into(),
            }
        );
        assert_eq!(
            round_trip::<UpdateActorCommand>("ctl_update_actor.json"),
            UpdateActorCommand {
                actor_id: vectors::MODULE_PK.into(),
                annotations: None,
                host_id: host.clone(),
                new_actor_ref: "registry.example.com/vectors/actor:0.1.1".into(),
            }
        );
        assert_eq!(
            round_trip::<StopHostCommand>("ctl_stop_host.json"),
            StopHostCommand {
                host_id: host,
                timeout: Some(5000)
            }
        );
    }

    #[test]
    fn link_requests_decode() {
        let put: LinkDefinition = round_trip("ctl_linkdefs_put.json");
        assert_eq!(put.values["URL"], "redis://127.0.0.1:6379/");
        let del: LinkDefinition = round_trip("ctl_linkdefs_del.json");
        assert_eq!(del.provider_id, "");
        let del: RemoveLinkDefinitionRequest =
            from_json(&vectors::bytes("ctl_linkdefs_del.json")).unwrap();
        assert_eq!(
            del,
            RemoveLinkDefinitionRequest {
                actor_id: vectors::MODULE_PK.into(),
                contract_id: "wasmcloud:keyvalue".into(),
                link_name: "default".into()
            }
        );
        let err =
            from_json::<RemoveLinkDefinitionRequest>(br#"{"actor_id":"M","contract_id":"c"}"#)
                .unwrap_err();
        assert!(err.to_string().contains("link_name"), "{err}");
        let list = LinkDefinitionList { links: vec![put] };
        assert_eq!(
            to_json(&list),
            [&b"{\"links\":["[..], &vectors::bytes("linkdef.json"), b"]}"].concat()
        );
        assert_eq!(
            from_json::<LinkDefinitionList>(br#"{"links":null}"#).unwrap(),
            LinkDefinitionList::default()
        );
    }

    #[test]
    fn auctions_decode() {
        let req: ActorAuctionRequest = round_trip("ctl_actor_auction.json");
        assert_eq!(req.constraints["hostcore.os"], "linux");
        let req: ProviderAuctionRequest = round_trip("ctl_provider_auction.json");
        assert_eq!(
            (req.link_name.as_str(), req.constraints.len()),
            ("default", 1)
        );
        let req: ProviderAuctionRequest =
            from_json(br#"{"provider_ref":"x","constraints":null}"#).unwrap();
        assert_eq!(
            (req.link_name.as_str(), req.constraints.len()),
            ("default", 0)
        );
        assert!(from_json::<ActorAuctionRequest>(br#"{"constraints":{}}"#).is_err());
        let ack = ActorAuctionAck {
            actor_ref: "r".into(),
            constraints: StringMap::new(),
            host_id: "N".into(),
        };
        assert_eq!(
            to_json(&ack),
            br#"{"actor_ref":"r","constraints":{},"host_id":"N"}"#
        );
        let ack = ProviderAuctionAck {
            provider_ref: "p".into(),
            link_name: "default".into(),
            constraints: StringMap::new(),
            host_id: "N".into(),
        };
        assert_eq!(
            to_json(&ack),
            br#"{"provider_ref":"p","link_name":"default","constraints":{},"host_id":"N"}"#
        );
    }

    #[test]
    fn registry_credentials_decode() {
        let map: RegistryCredentialMap = round_trip("ctl_registries_put.json");
        let cred = &map["registry.example.com"];
        assert_eq!(cred.registry_type, "oci");
        assert_eq!(
            (
                cred.username.as_deref(),
                cred.password.as_deref(),
                cred.token.as_deref()
            ),
            (Some("vectors"), Some("s3cret"), None)
        );
        assert!(cred.is_usable());
        let map: RegistryCredentialMap =
            from_json(br#"{"a":{"username":"u"},"b":{"registryType":"bindle"}}"#).unwrap();
        assert!(!map["a"].is_usable() && !map["b"].is_usable());
    }

    #[test]
    fn host_required_fields_are_enforced() {
        for (body, field) in [
            (&br#"{"count":1}"#[..], "actor_ref"),
            (br#"{"actor_ref":null}"#, "actor_ref"),
            (br#"{"actor_ref":"M"}"#, "count"),
            (br#"{"actor_ref":"M","count":null}"#, "count"),
        ] {
            let err = from_json::<StopActorCommand>(body).unwrap_err().to_string();
            assert!(err.contains("StopActorCommand"), "{err}");
            assert!(err.contains(field) || err.contains("null"), "{err}");
        }
        assert!(from_json::<ScaleActorCommand>(br#"{"actor_id":"M","count":1}"#).is_err());
        assert!(from_json::<StartProviderCommand>(br#"{"provider_ref":"p"}"#).is_err());
        assert!(from_json::<StopProviderCommand>(br#"{"link_name":"default"}"#).is_err());
        assert!(from_json::<UpdateActorCommand>(br#"{"actor_id":"M"}"#).is_err());
        assert!(from_json::<StartActorCommand>(b"not json").is_err());
        // Optional fields default.
        let la: StartActorCommand =
            from_json(br#"{"actor_ref":"r","count":null,"annotations":null}"#).unwrap();
        assert_eq!(
            (la.count, la.annotations, la.host_id.as_str()),
            (1, None, "")
        );
        let la: StartActorCommand = from_json(br#"{"actor_ref":"r","count":0}"#).unwrap();
        assert_eq!(la.count, 0);
        assert_eq!(
            from_json::<StopHostCommand>(b"{}").unwrap(),
            StopHostCommand::default()
        );
        assert!(from_json::<StartActorCommand>(br#"{"actor_ref":"r","count":70000}"#).is_err());
    }

    #[test]
    fn host_replies_have_every_required_field() {
        let ping = HostPing {
            id: vectors::HOST_PK.into(),
            labels: [("hostcore.os".to_string(), "linux".to_string())].into(),
            uptime_seconds: 73,
            ..Default::default()
        };
        let json: serde_json::Value = serde_json::from_slice(&to_json(&ping)).unwrap();
        for key in [
            "id",
            "issuer",
            "labels",
            "friendly_name",
            "uptime_seconds",
            "uptime_human",
            "version",
            "cluster_issuers",
            "js_domain",
            "ctl_host",
            "prov_rpc_host",
            "rpc_host",
            "lattice_prefix",
        ] {
            assert!(json.get(key).is_some(), "ping reply lacks {key}");
        }
        assert!(json["js_domain"].is_null());
        // The LATTICE.md §1.3 example reply decodes.
        let example = br#"{"id":"NCE7YHGI42RWEKBRDJZWXBEJJCFNE5YLUJ7VE4AYHDJ5ZMDDPPKUQ6UC","issuer":"CDCCSHM3Y4DWAFAIGAUM6PSZ4C4Q4RAQ6CZPUL57I4XOAOGKXKXXUH4C","labels":{"hostcore.arch":"x86_64","hostcore.os":"linux","hostcore.osfamily":"unix"},"friendly_name":"wispy-snow-7209","uptime_seconds":73,"uptime_human":"1 minute, 13 seconds","version":"0.59.0","cluster_issuers":"CDCCSHM3Y4DWAFAIGAUM6PSZ4C4Q4RAQ6CZPUL57I4XOAOGKXKXXUH4C","js_domain":null,"ctl_host":"127.0.0.1","prov_rpc_host":"127.0.0.1","rpc_host":"127.0.0.1","lattice_prefix":"default"}"#;
        let ping: HostPing = from_json(example).unwrap();
        assert_eq!(
            (
                ping.friendly_name.as_str(),
                ping.labels.len(),
                ping.js_domain.as_deref()
            ),
            ("wispy-snow-7209", 3, None)
        );
        assert_eq!(
            to_json(&ping),
            example.to_vec(),
            "sorted labels reproduce the example exactly"
        );

        let inv = HostInventory {
            host_id: "N".into(),
            actors: vec![ActorDescription {
                id: "M".into(),
                image_ref: None,
                name: Some("Echo".into()),
                instances: vec![ActorInstance {
                    instance_id: "i".into(),
                    revision: 4,
                    ..Default::default()
                }],
            }],
            providers: vec![ProviderDescription {
                id: "V".into(),
                link_name: "default".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(
            String::from_utf8(to_json(&inv)).unwrap(),
            r#"{"host_id":"N","issuer":"","labels":{},"friendly_name":"","actors":[{"id":"M","image_ref":null,"name":"Echo","instances":[{"annotations":{},"instance_id":"i","revision":4}]}],"providers":[{"id":"V","image_ref":null,"link_name":"default","name":null,"instance_id":"","annotations":{},"revision":0}]}"#
        );
        assert_eq!(from_json::<HostInventory>(&to_json(&inv)).unwrap(), inv);
        let sparse: HostInventory = from_json(br#"{"actors":[{"id":"M","instances":[{"annotations":null,"instance_id":"i","revision":1}]}],"labels":null}"#).unwrap();
        assert_eq!(sparse.actors[0].instances[0].revision, 1);
        assert!(sparse.providers.is_empty());
    }

    #[test]
    fn claims_response_tolerates_null_values() {
        let resp: GetClaimsResponse =
            from_json(br#"{"claims":[{"sub":"M","version":null,"rev":"0"}]}"#).unwrap();
        assert_eq!(resp.claims[0]["version"], "");
        assert_eq!(
            from_json::<GetClaimsResponse>(b"{}").unwrap(),
            GetClaimsResponse::default()
        );
        let resp = GetClaimsResponse {
            claims: vec![[("sub".to_string(), "M".to_string())].into()],
        };
        assert_eq!(to_json(&resp), br#"{"claims":[{"sub":"M"}]}"#);
    }
}
