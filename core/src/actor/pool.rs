//! The instances of one actor: calls spread over idle instances, one call per instance at a time,
//! scale up and down, replacement of instances a trap left behind.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::{Semaphore, SemaphorePermit};

use super::context::ActorContext;
use super::engine::CompiledActor;
use super::instance::ActorInstance;
use crate::{Error, Result};

/// Metadata of one running instance, as inventories and events report it.
#[derive(Debug, Clone)]
pub struct InstanceInfo {
    /// UUID v4 of this instance.
    pub instance_id: String,
    /// Annotations given when the instance was started.
    pub annotations: HashMap<String, String>,
}

/// An instance in the pool, tagged with its id so scale-down can pick by annotations.
struct Slot {
    id: String,
    instance: ActorInstance,
}

/// What the pool needs to create instances.
pub(crate) struct InstanceFactory {
    pub(crate) engine: wasmtime::Engine,
    pub(crate) compiled: Arc<CompiledActor>,
    pub(crate) ctx: Arc<ActorContext>,
    pub(crate) max_memory: usize,
    pub(crate) start_timeout: Duration,
}

impl InstanceFactory {
    pub(crate) async fn instantiate(&self) -> Result<ActorInstance> {
        ActorInstance::new(
            &self.engine,
            &self.compiled,
            self.ctx.clone(),
            self.max_memory,
            self.start_timeout,
        )
        .await
    }
}

/// The instances of one actor. `permits` counts idle instances, so waiting for a permit is waiting
/// for an instance; lifecycle changes take every permit, so they never race a running call.
pub(crate) struct InstancePool {
    idle: Mutex<Vec<Slot>>,
    permits: Semaphore,
    infos: Mutex<Vec<InstanceInfo>>,
    factory: Mutex<Arc<InstanceFactory>>,
    /// Serialises scale/update/stop of this actor.
    lifecycle: tokio::sync::Mutex<()>,
}

impl InstancePool {
    pub(crate) fn new(factory: InstanceFactory) -> Self {
        InstancePool {
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(0),
            infos: Mutex::new(Vec::new()),
            factory: Mutex::new(Arc::new(factory)),
            lifecycle: tokio::sync::Mutex::new(()),
        }
    }

    pub(crate) fn instances(&self) -> Vec<InstanceInfo> {
        self.infos.lock().clone()
    }

    pub(crate) fn len(&self) -> usize {
        self.infos.lock().len()
    }

    pub(crate) fn api_version(&self) -> i32 {
        self.idle
            .lock()
            .first()
            .map_or(0, |s| s.instance.api_version)
    }

    pub(crate) fn factory(&self) -> Arc<InstanceFactory> {
        self.factory.lock().clone()
    }

    /// Runs one invocation on an idle instance, waiting at most `wait` for one to be free.
    pub(crate) async fn invoke(
        self: &Arc<Self>,
        operation: &str,
        payload: Bytes,
        timeout: Duration,
        wait: Duration,
    ) -> Result<Vec<u8>> {
        // An idle instance is the common case: take it without arming a timer.
        let permit = match self.permits.try_acquire() {
            Ok(permit) => permit,
            Err(tokio::sync::TryAcquireError::Closed) => {
                return Err(Error::not_found("the actor was stopped"))
            }
            Err(tokio::sync::TryAcquireError::NoPermits) => {
                match tokio::time::timeout(wait, self.permits.acquire()).await {
                    Ok(Ok(permit)) => permit,
                    Ok(Err(_)) => return Err(Error::not_found("the actor was stopped")),
                    Err(_) => {
                        return Err(Error::timeout(
                            "timed out waiting for a free actor instance",
                        ))
                    }
                }
            }
        };
        let slot = self
            .idle
            .lock()
            .pop()
            .ok_or_else(|| Error::internal("instance pool out of sync"))?;
        let mut lease = Lease {
            pool: self,
            slot: Some(slot),
            permit: Some(permit),
        };
        let instance = &mut lease.slot.as_mut().expect("lease holds a slot").instance;
        let result = instance.invoke(operation, payload, timeout).await;
        if instance.poisoned {
            let factory = self.factory();
            match factory.instantiate().await {
                Ok(fresh) => lease.slot.as_mut().expect("lease holds a slot").instance = fresh,
                Err(e) => {
                    tracing::error!(error = %e, "could not replace a failed actor instance; the actor runs one instance short");
                    lease.discard();
                }
            }
        }
        lease.give_back();
        result
    }

    /// Adds `count` instances with `annotations`; all or nothing.
    pub(crate) async fn add(
        &self,
        count: usize,
        annotations: &HashMap<String, String>,
    ) -> Result<Vec<InstanceInfo>> {
        let _guard = self.lifecycle.lock().await;
        self.add_locked(count, annotations).await
    }

    async fn add_locked(
        &self,
        count: usize,
        annotations: &HashMap<String, String>,
    ) -> Result<Vec<InstanceInfo>> {
        let factory = self.factory();
        let mut fresh = Vec::with_capacity(count);
        for _ in 0..count {
            fresh.push(factory.instantiate().await?);
        }
        let mut added = Vec::with_capacity(count);
        {
            let mut idle = self.idle.lock();
            let mut infos = self.infos.lock();
            for instance in fresh {
                let info = InstanceInfo {
                    instance_id: uuid::Uuid::new_v4().to_string(),
                    annotations: annotations.clone(),
                };
                idle.push(Slot {
                    id: info.instance_id.clone(),
                    instance,
                });
                infos.push(info.clone());
                added.push(info);
            }
        }
        self.permits.add_permits(count);
        Ok(added)
    }

    /// Stops up to `count` instances (0 = all) whose annotations include every pair of `filter`,
    /// after their running calls finish (bounded by `wait`). Returns the stopped instances.
    pub(crate) async fn remove(
        &self,
        count: usize,
        filter: &HashMap<String, String>,
        wait: Duration,
    ) -> Result<Vec<InstanceInfo>> {
        let _guard = self.lifecycle.lock().await;
        let all = self.quiesce(wait).await?;
        let mut idle = self.idle.lock();
        let mut infos = self.infos.lock();
        let limit = if count == 0 { usize::MAX } else { count };
        let mut removed = Vec::new();
        infos.retain(|info| {
            let matches = filter
                .iter()
                .all(|(k, v)| info.annotations.get(k) == Some(v));
            if matches && removed.len() < limit {
                removed.push(info.clone());
                false
            } else {
                true
            }
        });
        idle.retain(|slot| !removed.iter().any(|r| r.instance_id == slot.id));
        all.forget();
        self.permits.add_permits(idle.len());
        Ok(removed)
    }

    /// Replaces every instance with one of `factory` (live update); keeps instance ids and annotations.
    pub(crate) async fn replace_all(
        &self,
        factory: InstanceFactory,
        wait: Duration,
    ) -> Result<Vec<InstanceInfo>> {
        let _guard = self.lifecycle.lock().await;
        let factory = Arc::new(factory);
        let count = self.len();
        let mut fresh = Vec::with_capacity(count);
        for _ in 0..count {
            fresh.push(factory.instantiate().await?);
        }
        let all = self.quiesce(wait).await?;
        {
            let mut idle = self.idle.lock();
            for (slot, instance) in idle.iter_mut().zip(fresh) {
                slot.instance = instance;
            }
            *self.factory.lock() = factory;
        }
        drop(all);
        Ok(self.instances())
    }

    /// Closes the pool: callers waiting for an instance get "stopped".
    pub(crate) fn close(&self) {
        self.permits.close();
    }

    /// Takes every permit: returns once no call is running.
    async fn quiesce(&self, wait: Duration) -> Result<SemaphorePermit<'_>> {
        let n = self.len() as u32;
        match tokio::time::timeout(wait, self.permits.acquire_many(n)).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) => Err(Error::not_found("the actor was stopped")),
            Err(_) => Err(Error::timeout(
                "timed out waiting for running invocations to finish",
            )),
        }
    }
}

/// An instance taken from the pool. If the call future is dropped mid-invocation (the caller gave up),
/// the instance may be in any state: the lease drops it and plants a fresh one in the background.
struct Lease<'a> {
    pool: &'a Arc<InstancePool>,
    slot: Option<Slot>,
    permit: Option<SemaphorePermit<'a>>,
}

impl Lease<'_> {
    fn give_back(mut self) {
        if let Some(slot) = self.slot.take() {
            self.pool.idle.lock().push(slot);
        }
        self.permit.take();
    }

    /// Drops the instance for good: one instance fewer in this pool.
    fn discard(&mut self) {
        if let Some(slot) = self.slot.take() {
            self.pool.infos.lock().retain(|i| i.instance_id != slot.id);
        }
        if let Some(permit) = self.permit.take() {
            permit.forget();
        }
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let Some(slot) = self.slot.take() else { return };
        // Cancelled mid-call: the permit stays taken until a replacement instance is back in the pool.
        if let Some(permit) = self.permit.take() {
            permit.forget();
        }
        let id = slot.id;
        drop(slot.instance);
        let pool = self.pool.clone();
        let replace = async move {
            match pool.factory().instantiate().await {
                Ok(instance) if !pool.permits.is_closed() => {
                    pool.idle.lock().push(Slot { id, instance });
                    pool.permits.add_permits(1);
                }
                Ok(_) => {}
                Err(e) => {
                    pool.infos.lock().retain(|i| i.instance_id != id);
                    tracing::error!(error = %e, "could not replace an instance whose call was cancelled");
                }
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(replace);
            }
            Err(_) => tracing::error!(
                "an invocation was cancelled outside a runtime; its instance was not replaced"
            ),
        }
    }
}
