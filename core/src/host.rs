//! The host: identity, labels, actors, links, capabilities, policy, events, heartbeat.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use nkeys::KeyPair;
use parking_lot::{Mutex, RwLock};
use serde_json::json;
use wasmhost_protocol::claims::{extract_actor_claims, ActorClaims};
use wasmhost_protocol::ctl::{ActorDescription, ActorInstance as CtlActorInstance, HostInventory};
use wasmhost_protocol::rpc::LinkDefinition;

use crate::actor::context::{ActorContext, HostCallRouter};
use crate::actor::engine::ActorEngine;
use crate::actor::pool::{InstanceFactory, InstancePool};
use crate::actor::InstanceInfo;
use crate::capability::{CapabilityHandler, CapabilityRegistry};
use crate::config::HostConfig;
use crate::events::{EventBus, EventStream};
use crate::lattice::LatticeTransport;
use crate::links::LinkStore;
use crate::policy::{Policy, PolicyDecision, PolicyRequest};
use crate::{Error, Result};

/// Largest actor module accepted, in bytes.
const MAX_MODULE_SIZE: usize = 64 << 20;
/// Version reported in pings, heartbeats and `wasmhost_version()`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Where an actor module or a provider archive comes from.
#[derive(Debug, Clone)]
pub enum ArtifactSource {
    /// The bytes themselves.
    Bytes(Bytes),
    /// A path to a `.wasm` file or a `.par.gz` archive.
    File(PathBuf),
    /// A reference: `file:///abs/path`, or an OCI reference such as `registry:5000/echo:0.1.0`.
    Reference(String),
}

/// Where an actor's module comes from.
pub type ActorSource = ArtifactSource;
/// Where a capability provider's archive comes from.
pub type ProviderSource = ArtifactSource;

impl ArtifactSource {
    /// Interprets a string the way the control interface and the CLI do: `file://` and existing
    /// paths are files, anything else an OCI reference.
    pub fn parse(reference: &str) -> ArtifactSource {
        if let Some(path) = reference.strip_prefix("file://") {
            return ArtifactSource::File(PathBuf::from(path));
        }
        // Anything that looks like a path is a file (a missing one then fails as a missing file,
        // not as an odd registry reference); `oci://` or no scheme is a registry reference.
        let looks_like_path = [".wasm", ".par", ".par.gz"]
            .iter()
            .any(|ext| reference.ends_with(ext))
            || reference.starts_with(['/', '.']);
        if looks_like_path || std::path::Path::new(reference).is_file() {
            return ArtifactSource::File(PathBuf::from(reference));
        }
        ArtifactSource::Reference(reference.to_string())
    }

    pub(crate) fn image_ref(&self) -> String {
        match self {
            ArtifactSource::Bytes(_) => String::new(),
            ArtifactSource::File(p) => format!("file://{}", p.display()),
            ArtifactSource::Reference(r) => r.clone(),
        }
    }
}

impl From<Vec<u8>> for ArtifactSource {
    fn from(bytes: Vec<u8>) -> Self {
        ArtifactSource::Bytes(Bytes::from(bytes))
    }
}
impl From<&[u8]> for ArtifactSource {
    fn from(bytes: &[u8]) -> Self {
        ArtifactSource::Bytes(Bytes::copy_from_slice(bytes))
    }
}
impl From<PathBuf> for ArtifactSource {
    fn from(path: PathBuf) -> Self {
        ArtifactSource::File(path)
    }
}

/// A running actor as the host reports it.
#[derive(Debug, Clone)]
pub struct ActorInfo {
    /// Actor public key (M...).
    pub public_key: String,
    /// Where it was started from (`file://...`, an OCI reference, or empty for bytes).
    pub image_ref: String,
    /// Its verified claims.
    pub claims: Arc<ActorClaims>,
    /// Its running instances.
    pub instances: Vec<InstanceInfo>,
    /// `__wasmbus_rpc_version()` of the module, 0 when absent.
    pub api_version: i32,
}

/// A running actor inside the host.
pub(crate) struct RunningActor {
    pub(crate) public_key: String,
    pub(crate) image_ref: RwLock<String>,
    pub(crate) claims: RwLock<Arc<ActorClaims>>,
    pub(crate) pool: Arc<InstancePool>,
}

impl RunningActor {
    fn info(&self) -> ActorInfo {
        ActorInfo {
            public_key: self.public_key.clone(),
            image_ref: self.image_ref.read().clone(),
            claims: self.claims.read().clone(),
            instances: self.pool.instances(),
            api_version: self.pool.api_version(),
        }
    }
}

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
    pub(crate) inner: Arc<HostInner>,
}

pub(crate) struct HostInner {
    pub(crate) config: HostConfig,
    pub(crate) id: String,
    pub(crate) cluster_key: KeyPair,
    pub(crate) cluster_issuers: Vec<String>,
    pub(crate) labels: HashMap<String, String>,
    pub(crate) friendly_name: String,
    pub(crate) started_at: Instant,
    pub(crate) engine: ActorEngine,
    pub(crate) actors: RwLock<HashMap<String, Arc<RunningActor>>>,
    pub(crate) aliases: RwLock<HashMap<String, String>>,
    pub(crate) claims: RwLock<HashMap<String, Arc<ActorClaims>>>,
    pub(crate) links: LinkStore,
    pub(crate) providers: crate::provider::ProviderRegistry,
    pub(crate) capabilities: CapabilityRegistry,
    pub(crate) policy: RwLock<Option<Arc<dyn Policy>>>,
    pub(crate) events: EventBus,
    pub(crate) lattice: RwLock<Option<Arc<dyn LatticeTransport>>>,
    pub(crate) stopped: AtomicBool,
    /// Becomes `true` once a stop has finished (everything stopped, `host_stopped` sent).
    stop_finished: tokio::sync::watch::Sender<bool>,
    background: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    pub(crate) weak_self: Weak<HostInner>,
    pub(crate) oci: crate::oci::OciStore,
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
        let host_key = key_from_seed(
            config.host_seed.as_deref(),
            'N',
            KeyPair::new_server,
            "host",
        )?;
        let cluster_key = key_from_seed(
            config.cluster_seed.as_deref(),
            'C',
            KeyPair::new_cluster,
            "cluster",
        )?;
        if config.cluster_seed.is_none() {
            tracing::info!(cluster = %cluster_key.public_key(), "no cluster seed given: generated one; other hosts must trust this key to accept our invocations");
        }
        let mut cluster_issuers = config.cluster_issuers.clone();
        if !cluster_issuers.contains(&cluster_key.public_key()) {
            cluster_issuers.push(cluster_key.public_key());
        }
        let mut labels = config.labels.clone();
        labels.insert("hostcore.arch".into(), std::env::consts::ARCH.into());
        labels.insert("hostcore.os".into(), std::env::consts::OS.into());
        labels.insert("hostcore.osfamily".into(), std::env::consts::FAMILY.into());
        let friendly_name = config
            .friendly_name
            .clone()
            .unwrap_or_else(crate::names::friendly_name);
        let engine = ActorEngine::new(config.max_instances, config.max_instance_memory)?;
        let id = host_key.public_key();
        let inner = Arc::new_cyclic(|weak_self| HostInner {
            events: EventBus::new(id.clone()),
            id,
            cluster_key,
            cluster_issuers,
            labels,
            friendly_name,
            started_at: Instant::now(),
            engine,
            actors: RwLock::new(HashMap::new()),
            aliases: RwLock::new(HashMap::new()),
            claims: RwLock::new(HashMap::new()),
            links: LinkStore::default(),
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
            // Joins the NATS lattice before host_started so that event goes out too.
            let transport =
                crate::lattice::nats::NatsTransport::start(Arc::downgrade(&host.inner), &nats)
                    .await?;
            *host.inner.lattice.write() = Some(transport.clone());
            host.inner.events.attach_lattice(transport);
        }
        let events = host.subscribe_events()?;
        host.inner.events.publish(
            wasmhost_protocol::events::HOST_STARTED,
            json!({"labels": host.inner.labels, "friendly_name": host.inner.friendly_name}),
        );
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
    /// Seconds since start.
    pub fn uptime(&self) -> Duration {
        self.inner.started_at.elapsed()
    }
    /// The configuration the host was started with.
    pub fn config(&self) -> &HostConfig {
        &self.inner.config
    }
    /// True once [`Host::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        self.inner.stopped.load(Ordering::Acquire)
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

    /// Starts `count` instances of an actor. The module's claims are verified first (signature,
    /// validity dates, module hash). Starting an actor that already runs from the same module adds
    /// instances; a different module under the same key is refused (use [`Host::update_actor`]).
    /// Publishes `actor_started` per instance, or `actor_start_failed`.
    pub async fn start_actor(
        &self,
        source: ActorSource,
        count: u16,
        annotations: HashMap<String, String>,
    ) -> Result<ActorInfo> {
        let image_ref = source.image_ref();
        let from_registry = matches!(source, ActorSource::Reference(_));
        let result = self
            .start_actor_inner(source, &image_ref, count, &annotations)
            .await;
        if let (true, Ok(info)) = (from_registry, &result) {
            self.record_refmap(&image_ref, &info.public_key);
        }
        if let Err(e) = &result {
            tracing::warn!(actor_ref = %image_ref, error = %e, "actor start failed");
            self.inner.events.publish(
                wasmhost_protocol::events::ACTOR_START_FAILED,
                json!({"actor_ref": image_ref, "error": e.to_string()}),
            );
        }
        result
    }

    async fn start_actor_inner(
        &self,
        source: ActorSource,
        image_ref: &str,
        count: u16,
        annotations: &HashMap<String, String>,
    ) -> Result<ActorInfo> {
        self.ensure_running()?;
        if count == 0 {
            return Err(Error::invalid("count must be at least 1"));
        }
        let module = self.load_module(source).await?;
        let claims = Arc::new(extract_actor_claims(&module)?);
        let public_key = claims.public_key().to_string();
        self.check_policy(&PolicyRequest::StartActor {
            public_key: public_key.clone(),
            issuer: claims.issuer().to_string(),
            image_ref: image_ref.to_string(),
            capabilities: claims.caps().to_vec(),
        })
        .await?;

        let existing = self.inner.actors.read().get(&public_key).cloned();
        if let Some(actor) = existing {
            if actor.claims.read().claims.wascap.as_ref().map(|w| &w.hash)
                != claims.claims.wascap.as_ref().map(|w| &w.hash)
            {
                return Err(Error::invalid(format!(
                    "actor {public_key} is already running from a different module; use update to replace it"
                )));
            }
            let added = actor.pool.add(count as usize, annotations).await?;
            self.publish_actor_started(&actor, &added);
            return Ok(actor.info());
        }

        let hash = claims
            .claims
            .wascap
            .as_ref()
            .map(|w| w.hash.clone())
            .unwrap_or_default();
        let compiled = self.inner.engine.compile(&hash, &module).await?;
        let factory = self.instance_factory(compiled, claims.clone());
        let pool = Arc::new(InstancePool::new(factory));
        let added = pool.add(count as usize, annotations).await?;
        let actor = Arc::new(RunningActor {
            public_key: public_key.clone(),
            image_ref: RwLock::new(image_ref.to_string()),
            claims: RwLock::new(claims.clone()),
            pool,
        });
        {
            let mut actors = self.inner.actors.write();
            if actors.contains_key(&public_key) {
                // Two starts raced; the first one wins, ours stops.
                drop(actors);
                actor.pool.close();
                return Err(Error::invalid(format!(
                    "actor {public_key} was started concurrently; retry to add instances"
                )));
            }
            actors.insert(public_key.clone(), actor.clone());
        }
        self.remember_claims(&claims);
        if let Some(lattice) = self.transport() {
            lattice.actor_available(&public_key).await?;
            // Sharing is best effort: the actor serves even while the lattice store is unreachable.
            if let Err(e) = lattice
                .put_claims(crate::lattice::actor_claims_map(&claims))
                .await
            {
                tracing::warn!(actor = %public_key, error = %e, "could not share the actor's claims with the lattice");
            }
            if !image_ref.is_empty() && !image_ref.starts_with("file://") {
                if let Err(e) = lattice.put_refmap(image_ref, &public_key).await {
                    tracing::warn!(actor = %public_key, error = %e, "could not share the actor's refmap with the lattice");
                }
            }
        }
        self.publish_actor_started(&actor, &added);
        Ok(actor.info())
    }

    /// Changes the number of instances of a running actor to `count` (0 stops it).
    pub async fn scale_actor(
        &self,
        public_key: &str,
        count: u16,
        annotations: HashMap<String, String>,
    ) -> Result<ActorInfo> {
        self.ensure_running()?;
        let actor = self.running_actor(public_key)?;
        let current = actor.pool.len();
        let target = count as usize;
        if target > current {
            let added = actor.pool.add(target - current, &annotations).await?;
            self.publish_actor_started(&actor, &added);
        } else if target < current {
            if target == 0 {
                self.stop_actor(public_key, 0, HashMap::new()).await?;
                return Ok(ActorInfo {
                    instances: Vec::new(),
                    ..actor.info()
                });
            }
            let removed = actor
                .pool
                .remove(
                    current - target,
                    &HashMap::new(),
                    self.inner.config.invocation_timeout,
                )
                .await?;
            self.publish_actor_stopped(public_key, &removed);
        }
        Ok(actor.info())
    }

    /// Stops `count` instances (0 = all) whose annotations contain every pair of `annotations`.
    /// The actor leaves the host when its last instance stops. Running calls finish first.
    pub async fn stop_actor(
        &self,
        public_key: &str,
        count: u16,
        annotations: HashMap<String, String>,
    ) -> Result<()> {
        let actor = self.running_actor(public_key)?;
        let removed = actor
            .pool
            .remove(
                count as usize,
                &annotations,
                self.inner.config.invocation_timeout,
            )
            .await?;
        self.publish_actor_stopped(public_key, &removed);
        if actor.pool.len() == 0 {
            self.forget_actor(&actor).await;
        }
        Ok(())
    }

    /// Replaces the module of a running actor with a newer revision, instance by instance.
    /// Refused unless the new claims have the same public key and a higher revision.
    pub async fn update_actor(&self, public_key: &str, source: ActorSource) -> Result<ActorInfo> {
        self.ensure_running()?;
        let actor = self.running_actor(public_key)?;
        let image_ref = source.image_ref();
        let old_rev = actor.claims.read().revision();
        let outcome: Result<(Arc<ActorClaims>, Vec<InstanceInfo>)> = async {
            let module = self.load_module(source).await?;
            let claims = Arc::new(extract_actor_claims(&module)?);
            if claims.public_key() != public_key {
                return Err(Error::invalid(format!(
                    "the new module belongs to actor {}, not {public_key}",
                    claims.public_key()
                )));
            }
            if claims.revision() <= old_rev {
                return Err(Error::invalid(format!(
                    "new revision {} is not higher than the running revision {old_rev}",
                    claims.revision()
                )));
            }
            let hash = claims
                .claims
                .wascap
                .as_ref()
                .map(|w| w.hash.clone())
                .unwrap_or_default();
            let compiled = self.inner.engine.compile(&hash, &module).await?;
            let factory = self.instance_factory(compiled, claims.clone());
            let infos = actor
                .pool
                .replace_all(factory, self.inner.config.invocation_timeout)
                .await?;
            Ok((claims, infos))
        }
        .await;
        match outcome {
            Ok((claims, infos)) => {
                *actor.claims.write() = claims.clone();
                if !image_ref.is_empty() {
                    *actor.image_ref.write() = image_ref;
                }
                self.remember_claims(&claims);
                for info in &infos {
                    self.inner.events.publish(
                        wasmhost_protocol::events::ACTOR_UPDATED,
                        json!({"public_key": public_key, "revision": claims.revision(), "instance_id": info.instance_id}),
                    );
                }
                Ok(actor.info())
            }
            Err(e) => {
                for info in actor.pool.instances() {
                    self.inner.events.publish(
                        wasmhost_protocol::events::ACTOR_UPDATE_FAILED,
                        json!({"public_key": public_key, "revision": old_rev, "instance_id": info.instance_id, "reason": e.to_string()}),
                    );
                }
                Err(e)
            }
        }
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
        crate::rpc::call_actor(
            &self.inner,
            crate::rpc::Caller::Host,
            actor,
            operation,
            payload.into(),
        )
        .await
    }

    /// The running actors.
    pub fn actors(&self) -> Vec<ActorInfo> {
        let mut all: Vec<_> = self
            .inner
            .actors
            .read()
            .values()
            .map(|a| a.info())
            .collect();
        all.sort_by(|a, b| a.public_key.cmp(&b.public_key));
        all
    }

    /// One running actor, by public key or call alias.
    pub fn actor(&self, actor: &str) -> Result<ActorInfo> {
        Ok(self.running_actor(&self.inner.resolve_alias(actor))?.info())
    }

    /// The inventory as the control interface reports it (`get.{host}.inv`).
    pub fn inventory(&self) -> HostInventory {
        let actors = self
            .actors()
            .into_iter()
            .map(|a| ActorDescription {
                id: a.public_key.clone(),
                image_ref: Some(if a.image_ref.is_empty() {
                    "n/a".to_string()
                } else {
                    a.image_ref.clone()
                }),
                name: Some(a.claims.name().unwrap_or("N/A").to_string()),
                instances: a
                    .instances
                    .iter()
                    .map(|i| CtlActorInstance {
                        annotations: i.annotations.clone(),
                        instance_id: i.instance_id.clone(),
                        revision: a.claims.revision(),
                    })
                    .collect(),
            })
            .collect();
        HostInventory {
            host_id: self.id().to_string(),
            issuer: self.cluster_key(),
            labels: self.inner.labels.clone(),
            friendly_name: self.inner.friendly_name.clone(),
            actors,
            providers: self.provider_descriptions(),
        }
    }

    /// Claims of every actor this host has seen, as (public key, claims).
    pub fn claims(&self) -> Vec<Arc<ActorClaims>> {
        let mut all: Vec<_> = self.inner.claims.read().values().cloned().collect();
        all.sort_by(|a, b| a.public_key().cmp(b.public_key()));
        all
    }

    /// Puts a link definition: the actor's host calls to `contract_id` with `link_name` go to `provider_id`.
    /// A put for the same (actor, contract, link name) replaces the previous link. Publishes `linkdef_set`.
    pub async fn put_link(&self, link: LinkDefinition) -> Result<()> {
        self.ensure_running()?;
        for (field, value) in [
            ("actor_id", &link.actor_id),
            ("provider_id", &link.provider_id),
            ("contract_id", &link.contract_id),
            ("link_name", &link.link_name),
        ] {
            if value.is_empty() {
                return Err(Error::invalid(format!("link definition without {field}")));
            }
        }
        if let Some(lattice) = self.transport() {
            lattice.put_link(&link).await?;
        }
        self.inner.links.put(link.clone());
        self.inner.events.publish(
            wasmhost_protocol::events::LINKDEF_SET,
            link_event_data(&link),
        );
        Ok(())
    }

    /// Deletes the link for (actor, contract, link name). Deleting a link that does not exist is not
    /// an error (as in the OTP host); returns whether one existed. Publishes `linkdef_deleted`.
    pub async fn delete_link(
        &self,
        actor_id: &str,
        contract_id: &str,
        link_name: &str,
    ) -> Result<bool> {
        self.ensure_running()?;
        let Some(link) = self.inner.links.delete(actor_id, contract_id, link_name) else {
            tracing::warn!(
                actor_id,
                contract_id,
                link_name,
                "delete of a link that does not exist"
            );
            return Ok(false);
        };
        if let Some(lattice) = self.transport() {
            lattice.delete_link(&link).await?;
        }
        self.inner.events.publish(
            wasmhost_protocol::events::LINKDEF_DELETED,
            link_event_data(&link),
        );
        Ok(true)
    }

    /// Every link definition known to this host.
    pub fn links(&self) -> Vec<LinkDefinition> {
        self.inner.links.list()
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
        let actors: Vec<_> = self.inner.actors.read().values().cloned().collect();
        for actor in actors {
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
        self.inner.events.publish(
            wasmhost_protocol::events::HOST_STOPPED,
            json!({"labels": self.inner.labels}),
        );
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

    /// The heartbeat's `data` (LATTICE.md §2.4, v0.59 per-instance form).
    pub fn heartbeat_data(&self) -> serde_json::Value {
        let actors: Vec<_> = self
            .actors()
            .into_iter()
            .flat_map(|a| {
                let pk = a.public_key;
                a.instances
                    .into_iter()
                    .map(move |i| json!({"public_key": pk, "instance_id": i.instance_id}))
            })
            .collect();
        let uptime = self.uptime().as_secs();
        json!({
            "actors": actors,
            "providers": self.provider_heartbeat_entries(),
            "labels": self.inner.labels,
            "friendly_name": self.inner.friendly_name,
            "version": VERSION,
            "uptime_seconds": uptime,
            "uptime_human": wasmhost_protocol::events::humanize_duration(uptime),
        })
    }

    /// Publishes a heartbeat now (also done every `heartbeat_interval` and after a ping).
    pub fn publish_heartbeat(&self) {
        self.inner.events.publish(
            wasmhost_protocol::events::HOST_HEARTBEAT,
            self.heartbeat_data(),
        );
    }

    fn spawn_heartbeat(&self) {
        let weak = Arc::downgrade(&self.inner);
        let interval = self.inner.config.heartbeat_interval;
        let task = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            loop {
                ticker.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                Host { inner }.publish_heartbeat();
            }
        });
        self.inner.background.lock().push(task);
    }

    pub(crate) fn transport(&self) -> Option<Arc<dyn LatticeTransport>> {
        self.inner.lattice.read().clone()
    }

    pub(crate) fn ensure_running(&self) -> Result<()> {
        if self.is_stopped() {
            Err(Error::stopped())
        } else {
            Ok(())
        }
    }

    fn running_actor(&self, public_key: &str) -> Result<Arc<RunningActor>> {
        self.inner
            .actors
            .read()
            .get(public_key)
            .cloned()
            .ok_or_else(|| {
                Error::not_found(format!("actor {public_key} is not running on this host"))
            })
    }

    async fn load_module(&self, source: ActorSource) -> Result<Bytes> {
        let bytes = match source {
            ActorSource::Bytes(b) => b,
            ActorSource::File(path) => {
                let meta = tokio::fs::metadata(&path).await.map_err(|e| {
                    Error::not_found(format!("cannot read actor file {}: {e}", path.display()))
                })?;
                if meta.len() as usize > MAX_MODULE_SIZE {
                    return Err(Error::invalid(format!(
                        "actor file {} is larger than {MAX_MODULE_SIZE} bytes",
                        path.display()
                    )));
                }
                Bytes::from(tokio::fs::read(&path).await.map_err(|e| {
                    Error::not_found(format!("cannot read actor file {}: {e}", path.display()))
                })?)
            }
            ActorSource::Reference(reference) => self.fetch_actor_module(&reference).await?,
        };
        if bytes.len() > MAX_MODULE_SIZE {
            return Err(Error::invalid(format!(
                "actor module is larger than {MAX_MODULE_SIZE} bytes"
            )));
        }
        Ok(bytes)
    }

    fn instance_factory(
        &self,
        compiled: Arc<crate::actor::engine::CompiledActor>,
        claims: Arc<ActorClaims>,
    ) -> InstanceFactory {
        let router: Weak<dyn HostCallRouter> = self.inner.weak_self.clone();
        InstanceFactory {
            engine: self.inner.engine.engine().clone(),
            compiled,
            ctx: Arc::new(ActorContext {
                public_key: claims.public_key().to_string(),
                claims,
                router,
            }),
            max_memory: self.inner.config.max_instance_memory,
            start_timeout: self.inner.config.invocation_timeout,
        }
    }

    fn remember_claims(&self, claims: &Arc<ActorClaims>) {
        let pk = claims.public_key().to_string();
        if let Some(alias) = claims.call_alias().filter(|a| !a.is_empty()) {
            self.inner
                .aliases
                .write()
                .insert(alias.to_string(), pk.clone());
        }
        self.inner.claims.write().insert(pk, claims.clone());
    }

    async fn forget_actor(&self, actor: &Arc<RunningActor>) {
        let removed = {
            let mut actors = self.inner.actors.write();
            match actors.get(&actor.public_key) {
                Some(current) if Arc::ptr_eq(current, actor) && actor.pool.len() == 0 => {
                    actors.remove(&actor.public_key)
                }
                _ => None,
            }
        };
        if removed.is_some() {
            actor.pool.close();
            if let Some(lattice) = self.transport() {
                if let Err(e) = lattice.actor_unavailable(&actor.public_key).await {
                    tracing::warn!(actor = %actor.public_key, error = %e, "could not leave the actor's RPC subject");
                }
            }
        }
    }

    pub(crate) async fn check_policy(&self, request: &PolicyRequest) -> Result<()> {
        check_policy(&self.inner, request).await
    }

    fn publish_actor_started(&self, actor: &RunningActor, added: &[InstanceInfo]) {
        let claims = actor.claims.read().clone();
        let image_ref = actor.image_ref.read().clone();
        let api_version = actor.pool.api_version();
        for info in added {
            self.inner.events.publish(
                wasmhost_protocol::events::ACTOR_STARTED,
                json!({
                    "public_key": actor.public_key,
                    "image_ref": image_ref,
                    "api_version": api_version,
                    "instance_id": info.instance_id,
                    "annotations": info.annotations,
                    "claims": claims_event_data(&claims),
                }),
            );
        }
    }

    fn publish_actor_stopped(&self, public_key: &str, removed: &[InstanceInfo]) {
        for info in removed {
            self.inner.events.publish(
                wasmhost_protocol::events::ACTOR_STOPPED,
                json!({"public_key": public_key, "instance_id": info.instance_id}),
            );
        }
    }
}

impl HostInner {
    /// A call alias resolves to its actor's key; anything else is returned as given.
    pub(crate) fn resolve_alias(&self, actor: &str) -> String {
        self.aliases
            .read()
            .get(actor)
            .cloned()
            .unwrap_or_else(|| actor.to_string())
    }
}

pub(crate) async fn check_policy(inner: &HostInner, request: &PolicyRequest) -> Result<()> {
    let policy = inner.policy.read().clone();
    match policy {
        None => Ok(()),
        Some(policy) => match policy.evaluate(request).await {
            PolicyDecision::Permit => Ok(()),
            PolicyDecision::Deny(reason) => {
                Err(Error::denied(format!("denied by policy: {reason}")))
            }
        },
    }
}

/// The claims object of `actor_started` (LATTICE.md §2.2).
fn claims_event_data(claims: &ActorClaims) -> serde_json::Value {
    let wascap = claims.claims.wascap.as_ref();
    json!({
        "call_alias": claims.call_alias(),
        "caps": claims.caps(),
        "issuer": claims.issuer(),
        "tags": wascap.and_then(|w| w.tags.clone()),
        "name": claims.name(),
        "version": wascap.and_then(|w| w.ver.clone()),
        "revision": claims.revision(),
        "not_before_human": claims.not_before_human(),
        "expires_human": claims.expires_human(),
    })
}

fn link_event_data(link: &LinkDefinition) -> serde_json::Value {
    json!({
        "id": link.hash_id(),
        "actor_id": link.actor_id,
        "provider_id": link.provider_id,
        "link_name": link.link_name,
        "contract_id": link.contract_id,
        "values": link.values,
    })
}

fn key_from_seed(
    seed: Option<&str>,
    prefix: char,
    generate: fn() -> KeyPair,
    what: &str,
) -> Result<KeyPair> {
    match seed {
        None => Ok(generate()),
        Some(seed) => {
            let kp = KeyPair::from_seed(seed.trim())
                .map_err(|e| Error::invalid(format!("invalid {what} seed: {e}")))?;
            if !kp.public_key().starts_with(prefix) {
                return Err(Error::invalid(format!("the {what} seed must be an S{prefix}... seed (its public key must start with {prefix})")));
            }
            Ok(kp)
        }
    }
}
