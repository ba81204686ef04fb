//! The `data` of every lattice event type (LATTICE.md §2.2–§2.4), typed.
//!
//! A host builds an [`EventData`] and publishes it with [`CloudEvent::from_event_data`]; an
//! observer reads one back with [`EventData::from_event`]. Every field has a serde default and
//! nullable fields are `Option`s, so events from other 0.5x hosts (which send `null` where we send
//! a value, and omit fields we always send) still parse.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ProtocolError;
use crate::events::{self as kinds, CloudEvent, HeartbeatData};
use crate::serde_util::null_default;

/// String map used for labels, annotations and link values.
pub type StringMap = HashMap<String, String>;

/// `host_started`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HostStarted {
    /// Host labels.
    #[serde(deserialize_with = "null_default")]
    pub labels: StringMap,
    /// Host friendly name.
    pub friendly_name: String,
}

/// `host_stopped`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HostStopped {
    /// Host labels.
    #[serde(deserialize_with = "null_default")]
    pub labels: StringMap,
}

/// The `claims` object of `actor_started`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ActorStartedClaims {
    /// Call alias, `null` when the actor has none.
    pub call_alias: Option<String>,
    /// Capability contract ids.
    pub caps: Vec<String>,
    /// Account that signed the claims (A...).
    pub issuer: String,
    /// Tags, `null` when none.
    pub tags: Option<Vec<String>>,
    /// Actor name.
    pub name: Option<String>,
    /// Version string.
    pub version: Option<String>,
    /// Claims revision.
    pub revision: i32,
    /// `"immediately"` or a humanized time.
    pub not_before_human: String,
    /// `"never"` or a humanized time.
    pub expires_human: String,
}

/// `actor_started`, once per instance.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ActorStarted {
    /// Actor public key (M...).
    pub public_key: String,
    /// Where it was started from.
    #[serde(deserialize_with = "null_default")]
    pub image_ref: String,
    /// `__wasmbus_rpc_version()` of the module, 0 when absent.
    pub api_version: i32,
    /// The new instance.
    pub instance_id: String,
    /// Annotations of the instance.
    #[serde(deserialize_with = "null_default")]
    pub annotations: StringMap,
    /// The actor's claims.
    pub claims: ActorStartedClaims,
}

/// `actor_stopped`, once per instance.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ActorStopped {
    /// Actor public key.
    pub public_key: String,
    /// The stopped instance.
    pub instance_id: String,
}

/// `actor_start_failed`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ActorStartFailed {
    /// The reference the start was asked for (or the public key).
    pub actor_ref: String,
    /// What went wrong.
    pub error: String,
}

/// `actor_stop_failed` (our addition to the 0.5x vocabulary).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ActorStopFailed {
    /// Actor public key.
    pub public_key: String,
    /// What went wrong.
    pub error: String,
}

/// `actor_updated`, once per instance.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ActorUpdated {
    /// Actor public key.
    pub public_key: String,
    /// The new revision.
    pub revision: i32,
    /// The updated instance.
    pub instance_id: String,
}

/// `actor_update_failed`, once per instance.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ActorUpdateFailed {
    /// Actor public key.
    pub public_key: String,
    /// The revision still running.
    pub revision: i32,
    /// The instance that kept its module.
    pub instance_id: String,
    /// Why the update failed.
    pub reason: String,
}

/// The `claims` object of `provider_started`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProviderStartedClaims {
    /// Account that signed the claims.
    pub issuer: String,
    /// Tags (always `null` from the 0.5x hosts).
    pub tags: Option<Vec<String>>,
    /// Provider name.
    pub name: Option<String>,
    /// Version string.
    pub version: Option<String>,
    /// `"immediately"` or a humanized time.
    pub not_before_human: String,
    /// `"never"` or a humanized time.
    pub expires_human: String,
}

/// `provider_started`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProviderStarted {
    /// Provider public key (V...).
    pub public_key: String,
    /// Where it was started from.
    #[serde(deserialize_with = "null_default")]
    pub image_ref: String,
    /// Link name it serves.
    pub link_name: String,
    /// Its contract id.
    pub contract_id: String,
    /// The process instance.
    pub instance_id: String,
    /// Annotations given at start.
    #[serde(deserialize_with = "null_default")]
    pub annotations: StringMap,
    /// Its claims.
    pub claims: ProviderStartedClaims,
}

/// `provider_stopped`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProviderStopped {
    /// Provider public key.
    pub public_key: String,
    /// Link name.
    pub link_name: String,
    /// Contract id.
    pub contract_id: String,
    /// The process instance that ended.
    pub instance_id: String,
    /// `"normal"` or the exit reason.
    pub reason: String,
}

/// `provider_start_failed`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProviderStartFailed {
    /// The reference the start was asked for.
    pub provider_ref: String,
    /// Link name.
    pub link_name: String,
    /// What went wrong.
    pub error: String,
}

/// `health_check_passed` and `health_check_failed`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HealthCheck {
    /// Provider public key.
    pub public_key: String,
    /// Link name.
    pub link_name: String,
}

/// `linkdef_set` and `linkdef_deleted`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LinkdefEvent {
    /// Link id (the v0.60 deterministic hash).
    pub id: String,
    /// Actor public key.
    pub actor_id: String,
    /// Provider public key.
    pub provider_id: String,
    /// Link name.
    pub link_name: String,
    /// Contract id.
    pub contract_id: String,
    /// Link values.
    #[serde(deserialize_with = "null_default")]
    pub values: StringMap,
}

/// `refmap_set`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RefmapSet {
    /// The OCI reference.
    pub oci_url: String,
    /// The public key it holds.
    pub public_key: String,
}

/// An entity of an invocation event (`contract_id`/`link_name` are `null` for actors from
/// some hosts).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct InvocationEntity {
    /// Public key.
    pub public_key: String,
    /// Contract id, empty or `null` for actors.
    pub contract_id: Option<String>,
    /// Link name, empty or `null` for actors.
    pub link_name: Option<String>,
}

/// `invocation_succeeded` and `invocation_failed` (on `wasmbus.rpcevt.{lattice}`, §2.3).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct InvocationEvent {
    /// The caller.
    pub source: InvocationEntity,
    /// The callee.
    pub dest: InvocationEntity,
    /// Operation name.
    pub operation: String,
    /// Payload size in bytes.
    pub bytes: u64,
}

/// The data of one lattice event, by type.
#[derive(Debug, Clone, PartialEq)]
pub enum EventData {
    /// `host_started`
    HostStarted(HostStarted),
    /// `host_stopped`
    HostStopped(HostStopped),
    /// `host_heartbeat`
    HostHeartbeat(HeartbeatData),
    /// `actor_started`
    ActorStarted(ActorStarted),
    /// `actor_stopped`
    ActorStopped(ActorStopped),
    /// `actor_start_failed`
    ActorStartFailed(ActorStartFailed),
    /// `actor_stop_failed`
    ActorStopFailed(ActorStopFailed),
    /// `actor_updated`
    ActorUpdated(ActorUpdated),
    /// `actor_update_failed`
    ActorUpdateFailed(ActorUpdateFailed),
    /// `provider_started`
    ProviderStarted(ProviderStarted),
    /// `provider_stopped`
    ProviderStopped(ProviderStopped),
    /// `provider_start_failed`
    ProviderStartFailed(ProviderStartFailed),
    /// `health_check_passed`
    HealthCheckPassed(HealthCheck),
    /// `health_check_failed`
    HealthCheckFailed(HealthCheck),
    /// `linkdef_set`
    LinkdefSet(LinkdefEvent),
    /// `linkdef_deleted`
    LinkdefDeleted(LinkdefEvent),
    /// `refmap_set`
    RefmapSet(RefmapSet),
    /// `invocation_succeeded`
    InvocationSucceeded(InvocationEvent),
    /// `invocation_failed`
    InvocationFailed(InvocationEvent),
}

impl EventData {
    /// The event type suffix, e.g. `actor_started`.
    pub fn kind(&self) -> &'static str {
        match self {
            EventData::HostStarted(_) => kinds::HOST_STARTED,
            EventData::HostStopped(_) => kinds::HOST_STOPPED,
            EventData::HostHeartbeat(_) => kinds::HOST_HEARTBEAT,
            EventData::ActorStarted(_) => kinds::ACTOR_STARTED,
            EventData::ActorStopped(_) => kinds::ACTOR_STOPPED,
            EventData::ActorStartFailed(_) => kinds::ACTOR_START_FAILED,
            EventData::ActorStopFailed(_) => kinds::ACTOR_STOP_FAILED,
            EventData::ActorUpdated(_) => kinds::ACTOR_UPDATED,
            EventData::ActorUpdateFailed(_) => kinds::ACTOR_UPDATE_FAILED,
            EventData::ProviderStarted(_) => kinds::PROVIDER_STARTED,
            EventData::ProviderStopped(_) => kinds::PROVIDER_STOPPED,
            EventData::ProviderStartFailed(_) => kinds::PROVIDER_START_FAILED,
            EventData::HealthCheckPassed(_) => kinds::HEALTH_CHECK_PASSED,
            EventData::HealthCheckFailed(_) => kinds::HEALTH_CHECK_FAILED,
            EventData::LinkdefSet(_) => kinds::LINKDEF_SET,
            EventData::LinkdefDeleted(_) => kinds::LINKDEF_DELETED,
            EventData::RefmapSet(_) => kinds::REFMAP_SET,
            EventData::InvocationSucceeded(_) => kinds::INVOCATION_SUCCEEDED,
            EventData::InvocationFailed(_) => kinds::INVOCATION_FAILED,
        }
    }

    /// The `data` object as JSON.
    pub fn to_value(&self) -> Value {
        let value = match self {
            EventData::HostStarted(d) => serde_json::to_value(d),
            EventData::HostStopped(d) => serde_json::to_value(d),
            EventData::HostHeartbeat(d) => serde_json::to_value(d),
            EventData::ActorStarted(d) => serde_json::to_value(d),
            EventData::ActorStopped(d) => serde_json::to_value(d),
            EventData::ActorStartFailed(d) => serde_json::to_value(d),
            EventData::ActorStopFailed(d) => serde_json::to_value(d),
            EventData::ActorUpdated(d) => serde_json::to_value(d),
            EventData::ActorUpdateFailed(d) => serde_json::to_value(d),
            EventData::ProviderStarted(d) => serde_json::to_value(d),
            EventData::ProviderStopped(d) => serde_json::to_value(d),
            EventData::ProviderStartFailed(d) => serde_json::to_value(d),
            EventData::HealthCheckPassed(d) | EventData::HealthCheckFailed(d) => {
                serde_json::to_value(d)
            }
            EventData::LinkdefSet(d) | EventData::LinkdefDeleted(d) => serde_json::to_value(d),
            EventData::RefmapSet(d) => serde_json::to_value(d),
            EventData::InvocationSucceeded(d) | EventData::InvocationFailed(d) => {
                serde_json::to_value(d)
            }
        };
        // Plain structs of strings, numbers and maps with string keys always serialize.
        value.unwrap_or(Value::Null)
    }

    /// Reads the typed data of `event`. `Ok(None)` for an event type outside the 0.5x
    /// vocabulary (newer hosts send more); an error when a known type's data has the wrong
    /// shape.
    pub fn from_event(event: &CloudEvent) -> Result<Option<EventData>, ProtocolError> {
        fn parse<T: serde::de::DeserializeOwned>(
            data: &Value,
            wrap: fn(T) -> EventData,
        ) -> Result<Option<EventData>, ProtocolError> {
            T::deserialize(data)
                .map(|d| Some(wrap(d)))
                .map_err(|e| ProtocolError::json(crate::error::short_type_name::<T>(), &e))
        }
        let data = &event.data;
        match event.short_type() {
            kinds::HOST_STARTED => parse(data, EventData::HostStarted),
            kinds::HOST_STOPPED => parse(data, EventData::HostStopped),
            kinds::HOST_HEARTBEAT => parse(data, EventData::HostHeartbeat),
            kinds::ACTOR_STARTED => parse(data, EventData::ActorStarted),
            kinds::ACTOR_STOPPED => parse(data, EventData::ActorStopped),
            kinds::ACTOR_START_FAILED => parse(data, EventData::ActorStartFailed),
            kinds::ACTOR_STOP_FAILED => parse(data, EventData::ActorStopFailed),
            kinds::ACTOR_UPDATED => parse(data, EventData::ActorUpdated),
            kinds::ACTOR_UPDATE_FAILED => parse(data, EventData::ActorUpdateFailed),
            kinds::PROVIDER_STARTED => parse(data, EventData::ProviderStarted),
            kinds::PROVIDER_STOPPED => parse(data, EventData::ProviderStopped),
            kinds::PROVIDER_START_FAILED => parse(data, EventData::ProviderStartFailed),
            kinds::HEALTH_CHECK_PASSED => parse(data, EventData::HealthCheckPassed),
            kinds::HEALTH_CHECK_FAILED => parse(data, EventData::HealthCheckFailed),
            kinds::LINKDEF_SET => parse(data, EventData::LinkdefSet),
            kinds::LINKDEF_DELETED => parse(data, EventData::LinkdefDeleted),
            kinds::REFMAP_SET => parse(data, EventData::RefmapSet),
            kinds::INVOCATION_SUCCEEDED => parse(data, EventData::InvocationSucceeded),
            kinds::INVOCATION_FAILED => parse(data, EventData::InvocationFailed),
            _ => Ok(None),
        }
    }
}

impl CloudEvent {
    /// An event of `data`'s type from `source`, with a fresh id and the current time.
    pub fn from_event_data(source: &str, data: &EventData) -> Self {
        CloudEvent::new(data.kind(), source, data.to_value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::ALL_EVENT_TYPES;
    use crate::vectors;

    fn one_of_each() -> Vec<EventData> {
        let link = LinkdefEvent {
            id: "ID".into(),
            actor_id: "M".into(),
            provider_id: "V".into(),
            link_name: "default".into(),
            contract_id: "wasmcloud:keyvalue".into(),
            values: [("URL".to_string(), "redis://x".to_string())].into(),
        };
        let health = HealthCheck {
            public_key: "V".into(),
            link_name: "default".into(),
        };
        let invocation = InvocationEvent {
            source: InvocationEntity {
                public_key: "M1".into(),
                contract_id: Some(String::new()),
                link_name: Some(String::new()),
            },
            dest: InvocationEntity {
                public_key: "M2".into(),
                contract_id: None,
                link_name: None,
            },
            operation: "Echo.Echo".into(),
            bytes: 5,
        };
        vec![
            EventData::HostStarted(HostStarted {
                labels: [("a".to_string(), "b".to_string())].into(),
                friendly_name: "x-y-1".into(),
            }),
            EventData::HostStopped(HostStopped::default()),
            EventData::HostHeartbeat(HeartbeatData::default()),
            EventData::ActorStarted(ActorStarted {
                public_key: "M".into(),
                image_ref: "r:1".into(),
                api_version: 1,
                instance_id: "i".into(),
                annotations: Default::default(),
                claims: ActorStartedClaims {
                    call_alias: Some("alias".into()),
                    caps: vec!["wasmcloud:httpserver".into()],
                    issuer: "A".into(),
                    tags: None,
                    name: Some("Echo".into()),
                    version: Some("0.1".into()),
                    revision: 3,
                    not_before_human: "immediately".into(),
                    expires_human: "never".into(),
                },
            }),
            EventData::ActorStopped(ActorStopped {
                public_key: "M".into(),
                instance_id: "i".into(),
            }),
            EventData::ActorStartFailed(ActorStartFailed {
                actor_ref: "r".into(),
                error: "e".into(),
            }),
            EventData::ActorStopFailed(ActorStopFailed {
                public_key: "M".into(),
                error: "e".into(),
            }),
            EventData::ActorUpdated(ActorUpdated {
                public_key: "M".into(),
                revision: 2,
                instance_id: "i".into(),
            }),
            EventData::ActorUpdateFailed(ActorUpdateFailed {
                public_key: "M".into(),
                revision: 1,
                instance_id: "i".into(),
                reason: "r".into(),
            }),
            EventData::ProviderStarted(ProviderStarted::default()),
            EventData::ProviderStopped(ProviderStopped {
                reason: "normal".into(),
                ..Default::default()
            }),
            EventData::ProviderStartFailed(ProviderStartFailed::default()),
            EventData::HealthCheckPassed(health.clone()),
            EventData::HealthCheckFailed(health),
            EventData::LinkdefSet(link.clone()),
            EventData::LinkdefDeleted(link),
            EventData::RefmapSet(RefmapSet {
                oci_url: "r:1".into(),
                public_key: "M".into(),
            }),
            EventData::InvocationSucceeded(invocation.clone()),
            EventData::InvocationFailed(invocation),
        ]
    }

    #[test]
    fn every_event_type_round_trips_through_a_cloud_event() {
        let all = one_of_each();
        let mut kinds: Vec<_> = all.iter().map(EventData::kind).collect();
        kinds.sort();
        let mut expected = ALL_EVENT_TYPES.to_vec();
        expected.sort();
        assert_eq!(kinds, expected, "one variant per event type");
        for data in all {
            let event = CloudEvent::from_event_data(vectors::HOST_PK, &data);
            let parsed = CloudEvent::from_json_bytes(&event.to_json_bytes()).unwrap();
            assert_eq!(
                EventData::from_event(&parsed).unwrap(),
                Some(data.clone()),
                "{}",
                data.kind()
            );
        }
    }

    #[test]
    fn the_recorded_heartbeat_parses() {
        let event =
            CloudEvent::from_json_bytes(&vectors::bytes("event_host_heartbeat.json")).unwrap();
        let Some(EventData::HostHeartbeat(hb)) = EventData::from_event(&event).unwrap() else {
            panic!("not a heartbeat")
        };
        assert_eq!(hb.actors.len(), 1);
        assert_eq!(hb.version, "0.59.0");
    }

    #[test]
    fn nulls_and_missing_fields_from_other_hosts_parse() {
        // The OTP host sends null for a missing call alias, tags and version, and v0.61 adds
        // fields we do not model.
        let data = serde_json::json!({
            "public_key": "M", "image_ref": null, "instance_id": "i", "annotations": {},
            "claims": {"call_alias": null, "caps": ["wasmcloud:httpserver"], "issuer": "A",
                       "tags": null, "name": "Echo", "version": null, "revision": 4,
                       "not_before_human": "immediately", "expires_human": "never"},
            "host_id": "N..."
        });
        let event = CloudEvent::new(kinds::ACTOR_STARTED, "N", data);
        let Some(EventData::ActorStarted(started)) = EventData::from_event(&event).unwrap() else {
            panic!()
        };
        assert_eq!(started.image_ref, "");
        assert_eq!(started.claims.revision, 4);
        assert_eq!(started.claims.call_alias, None);
        assert_eq!(started.api_version, 0, "missing api_version defaults to 0");
        // A known type whose data has the wrong shape is an error.
        let wrong = CloudEvent::new(
            kinds::ACTOR_STOPPED,
            "N",
            serde_json::json!({"public_key": 7}),
        );
        assert!(EventData::from_event(&wrong).is_err());
    }

    #[test]
    fn unknown_event_types_are_not_errors() {
        let event = CloudEvent::new("actors_started", "N", serde_json::json!({"count": 2}));
        assert_eq!(EventData::from_event(&event).unwrap(), None);
    }
}
