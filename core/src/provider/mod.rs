//! Capability providers (LATTICE.md §4): separate processes that join the lattice over NATS.
//!
//! The host verifies the provider archive, extracts this machine's binary, spawns it with HostData
//! on stdin, watches it (exit detected at once, restart with backoff, periodic health checks) and
//! stops it gracefully. Links reach providers over NATS (`linkdefs.put/del`, pushed by the lattice
//! transport); a restarted process gets the current links in its HostData.

mod launch;
mod process;
mod supervisor;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use serde_json::json;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use wasmhost_protocol::claims::{CapabilityProvider, Claims};
use wasmhost_protocol::ctl::ProviderDescription;
use wasmhost_protocol::events::{humanize_time_from_now, PROVIDER_STARTED, PROVIDER_START_FAILED};

use crate::host::{Host, HostInner, ProviderSource};
use crate::policy::PolicyRequest;
use crate::provider_archive::ProviderArchive;
use crate::{Error, Result};

use process::ProviderProcess;

/// What the OTP host answers when the provider already runs here with that link name.
pub(crate) const ALREADY_RUNNING: &str = "Provider with that link name is already running on this host";
/// Largest provider archive read from a file, in bytes.
const MAX_ARCHIVE_FILE: u64 = 512 << 20;

/// A capability provider running on this host.
#[derive(Debug, Clone)]
pub struct ProviderInfo {
    /// Provider public key (V...).
    pub public_key: String,
    /// The link name it serves.
    pub link_name: String,
    /// Its contract id, e.g. `wasmcloud:keyvalue`.
    pub contract_id: String,
    /// Where it was started from (`file://...`, an OCI reference, or empty for bytes).
    pub image_ref: String,
    /// Annotations given at start.
    pub annotations: HashMap<String, String>,
    /// Its verified claims (`claims.jwt` of the archive).
    pub claims: Arc<Claims<CapabilityProvider>>,
    /// Id of the current process instance (a new one after each restart).
    pub instance_id: String,
    /// OS process id; `None` while it is being restarted.
    pub pid: Option<u32>,
    /// The last health check's verdict (`false` until the first one answered).
    pub healthy: bool,
    /// Restarts after unexpected exits so far.
    pub restarts: u32,
}

/// One provider (key + link name) on this host, across the processes its supervisor starts.
pub(crate) struct RunningProvider {
    pub(crate) public_key: String,
    pub(crate) link_name: String,
    pub(crate) contract_id: String,
    pub(crate) image_ref: String,
    pub(crate) annotations: HashMap<String, String>,
    pub(crate) config_json: String,
    pub(crate) claims: Arc<Claims<CapabilityProvider>>,
    pub(crate) binary: PathBuf,
    pub(crate) status: Mutex<ProcessStatus>,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    task: Mutex<Option<JoinHandle<()>>>,
}

#[derive(Default)]
pub(crate) struct ProcessStatus {
    pub(crate) instance_id: String,
    pid: Option<u32>,
    healthy: bool,
    starts: u32,
}

impl RunningProvider {
    fn info(&self) -> ProviderInfo {
        let status = self.status.lock();
        ProviderInfo {
            public_key: self.public_key.clone(),
            link_name: self.link_name.clone(),
            contract_id: self.contract_id.clone(),
            image_ref: self.image_ref.clone(),
            annotations: self.annotations.clone(),
            claims: self.claims.clone(),
            instance_id: status.instance_id.clone(),
            pid: status.pid,
            healthy: status.healthy,
            restarts: status.starts.saturating_sub(1),
        }
    }

    fn revision(&self) -> i32 {
        self.claims.wascap.as_ref().and_then(|w| w.rev).unwrap_or(0)
    }

    /// A new process runs: new instance id, unhealthy until its first health check.
    pub(crate) fn set_running(&self, instance_id: String, pid: u32) {
        let mut status = self.status.lock();
        status.instance_id = instance_id;
        status.pid = Some(pid);
        status.healthy = false;
        status.starts += 1;
    }

    pub(crate) fn set_stopped(&self) {
        let mut status = self.status.lock();
        status.pid = None;
        status.healthy = false;
    }

    /// Records a health verdict; returns the previous one.
    pub(crate) fn set_healthy(&self, healthy: bool) -> bool {
        std::mem::replace(&mut self.status.lock().healthy, healthy)
    }

    pub(crate) fn publish_started(&self, inner: &HostInner) {
        let meta = self.claims.wascap.as_ref();
        inner.events.publish(
            PROVIDER_STARTED,
            json!({
                "public_key": self.public_key,
                "image_ref": self.image_ref,
                "link_name": self.link_name,
                "contract_id": self.contract_id,
                "instance_id": self.status.lock().instance_id,
                "annotations": self.annotations,
                "claims": {
                    "issuer": self.claims.iss,
                    "tags": serde_json::Value::Null,
                    "name": meta.and_then(|m| m.name.clone()),
                    "version": meta.and_then(|m| m.ver.clone()),
                    "not_before_human": self.claims.nbf.map_or_else(|| "immediately".to_string(), humanize_time_from_now),
                    "expires_human": self.claims.exp.map_or_else(|| "never".to_string(), humanize_time_from_now),
                },
            }),
        );
    }

    /// Asks the supervisor to stop the provider and waits until it has.
    async fn stop(&self) {
        if let Some(stop) = self.stop.lock().take() {
            let _ = stop.send(());
        }
        let task = self.task.lock().take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

/// The providers of one host, by (public key, link name).
#[derive(Default)]
pub(crate) struct ProviderRegistry {
    running: RwLock<HashMap<(String, String), Arc<RunningProvider>>>,
}

/// A host dropped without [`Host::stop`] still takes its providers down (killed at once: with the
/// host gone there is nobody to send a shutdown request).
impl Drop for ProviderRegistry {
    fn drop(&mut self) {
        for provider in self.running.get_mut().values() {
            if let Some(stop) = provider.stop.lock().take() {
                let _ = stop.send(());
            }
        }
    }
}

impl ProviderRegistry {
    fn get(&self, public_key: &str, link_name: &str) -> Option<Arc<RunningProvider>> {
        self.running.read().get(&(public_key.to_string(), link_name.to_string())).cloned()
    }

    /// Reserves the slot; fails when the provider already runs with that link name.
    fn reserve(&self, provider: Arc<RunningProvider>) -> Result<()> {
        let key = (provider.public_key.clone(), provider.link_name.clone());
        let mut running = self.running.write();
        if running.contains_key(&key) {
            return Err(Error::invalid(format!("{ALREADY_RUNNING} ({} with link name {})", key.0, key.1)));
        }
        running.insert(key, provider);
        Ok(())
    }

    fn remove(&self, public_key: &str, link_name: &str) -> Option<Arc<RunningProvider>> {
        self.running.write().remove(&(public_key.to_string(), link_name.to_string()))
    }

    fn all(&self) -> Vec<Arc<RunningProvider>> {
        let mut all: Vec<_> = self.running.read().values().cloned().collect();
        all.sort_by(|a, b| (&a.public_key, &a.link_name).cmp(&(&b.public_key, &b.link_name)));
        all
    }
}

impl Host {
    /// Starts a capability provider from a provider archive (`.par.gz` file, bytes, or OCI
    /// reference) serving `link_name`. The archive's claims and binary hashes are verified, this
    /// machine's binary is extracted and spawned with its HostData; `config_json` reaches the
    /// provider unchanged. Returns once the process runs (`provider_started`); health is reported
    /// later (`health_check_passed`). Providers join the lattice over NATS, so the host must have
    /// a NATS lattice. Publishes `provider_start_failed` on failure.
    pub async fn start_provider(
        &self,
        source: ProviderSource,
        link_name: &str,
        config_json: Option<String>,
        annotations: HashMap<String, String>,
    ) -> Result<ProviderInfo> {
        let image_ref = source.image_ref();
        let result = self.start_provider_inner(source, &image_ref, link_name, config_json.unwrap_or_default(), annotations).await;
        if let Err(e) = &result {
            tracing::warn!(provider_ref = %image_ref, link_name, error = %e, "provider start failed");
            self.inner
                .events
                .publish(PROVIDER_START_FAILED, json!({"provider_ref": image_ref, "link_name": link_name, "error": e.to_string()}));
        }
        result
    }

    /// Stops a provider gracefully: a shutdown request to its process, a grace period
    /// (`provider_shutdown_delay`), then SIGKILL to its process group. Publishes `provider_stopped`.
    pub async fn stop_provider(&self, public_key: &str, link_name: &str) -> Result<()> {
        let provider = self
            .inner
            .providers
            .get(public_key, link_name)
            .ok_or_else(|| Error::not_found(format!("provider {public_key} with link name {link_name} is not running on this host")))?;
        provider.stop().await;
        self.inner.providers.remove(public_key, link_name);
        tracing::info!(provider = %public_key, link_name, "provider stopped");
        Ok(())
    }

    /// The providers running on this host.
    pub fn providers(&self) -> Vec<ProviderInfo> {
        self.inner.providers.all().iter().map(|p| p.info()).collect()
    }

    /// A running provider by public key, or by the reference it was started from (how `lp` and
    /// `auction.provider` recognise a provider that already runs).
    pub(crate) fn provider_running(&self, reference: &str, link_name: &str) -> bool {
        // An OCI reference this host resolved before names its key (the lattice refmap).
        let resolved = self.refmaps().remove(reference);
        self.inner.providers.all().iter().any(|p| {
            p.link_name == link_name && (p.public_key == reference || p.image_ref == reference || resolved.as_ref() == Some(&p.public_key))
        })
    }

    /// Stops every provider (host stop), in parallel.
    pub(crate) async fn stop_all_providers(&self) {
        let all = self.inner.providers.all();
        futures::future::join_all(all.iter().map(|p| p.stop())).await;
        for p in all {
            self.inner.providers.remove(&p.public_key, &p.link_name);
        }
    }

    /// Providers as `get.{host}.inv` lists them.
    pub(crate) fn provider_descriptions(&self) -> Vec<ProviderDescription> {
        self.inner
            .providers
            .all()
            .iter()
            .map(|p| ProviderDescription {
                id: p.public_key.clone(),
                image_ref: Some(p.image_ref.clone()),
                link_name: p.link_name.clone(),
                name: p.claims.wascap.as_ref().and_then(|w| w.name.clone()),
                instance_id: p.status.lock().instance_id.clone(),
                annotations: p.annotations.clone(),
                revision: p.revision(),
                contract_id: Some(p.contract_id.clone()),
            })
            .collect()
    }

    /// Providers as the v0.59 heartbeat lists them.
    pub(crate) fn provider_heartbeat_entries(&self) -> Vec<serde_json::Value> {
        self.inner
            .providers
            .all()
            .iter()
            .map(|p| {
                json!({
                    "public_key": p.public_key,
                    "link_name": p.link_name,
                    "contract_id": p.contract_id,
                    "instance_id": p.status.lock().instance_id,
                })
            })
            .collect()
    }

    async fn start_provider_inner(
        &self,
        source: ProviderSource,
        image_ref: &str,
        link_name: &str,
        config_json: String,
        annotations: HashMap<String, String>,
    ) -> Result<ProviderInfo> {
        self.ensure_running()?;
        if link_name.is_empty() {
            return Err(Error::invalid("a provider needs a link name (usually `default`)"));
        }
        if self.transport().is_none() {
            return Err(Error::invalid(
                "capability providers are separate processes that reach actors over NATS; this host runs the embedded lattice (start it with a NATS URL), or register an in-process capability handler instead",
            ));
        }
        let from_registry = matches!(source, ProviderSource::Reference(_));
        let archive = self.load_provider_archive(source).await?;
        let public_key = archive.public_key().to_string();
        self.check_policy(&PolicyRequest::StartProvider {
            public_key: public_key.clone(),
            issuer: archive.claims().iss.clone(),
            image_ref: image_ref.to_string(),
            link_name: link_name.to_string(),
            contract_id: archive.contract_id().to_string(),
        })
        .await?;
        let binary = launch::extract_binary(&self.inner, &archive, link_name).await?;
        let (stop_tx, stop_rx) = oneshot::channel();
        let provider = Arc::new(RunningProvider {
            public_key: public_key.clone(),
            link_name: link_name.to_string(),
            contract_id: archive.contract_id().to_string(),
            image_ref: image_ref.to_string(),
            annotations,
            config_json,
            claims: Arc::new(archive.claims().clone()),
            binary,
            status: Mutex::new(ProcessStatus::default()),
            stop: Mutex::new(Some(stop_tx)),
            task: Mutex::new(None),
        });
        self.inner.providers.reserve(provider.clone())?;
        let instance_id = uuid::Uuid::new_v4().to_string();
        let spawned = match launch::host_data(&self.inner, &provider, &instance_id) {
            Ok(data) => ProviderProcess::spawn(&provider.binary, &data).await,
            Err(e) => Err(e),
        };
        let process = match spawned {
            Ok(process) => process,
            Err(e) => {
                self.inner.providers.remove(&public_key, link_name);
                return Err(e);
            }
        };
        provider.set_running(instance_id, process.pid);
        tracing::info!(provider = %public_key, link_name, contract_id = %provider.contract_id, pid = process.pid, "provider started");
        provider.publish_started(&self.inner);
        let task = tokio::spawn(supervisor::supervise(self.inner.weak_self.clone(), provider.clone(), process, stop_rx));
        *provider.task.lock() = Some(task);
        if let Some(lattice) = self.transport() {
            if let Err(e) = lattice.put_claims(provider_claims_map(&provider)).await {
                tracing::warn!(provider = %public_key, error = %e, "could not share the provider's claims with the lattice");
            }
        }
        if from_registry {
            self.record_refmap(image_ref, &public_key);
        }
        Ok(provider.info())
    }

    async fn load_provider_archive(&self, source: ProviderSource) -> Result<ProviderArchive> {
        let bytes = match source {
            ProviderSource::Reference(reference) => return self.fetch_provider_archive(&reference).await,
            ProviderSource::Bytes(bytes) => bytes,
            ProviderSource::File(path) => {
                let unreadable = |e: std::io::Error| Error::not_found(format!("cannot read provider archive {}: {e}", path.display()));
                let meta = tokio::fs::metadata(&path).await.map_err(unreadable)?;
                if meta.len() > MAX_ARCHIVE_FILE {
                    return Err(Error::invalid(format!("provider archive {} is larger than {MAX_ARCHIVE_FILE} bytes", path.display())));
                }
                tokio::fs::read(&path).await.map_err(unreadable)?.into()
            }
        };
        tokio::task::spawn_blocking(move || ProviderArchive::parse(&bytes).map_err(Error::from))
            .await
            .map_err(|e| Error::internal(format!("provider archive check failed: {e}")))?
    }
}

/// The `get.claims` map of a provider (§1.5 plus the v0.60 `contract_id`).
fn provider_claims_map(provider: &RunningProvider) -> HashMap<String, String> {
    let meta = provider.claims.wascap.as_ref();
    [
        ("sub", provider.public_key.clone()),
        ("iss", provider.claims.iss.clone()),
        ("name", meta.and_then(|m| m.name.clone()).unwrap_or_default()),
        ("call_alias", String::new()),
        ("caps", provider.contract_id.clone()),
        ("tags", String::new()),
        ("rev", provider.revision().to_string()),
        ("version", meta.and_then(|m| m.ver.clone()).unwrap_or_default()),
        ("contract_id", provider.contract_id.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}
