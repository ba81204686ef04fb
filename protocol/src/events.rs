//! Lattice events: CloudEvents 1.0 in structured JSON mode (LATTICE.md §2).
//!
//! Lifecycle events go to [`subjects::events`](crate::subjects::events), invocation
//! results to [`subjects::rpc_events`](crate::subjects::rpc_events). The envelope's key
//! order is the one cloudevents-sdk writes, so a heartbeat built here is byte-identical
//! to the SDK's.

use crate::error::{from_json, to_json, ProtocolError};
use crate::serde_util::sorted_map;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;

pub use crate::humanize::{humanize_duration, humanize_time_from_now};

/// Prefix of every event `type`.
pub const EVENT_TYPE_PREFIX: &str = "com.wasmcloud.lattice.";
/// `specversion` of every event.
pub const SPEC_VERSION: &str = "1.0";
/// `datacontenttype` of every event.
pub const DATA_CONTENT_TYPE: &str = "application/json";

/// `labels`, `friendly_name`.
pub const HOST_STARTED: &str = "host_started";
/// `labels`.
pub const HOST_STOPPED: &str = "host_stopped";
/// [`HeartbeatData`].
pub const HOST_HEARTBEAT: &str = "host_heartbeat";
/// `public_key`, `image_ref`, `api_version`, `instance_id`, `annotations`, `claims`.
pub const ACTOR_STARTED: &str = "actor_started";
/// `public_key`, `instance_id`.
pub const ACTOR_STOPPED: &str = "actor_stopped";
/// `actor_ref`, `error`.
pub const ACTOR_START_FAILED: &str = "actor_start_failed";
/// `public_key`, `error`: stopping instances failed (running calls did not finish in time). Our
/// addition: the 0.5x vocabulary has no failure event for stops; clients skip unknown types.
pub const ACTOR_STOP_FAILED: &str = "actor_stop_failed";
/// `public_key`, `revision`, `instance_id`.
pub const ACTOR_UPDATED: &str = "actor_updated";
/// `public_key`, `revision`, `instance_id`, `reason`.
pub const ACTOR_UPDATE_FAILED: &str = "actor_update_failed";
/// `public_key`, `image_ref`, `link_name`, `contract_id`, `instance_id`, `annotations`, `claims`.
pub const PROVIDER_STARTED: &str = "provider_started";
/// `public_key`, `link_name`, `contract_id`, `instance_id`, `reason`.
pub const PROVIDER_STOPPED: &str = "provider_stopped";
/// `provider_ref`, `link_name`, `error`.
pub const PROVIDER_START_FAILED: &str = "provider_start_failed";
/// `public_key`, `link_name`.
pub const HEALTH_CHECK_PASSED: &str = "health_check_passed";
/// `public_key`, `link_name`.
pub const HEALTH_CHECK_FAILED: &str = "health_check_failed";
/// `id`, `actor_id`, `provider_id`, `link_name`, `contract_id`, `values`.
pub const LINKDEF_SET: &str = "linkdef_set";
/// `id`, `actor_id`, `provider_id`, `link_name`, `contract_id`, `values`.
pub const LINKDEF_DELETED: &str = "linkdef_deleted";
/// `oci_url`, `public_key`.
pub const REFMAP_SET: &str = "refmap_set";
/// On `wasmbus.rpcevt`: `source`, `dest`, `operation`, `bytes`.
pub const INVOCATION_SUCCEEDED: &str = "invocation_succeeded";
/// On `wasmbus.rpcevt`: `source`, `dest`, `operation`, `bytes`.
pub const INVOCATION_FAILED: &str = "invocation_failed";

/// Every event type suffix we publish: the 0.5x host's (§2.2, §2.3) and `actor_stop_failed`.
pub const ALL_EVENT_TYPES: [&str; 19] = [
    HOST_STARTED,
    HOST_STOPPED,
    HOST_HEARTBEAT,
    ACTOR_STARTED,
    ACTOR_STOPPED,
    ACTOR_START_FAILED,
    ACTOR_STOP_FAILED,
    ACTOR_UPDATED,
    ACTOR_UPDATE_FAILED,
    PROVIDER_STARTED,
    PROVIDER_STOPPED,
    PROVIDER_START_FAILED,
    HEALTH_CHECK_PASSED,
    HEALTH_CHECK_FAILED,
    LINKDEF_SET,
    LINKDEF_DELETED,
    REFMAP_SET,
    INVOCATION_SUCCEEDED,
    INVOCATION_FAILED,
];

/// A CloudEvents 1.0 event in structured JSON mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudEvent {
    /// Always `"1.0"`.
    pub specversion: String,
    /// UUID v4 with hyphens.
    pub id: String,
    /// `com.wasmcloud.lattice.{suffix}`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The emitting host's public key.
    pub source: String,
    /// Always `application/json`.
    pub datacontenttype: String,
    /// RFC 3339 UTC with microseconds, e.g. `2022-11-28T17:20:01.123456Z`.
    pub time: String,
    /// Event-specific JSON object.
    pub data: Value,
}

impl CloudEvent {
    /// An event of type `com.wasmcloud.lattice.{event_type_suffix}` from `source`, with a
    /// fresh UUID v4 id and the current time.
    pub fn new(event_type_suffix: &str, source: &str, data: Value) -> Self {
        CloudEvent {
            specversion: SPEC_VERSION.to_string(),
            id: uuid::Uuid::new_v4().hyphenated().to_string(),
            event_type: format!("{EVENT_TYPE_PREFIX}{event_type_suffix}"),
            source: source.to_string(),
            datacontenttype: DATA_CONTENT_TYPE.to_string(),
            time: chrono::Utc::now()
                .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                .to_string(),
            data,
        }
    }

    /// [`new`](Self::new) with `data` serialized from a typed value such as
    /// [`HeartbeatData`]. Fails only if `data`'s `Serialize` impl does.
    pub fn from_data<T: Serialize>(
        event_type_suffix: &str,
        source: &str,
        data: &T,
    ) -> Result<Self, ProtocolError> {
        let data = serde_json::to_value(data)
            .map_err(|e| ProtocolError::json(crate::error::short_type_name::<T>(), &e))?;
        Ok(Self::new(event_type_suffix, source, data))
    }

    /// The type without the `com.wasmcloud.lattice.` prefix (the whole type if it has
    /// another prefix).
    pub fn short_type(&self) -> &str {
        self.event_type
            .strip_prefix(EVENT_TYPE_PREFIX)
            .unwrap_or(&self.event_type)
    }

    /// Compact JSON, the body published on the event subject.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        to_json(self)
    }

    /// Parses an event. Fails with [`ProtocolError::Json`] if a field is missing.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self, ProtocolError> {
        from_json(bytes)
    }

    /// `data` as a typed value such as [`HeartbeatData`]. Fails with
    /// [`ProtocolError::Json`] naming `T` if it does not have that shape.
    pub fn data_as<T: DeserializeOwned>(&self) -> Result<T, ProtocolError> {
        T::deserialize(&self.data)
            .map_err(|e| ProtocolError::json(crate::error::short_type_name::<T>(), &e))
    }
}

/// `data` of `host_heartbeat` in the v0.55–v0.59 shape (§2.4): one `actors` entry
/// **per instance**. Keys are written in sorted order, as the SDK's JSON value does.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HeartbeatData {
    /// One entry per running actor instance.
    pub actors: Vec<HeartbeatActor>,
    /// Host friendly name.
    pub friendly_name: String,
    /// Host labels.
    #[serde(serialize_with = "sorted_map")]
    pub labels: HashMap<String, String>,
    /// One entry per running provider instance.
    pub providers: Vec<HeartbeatProvider>,
    /// [`humanize_duration`] of `uptime_seconds`.
    pub uptime_human: String,
    /// Seconds since host start.
    pub uptime_seconds: u64,
    /// Host version.
    pub version: String,
}

/// One actor instance in a heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HeartbeatActor {
    /// Instance id.
    pub instance_id: String,
    /// Actor public key.
    pub public_key: String,
}

/// One provider instance in a heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HeartbeatProvider {
    /// Contract id.
    pub contract_id: String,
    /// Instance id.
    pub instance_id: String,
    /// Link name.
    pub link_name: String,
    /// Provider public key.
    pub public_key: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vectors;

    fn vector_heartbeat_data() -> HeartbeatData {
        HeartbeatData {
            actors: vec![HeartbeatActor {
                instance_id: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d".into(),
                public_key: vectors::MODULE_PK.into(),
            }],
            friendly_name: "vectors-host-0001".into(),
            labels: [
                ("hostcore.os", "linux"),
                ("hostcore.arch", "x86_64"),
                ("hostcore.osfamily", "unix"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            providers: vec![HeartbeatProvider {
                contract_id: "wasmcloud:keyvalue".into(),
                instance_id: "0f1e2d3c-4b5a-4968-8778-695a4b3c2d1e".into(),
                link_name: "default".into(),
                public_key: vectors::PROVIDER_PK.into(),
            }],
            uptime_human: humanize_duration(3723),
            uptime_seconds: 3723,
            version: "0.59.0".into(),
        }
    }

    #[test]
    fn heartbeat_matches_the_vector_byte_for_byte() {
        let mut event =
            CloudEvent::from_data(HOST_HEARTBEAT, vectors::HOST_PK, &vector_heartbeat_data())
                .unwrap();
        event.id = "3d0a4c5e-7f81-4b92-a3c4-d5e6f7a8b9c0".into();
        event.time = "2022-12-01T00:00:00.123456Z".into();
        assert_eq!(
            String::from_utf8(event.to_json_bytes()).unwrap(),
            String::from_utf8(vectors::bytes("event_host_heartbeat.json")).unwrap()
        );
        let parsed =
            CloudEvent::from_json_bytes(&vectors::bytes("event_host_heartbeat.json")).unwrap();
        assert_eq!(parsed, event);
        assert_eq!(parsed.short_type(), HOST_HEARTBEAT);
        assert_eq!(
            parsed.data_as::<HeartbeatData>().unwrap(),
            vector_heartbeat_data()
        );
    }

    #[test]
    fn data_of_the_wrong_shape_is_a_bounded_error() {
        let long = "u".repeat(10_000);
        let event = CloudEvent::new(
            HOST_HEARTBEAT,
            "N",
            serde_json::json!({ "uptime_seconds": long }),
        );
        let err = event.data_as::<HeartbeatData>().unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("failed to decode HeartbeatData from JSON: invalid type: string"),
            "{text}"
        );
        assert!(text.chars().count() <= crate::MAX_ERROR_CHARS, "{text}");
    }

    #[test]
    fn new_fills_the_envelope() {
        let event = CloudEvent::new(
            ACTOR_STARTED,
            vectors::HOST_PK,
            serde_json::json!({"public_key": "M"}),
        );
        assert_eq!(event.specversion, "1.0");
        assert_eq!(event.event_type, "com.wasmcloud.lattice.actor_started");
        assert_eq!(event.short_type(), ACTOR_STARTED);
        assert_eq!(event.datacontenttype, "application/json");
        assert_eq!(
            uuid::Uuid::parse_str(&event.id).unwrap().get_version_num(),
            4
        );
        assert_eq!(event.id.len(), 36);
        // 2022-11-28T17:20:01.123456Z: microseconds and a literal Z.
        assert_eq!(event.time.len(), 27, "{}", event.time);
        assert!(
            event.time.ends_with('Z') && event.time.as_bytes()[19] == b'.',
            "{}",
            event.time
        );
        assert!(
            chrono::DateTime::parse_from_rfc3339(&event.time).is_ok(),
            "{}",
            event.time
        );
        let other = CloudEvent {
            event_type: "org.example.x".into(),
            ..event
        };
        assert_eq!(other.short_type(), "org.example.x");
    }

    /// The CloudEvents SDK (what the 2022 control-interface client uses) accepts every
    /// event type we emit and the recorded heartbeat.
    #[test]
    fn cloudevents_sdk_parses_our_events() {
        use cloudevents::event::AttributesReader;
        for suffix in ALL_EVENT_TYPES {
            let ours =
                CloudEvent::new(suffix, vectors::HOST_PK, serde_json::json!({"k": [1, "v"]}));
            let sdk: cloudevents::Event = serde_json::from_slice(&ours.to_json_bytes())
                .unwrap_or_else(|e| panic!("{suffix}: {e}"));
            assert_eq!(sdk.ty(), ours.event_type);
            assert_eq!(sdk.id(), ours.id);
            assert_eq!(sdk.source().to_string(), vectors::HOST_PK);
            assert_eq!(sdk.datacontenttype(), Some("application/json"));
            assert_eq!(
                sdk.time()
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
                Some(ours.time.clone())
            );
            let data: Value = match sdk.data() {
                Some(cloudevents::Data::Json(v)) => v.clone(),
                other => panic!("{suffix}: data not JSON: {other:?}"),
            };
            assert_eq!(data, ours.data);
        }
        let recorded: cloudevents::Event =
            serde_json::from_slice(&vectors::bytes("event_host_heartbeat.json")).unwrap();
        let mut ours =
            CloudEvent::from_data(HOST_HEARTBEAT, vectors::HOST_PK, &vector_heartbeat_data())
                .unwrap();
        ours.id = recorded.id().to_string();
        ours.time = "2022-12-01T00:00:00.123456Z".into();
        let sdk: cloudevents::Event = serde_json::from_slice(&ours.to_json_bytes()).unwrap();
        assert_eq!(sdk, recorded);
    }

    #[test]
    fn event_type_constants_are_unique_suffixes() {
        let mut all = ALL_EVENT_TYPES.to_vec();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), ALL_EVENT_TYPES.len());
        assert!(ALL_EVENT_TYPES.iter().all(|t| !t.contains('.')));
    }

    #[test]
    fn rejects_non_events() {
        assert!(matches!(
            CloudEvent::from_json_bytes(b"{\"id\":\"x\"}"),
            Err(ProtocolError::Json {
                what: "CloudEvent",
                ..
            })
        ));
    }
}
