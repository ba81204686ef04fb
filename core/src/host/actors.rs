//! The actors of a host: start, scale, stop, live update, and the events each publishes.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use parking_lot::RwLock;
use wasmhost_protocol::claims::{extract_actor_claims, ActorClaims};
use wasmhost_protocol::event_data::{
    ActorStartFailed, ActorStarted, ActorStartedClaims, ActorStopFailed, ActorStopped,
    ActorUpdateFailed, ActorUpdated, EventData,
};

use super::lattice_view::actor_claims_map;
use super::{ActorSource, Host};
use crate::actor::context::{ActorContext, HostCallRouter};
use crate::actor::engine::CompiledActor;
use crate::actor::pool::{InstanceFactory, InstancePool};
use crate::actor::InstanceInfo;
use crate::limits::check_annotations;
use crate::policy::PolicyRequest;
use crate::quote::quote_input;
use crate::{Error, Result};

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
    image_ref: RwLock<String>,
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

/// The module hash the claims vouch for (two modules are the same actor build when equal).
fn module_hash(claims: &ActorClaims) -> String {
    claims
        .claims
        .wascap
        .as_ref()
        .map(|w| w.hash.clone())
        .unwrap_or_default()
}

impl Host {
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
        match &result {
            Ok(info) if from_registry => self.record_refmap(&image_ref, &info.public_key),
            Ok(_) => {}
            Err(e) => self.publish_actor_start_failed(&image_ref, e),
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
        check_annotations(annotations)?;
        self.check_capacity(count as usize)?;
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

        if let Some(actor) = self.running(&public_key) {
            if module_hash(&actor.claims.read()) != module_hash(&claims) {
                return Err(Error::invalid(format!(
                    "actor {public_key} is already running from a different module; use update to replace it"
                )));
            }
            let added = actor.pool.add(count as usize, annotations).await?;
            self.publish_actor_started(&actor, &added);
            return Ok(actor.info());
        }

        let compiled = self
            .inner
            .engine
            .compile(&module_hash(&claims), &module)
            .await?;
        let pool = Arc::new(InstancePool::new(
            self.instance_factory(compiled, claims.clone()),
        ));
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
        }
        self.publish_actor_started(&actor, &added);
        Ok(actor.info())
    }

    /// Changes the number of instances of a running actor to `count` (0 stops it). A failure to
    /// add instances publishes `actor_start_failed`, a failure to stop them `actor_stop_failed`.
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
            let added = async {
                check_annotations(&annotations)?;
                self.check_capacity(target - current)?;
                actor.pool.add(target - current, &annotations).await
            }
            .await;
            match added {
                Ok(added) => self.publish_actor_started(&actor, &added),
                Err(e) => {
                    self.publish_actor_start_failed(public_key, &e);
                    return Err(e);
                }
            }
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
                .await;
            match removed {
                Ok(removed) => self.publish_actor_stopped(public_key, &removed),
                Err(e) => {
                    self.publish_stop_failed(public_key, &e);
                    return Err(e);
                }
            }
        }
        Ok(actor.info())
    }

    /// Stops `count` instances (0 = all) whose annotations contain every pair of `annotations`.
    /// The actor leaves the host when its last instance stops. Running calls finish first (for at
    /// most the invocation timeout; then the stop fails and `actor_stop_failed` is published).
    pub async fn stop_actor(
        &self,
        public_key: &str,
        count: u16,
        annotations: HashMap<String, String>,
    ) -> Result<()> {
        let actor = self.running_actor(public_key)?;
        let removed = match actor
            .pool
            .remove(
                count as usize,
                &annotations,
                self.inner.config.invocation_timeout,
            )
            .await
        {
            Ok(removed) => removed,
            Err(e) => {
                self.publish_stop_failed(public_key, &e);
                return Err(e);
            }
        };
        self.publish_actor_stopped(public_key, &removed);
        if actor.pool.len() == 0 {
            self.forget_actor(&actor).await;
        }
        Ok(())
    }

    /// Replaces the module of a running actor with a newer revision, instance by instance.
    /// Refused unless the new claims have the same public key and a higher revision.
    /// Publishes `actor_updated` per instance, or `actor_update_failed` per instance.
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
            let compiled = self
                .inner
                .engine
                .compile(&module_hash(&claims), &module)
                .await?;
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
                    self.publish(EventData::ActorUpdated(ActorUpdated {
                        public_key: public_key.to_string(),
                        revision: claims.revision(),
                        instance_id: info.instance_id.clone(),
                    }));
                }
                Ok(actor.info())
            }
            Err(e) => {
                for info in actor.pool.instances() {
                    self.publish(EventData::ActorUpdateFailed(ActorUpdateFailed {
                        public_key: public_key.to_string(),
                        revision: old_rev,
                        instance_id: info.instance_id,
                        reason: e.to_string(),
                    }));
                }
                Err(e)
            }
        }
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
        Ok(self.running_actor(&self.resolve_alias(actor))?.info())
    }

    /// Claims of every actor this host has run.
    pub fn claims(&self) -> Vec<Arc<ActorClaims>> {
        let mut all: Vec<_> = self.inner.claims.read().values().cloned().collect();
        all.sort_by(|a, b| a.public_key().cmp(b.public_key()));
        all
    }

    /// A call alias resolves to its actor's key; anything else is returned as given.
    pub(crate) fn resolve_alias(&self, actor: &str) -> String {
        self.inner
            .lattice_view
            .resolve_alias(actor)
            .unwrap_or_else(|| actor.to_string())
    }

    pub(crate) fn running(&self, public_key: &str) -> Option<Arc<RunningActor>> {
        self.inner.actors.read().get(public_key).cloned()
    }

    fn running_actor(&self, public_key: &str) -> Result<Arc<RunningActor>> {
        self.running(public_key).ok_or_else(|| {
            Error::not_found(format!(
                "actor {} is not running on this host",
                quote_input(public_key)
            ))
        })
    }

    /// Refuses a start that cannot fit the instance pool before any instance is made (each one
    /// costs a compile-free but real instantiation, and the last would fail anyway).
    pub(crate) fn check_capacity(&self, additional: usize) -> Result<()> {
        let max = self.inner.config.max_instances as usize;
        let running: usize = self
            .inner
            .actors
            .read()
            .values()
            .map(|a| a.pool.len())
            .sum();
        if running + additional > max {
            return Err(Error::invalid(format!(
                "cannot start {additional} more instances: this host runs {running} of at most {max} (HostConfig::max_instances)"
            )));
        }
        Ok(())
    }

    fn instance_factory(
        &self,
        compiled: Arc<CompiledActor>,
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
        self.inner
            .claims
            .write()
            .insert(claims.public_key().to_string(), claims.clone());
        self.share_claims(actor_claims_map(claims));
    }

    /// Drops the actor once its last instance stopped, and its RPC subject with it.
    pub(crate) async fn forget_actor(&self, actor: &Arc<RunningActor>) {
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

    /// Every running actor, for a host stop.
    pub(crate) fn running_actors(&self) -> Vec<Arc<RunningActor>> {
        self.inner.actors.read().values().cloned().collect()
    }

    fn publish_actor_started(&self, actor: &RunningActor, added: &[InstanceInfo]) {
        let claims = actor.claims.read().clone();
        let image_ref = actor.image_ref.read().clone();
        let api_version = actor.pool.api_version();
        let wascap = claims.claims.wascap.as_ref();
        let event_claims = ActorStartedClaims {
            call_alias: claims.call_alias().map(str::to_string),
            caps: claims.caps().to_vec(),
            issuer: claims.issuer().to_string(),
            tags: wascap.and_then(|w| w.tags.clone()),
            name: claims.name().map(str::to_string),
            version: wascap.and_then(|w| w.ver.clone()),
            revision: claims.revision(),
            not_before_human: claims.not_before_human(),
            expires_human: claims.expires_human(),
        };
        for info in added {
            self.publish(EventData::ActorStarted(ActorStarted {
                public_key: actor.public_key.clone(),
                image_ref: image_ref.clone(),
                api_version,
                instance_id: info.instance_id.clone(),
                annotations: info.annotations.clone(),
                claims: event_claims.clone(),
            }));
        }
    }

    pub(crate) fn publish_actor_stopped(&self, public_key: &str, removed: &[InstanceInfo]) {
        for info in removed {
            self.publish(EventData::ActorStopped(ActorStopped {
                public_key: public_key.to_string(),
                instance_id: info.instance_id.clone(),
            }));
        }
    }

    pub(crate) fn publish_actor_start_failed(&self, actor_ref: &str, error: &Error) {
        tracing::warn!(actor_ref = %quote_input(actor_ref), %error, "actor start failed");
        self.publish(EventData::ActorStartFailed(ActorStartFailed {
            actor_ref: quote_input(actor_ref).into_owned(),
            error: error.to_string(),
        }));
    }

    fn publish_stop_failed(&self, public_key: &str, error: &Error) {
        tracing::warn!(actor = %quote_input(public_key), %error, "actor stop failed");
        self.publish(EventData::ActorStopFailed(ActorStopFailed {
            public_key: quote_input(public_key).into_owned(),
            error: error.to_string(),
        }));
    }
}
