//! The lattice picture an observer keeps: hosts with their actors and providers, links, claims.
//! One JSON shape (these types' serde form) for every binding and the dashboard.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use wasmhost_protocol::rpc::LinkDefinition;

/// Labels and annotations, sorted by key so the JSON is stable.
pub type SortedMap = BTreeMap<String, String>;

/// The whole lattice at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LatticeSnapshot {
    /// Lattice id.
    pub lattice: String,
    /// Sequence number of the last change applied (0 before any); the change stream continues at `seq + 1`.
    pub seq: u64,
    /// Every host seen and not gone, sorted by id.
    pub hosts: Vec<HostState>,
    /// Every link definition, sorted by (actor, contract, link name).
    pub links: Vec<LinkDefinition>,
    /// Claims of every actor and provider the lattice knows, sorted by public key.
    pub claims: Vec<ClaimsState>,
}

impl LatticeSnapshot {
    /// One host by id.
    pub fn host(&self, host_id: &str) -> Option<&HostState> {
        self.hosts.iter().find(|h| h.id == host_id)
    }

    /// Instances of `public_key` summed over every host.
    pub fn actor_instances(&self, public_key: &str) -> usize {
        self.hosts
            .iter()
            .filter_map(|h| h.actor(public_key))
            .map(|a| a.instances.len())
            .sum()
    }

    /// Compact JSON (the shape documented in the README).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }
}

/// One host of the lattice.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HostState {
    /// Host public key (N...).
    pub id: String,
    /// Generated name for humans (`""` until the host has told it).
    pub friendly_name: String,
    /// Host labels.
    pub labels: SortedMap,
    /// Cluster key that signs the host's invocations, when known (ping or inventory).
    pub issuer: String,
    /// Host version (`""` until known).
    pub version: String,
    /// Seconds the host had been up at `last_seen_ms`.
    pub uptime_seconds: u64,
    /// The host's own humanized uptime at `last_seen_ms`.
    pub uptime_human: String,
    /// Unix time in ms when this observer last heard from the host.
    pub last_seen_ms: u64,
    /// Running actors, sorted by public key.
    pub actors: Vec<ActorState>,
    /// Running providers, sorted by (public key, link name).
    pub providers: Vec<ProviderState>,
}

impl HostState {
    /// One actor of this host by public key.
    pub fn actor(&self, public_key: &str) -> Option<&ActorState> {
        self.actors.iter().find(|a| a.public_key == public_key)
    }

    /// One provider of this host.
    pub fn provider(&self, public_key: &str, link_name: &str) -> Option<&ProviderState> {
        self.providers
            .iter()
            .find(|p| p.public_key == public_key && p.link_name == link_name)
    }
}

/// An actor on one host.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ActorState {
    /// Actor public key (M...).
    pub public_key: String,
    /// Name from its claims (`""` while unknown, e.g. learnt from a heartbeat only).
    pub name: String,
    /// Reference it was started from (`""` while unknown or when started from bytes).
    pub image_ref: String,
    /// Claims revision of the running module.
    pub revision: i32,
    /// Running instances.
    pub instances: Vec<InstanceState>,
}

/// One running instance of an actor.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InstanceState {
    /// Instance id (`""` from hosts whose heartbeats carry counts only, v0.60+).
    pub instance_id: String,
    /// Annotations given at start.
    pub annotations: SortedMap,
    /// Claims revision this instance runs.
    pub revision: i32,
}

/// How a provider is doing, from the `health_check_*` and `provider_stopped` events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderHealth {
    /// No health check result yet.
    #[default]
    Unknown,
    /// The last health check passed.
    Healthy,
    /// The last health check failed.
    Unhealthy,
    /// The process exited abnormally; the host may restart it (see `exit_reason`).
    Exited,
}

/// A provider instance on one host.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProviderState {
    /// Provider public key (V...).
    pub public_key: String,
    /// Link name it serves.
    pub link_name: String,
    /// Contract id (`""` while unknown).
    pub contract_id: String,
    /// Name from its claims (`""` while unknown).
    pub name: String,
    /// Reference it was started from (`""` while unknown).
    pub image_ref: String,
    /// Instance id (`""` from hosts that do not report it).
    pub instance_id: String,
    /// Annotations given at start.
    pub annotations: SortedMap,
    /// Claims revision.
    pub revision: i32,
    /// Health.
    pub health: ProviderHealth,
    /// Why the process exited, when `health` is `exited`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_reason: Option<String>,
}

/// The claims of an actor or provider, normalised from `get.claims` maps and event claims.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClaimsState {
    /// Subject: the actor's or provider's public key.
    pub public_key: String,
    /// Account that signed the claims (A...).
    pub issuer: String,
    /// Name.
    pub name: String,
    /// Call alias (`""` if none).
    pub call_alias: String,
    /// Capability contracts an actor may call.
    pub caps: Vec<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Revision.
    pub revision: i32,
    /// Human-readable version (`""` if none).
    pub version: String,
    /// A provider's contract id (`""` for actors or when unknown).
    pub contract_id: String,
}
