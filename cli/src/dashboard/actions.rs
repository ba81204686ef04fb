//! What the dashboard's buttons do. Over NATS every action is a control-interface request built by
//! `ctl`'s [`RequestBuilder`](crate::ctl::requests::RequestBuilder), so it works on any 0.5x host;
//! without NATS (`wasmhost up --dashboard` in the embedded lattice) the same actions are method
//! calls on the host.
//!
//! Starting from a file: the path is read by the dashboard process. For the host running in the
//! same process (`wasmhost up --dashboard`) the module goes straight to it through the embedding
//! API; for any other host the dashboard pushes it to the OCI registry given with `--registry`
//! and starts it by reference (`la` only takes references a host can fetch from the network).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use wasmhost::observer::LatticeObserver;
use wasmhost::oci::{push, ArtifactKind, PushOptions};
use wasmhost::protocol::claims::extract_actor_claims;
use wasmhost::protocol::ctl::{ActorAuctionAck, ProviderAuctionAck, StringMap};
use wasmhost::protocol::LinkDefinition;
use wasmhost::{ActorSource, Host, ProviderSource};

use crate::ctl::client::CtlClient;
use crate::ctl::start::pick_winner;
use crate::hot_reload::{prepare_update, revision_hint, FileWatcher, SigningKeys};

/// Largest module the dashboard reads from a file.
const MAX_MODULE_BYTES: u64 = 64 << 20;
/// Log lines kept for pages that connect later.
const LOG_KEPT: usize = 200;

/// An OCI registry the dashboard pushes files to, so remote hosts can start them by reference.
#[derive(Debug, Clone)]
pub struct Registry {
    /// `host:port` (optionally with a path prefix), e.g. `127.0.0.1:5000`.
    pub address: String,
    /// Plain HTTP (a local registry without TLS; the hosts need it in `WASMCLOUD_OCI_ALLOWED_INSECURE`).
    pub insecure: bool,
    /// Basic auth user.
    pub username: Option<String>,
    /// Basic auth password.
    pub password: Option<String>,
}

/// Where an actor comes from in the start form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartSource {
    /// An OCI reference the host fetches.
    Oci,
    /// A path on the dashboard's machine.
    File,
}

/// `POST /api/actors/start`.
#[derive(Debug, Deserialize)]
pub struct StartActor {
    /// `oci` or `file`.
    pub source: StartSource,
    /// The OCI reference or the file path.
    pub reference: String,
    /// Host to start on; none (or empty) = auction among the hosts matching `constraints`.
    #[serde(default)]
    pub host_id: Option<String>,
    /// Auction constraints (labels).
    #[serde(default)]
    pub constraints: StringMap,
    /// Instances.
    #[serde(default = "one")]
    pub count: u16,
    /// Watch the file and live-update the actor on each rebuild (`file` only).
    #[serde(default)]
    pub hot_reload: bool,
}

fn one() -> u16 {
    1
}

/// `POST /api/actors/scale`.
#[derive(Debug, Deserialize)]
pub struct ScaleActor {
    /// Host id.
    pub host_id: String,
    /// Actor public key.
    pub actor_id: String,
    /// Reference new instances start from (`""`: the running one's).
    #[serde(default)]
    pub actor_ref: String,
    /// Desired instances.
    pub count: u16,
}

/// `POST /api/actors/stop`.
#[derive(Debug, Deserialize)]
pub struct StopActor {
    /// Host id.
    pub host_id: String,
    /// Actor public key.
    pub actor_id: String,
    /// Instances to stop; 0 = all.
    #[serde(default)]
    pub count: u16,
}

/// `POST /api/providers/start`.
#[derive(Debug, Deserialize)]
pub struct StartProvider {
    /// OCI reference of the provider archive.
    pub provider_ref: String,
    /// Link name.
    #[serde(default = "default_link")]
    pub link_name: String,
    /// Host to start on; none = auction.
    #[serde(default)]
    pub host_id: Option<String>,
    /// Auction constraints.
    #[serde(default)]
    pub constraints: StringMap,
    /// Configuration JSON handed to the provider.
    #[serde(default)]
    pub config: Option<String>,
}

fn default_link() -> String {
    "default".into()
}

/// `POST /api/providers/stop`.
#[derive(Debug, Deserialize)]
pub struct StopProvider {
    /// Host id.
    pub host_id: String,
    /// Provider public key.
    pub provider_id: String,
    /// Link name.
    pub link_name: String,
    /// Contract id.
    #[serde(default)]
    pub contract_id: String,
}

/// `POST /api/links/delete`.
#[derive(Debug, Deserialize)]
pub struct DeleteLink {
    /// Actor public key.
    pub actor_id: String,
    /// Contract id.
    pub contract_id: String,
    /// Link name.
    pub link_name: String,
}

/// A file being watched for hot reload.
#[derive(Debug, Clone, Serialize)]
pub struct WatchInfo {
    /// Id for `POST /api/watches/stop`.
    pub id: u64,
    /// The watched file.
    pub path: String,
    /// Host running the actor.
    pub host_id: String,
    /// Actor public key.
    pub public_key: String,
    /// What happened last.
    pub last: String,
}

struct WatchEntry {
    info: WatchInfo,
    task: tokio::task::JoinHandle<()>,
}

/// Runs the dashboard's actions and keeps its log and hot-reload watches.
pub struct Controller {
    /// The lattice picture the page shows.
    pub observer: LatticeObserver,
    ctl: Option<CtlClient>,
    local: Option<Host>,
    registry: Option<Registry>,
    keys: Option<Arc<SigningKeys>>,
    log: broadcast::Sender<String>,
    recent: Mutex<VecDeque<String>>,
    watches: Mutex<BTreeMap<u64, WatchEntry>>,
    next_watch: AtomicU64,
}

impl Controller {
    /// `ctl`: the lattice's control connection (none in the embedded lattice); `local`: a host in
    /// this process (`wasmhost up --dashboard`).
    pub fn new(
        observer: LatticeObserver,
        ctl: Option<CtlClient>,
        local: Option<Host>,
        registry: Option<Registry>,
        keys: Option<SigningKeys>,
    ) -> Arc<Controller> {
        Arc::new(Controller {
            observer,
            ctl,
            local,
            registry,
            keys: keys.map(Arc::new),
            log: broadcast::channel(256).0,
            recent: Mutex::new(VecDeque::new()),
            watches: Mutex::new(BTreeMap::new()),
            next_watch: AtomicU64::new(1),
        })
    }

    /// Log lines (JSON `{"level","message","time_ms"}`) from now on, and the recent ones.
    pub fn log_lines(&self) -> (Vec<String>, broadcast::Receiver<String>) {
        let recent = self.recent.lock();
        (recent.iter().cloned().collect(), self.log.subscribe())
    }

    /// Records a line for the page and stderr.
    pub fn say(&self, level: &str, message: &str) {
        eprintln!("dashboard: {message}");
        let line =
            serde_json::json!({"level": level, "message": message, "time_ms": wasmhost_now_ms()})
                .to_string();
        let mut recent = self.recent.lock();
        recent.push_back(line.clone());
        while recent.len() > LOG_KEPT {
            recent.pop_front();
        }
        let _ = self.log.send(line);
    }

    /// The hot-reload watches.
    pub fn watches(&self) -> Vec<WatchInfo> {
        self.watches
            .lock()
            .values()
            .map(|w| w.info.clone())
            .collect()
    }

    fn ctl(&self) -> Option<&CtlClient> {
        self.ctl.as_ref()
    }

    /// The in-process host, when `host_id` names it.
    fn local_host(&self, host_id: &str) -> Option<&Host> {
        self.local.as_ref().filter(|h| h.id() == host_id)
    }

    fn embedded(&self) -> Result<&Host, String> {
        self.local
            .as_ref()
            .ok_or_else(|| "no lattice connection and no local host".to_string())
    }

    /// Picks the host: the one given, or the winner of an auction.
    async fn place_actor(
        &self,
        actor_ref: &str,
        host_id: Option<String>,
        constraints: StringMap,
    ) -> Result<String, String> {
        if let Some(host) = host_id.filter(|h| !h.is_empty()) {
            return Ok(host);
        }
        match self.ctl() {
            Some(ctl) => {
                let acks: Vec<ActorAuctionAck> = ctl
                    .gather(ctl.requests.actor_auction(actor_ref, constraints.clone()))
                    .await?;
                pick_winner(
                    acks.into_iter().map(|a| a.host_id).collect(),
                    actor_ref,
                    &constraints,
                )
            }
            None => {
                let host = self.embedded()?;
                pick_winner(
                    satisfies(host, &constraints)
                        .then(|| host.id().to_string())
                        .into_iter()
                        .collect(),
                    actor_ref,
                    &constraints,
                )
            }
        }
    }

    /// Starts an actor from an OCI reference or a file; with `hot_reload`, watches the file.
    pub async fn start_actor(self: &Arc<Self>, request: StartActor) -> Result<String, String> {
        let count = request.count.max(1);
        let reference = request.reference.trim().to_string();
        if reference.is_empty() {
            return Err("give an OCI reference or a file path".into());
        }
        match request.source {
            StartSource::Oci => {
                if request.hot_reload {
                    return Err("hot reload watches a file: choose 'from file'".into());
                }
                let host = self
                    .place_actor(&reference, request.host_id, request.constraints)
                    .await?;
                self.launch(&host, &reference, count).await?;
                Ok(format!(
                    "host {host} is starting {count} instance(s) of {reference}"
                ))
            }
            StartSource::File => {
                self.start_actor_from_file(
                    PathBuf::from(reference),
                    request.host_id,
                    request.constraints,
                    count,
                    request.hot_reload,
                )
                .await
            }
        }
    }

    async fn launch(&self, host: &str, actor_ref: &str, count: u16) -> Result<(), String> {
        match self.ctl() {
            Some(ctl) => ctl
                .command(
                    ctl.requests
                        .start_actor(host, actor_ref, count, StringMap::new()),
                )
                .await
                .map(drop),
            None => self
                .embedded()?
                .start_actor(ActorSource::parse(actor_ref), count, HashMap::new())
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
        }
    }

    async fn start_actor_from_file(
        self: &Arc<Self>,
        path: PathBuf,
        host_id: Option<String>,
        constraints: StringMap,
        count: u16,
        hot_reload: bool,
    ) -> Result<String, String> {
        let path = std::path::absolute(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let module = read_module(&path)?;
        let claims =
            extract_actor_claims(&module).map_err(|e| format!("{}: {e}", path.display()))?;
        let public_key = claims.public_key().to_string();
        let file_ref = format!("file://{}", path.display());
        let host = self.place_actor(&file_ref, host_id, constraints).await?;
        if let Some(local) = self.local_host(&host) {
            local
                .start_actor(ActorSource::File(path.clone()), count, HashMap::new())
                .await
                .map_err(|e| e.to_string())?;
        } else {
            let reference = self.push_module(module, &path).await?;
            self.launch(&host, &reference, count).await?;
        }
        let mut message = format!(
            "host {host} is starting {count} instance(s) of {} ({public_key})",
            path.display()
        );
        if hot_reload {
            let id = self.watch(path.clone(), host.clone(), public_key)?;
            message.push_str(&format!("; watching the file for rebuilds (watch {id})"));
        }
        Ok(message)
    }

    /// Pushes a module read from `path` to the registry; its reference there.
    async fn push_module(&self, module: Vec<u8>, path: &Path) -> Result<String, String> {
        let registry = self.registry.as_ref().ok_or_else(|| {
            format!(
                "{} is on this machine; a host elsewhere in the lattice can only start actors by reference: start the dashboard with --registry HOST:PORT (it pushes the file there and starts it by reference), or run it inside the host with `wasmhost up --dashboard`",
                path.display()
            )
        })?;
        let claims =
            extract_actor_claims(&module).map_err(|e| format!("{}: {e}", path.display()))?;
        let reference = registry_reference(
            &registry.address,
            claims.name().unwrap_or(""),
            claims.public_key(),
            claims.revision(),
            claims.module_hash(),
        );
        let options = PushOptions {
            insecure: registry.insecure,
            username: registry.username.clone(),
            password: registry.password.clone(),
        };
        push(&reference, module, ArtifactKind::Actor, &options)
            .await
            .map_err(|e| format!("cannot push {} to {reference}: {e}", path.display()))?;
        Ok(reference)
    }

    /// Sets an actor's instance count on one host.
    pub async fn scale_actor(&self, request: ScaleActor) -> Result<String, String> {
        match self.ctl() {
            Some(ctl) => {
                ctl.command(ctl.requests.scale_actor(
                    &request.host_id,
                    &request.actor_id,
                    &request.actor_ref,
                    request.count,
                    StringMap::new(),
                ))
                .await?;
            }
            None => {
                self.embedded()?
                    .scale_actor(&request.actor_id, request.count, HashMap::new())
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(format!(
            "host {} is scaling {} to {} instance(s)",
            request.host_id, request.actor_id, request.count
        ))
    }

    /// Stops instances of an actor on one host.
    pub async fn stop_actor(&self, request: StopActor) -> Result<String, String> {
        match self.ctl() {
            Some(ctl) => {
                ctl.command(ctl.requests.stop_actor(
                    &request.host_id,
                    &request.actor_id,
                    request.count,
                    StringMap::new(),
                ))
                .await?;
            }
            None => {
                self.embedded()?
                    .stop_actor(&request.actor_id, request.count, HashMap::new())
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(format!(
            "host {} is stopping {}",
            request.host_id, request.actor_id
        ))
    }

    /// Starts a provider on a host or the winner of an auction.
    pub async fn start_provider(&self, request: StartProvider) -> Result<String, String> {
        if let Some(config) = request.config.as_deref().filter(|c| !c.trim().is_empty()) {
            serde_json::from_str::<serde_json::Value>(config)
                .map_err(|e| format!("the provider configuration is not JSON: {e}"))?;
        }
        let config = request.config.filter(|c| !c.trim().is_empty());
        let Some(ctl) = self.ctl() else {
            // Providers are processes on NATS; the host explains when it has none.
            self.embedded()?
                .start_provider(
                    ProviderSource::parse(&request.provider_ref),
                    &request.link_name,
                    config,
                    HashMap::new(),
                )
                .await
                .map_err(|e| e.to_string())?;
            return Ok(format!("started {}", request.provider_ref));
        };
        let host = match request.host_id.filter(|h| !h.is_empty()) {
            Some(host) => host,
            None => {
                let acks: Vec<ProviderAuctionAck> = ctl
                    .gather(ctl.requests.provider_auction(
                        &request.provider_ref,
                        &request.link_name,
                        request.constraints.clone(),
                    ))
                    .await?;
                pick_winner(
                    acks.into_iter().map(|a| a.host_id).collect(),
                    &request.provider_ref,
                    &request.constraints,
                )?
            }
        };
        ctl.command(ctl.requests.start_provider(
            &host,
            &request.provider_ref,
            &request.link_name,
            StringMap::new(),
            config,
        ))
        .await?;
        Ok(format!(
            "host {host} is starting provider {} (link {})",
            request.provider_ref, request.link_name
        ))
    }

    /// Stops a provider on one host.
    pub async fn stop_provider(&self, request: StopProvider) -> Result<String, String> {
        match self.ctl() {
            Some(ctl) => {
                ctl.command(ctl.requests.stop_provider(
                    &request.host_id,
                    &request.provider_id,
                    &request.link_name,
                    &request.contract_id,
                ))
                .await?;
            }
            None => {
                self.embedded()?
                    .stop_provider(&request.provider_id, &request.link_name)
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(format!(
            "host {} stopped provider {} (link {})",
            request.host_id, request.provider_id, request.link_name
        ))
    }

    /// Puts a link definition.
    pub async fn put_link(&self, link: LinkDefinition) -> Result<String, String> {
        for (field, value) in [
            ("actor", &link.actor_id),
            ("provider", &link.provider_id),
            ("contract id", &link.contract_id),
            ("link name", &link.link_name),
        ] {
            if value.trim().is_empty() {
                return Err(format!("a link needs a {field}"));
            }
        }
        match self.ctl() {
            Some(ctl) => {
                ctl.command(ctl.requests.link_put(&link)).await?;
            }
            None => self
                .embedded()?
                .put_link(link.clone())
                .await
                .map_err(|e| e.to_string())?,
        }
        Ok(format!(
            "linked {} to {} ({}, link {})",
            link.actor_id, link.provider_id, link.contract_id, link.link_name
        ))
    }

    /// Deletes a link definition.
    pub async fn delete_link(&self, request: DeleteLink) -> Result<String, String> {
        match self.ctl() {
            Some(ctl) => {
                ctl.command(ctl.requests.link_del(
                    &request.actor_id,
                    &request.contract_id,
                    &request.link_name,
                ))
                .await?;
            }
            None => {
                self.embedded()?
                    .delete_link(&request.actor_id, &request.contract_id, &request.link_name)
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(format!(
            "deleted the link of {} for {} (link {})",
            request.actor_id, request.contract_id, request.link_name
        ))
    }

    /// Stops a hot-reload watch.
    pub fn stop_watch(&self, id: u64) -> Result<String, String> {
        let entry = self
            .watches
            .lock()
            .remove(&id)
            .ok_or_else(|| format!("no watch {id}"))?;
        entry.task.abort();
        Ok(format!("stopped watching {}", entry.info.path))
    }

    fn watch(
        self: &Arc<Self>,
        path: PathBuf,
        host_id: String,
        public_key: String,
    ) -> Result<u64, String> {
        let watcher = FileWatcher::new(&path)?;
        let id = self.next_watch.fetch_add(1, Ordering::Relaxed);
        let info = WatchInfo {
            id,
            path: path.display().to_string(),
            host_id,
            public_key,
            last: "watching".into(),
        };
        let controller = Arc::downgrade(self);
        let task = tokio::spawn({
            let info = info.clone();
            async move {
                let mut watcher = watcher;
                while let Some(rebuild) = watcher.next_rebuild().await {
                    let Some(controller) = controller.upgrade() else {
                        return;
                    };
                    let outcome = controller.hot_reload(&info, rebuild).await;
                    let (level, message) = match outcome {
                        Ok(message) => ("info", message),
                        Err(message) => ("error", message),
                    };
                    controller.say(level, &message);
                    let mut watches = controller.watches.lock();
                    if let Some(entry) = watches.get_mut(&info.id) {
                        entry.info.last = message;
                    }
                }
            }
        });
        self.watches.lock().insert(id, WatchEntry { info, task });
        Ok(id)
    }

    /// One rebuild: re-signed if needed and allowed, then live-updated on its host (directly for
    /// the in-process host, else pushed and sent as `upd`).
    async fn hot_reload(&self, watch: &WatchInfo, rebuild: Vec<u8>) -> Result<String, String> {
        let path = Path::new(&watch.path);
        let running = self
            .observer
            .snapshot()
            .host(&watch.host_id)
            .and_then(|h| h.actor(&watch.public_key))
            .map(|a| a.revision);
        let running = match (running, self.local_host(&watch.host_id)) {
            (_, Some(local)) => local
                .actor(&watch.public_key)
                .map(|a| a.claims.revision())
                .ok(),
            (running, None) => running,
        };
        let Some(running) = running else {
            return Err(format!(
                "hot reload of {}: actor {} no longer runs on host {}; rebuild ignored",
                path.display(),
                watch.public_key,
                watch.host_id
            ));
        };
        let prepared = prepare_update(rebuild, running, self.keys.as_deref());
        let resigned = prepared
            .resigned_to
            .map(|r| format!(" (re-signed with revision {r})"))
            .unwrap_or_default();
        let refused = |e: String| {
            let hint = revision_hint(&e, self.keys.is_some())
                .map(|h| format!("; {h}"))
                .unwrap_or_default();
            format!(
                "hot reload of {}: rebuild refused, revision {running} keeps running: {e}{hint}",
                path.display()
            )
        };
        if let Some(local) = self.local_host(&watch.host_id) {
            let info = local
                .update_actor(&watch.public_key, ActorSource::from(prepared.module))
                .await
                .map_err(|e| refused(e.to_string()))?;
            return Ok(format!(
                "hot reload of {}: {} updated to revision {}{resigned}, {} instance(s)",
                path.display(),
                watch.public_key,
                info.claims.revision(),
                info.instances.len()
            ));
        }
        let ctl = self
            .ctl()
            .ok_or_else(|| "hot reload needs the lattice connection".to_string())?;
        // Checked here: a remote host would only see it after a push to the registry.
        let claims = extract_actor_claims(&prepared.module).map_err(|e| refused(e.to_string()))?;
        let reference = self.push_module(prepared.module, path).await?;
        ctl.command(ctl.requests.update_actor(
            &watch.host_id,
            &watch.public_key,
            &reference,
            StringMap::new(),
        ))
        .await
        .map_err(refused)?;
        Ok(format!(
            "hot reload of {}: {} updated to revision {}{resigned} ({reference})",
            path.display(),
            watch.public_key,
            claims.revision()
        ))
    }
}

fn read_module(path: &Path) -> Result<Vec<u8>, String> {
    wasmhost::files::read_artifact_blocking(path, MAX_MODULE_BYTES, "actor module")
        .map_err(|e| e.message().to_string())
}

fn satisfies(host: &Host, constraints: &StringMap) -> bool {
    constraints
        .iter()
        .all(|(k, v)| host.labels().get(k) == Some(v))
}

/// `{registry}/wasmhost-dashboard/{name}:r{revision}-{hash}`: one tag per module content.
fn registry_reference(
    registry: &str,
    name: &str,
    public_key: &str,
    revision: i32,
    module_hash: &str,
) -> String {
    let slug: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let slug = slug.trim_matches('-');
    let repository = if slug.is_empty() {
        public_key.to_lowercase()
    } else {
        slug.to_string()
    };
    let hash: String = module_hash
        .chars()
        .take(12)
        .collect::<String>()
        .to_lowercase();
    format!(
        "{}/wasmhost-dashboard/{repository}:r{revision}-{hash}",
        registry.trim_end_matches('/')
    )
}

fn wasmhost_now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_references_are_valid_oci_names_per_content() {
        assert_eq!(
            registry_reference(
                "127.0.0.1:5000/",
                "Echo Actor!",
                "MABC",
                3,
                "0A1B2C3D4E5F6A7B"
            ),
            "127.0.0.1:5000/wasmhost-dashboard/echo-actor:r3-0a1b2c3d4e5f"
        );
        assert_eq!(
            registry_reference("r:5000", "", "MABC", 0, "FF"),
            "r:5000/wasmhost-dashboard/mabc:r0-ff"
        );
    }

    #[test]
    fn requests_read_with_defaults() {
        let start: StartActor =
            serde_json::from_str(r#"{"source":"file","reference":"/a.wasm"}"#).unwrap();
        assert_eq!(
            (start.source, start.count, start.hot_reload, start.host_id),
            (StartSource::File, 1, false, None)
        );
        assert!(serde_json::from_str::<StartActor>(r#"{"source":"ftp","reference":"x"}"#).is_err());
        let provider: StartProvider = serde_json::from_str(r#"{"provider_ref":"r"}"#).unwrap();
        assert_eq!(provider.link_name, "default");
    }
}
