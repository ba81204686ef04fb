//! Typed changes of the lattice picture: what an observer's subscribers receive.

use serde::{Deserialize, Serialize};
use wasmhost_protocol::rpc::LinkDefinition;

use super::model::{ActorState, ClaimsState, HostState, ProviderHealth, ProviderState};

/// Why a host left the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostGone {
    /// It published `host_stopped`.
    Stopped,
    /// It missed its heartbeats (killed, partitioned, or its NATS connection dropped).
    Expired,
}

/// One change, carrying what changed. A removed host takes its actors and providers with it
/// (no separate removals are sent for them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LatticeChange {
    /// A host appeared (started, or first heard of).
    HostAdded {
        /// The host as known now.
        host: HostState,
    },
    /// A host's name, labels, version or issuer became known or changed.
    HostUpdated {
        /// The host as known now.
        host: HostState,
    },
    /// A heartbeat arrived.
    HostSeen {
        /// Host id.
        host_id: String,
        /// Its uptime.
        uptime_seconds: u64,
        /// When it was heard (unix ms).
        last_seen_ms: u64,
    },
    /// A host stopped or expired.
    HostRemoved {
        /// Host id.
        host_id: String,
        /// Why.
        reason: HostGone,
    },
    /// An actor's first instance appeared on a host.
    ActorAdded {
        /// Host id.
        host_id: String,
        /// The actor with its instances.
        actor: ActorState,
    },
    /// An actor's instance count on a host changed (it still has at least one).
    ActorScaled {
        /// Host id.
        host_id: String,
        /// Actor public key.
        public_key: String,
        /// Count before.
        previous: usize,
        /// Count now.
        instances: usize,
    },
    /// An actor's details became known (name, image reference), e.g. from an inventory.
    ActorChanged {
        /// Host id.
        host_id: String,
        /// The actor as known now.
        actor: ActorState,
    },
    /// An actor was live-updated to a new revision.
    ActorUpdated {
        /// Host id.
        host_id: String,
        /// Actor public key.
        public_key: String,
        /// The new revision.
        revision: i32,
    },
    /// A live update failed; the old revision keeps running.
    ActorUpdateFailed {
        /// Host id.
        host_id: String,
        /// Actor public key.
        public_key: String,
        /// The revision still running.
        revision: i32,
        /// Why, as the host said.
        reason: String,
    },
    /// An actor's last instance on a host stopped.
    ActorRemoved {
        /// Host id.
        host_id: String,
        /// Actor public key.
        public_key: String,
    },
    /// A host could not start an actor.
    ActorStartFailed {
        /// Host id.
        host_id: String,
        /// The reference it was asked to start.
        actor_ref: String,
        /// Why, as the host said.
        error: String,
    },
    /// A provider appeared on a host (or was restarted after an exit).
    ProviderAdded {
        /// Host id.
        host_id: String,
        /// The provider.
        provider: ProviderState,
    },
    /// A provider's health changed (including an abnormal exit).
    ProviderHealthChanged {
        /// Host id.
        host_id: String,
        /// Provider public key.
        public_key: String,
        /// Link name.
        link_name: String,
        /// The new health.
        health: ProviderHealth,
        /// Exit reason when `health` is `exited`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exit_reason: Option<String>,
    },
    /// A provider stopped and is gone from the host.
    ProviderRemoved {
        /// Host id.
        host_id: String,
        /// Provider public key.
        public_key: String,
        /// Link name.
        link_name: String,
        /// Why (`normal` for a requested stop).
        reason: String,
    },
    /// A host could not start a provider.
    ProviderStartFailed {
        /// Host id.
        host_id: String,
        /// The reference it was asked to start.
        provider_ref: String,
        /// Link name.
        link_name: String,
        /// Why, as the host said.
        error: String,
    },
    /// A link definition was put (new or replaced).
    LinkSet {
        /// The link.
        link: LinkDefinition,
    },
    /// A link definition was deleted.
    LinkDeleted {
        /// Actor public key.
        actor_id: String,
        /// Contract id.
        contract_id: String,
        /// Link name.
        link_name: String,
    },
    /// Claims of an actor or provider became known or changed.
    ClaimsSet {
        /// The claims.
        claims: ClaimsState,
    },
}

impl LatticeChange {
    /// The snake_case kind, as in the JSON `kind` field.
    pub fn kind(&self) -> &'static str {
        match self {
            LatticeChange::HostAdded { .. } => "host_added",
            LatticeChange::HostUpdated { .. } => "host_updated",
            LatticeChange::HostSeen { .. } => "host_seen",
            LatticeChange::HostRemoved { .. } => "host_removed",
            LatticeChange::ActorAdded { .. } => "actor_added",
            LatticeChange::ActorScaled { .. } => "actor_scaled",
            LatticeChange::ActorChanged { .. } => "actor_changed",
            LatticeChange::ActorUpdated { .. } => "actor_updated",
            LatticeChange::ActorUpdateFailed { .. } => "actor_update_failed",
            LatticeChange::ActorRemoved { .. } => "actor_removed",
            LatticeChange::ActorStartFailed { .. } => "actor_start_failed",
            LatticeChange::ProviderAdded { .. } => "provider_added",
            LatticeChange::ProviderHealthChanged { .. } => "provider_health_changed",
            LatticeChange::ProviderRemoved { .. } => "provider_removed",
            LatticeChange::ProviderStartFailed { .. } => "provider_start_failed",
            LatticeChange::LinkSet { .. } => "link_set",
            LatticeChange::LinkDeleted { .. } => "link_deleted",
            LatticeChange::ClaimsSet { .. } => "claims_set",
        }
    }
}

/// A change with its place in the observer's sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeEvent {
    /// 1 for the first change, then +1 each: a snapshot with `seq = n` already contains changes 1..=n.
    pub seq: u64,
    /// The change.
    #[serde(flatten)]
    pub change: LatticeChange,
}

impl ChangeEvent {
    /// Compact JSON: `{"seq":..,"kind":..,...}`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }
}
