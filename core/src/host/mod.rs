//! The host: identity, lifecycle, and the modules that hold what it runs.
//!
//! * [`identity`]: host and cluster keys, issuers, labels;
//! * [`sources`]: where modules and archives come from (bytes, files, registries) and which a
//!   lattice request may name;
//! * [`actors`]: start, scale, stop, live update;
//! * [`providers`]: capability provider processes;
//! * [`links`]: link definitions;
//! * [`invoke`] and [`host_calls`]: calls to actors and the resolution of their host calls;
//! * [`lattice_view`]: claims, aliases and refmaps of the whole lattice;
//! * [`report`]: inventory, ping reply, heartbeat;
//! * [`port`]: what a lattice adapter may ask of the host.
//!
//! Only these modules see [`HostInner`]; everything else, the lattice adapter and the
//! control-interface logic included, goes through [`Host`]'s methods or the port.

mod actors;
mod host_calls;
mod identity;
mod invoke;
mod lattice_view;
mod links;
mod port;
pub(crate) mod providers;
mod report;
mod sources;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use nkeys::KeyPair;
use parking_lot::{Mutex, RwLock};
use wasmhost_protocol::claims::ActorClaims;
use wasmhost_protocol::event_data::{EventData, HostStarted, HostStopped};

use crate::actor::engine::ActorEngine;
use crate::capability::{CapabilityHandler, CapabilityRegistry};
use crate::config::HostConfig;
use crate::events::{EventBus, EventStream};
use crate::lattice::LatticeTransport;
use crate::policy::{Policy, PolicyRequest};
use crate::{Error, Result};

pub use actors::ActorInfo;
pub(crate) use actors::RunningActor;
pub use providers::ProviderInfo;
pub use sources::{ActorSource, ArtifactSource, ProviderSource};

/// Version reported in pings, heartbeats and `wasmhost_version()`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// An embeddable lattice host. Cheap to clone: clones share one host.
///
/// ```no_run
/// # async fn demo() -> wasmhost::Result<()> {
/// let host = wasmhost::Host::start(wasmhost::HostConfig::default()).await?;
/// let actor = host.start_actor(std::path::PathBuf::from("echo.wasm").into(), 1, Default::default()).await?;
/// let reply = host.call_actor(&actor.public_key, "Echo.Echo", b"hi".to_vec()).await?;
/// host.stop().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Host {
    inner: Arc<HostInner>,
}

/// The state of one host. Private to the host's modules.
pub(crate) struct HostInner {
    config: HostConfig,
    id: String,
    cluster_key: KeyPair,
    cluster_issuers: Vec<String>,
    labels: HashMap<String, String>,
    friendly_name: String,
    started_at: Instant,
    engine: ActorEngine,
    actors: RwLock<HashMap<String, Arc<RunningActor>>>,
    /// Claims of every actor this host has run, typed (the lattice's are in `lattice_view`).
    claims: RwLock<HashMap<String, Arc<ActorClaims>>>,
    links: links::LinkStore,
    lattice_view: lattice_view::LatticeView,
    providers: providers::ProviderRegistry,
    capabilities: CapabilityRegistry,
    policy: RwLock<Option<Arc<dyn Policy>>>,
    events: EventBus,
    lattice: RwLock<Option<Arc<dyn LatticeTransport>>>,
    stopped: AtomicBool,
    /// Becomes `true` once a stop has finished (everything stopped, `host_stopped` sent).
    stop_finished: tokio::sync::watch::Sender<bool>,
    background: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    weak_self: Weak<HostInner>,
    oci: crate::oci::OciStore,
}

/// A [`Host`] that may be gone.
#[derive(Clone)]
pub(crate) struct WeakHost(Weak<HostInner>);

impl WeakHost {
    pub(crate) fn upgrade(&self) -> Option<Host> {
        self.0.upgrade().map(|inner| Host { inner })
    }
}

impl HostInner {
    fn transport(&self) -> Option<Arc<dyn LatticeTransport>> {
        self.lattice.read().clone()
    }

    fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }
}

impl Host {
    /// Starts a host. With `config.nats == None` it runs the embedded lattice: no server needed.
    /// Must be called inside a tokio runtime; fails on invalid configuration or seeds.
    pub async fn start(config: HostConfig) -> Result<Host> {
        Ok(Self::start_with_events(config).await?.0)
    }

    /// Like [`Host::start`], and subscribes to events before the host publishes any, so the
    /// stream begins with `host_started`.
    pub async fn start_with_events(config: HostConfig) -> Result<(Host, EventStream)> {
        config.validate()?;
        let identity = identity::Identity::from_config(&config)?;
        let module_cache = config.module_cache.then(|| {
            config
                .module_cache_dir
                .clone()
                .unwrap_or_else(crate::actor::module_cache::default_root)
        });
        let engine = ActorEngine::new(
            config.max_instances,
            config.max_instance_memory,
            module_cache
                .as_deref()
                .map(|root| (root, config.module_cache_max_bytes)),
        )?;
        let id = identity.host_key.public_key();
        let inner = Arc::new_cyclic(|weak_self| HostInner {
            events: EventBus::new(id.clone()),
            id,
            cluster_key: identity.cluster_key,
            cluster_issuers: identity.cluster_issuers,
            labels: identity.labels,
            friendly_name: identity.friendly_name,
            started_at: Instant::now(),
            engine,
            actors: RwLock::new(HashMap::new()),
            claims: RwLock::new(HashMap::new()),
            links: Default::default(),
            lattice_view: Default::default(),
            providers: Default::default(),
            capabilities: CapabilityRegistry::default(),
            policy: RwLock::new(None),
            lattice: RwLock::new(None),
            stopped: AtomicBool::new(false),
            stop_finished: tokio::sync::watch::channel(false).0,
            background: Mutex::new(Vec::new()),
            weak_self: weak_self.clone(),
            oci: crate::oci::OciStore::new(&config),
            config,
        });
        let host = Host { inner };
        if let Some(nats) = host.inner.config.nats.clone() {
            // Joins the lattice before host_started so that event goes out too.
            let transport =
                crate::lattice::join(&nats, Arc::new(port::Port::new(&host.inner))).await?;
            *host.inner.lattice.write() = Some(transport.clone());
            host.inner.events.attach_lattice(transport);
        }
        let events = host.subscribe_events()?;
        host.publish(EventData::HostStarted(HostStarted {
            labels: host.inner.labels.clone(),
            friendly_name: host.inner.friendly_name.clone(),
        }));
        host.spawn_heartbeat();
        tracing::info!(host = %host.id(), name = %host.friendly_name(), lattice = %host.inner.config.lattice, "host started");
        Ok((host, events))
    }

    /// This host's public key (N...), its id in the lattice.
    pub fn id(&self) -> &str {
        &self.inner.id
    }
    /// The cluster public key (C...) that signs this host's invocations.
    pub fn cluster_key(&self) -> String {
        self.inner.cluster_key.public_key()
    }
    /// Cluster keys whose invocations this host accepts (always includes its own).
    pub fn cluster_issuers(&self) -> &[String] {
        &self.inner.cluster_issuers
    }
    /// The lattice id.
    pub fn lattice(&self) -> &str {
        &self.inner.config.lattice
    }
    /// Host labels, `hostcore.*` included.
    pub fn labels(&self) -> &HashMap<String, String> {
        &self.inner.labels
    }
    /// The name for humans.
    pub fn friendly_name(&self) -> &str {
        &self.inner.friendly_name
    }
    /// Time since start.
    pub fn uptime(&self) -> Duration {
        self.inner.started_at.elapsed()
    }
    /// The configuration the host was started with.
    pub fn config(&self) -> &HostConfig {
        &self.inner.config
    }
    /// True once [`Host::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        self.inner.is_stopped()
    }

    /// Subscribes to lattice events (the same CloudEvents as on `wasmbus.evt.{lattice}`).
    /// Fails once the host has stopped.
    pub fn subscribe_events(&self) -> Result<EventStream> {
        self.inner.events.subscribe().ok_or_else(Error::stopped)
    }

    /// Subscribes to the events of every host in the lattice (`wasmbus.evt.{lattice}`), this one
    /// included; in the embedded lattice that is this host's own events. Events that are not
    /// valid CloudEvents JSON are skipped. The stream ends when this host stops.
    pub async fn subscribe_lattice_events(&self) -> Result<EventStream> {
        self.ensure_running()?;
        match self.transport() {
            Some(lattice) => lattice.subscribe_events().await,
            None => self.subscribe_events(),
        }
    }

    /// Registers an in-process handler for `contract_id` and `link_name`; replaces a previous one.
    /// Actors reach it through `__host_call` when their claims hold the contract id.
    pub fn register_capability(
        &self,
        contract_id: &str,
        link_name: &str,
        handler: Arc<dyn CapabilityHandler>,
    ) -> Result<()> {
        if contract_id.is_empty() || link_name.is_empty() {
            return Err(Error::invalid(
                "contract id and link name must not be empty",
            ));
        }
        self.inner
            .capabilities
            .register(contract_id, link_name, handler);
        Ok(())
    }

    /// Removes an in-process handler; returns whether one was registered.
    pub fn unregister_capability(&self, contract_id: &str, link_name: &str) -> bool {
        self.inner.capabilities.unregister(contract_id, link_name)
    }

    /// Installs (or with `None` removes) the policy that approves actor starts and invocations.
    pub fn set_policy(&self, policy: Option<Arc<dyn Policy>>) {
        *self.inner.policy.write() = policy;
    }

    /// Invokes `operation` on an actor (by public key or call alias) with `payload` and returns the reply.
    /// Local actors are called directly; with a lattice, actors on other hosts are reached over RPC.
    pub async fn call_actor(
        &self,
        actor: &str,
        operation: &str,
        payload: impl Into<Bytes>,
    ) -> Result<Vec<u8>> {
        self.ensure_running()?;
        invoke::call_actor(
            &self.inner,
            invoke::Caller::Host,
            actor,
            operation,
            payload.into(),
        )
        .await
    }

    /// Stops the host gracefully: stops every actor (running calls finish first) and provider, publishes
    /// `host_stopped`, ends event streams and disconnects from the lattice. A second stop is an error.
    pub async fn stop(&self) -> Result<()> {
        if self.inner.stopped.swap(true, Ordering::AcqRel) {
            return Err(Error::stopped());
        }
        for task in self.inner.background.lock().drain(..) {
            task.abort();
        }
        for actor in self.running_actors() {
            match actor
                .pool
                .remove(0, &HashMap::new(), self.inner.config.invocation_timeout)
                .await
            {
                Ok(removed) => self.publish_actor_stopped(&actor.public_key, &removed),
                Err(e) => {
                    tracing::warn!(actor = %actor.public_key, error = %e, "actor did not stop cleanly")
                }
            }
            self.forget_actor(&actor).await;
        }
        self.stop_all_providers().await;
        self.publish(EventData::HostStopped(HostStopped {
            labels: self.inner.labels.clone(),
        }));
        // Taken out first: holding the lock across the await would block every reader meanwhile.
        let lattice = self.inner.lattice.write().take();
        if let Some(lattice) = lattice {
            lattice.shutdown().await;
        }
        self.inner.events.close();
        self.inner.stop_finished.send_replace(true);
        tracing::info!(host = %self.id(), "host stopped");
        Ok(())
    }

    /// Resolves once the host has finished stopping (by [`Host::stop`] from anywhere, e.g. a
    /// control-interface `stop`): actors and providers stopped, `host_stopped` published, the
    /// lattice connections flushed. [`Host::is_stopped`] is true as soon as a stop *begins*.
    pub async fn wait_stopped(&self) {
        let mut finished = self.inner.stop_finished.subscribe();
        let _ = finished.wait_for(|done| *done).await;
    }

    /// Publishes a lifecycle event to subscribers and the lattice.
    pub(crate) fn publish(&self, data: EventData) {
        self.inner.events.publish(data);
    }

    pub(crate) fn transport(&self) -> Option<Arc<dyn LatticeTransport>> {
        self.inner.transport()
    }

    /// A handle that does not keep the host alive (for tasks that follow it).
    pub(crate) fn downgrade(&self) -> WeakHost {
        WeakHost(Arc::downgrade(&self.inner))
    }

    pub(crate) fn ensure_running(&self) -> Result<()> {
        if self.is_stopped() {
            Err(Error::stopped())
        } else {
            Ok(())
        }
    }

    pub(crate) async fn check_policy(&self, request: &PolicyRequest) -> Result<()> {
        invoke::check_policy(&self.inner, request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_host_starts_embedded_and_stops_once() {
        let (host, mut events) = Host::start_with_events(HostConfig::default())
            .await
            .unwrap();
        assert_eq!(events.next().await.unwrap().short_type(), "host_started");
        assert!(host.id().starts_with('N') && host.cluster_key().starts_with('C'));
        assert!(host.cluster_issuers().contains(&host.cluster_key()));
        assert!(!host.is_stopped());
        host.stop().await.unwrap();
        assert!(host.is_stopped());
        assert_eq!(
            host.stop().await.unwrap_err().kind(),
            crate::ErrorKind::Stopped
        );
        host.wait_stopped().await;
        let mut kinds = Vec::new();
        while let Some(event) = events.next().await {
            kinds.push(event.short_type().to_string());
        }
        assert_eq!(kinds.last().map(String::as_str), Some("host_stopped"));
        assert!(
            host.subscribe_events().is_err(),
            "no subscriptions after a stop"
        );
    }
}
