//! The observer's state machine: lattice events, ping replies, inventories, links and claims in;
//! the lattice picture and numbered changes out. Pure: no I/O, no clock (every input carries the
//! time it was received), so recorded sequences replay exactly.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::Duration;

use serde_json::Value;
use wasmhost_protocol::ctl::{HostInventory, HostPing, StringMap};
use wasmhost_protocol::events::{self, CloudEvent};
use wasmhost_protocol::rpc::LinkDefinition;

use super::change::{ChangeEvent, HostGone, LatticeChange};
use super::model::{
    ActorState, ClaimsState, HostState, InstanceState, LatticeSnapshot, ProviderHealth,
    ProviderState, SortedMap,
};

/// How long what an event said wins over a heartbeat or inventory that disagrees: such a report
/// may have been taken just before the event (a host builds a heartbeat, then publishes it).
const EVENT_GRACE_MS: u64 = 2_000;
/// Heartbeat gaps remembered per host to learn its interval.
const GAPS_KEPT: usize = 8;
/// Gaps needed before the learnt interval replaces the assumed one.
const GAPS_TO_LEARN: usize = 2;

/// When a silent host counts as gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiryPolicy {
    /// A host is gone after this many heartbeat intervals without a word (default 3).
    pub missed_heartbeats: u32,
    /// Every host's interval, when known in advance. `None` (the default): learnt per host from the
    /// gaps between its heartbeats (the longest of the last 8), `assumed_interval` until then.
    pub heartbeat_interval: Option<Duration>,
    /// Interval assumed for a host until two gaps were seen (default 30 s, the 0.5x hosts' interval).
    pub assumed_interval: Duration,
    /// A learnt interval is never taken as shorter than this (default 1 s): the extra heartbeats a
    /// host sends after every `ping.hosts` make some gaps short.
    pub min_interval: Duration,
}

impl Default for ExpiryPolicy {
    fn default() -> Self {
        ExpiryPolicy {
            missed_heartbeats: 3,
            heartbeat_interval: None,
            assumed_interval: Duration::from_secs(30),
            min_interval: Duration::from_secs(1),
        }
    }
}

/// The lattice picture and how it changes. Feed it what the lattice says, in the order received,
/// with the receive time in unix milliseconds; every `apply_*` returns the changes it made.
#[derive(Debug, Clone)]
pub struct ObserverState {
    lattice: String,
    expiry: ExpiryPolicy,
    hosts: BTreeMap<String, HostEntry>,
    links: BTreeMap<LinkKey, LinkEntry>,
    claims: BTreeMap<String, ClaimsState>,
    wants_inventory: BTreeSet<String>,
    seq: u64,
}

type LinkKey = (String, String, String);

#[derive(Debug, Clone)]
struct LinkEntry {
    link: LinkDefinition,
    /// Set by an event at this time (a seed list that lacks it does not delete it within the grace).
    event_ms: Option<u64>,
}

#[derive(Debug, Clone, Default)]
struct HostEntry {
    info: HostState,
    actors: BTreeMap<String, ActorEntry>,
    providers: BTreeMap<(String, String), ProviderEntry>,
    last_heartbeat_ms: Option<u64>,
    gaps: VecDeque<u64>,
    /// Instances an event stopped, by id, with the time: a late report must not bring them back.
    stopped_instances: HashMap<String, u64>,
    /// Providers an event stopped, with the time.
    stopped_providers: HashMap<(String, String), u64>,
}

#[derive(Debug, Clone, Default)]
struct ActorEntry {
    public_key: String,
    name: String,
    image_ref: String,
    revision: i32,
    instances: Vec<InstanceEntry>,
}

#[derive(Debug, Clone, Default)]
struct InstanceEntry {
    state: InstanceState,
    /// Started by an event at this time.
    event_ms: Option<u64>,
}

#[derive(Debug, Clone, Default)]
struct ProviderEntry {
    state: ProviderState,
    event_ms: Option<u64>,
}

/// An actor as a heartbeat or an inventory reports it.
struct ReportedActor {
    public_key: String,
    name: Option<String>,
    image_ref: Option<String>,
    instances: ReportedInstances,
}

enum ReportedInstances {
    /// One entry per instance (v0.59 heartbeats, inventories).
    Listed(Vec<ReportedInstance>),
    /// A count only (v0.60+ heartbeats).
    Counted(usize),
}

struct ReportedInstance {
    instance_id: String,
    annotations: Option<SortedMap>,
    revision: Option<i32>,
}

/// A provider as a heartbeat or an inventory reports it.
struct ReportedProvider {
    public_key: String,
    link_name: String,
    contract_id: String,
    instance_id: String,
    details: Option<ProviderDetails>,
}

struct ProviderDetails {
    name: String,
    image_ref: String,
    annotations: SortedMap,
    revision: i32,
}

impl ObserverState {
    /// An empty picture of `lattice`.
    pub fn new(lattice: impl Into<String>, expiry: ExpiryPolicy) -> Self {
        ObserverState {
            lattice: lattice.into(),
            expiry,
            hosts: BTreeMap::new(),
            links: BTreeMap::new(),
            claims: BTreeMap::new(),
            wants_inventory: BTreeSet::new(),
            seq: 0,
        }
    }

    /// Sequence number of the last change made (0 before any).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The whole picture now.
    pub fn snapshot(&self) -> LatticeSnapshot {
        LatticeSnapshot {
            lattice: self.lattice.clone(),
            seq: self.seq,
            hosts: self.hosts.values().map(host_state).collect(),
            links: self.links.values().map(|l| l.link.clone()).collect(),
            claims: self.claims.values().cloned().collect(),
        }
    }

    /// Hosts whose inventory would fill gaps (first heard of through an event or heartbeat, or
    /// reporting actors or providers without details); the caller fetches `get.{host}.inv` and
    /// passes it to [`ObserverState::apply_inventory`]. Each host is returned once per need.
    pub fn take_inventory_requests(&mut self) -> Vec<String> {
        std::mem::take(&mut self.wants_inventory)
            .into_iter()
            .filter(|h| self.hosts.contains_key(h))
            .collect()
    }

    /// One CloudEvent from `wasmbus.evt.{lattice}` (LATTICE.md §2.2, heartbeats §2.4, both the
    /// v0.59 and v0.60 heartbeat shapes). Unknown types and malformed data change nothing.
    pub fn apply_event(&mut self, event: &CloudEvent, now_ms: u64) -> Vec<ChangeEvent> {
        let mut out = Vec::new();
        let data = &event.data;
        let source = event.source.as_str();
        let from_host = !source.is_empty() && source != "n/a";
        match event.short_type() {
            events::HOST_STARTED if from_host => self.host_started(source, data, now_ms, &mut out),
            events::HOST_STOPPED if from_host && self.hosts.remove(source).is_some() => {
                out.push(LatticeChange::HostRemoved {
                    host_id: source.to_string(),
                    reason: HostGone::Stopped,
                });
            }
            events::HOST_HEARTBEAT if from_host => self.heartbeat(source, data, now_ms, &mut out),
            events::ACTOR_STARTED if from_host => {
                self.actor_started(source, data, now_ms, &mut out)
            }
            events::ACTOR_STOPPED if from_host => {
                self.actor_stopped(source, data, now_ms, &mut out)
            }
            events::ACTOR_START_FAILED if from_host => {
                self.touch(source, now_ms, &mut out);
                out.push(LatticeChange::ActorStartFailed {
                    host_id: source.into(),
                    actor_ref: text(data, "actor_ref"),
                    error: text(data, "error"),
                });
            }
            events::ACTOR_UPDATED if from_host => {
                self.actor_updated(source, data, now_ms, &mut out)
            }
            events::ACTOR_UPDATE_FAILED if from_host => {
                self.touch(source, now_ms, &mut out);
                out.push(LatticeChange::ActorUpdateFailed {
                    host_id: source.into(),
                    public_key: text(data, "public_key"),
                    revision: int(data, "revision"),
                    reason: text(data, "reason"),
                });
            }
            events::PROVIDER_STARTED if from_host => {
                self.provider_started(source, data, now_ms, &mut out)
            }
            events::PROVIDER_STOPPED if from_host => {
                self.provider_stopped(source, data, now_ms, &mut out)
            }
            events::PROVIDER_START_FAILED if from_host => {
                self.touch(source, now_ms, &mut out);
                out.push(LatticeChange::ProviderStartFailed {
                    host_id: source.into(),
                    provider_ref: text(data, "provider_ref"),
                    link_name: text(data, "link_name"),
                    error: text(data, "error"),
                });
            }
            kind @ (events::HEALTH_CHECK_PASSED | events::HEALTH_CHECK_FAILED) if from_host => {
                let health = if kind == events::HEALTH_CHECK_PASSED {
                    ProviderHealth::Healthy
                } else {
                    ProviderHealth::Unhealthy
                };
                self.provider_health(source, data, health, now_ms, &mut out);
            }
            events::LINKDEF_SET => {
                if let Ok(link) = serde_json::from_value::<LinkDefinition>(data.clone()) {
                    self.put_link(link, Some(now_ms), &mut out);
                }
            }
            events::LINKDEF_DELETED => {
                let key = (
                    text(data, "actor_id"),
                    text(data, "contract_id"),
                    text(data, "link_name"),
                );
                if self.links.remove(&key).is_some() {
                    out.push(LatticeChange::LinkDeleted {
                        actor_id: key.0,
                        contract_id: key.1,
                        link_name: key.2,
                    });
                }
            }
            _ => {}
        }
        self.number(out)
    }

    /// One host's reply to `ping.hosts`.
    pub fn apply_ping(&mut self, ping: &HostPing, now_ms: u64) -> Vec<ChangeEvent> {
        let mut out = Vec::new();
        if !ping.id.is_empty() {
            let labels: SortedMap = ping.labels.clone().into_iter().collect();
            self.update_host(&ping.id, now_ms, &mut out, |info| {
                info.friendly_name = ping.friendly_name.clone();
                info.labels = labels;
                if !ping.issuer.is_empty() {
                    info.issuer = ping.issuer.clone();
                }
                if !ping.version.is_empty() {
                    info.version = ping.version.clone();
                }
                info.uptime_seconds = ping.uptime_seconds;
                info.uptime_human = ping.uptime_human.clone();
            });
        }
        self.number(out)
    }

    /// A host's `get.{host}.inv` reply: its actors and providers as they are now.
    pub fn apply_inventory(&mut self, inventory: &HostInventory, now_ms: u64) -> Vec<ChangeEvent> {
        let mut out = Vec::new();
        let host_id = inventory.host_id.as_str();
        if host_id.is_empty() {
            return Vec::new();
        }
        let labels: SortedMap = inventory.labels.clone().into_iter().collect();
        self.update_host(host_id, now_ms, &mut out, |info| {
            if !inventory.friendly_name.is_empty() {
                info.friendly_name = inventory.friendly_name.clone();
            }
            if !labels.is_empty() {
                info.labels = labels;
            }
            if !inventory.issuer.is_empty() {
                info.issuer = inventory.issuer.clone();
            }
        });
        let actors = inventory
            .actors
            .iter()
            .map(|a| ReportedActor {
                public_key: a.id.clone(),
                name: Some(known(a.name.as_deref().unwrap_or(""))),
                image_ref: Some(known(a.image_ref.as_deref().unwrap_or(""))),
                instances: ReportedInstances::Listed(
                    a.instances
                        .iter()
                        .map(|i| ReportedInstance {
                            instance_id: i.instance_id.clone(),
                            annotations: Some(i.annotations.clone().into_iter().collect()),
                            revision: Some(i.revision),
                        })
                        .collect(),
                ),
            })
            .collect();
        self.reconcile_actors(host_id, actors, now_ms, &mut out);
        let providers = inventory
            .providers
            .iter()
            .map(|p| ReportedProvider {
                public_key: p.id.clone(),
                link_name: p.link_name.clone(),
                contract_id: p.contract_id.clone().unwrap_or_default(),
                instance_id: p.instance_id.clone(),
                details: Some(ProviderDetails {
                    name: known(p.name.as_deref().unwrap_or("")),
                    image_ref: known(p.image_ref.as_deref().unwrap_or("")),
                    annotations: p.annotations.clone().into_iter().collect(),
                    revision: p.revision,
                }),
            })
            .collect();
        self.reconcile_providers(host_id, providers, now_ms, &mut out);
        self.wants_inventory.remove(host_id);
        self.number(out)
    }

    /// The `get.links` reply: every link of the lattice. Links it lacks are deleted, unless an
    /// event set them moments ago.
    pub fn apply_links(&mut self, links: &[LinkDefinition], now_ms: u64) -> Vec<ChangeEvent> {
        let mut out = Vec::new();
        let listed: BTreeSet<LinkKey> = links.iter().map(link_key).collect();
        let stale: Vec<LinkKey> = self
            .links
            .iter()
            .filter(|(key, entry)| !listed.contains(*key) && !within_grace(entry.event_ms, now_ms))
            .map(|(key, _)| key.clone())
            .collect();
        for key in stale {
            self.links.remove(&key);
            out.push(LatticeChange::LinkDeleted {
                actor_id: key.0,
                contract_id: key.1,
                link_name: key.2,
            });
        }
        for link in links {
            self.put_link(link.clone(), None, &mut out);
        }
        self.number(out)
    }

    /// The `get.claims` reply: flat string maps (LATTICE.md §1.5).
    pub fn apply_claims(&mut self, claims: &[StringMap]) -> Vec<ChangeEvent> {
        let mut out = Vec::new();
        for map in claims {
            if let Some(claims) = claims_from_map(map) {
                self.set_claims(claims, &mut out);
            }
        }
        self.number(out)
    }

    /// Claims already in normalised form (an embedded host's own).
    pub fn apply_claims_states(&mut self, claims: Vec<ClaimsState>) -> Vec<ChangeEvent> {
        let mut out = Vec::new();
        for claims in claims {
            self.set_claims(claims, &mut out);
        }
        self.number(out)
    }

    /// Removes the hosts that missed their heartbeats as of `now_ms`.
    pub fn expire(&mut self, now_ms: u64) -> Vec<ChangeEvent> {
        let gone: Vec<String> = self
            .hosts
            .iter()
            .filter(|(_, h)| now_ms > h.info.last_seen_ms.saturating_add(self.expiry_ms(h)))
            .map(|(id, _)| id.clone())
            .collect();
        let mut out = Vec::new();
        for host_id in gone {
            self.hosts.remove(&host_id);
            out.push(LatticeChange::HostRemoved {
                host_id,
                reason: HostGone::Expired,
            });
        }
        self.number(out)
    }

    /// How long `host_id` may stay silent before [`ObserverState::expire`] removes it.
    pub fn expiry_after(&self, host_id: &str) -> Option<Duration> {
        self.hosts
            .get(host_id)
            .map(|h| Duration::from_millis(self.expiry_ms(h)))
    }

    fn expiry_ms(&self, host: &HostEntry) -> u64 {
        let min = self.expiry.min_interval.as_millis() as u64;
        let interval = match self.expiry.heartbeat_interval {
            Some(fixed) => fixed.as_millis() as u64,
            None => {
                let longest = host.gaps.iter().copied().max().unwrap_or(0);
                if host.gaps.len() >= GAPS_TO_LEARN {
                    longest.max(min)
                } else {
                    longest
                        .max(self.expiry.assumed_interval.as_millis() as u64)
                        .max(min)
                }
            }
        };
        interval.saturating_mul(u64::from(self.expiry.missed_heartbeats.max(1)))
    }

    fn number(&mut self, changes: Vec<LatticeChange>) -> Vec<ChangeEvent> {
        changes
            .into_iter()
            .map(|change| {
                self.seq += 1;
                ChangeEvent {
                    seq: self.seq,
                    change,
                }
            })
            .collect()
    }

    /// The host, created (and its inventory wanted) if this is the first word from it.
    fn touch(
        &mut self,
        host_id: &str,
        now_ms: u64,
        out: &mut Vec<LatticeChange>,
    ) -> &mut HostEntry {
        if !self.hosts.contains_key(host_id) {
            let entry = HostEntry {
                info: HostState {
                    id: host_id.to_string(),
                    last_seen_ms: now_ms,
                    ..Default::default()
                },
                ..Default::default()
            };
            out.push(LatticeChange::HostAdded {
                host: host_state(&entry),
            });
            self.hosts.insert(host_id.to_string(), entry);
            self.wants_inventory.insert(host_id.to_string());
        }
        let host = self.hosts.get_mut(host_id).expect("inserted above");
        host.info.last_seen_ms = host.info.last_seen_ms.max(now_ms);
        host
    }

    /// Applies `update` to the host's details; `HostUpdated` if they changed (`HostAdded` if new).
    fn update_host(
        &mut self,
        host_id: &str,
        now_ms: u64,
        out: &mut Vec<LatticeChange>,
        update: impl FnOnce(&mut HostState),
    ) {
        let is_new = !self.hosts.contains_key(host_id);
        let mut added = Vec::new();
        let host = self.touch(host_id, now_ms, &mut added);
        let before = host.info.clone();
        update(&mut host.info);
        let changed = details_differ(&before, &host.info);
        let state = host_state(host);
        if is_new {
            out.push(LatticeChange::HostAdded { host: state });
        } else if changed {
            out.push(LatticeChange::HostUpdated { host: state });
        }
    }

    fn host_started(
        &mut self,
        host_id: &str,
        data: &Value,
        now_ms: u64,
        out: &mut Vec<LatticeChange>,
    ) {
        // A restart under the same key begins empty.
        if let Some(host) = self.hosts.get_mut(host_id) {
            host.actors.clear();
            host.providers.clear();
        }
        let labels = map(data, "labels");
        let name = text(data, "friendly_name");
        let version = text(data, "version");
        let uptime = data.get("uptime_seconds").and_then(Value::as_u64);
        self.update_host(host_id, now_ms, out, |info| {
            info.labels = labels;
            info.friendly_name = name;
            if !version.is_empty() {
                info.version = version;
            }
            info.uptime_seconds = uptime.unwrap_or(0);
        });
    }

    fn heartbeat(
        &mut self,
        host_id: &str,
        data: &Value,
        now_ms: u64,
        out: &mut Vec<LatticeChange>,
    ) {
        let labels = map(data, "labels");
        let name = text(data, "friendly_name");
        let version = text(data, "version");
        let uptime = data
            .get("uptime_seconds")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let uptime_human = text(data, "uptime_human");
        self.update_host(host_id, now_ms, out, |info| {
            if !labels.is_empty() {
                info.labels = labels;
            }
            if !name.is_empty() {
                info.friendly_name = name;
            }
            if !version.is_empty() {
                info.version = version;
            }
            info.uptime_seconds = uptime;
            info.uptime_human = uptime_human;
        });
        let host = self.hosts.get_mut(host_id).expect("updated above");
        if let Some(previous) = host.last_heartbeat_ms.replace(now_ms) {
            host.gaps.push_back(now_ms.saturating_sub(previous));
            if host.gaps.len() > GAPS_KEPT {
                host.gaps.pop_front();
            }
        }
        if let Some(actors) = heartbeat_actors(data.get("actors")) {
            self.reconcile_actors(host_id, actors, now_ms, out);
        }
        if let Some(Value::Array(list)) = data.get("providers") {
            let providers = list
                .iter()
                .map(|p| ReportedProvider {
                    public_key: text(p, "public_key"),
                    link_name: text(p, "link_name"),
                    contract_id: text(p, "contract_id"),
                    instance_id: text(p, "instance_id"),
                    details: None,
                })
                .filter(|p| !p.public_key.is_empty())
                .collect();
            self.reconcile_providers(host_id, providers, now_ms, out);
        }
        out.push(LatticeChange::HostSeen {
            host_id: host_id.to_string(),
            uptime_seconds: uptime,
            last_seen_ms: now_ms,
        });
    }

    fn actor_started(
        &mut self,
        host_id: &str,
        data: &Value,
        now_ms: u64,
        out: &mut Vec<LatticeChange>,
    ) {
        let public_key = text(data, "public_key");
        if public_key.is_empty() {
            return;
        }
        let claims = data.get("claims").cloned().unwrap_or(Value::Null);
        let revision = int(&claims, "revision");
        let instance = InstanceState {
            instance_id: text(data, "instance_id"),
            annotations: map(data, "annotations"),
            revision,
        };
        let image_ref = text(data, "image_ref");
        let name = text(&claims, "name");
        let host = self.touch(host_id, now_ms, out);
        host.stopped_instances.remove(&instance.instance_id);
        let actor = host
            .actors
            .entry(public_key.clone())
            .or_insert_with(|| ActorEntry {
                public_key: public_key.clone(),
                ..Default::default()
            });
        let previous = actor.instances.len();
        actor.image_ref = image_ref;
        if !name.is_empty() {
            actor.name = name;
        }
        actor.revision = revision;
        match actor.instances.iter_mut().find(|i| {
            !i.state.instance_id.is_empty() && i.state.instance_id == instance.instance_id
        }) {
            // Already reported by a heartbeat taken just before this event: now with details.
            Some(known) => {
                *known = InstanceEntry {
                    state: instance,
                    event_ms: Some(now_ms),
                }
            }
            None => actor.instances.push(InstanceEntry {
                state: instance,
                event_ms: Some(now_ms),
            }),
        }
        let change = scaled(host_id, actor, previous);
        out.extend(change);
        if claims.is_object() {
            let claims = ClaimsState {
                public_key: public_key.clone(),
                issuer: text(&claims, "issuer"),
                name: text(&claims, "name"),
                call_alias: text(&claims, "call_alias"),
                caps: list(&claims, "caps"),
                tags: list(&claims, "tags"),
                revision,
                version: text(&claims, "version"),
                contract_id: String::new(),
            };
            self.set_claims(claims, out);
        }
    }

    fn actor_stopped(
        &mut self,
        host_id: &str,
        data: &Value,
        now_ms: u64,
        out: &mut Vec<LatticeChange>,
    ) {
        let public_key = text(data, "public_key");
        let instance_id = text(data, "instance_id");
        let host = self.touch(host_id, now_ms, out);
        if !instance_id.is_empty() {
            host.stopped_instances.insert(instance_id.clone(), now_ms);
        }
        let Some(actor) = host.actors.get_mut(&public_key) else {
            return;
        };
        let previous = actor.instances.len();
        let position = actor
            .instances
            .iter()
            .position(|i| i.state.instance_id == instance_id)
            // Hosts that report counts only: any instance without an id.
            .or_else(|| {
                actor
                    .instances
                    .iter()
                    .position(|i| i.state.instance_id.is_empty())
            });
        if let Some(position) = position {
            actor.instances.remove(position);
        }
        let change = scaled(host_id, actor, previous);
        if actor.instances.is_empty() {
            host.actors.remove(&public_key);
        }
        out.extend(change);
    }

    fn actor_updated(
        &mut self,
        host_id: &str,
        data: &Value,
        now_ms: u64,
        out: &mut Vec<LatticeChange>,
    ) {
        let public_key = text(data, "public_key");
        let revision = int(data, "revision");
        let instance_id = text(data, "instance_id");
        let host = self.touch(host_id, now_ms, out);
        let Some(actor) = host.actors.get_mut(&public_key) else {
            return;
        };
        for instance in actor
            .instances
            .iter_mut()
            .filter(|i| i.state.instance_id == instance_id || i.state.instance_id.is_empty())
        {
            instance.state.revision = revision;
        }
        // One change per actor and revision, though the host sends one event per instance.
        if actor.revision != revision {
            actor.revision = revision;
            // The update may have come from another reference, which only the inventory tells.
            self.wants_inventory.insert(host_id.to_string());
            out.push(LatticeChange::ActorUpdated {
                host_id: host_id.into(),
                public_key: public_key.clone(),
                revision,
            });
            if let Some(mut claims) = self.claims.get(&public_key).cloned() {
                claims.revision = revision;
                self.set_claims(claims, out);
            }
        }
    }

    fn provider_started(
        &mut self,
        host_id: &str,
        data: &Value,
        now_ms: u64,
        out: &mut Vec<LatticeChange>,
    ) {
        let public_key = text(data, "public_key");
        let link_name = text(data, "link_name");
        if public_key.is_empty() {
            return;
        }
        let claims = data.get("claims").cloned().unwrap_or(Value::Null);
        let contract_id = text(data, "contract_id");
        let key = (public_key.clone(), link_name.clone());
        let revision = self.claims.get(&public_key).map_or(0, |c| c.revision);
        let provider = ProviderState {
            public_key: public_key.clone(),
            link_name,
            contract_id: contract_id.clone(),
            name: text(&claims, "name"),
            image_ref: text(data, "image_ref"),
            instance_id: text(data, "instance_id"),
            annotations: map(data, "annotations"),
            revision,
            health: ProviderHealth::Unknown,
            exit_reason: None,
        };
        let host = self.touch(host_id, now_ms, out);
        host.stopped_providers.remove(&key);
        host.providers.insert(
            key,
            ProviderEntry {
                state: provider.clone(),
                event_ms: Some(now_ms),
            },
        );
        out.push(LatticeChange::ProviderAdded {
            host_id: host_id.into(),
            provider,
        });
        if claims.is_object() {
            let claims = ClaimsState {
                public_key,
                issuer: text(&claims, "issuer"),
                name: text(&claims, "name"),
                tags: list(&claims, "tags"),
                revision,
                version: text(&claims, "version"),
                contract_id,
                ..Default::default()
            };
            self.set_claims(claims, out);
        }
    }

    fn provider_stopped(
        &mut self,
        host_id: &str,
        data: &Value,
        now_ms: u64,
        out: &mut Vec<LatticeChange>,
    ) {
        let key = (text(data, "public_key"), text(data, "link_name"));
        let reason = text(data, "reason");
        let host = self.touch(host_id, now_ms, out);
        let (public_key, link_name) = key.clone();
        if reason.is_empty() || reason == "normal" {
            host.stopped_providers.insert(key.clone(), now_ms);
            if host.providers.remove(&key).is_some() {
                out.push(LatticeChange::ProviderRemoved {
                    host_id: host_id.into(),
                    public_key,
                    link_name,
                    reason: "normal".into(),
                });
            }
            return;
        }
        // An abnormal exit: the host may restart it (ours does); a heartbeat without it removes it.
        if let Some(provider) = host.providers.get_mut(&key) {
            provider.state.health = ProviderHealth::Exited;
            provider.state.exit_reason = Some(reason.clone());
            provider.event_ms = Some(now_ms);
            out.push(LatticeChange::ProviderHealthChanged {
                host_id: host_id.into(),
                public_key,
                link_name,
                health: ProviderHealth::Exited,
                exit_reason: Some(reason),
            });
        }
    }

    fn provider_health(
        &mut self,
        host_id: &str,
        data: &Value,
        health: ProviderHealth,
        now_ms: u64,
        out: &mut Vec<LatticeChange>,
    ) {
        let key = (text(data, "public_key"), text(data, "link_name"));
        let host = self.touch(host_id, now_ms, out);
        match host.providers.get_mut(&key) {
            Some(provider) if provider.state.health != health => {
                provider.state.health = health;
                provider.state.exit_reason = None;
                out.push(LatticeChange::ProviderHealthChanged {
                    host_id: host_id.into(),
                    public_key: key.0,
                    link_name: key.1,
                    health,
                    exit_reason: None,
                });
            }
            Some(_) => {}
            None => {
                self.wants_inventory.insert(host_id.to_string());
            }
        }
    }

    fn put_link(
        &mut self,
        link: LinkDefinition,
        event_ms: Option<u64>,
        out: &mut Vec<LatticeChange>,
    ) {
        if link.actor_id.is_empty() || link.contract_id.is_empty() || link.link_name.is_empty() {
            return;
        }
        let key = link_key(&link);
        let changed = self.links.get(&key).is_none_or(|old| old.link != link);
        let event_ms = event_ms.or_else(|| self.links.get(&key).and_then(|old| old.event_ms));
        self.links.insert(
            key,
            LinkEntry {
                link: link.clone(),
                event_ms,
            },
        );
        if changed {
            out.push(LatticeChange::LinkSet { link });
        }
    }

    fn set_claims(&mut self, claims: ClaimsState, out: &mut Vec<LatticeChange>) {
        if claims.public_key.is_empty() {
            return;
        }
        let merged = match self.claims.get(&claims.public_key) {
            Some(old) => merge_claims(old, claims),
            None => claims,
        };
        if self.claims.get(&merged.public_key) != Some(&merged) {
            self.claims
                .insert(merged.public_key.clone(), merged.clone());
            out.push(LatticeChange::ClaimsSet { claims: merged });
        }
    }

    fn reconcile_actors(
        &mut self,
        host_id: &str,
        reported: Vec<ReportedActor>,
        now_ms: u64,
        out: &mut Vec<LatticeChange>,
    ) {
        let mut needs_inventory = false;
        let host = self
            .hosts
            .get_mut(host_id)
            .expect("the caller touched the host");
        host.stopped_instances
            .retain(|_, at| within_grace(Some(*at), now_ms));
        let reported_keys: BTreeSet<&str> =
            reported.iter().map(|a| a.public_key.as_str()).collect();
        // Actors the report lacks lose the instances no recent event vouches for.
        let absent: Vec<String> = host
            .actors
            .keys()
            .filter(|k| !reported_keys.contains(k.as_str()))
            .cloned()
            .collect();
        for public_key in absent {
            let actor = host.actors.get_mut(&public_key).expect("listed above");
            let previous = actor.instances.len();
            actor.instances.retain(|i| within_grace(i.event_ms, now_ms));
            out.extend(scaled(host_id, actor, previous));
            if actor.instances.is_empty() {
                host.actors.remove(&public_key);
            }
        }
        for report in reported {
            if report.public_key.is_empty() {
                continue;
            }
            let is_new = !host.actors.contains_key(&report.public_key);
            let actor = host
                .actors
                .entry(report.public_key.clone())
                .or_insert_with(|| ActorEntry {
                    public_key: report.public_key.clone(),
                    ..Default::default()
                });
            let previous = if is_new { 0 } else { actor.instances.len() };
            let details_before = (actor.name.clone(), actor.image_ref.clone());
            if let Some(name) = report.name.filter(|n| !n.is_empty()) {
                actor.name = name;
            }
            if let Some(image_ref) = report.image_ref.filter(|r| !r.is_empty()) {
                actor.image_ref = image_ref;
            }
            match report.instances {
                ReportedInstances::Listed(listed) => {
                    let ids: BTreeSet<&str> =
                        listed.iter().map(|i| i.instance_id.as_str()).collect();
                    actor.instances.retain(|i| {
                        ids.contains(i.state.instance_id.as_str())
                            || within_grace(i.event_ms, now_ms)
                    });
                    for reported in listed {
                        if host.stopped_instances.contains_key(&reported.instance_id) {
                            continue;
                        }
                        match actor
                            .instances
                            .iter_mut()
                            .find(|i| i.state.instance_id == reported.instance_id)
                        {
                            Some(known) => {
                                if let Some(annotations) = reported.annotations {
                                    known.state.annotations = annotations;
                                }
                                if let Some(revision) = reported.revision {
                                    known.state.revision = revision;
                                }
                            }
                            None => actor.instances.push(InstanceEntry {
                                state: InstanceState {
                                    instance_id: reported.instance_id,
                                    annotations: reported.annotations.unwrap_or_default(),
                                    revision: reported.revision.unwrap_or(actor.revision),
                                },
                                event_ms: None,
                            }),
                        }
                    }
                }
                ReportedInstances::Counted(count) => {
                    while actor.instances.len() > count {
                        match actor
                            .instances
                            .iter()
                            .rposition(|i| !within_grace(i.event_ms, now_ms))
                        {
                            Some(position) => {
                                actor.instances.remove(position);
                            }
                            None => break,
                        }
                    }
                    while actor.instances.len() < count {
                        actor.instances.push(InstanceEntry {
                            state: InstanceState {
                                revision: actor.revision,
                                ..Default::default()
                            },
                            event_ms: None,
                        });
                    }
                }
            }
            if let Some(revision) = actor.instances.iter().map(|i| i.state.revision).max() {
                actor.revision = revision;
            }
            needs_inventory |= actor.name.is_empty() && actor.image_ref.is_empty();
            if is_new {
                if actor.instances.is_empty() {
                    host.actors.remove(&report.public_key);
                } else {
                    out.push(LatticeChange::ActorAdded {
                        host_id: host_id.into(),
                        actor: actor_state(actor),
                    });
                }
                continue;
            }
            if details_before != (actor.name.clone(), actor.image_ref.clone()) {
                out.push(LatticeChange::ActorChanged {
                    host_id: host_id.into(),
                    actor: actor_state(actor),
                });
            }
            out.extend(scaled(host_id, actor, previous));
            if actor.instances.is_empty() {
                host.actors.remove(&report.public_key);
            }
        }
        if needs_inventory {
            self.wants_inventory.insert(host_id.to_string());
        }
    }

    fn reconcile_providers(
        &mut self,
        host_id: &str,
        reported: Vec<ReportedProvider>,
        now_ms: u64,
        out: &mut Vec<LatticeChange>,
    ) {
        let mut needs_inventory = false;
        let host = self
            .hosts
            .get_mut(host_id)
            .expect("the caller touched the host");
        host.stopped_providers
            .retain(|_, at| within_grace(Some(*at), now_ms));
        let keys: BTreeSet<(String, String)> = reported
            .iter()
            .map(|p| (p.public_key.clone(), p.link_name.clone()))
            .collect();
        let absent: Vec<(String, String)> = host
            .providers
            .iter()
            .filter(|(k, p)| !keys.contains(*k) && !within_grace(p.event_ms, now_ms))
            .map(|(k, _)| k.clone())
            .collect();
        for key in absent {
            let reason = host
                .providers
                .remove(&key)
                .and_then(|p| p.state.exit_reason)
                .unwrap_or_else(|| "no longer reported by its host".to_string());
            out.push(LatticeChange::ProviderRemoved {
                host_id: host_id.into(),
                public_key: key.0,
                link_name: key.1,
                reason,
            });
        }
        for report in reported {
            let key = (report.public_key.clone(), report.link_name.clone());
            if host.stopped_providers.contains_key(&key) {
                continue;
            }
            match host.providers.get_mut(&key) {
                Some(known) => {
                    if !report.contract_id.is_empty() {
                        known.state.contract_id = report.contract_id;
                    }
                    if !report.instance_id.is_empty() {
                        known.state.instance_id = report.instance_id;
                    }
                    if let Some(details) = report.details {
                        apply_provider_details(&mut known.state, details);
                    }
                }
                None => {
                    let mut state = ProviderState {
                        public_key: report.public_key,
                        link_name: report.link_name,
                        contract_id: report.contract_id,
                        instance_id: report.instance_id,
                        ..Default::default()
                    };
                    match report.details {
                        Some(details) => apply_provider_details(&mut state, details),
                        None => needs_inventory = true,
                    }
                    host.providers.insert(
                        key,
                        ProviderEntry {
                            state: state.clone(),
                            event_ms: None,
                        },
                    );
                    out.push(LatticeChange::ProviderAdded {
                        host_id: host_id.into(),
                        provider: state,
                    });
                }
            }
        }
        if needs_inventory {
            self.wants_inventory.insert(host_id.to_string());
        }
    }
}

fn apply_provider_details(state: &mut ProviderState, details: ProviderDetails) {
    if !details.name.is_empty() {
        state.name = details.name;
    }
    if !details.image_ref.is_empty() {
        state.image_ref = details.image_ref;
    }
    state.annotations = details.annotations;
    state.revision = details.revision;
}

/// `ActorScaled` (or `ActorRemoved` / `ActorAdded`) for a count that went from `previous`.
fn scaled(host_id: &str, actor: &ActorEntry, previous: usize) -> Option<LatticeChange> {
    let now = actor.instances.len();
    match (previous, now) {
        (p, n) if p == n => None,
        (0, _) => Some(LatticeChange::ActorAdded {
            host_id: host_id.into(),
            actor: actor_state(actor),
        }),
        (_, 0) => Some(LatticeChange::ActorRemoved {
            host_id: host_id.into(),
            public_key: actor.public_key.clone(),
        }),
        (previous, instances) => Some(LatticeChange::ActorScaled {
            host_id: host_id.into(),
            public_key: actor.public_key.clone(),
            previous,
            instances,
        }),
    }
}

fn actor_state(actor: &ActorEntry) -> ActorState {
    ActorState {
        public_key: actor.public_key.clone(),
        name: actor.name.clone(),
        image_ref: actor.image_ref.clone(),
        revision: actor.revision,
        instances: actor.instances.iter().map(|i| i.state.clone()).collect(),
    }
}

fn host_state(host: &HostEntry) -> HostState {
    HostState {
        actors: host.actors.values().map(actor_state).collect(),
        providers: host.providers.values().map(|p| p.state.clone()).collect(),
        ..host.info.clone()
    }
}

/// Whether what identifies a host to people changed (not uptime or last seen).
fn details_differ(a: &HostState, b: &HostState) -> bool {
    (&a.friendly_name, &a.labels, &a.issuer, &a.version)
        != (&b.friendly_name, &b.labels, &b.issuer, &b.version)
}

fn within_grace(event_ms: Option<u64>, now_ms: u64) -> bool {
    event_ms.is_some_and(|at| now_ms.saturating_sub(at) < EVENT_GRACE_MS)
}

fn link_key(link: &LinkDefinition) -> LinkKey {
    (
        link.actor_id.clone(),
        link.contract_id.clone(),
        link.link_name.clone(),
    )
}

/// The actors of a heartbeat: a list of `{public_key, instance_id}` (v0.55–v0.59) or a map
/// `public_key → count` (v0.60+).
fn heartbeat_actors(value: Option<&Value>) -> Option<Vec<ReportedActor>> {
    match value? {
        Value::Array(entries) => {
            let mut by_key: BTreeMap<String, Vec<ReportedInstance>> = BTreeMap::new();
            for entry in entries {
                let public_key = text(entry, "public_key");
                if !public_key.is_empty() {
                    by_key
                        .entry(public_key)
                        .or_default()
                        .push(ReportedInstance {
                            instance_id: text(entry, "instance_id"),
                            annotations: None,
                            revision: None,
                        });
                }
            }
            Some(
                by_key
                    .into_iter()
                    .map(|(public_key, listed)| ReportedActor {
                        public_key,
                        name: None,
                        image_ref: None,
                        instances: ReportedInstances::Listed(listed),
                    })
                    .collect(),
            )
        }
        Value::Object(counts) => Some(
            counts
                .iter()
                .map(|(public_key, count)| ReportedActor {
                    public_key: public_key.clone(),
                    name: None,
                    image_ref: None,
                    instances: ReportedInstances::Counted(count.as_u64().unwrap_or(0) as usize),
                })
                .collect(),
        ),
        _ => None,
    }
}

/// A `get.claims` map normalised; `None` without a subject.
fn claims_from_map(map: &StringMap) -> Option<ClaimsState> {
    let get = |k: &str| map.get(k).cloned().unwrap_or_default();
    let split = |k: &str| {
        get(k)
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    };
    let public_key = get("sub");
    if public_key.is_empty() {
        return None;
    }
    Some(ClaimsState {
        public_key,
        issuer: get("iss"),
        name: get("name"),
        call_alias: get("call_alias"),
        caps: split("caps"),
        tags: split("tags"),
        revision: get("rev").trim().parse().unwrap_or(0),
        version: get("version"),
        contract_id: get("contract_id"),
    })
}

/// Newer claims over older ones, keeping what the newer source does not carry.
fn merge_claims(old: &ClaimsState, new: ClaimsState) -> ClaimsState {
    let keep = |new: String, old: &String| if new.is_empty() { old.clone() } else { new };
    ClaimsState {
        issuer: keep(new.issuer, &old.issuer),
        name: keep(new.name, &old.name),
        call_alias: keep(new.call_alias, &old.call_alias),
        caps: if new.caps.is_empty() {
            old.caps.clone()
        } else {
            new.caps
        },
        tags: if new.tags.is_empty() {
            old.tags.clone()
        } else {
            new.tags
        },
        version: keep(new.version, &old.version),
        contract_id: keep(new.contract_id, &old.contract_id),
        revision: new.revision,
        public_key: new.public_key,
    }
}

/// `"n/a"` and `"N/A"` (what hosts write for unknown names and references) as empty.
fn known(value: &str) -> String {
    if value.eq_ignore_ascii_case("n/a") {
        String::new()
    } else {
        value.to_string()
    }
}

/// A string field; `""` when absent, null or not a string.
fn text(data: &Value, key: &str) -> String {
    data.get(key)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn int(data: &Value, key: &str) -> i32 {
    match data.get(key) {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0) as i32,
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

/// A string→string map field; non-string values are skipped.
fn map(data: &Value, key: &str) -> SortedMap {
    match data.get(key) {
        Some(Value::Object(m)) => m
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
            .collect(),
        _ => SortedMap::new(),
    }
}

/// A list of strings, or a comma-joined string.
fn list(data: &Value, key: &str) -> Vec<String> {
    match data.get(key) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        Some(Value::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        _ => Vec::new(),
    }
}
