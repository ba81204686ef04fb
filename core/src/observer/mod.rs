//! A live picture of a whole lattice: hosts, the actors and providers on each, links and claims,
//! kept up to date from the lattice's own wire protocol, so it works with any 0.5x host.
//!
//! [`LatticeObserver`] seeds its picture from `ping.hosts`, each host's `get.{host}.inv`,
//! `get.links` and `get.claims` (LATTICE.md §1) and then follows `wasmbus.evt.{lattice}` (§2):
//! lifecycle events change it, heartbeats reconcile it (a heartbeat's actor list corrects the
//! instance counts; a host that misses its heartbeats is gone). Two sources feed the same model:
//! a NATS connection ([`LatticeObserver::connect`]) and an embedded host
//! ([`LatticeObserver::from_host`], no NATS).
//!
//! Read it as a [`LatticeSnapshot`] (serde; the one JSON shape every binding and the dashboard
//! use) and follow it as a stream of [`ChangeEvent`]s. The state machine itself,
//! [`ObserverState`], is pure: events in, state and changes out.
//!
//! ```no_run
//! # async fn demo() -> wasmhost::Result<()> {
//! use wasmhost::observer::{LatticeObserver, ObserverConfig};
//! let observer = LatticeObserver::connect("nats://127.0.0.1:4222", ObserverConfig::default()).await?;
//! let (snapshot, mut changes) = observer.watch();
//! println!("{} hosts", snapshot.hosts.len());
//! while let Some(change) = changes.next().await {
//!     println!("{}", change.to_json());
//! }
//! # Ok(()) }
//! ```

mod change;
mod embedded;
mod model;
mod nats;
mod state;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use tokio::sync::broadcast;

pub use change::{ChangeEvent, HostGone, LatticeChange};
pub use model::{
    ActorState, ClaimsState, HostState, InstanceState, LatticeSnapshot, ProviderHealth,
    ProviderState, SortedMap,
};
pub use nats::connect_nats;
pub use state::{ExpiryPolicy, ObserverState};

use crate::{Error, Host, Result};

/// How many changes a slow subscriber may fall behind before it misses some.
const CHANGE_BUFFER: usize = 4096;
/// How often hosts are checked for missed heartbeats.
const EXPIRY_TICK: Duration = Duration::from_millis(250);

/// Settings of an observer.
#[derive(Debug, Clone)]
pub struct ObserverConfig {
    /// Lattice id (default `default`).
    pub lattice: String,
    /// Control topic prefix (default `wasmbus.ctl`).
    pub ctl_topic_prefix: String,
    /// When a silent host counts as gone.
    pub expiry: ExpiryPolicy,
    /// How long `ping.hosts` replies are collected while seeding (default 1 s).
    pub ping_timeout: Duration,
    /// Timeout of each inventory, links and claims request (default 2 s).
    pub request_timeout: Duration,
}

impl Default for ObserverConfig {
    fn default() -> Self {
        ObserverConfig {
            lattice: "default".into(),
            ctl_topic_prefix: "wasmbus.ctl".into(),
            expiry: ExpiryPolicy::default(),
            ping_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(2),
        }
    }
}

impl ObserverConfig {
    /// The defaults for `lattice`.
    pub fn for_lattice(lattice: impl Into<String>) -> Self {
        ObserverConfig {
            lattice: lattice.into(),
            ..Default::default()
        }
    }
}

/// [`ObserverConfig`] as the bindings pass it: a JSON object whose keys are all optional.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ObserverOptions {
    lattice: Option<String>,
    ctl_topic_prefix: Option<String>,
    missed_heartbeats: Option<u32>,
    heartbeat_interval_ms: Option<u64>,
    min_heartbeat_interval_ms: Option<u64>,
    ping_timeout_ms: Option<u64>,
    request_timeout_ms: Option<u64>,
}

impl ObserverConfig {
    /// Reads the options every binding takes as JSON: `{"lattice", "ctl_topic_prefix",
    /// "missed_heartbeats", "heartbeat_interval_ms", "min_heartbeat_interval_ms",
    /// "ping_timeout_ms", "request_timeout_ms"}`, each optional (`""` or `null` = defaults).
    /// Unknown keys, wrong types and zero durations or counts are refused with a message naming them.
    pub fn from_json(json: &str) -> Result<ObserverConfig> {
        let options: ObserverOptions = if json.trim().is_empty() || json.trim() == "null" {
            ObserverOptions::default()
        } else {
            serde_json::from_str(json)
                .map_err(|e| Error::invalid(format!("invalid observer options: {e}")))?
        };
        let positive = |value: Option<u64>, key: &str| -> Result<Option<Duration>> {
            match value {
                Some(0) => Err(Error::invalid(format!(
                    "observer option {key} must be greater than zero"
                ))),
                other => Ok(other.map(Duration::from_millis)),
            }
        };
        let mut config = ObserverConfig::default();
        if let Some(lattice) = options.lattice.filter(|l| !l.is_empty()) {
            config.lattice = lattice;
        }
        if let Some(prefix) = options.ctl_topic_prefix.filter(|p| !p.is_empty()) {
            config.ctl_topic_prefix = prefix;
        }
        match options.missed_heartbeats {
            Some(0) => {
                return Err(Error::invalid(
                    "observer option missed_heartbeats must be at least 1",
                ))
            }
            Some(n) => config.expiry.missed_heartbeats = n,
            None => {}
        }
        config.expiry.heartbeat_interval =
            positive(options.heartbeat_interval_ms, "heartbeat_interval_ms")?;
        if let Some(min) = positive(
            options.min_heartbeat_interval_ms,
            "min_heartbeat_interval_ms",
        )? {
            config.expiry.min_interval = min;
        }
        if let Some(timeout) = positive(options.ping_timeout_ms, "ping_timeout_ms")? {
            config.ping_timeout = timeout;
        }
        if let Some(timeout) = positive(options.request_timeout_ms, "request_timeout_ms")? {
            config.request_timeout = timeout;
        }
        Ok(config)
    }
}

/// The picture, its subscribers, and the sequence they share.
pub(crate) struct Shared {
    state: Mutex<ObserverState>,
    changes: broadcast::Sender<Arc<ChangeEvent>>,
}

impl Shared {
    fn new(config: &ObserverConfig) -> Arc<Self> {
        Arc::new(Shared {
            state: Mutex::new(ObserverState::new(
                config.lattice.clone(),
                config.expiry.clone(),
            )),
            changes: broadcast::channel(CHANGE_BUFFER).0,
        })
    }

    /// Runs `step` on the state and publishes the changes it made, under the same lock, so a
    /// [`LatticeObserver::watch`] never sees a change twice or misses one.
    pub(crate) fn apply(
        &self,
        step: impl FnOnce(&mut ObserverState, u64) -> Vec<ChangeEvent>,
    ) -> Vec<String> {
        let mut state = self.state.lock();
        for change in step(&mut state, now_ms()) {
            tracing::debug!(
                seq = change.seq,
                kind = change.change.kind(),
                "lattice change"
            );
            let _ = self.changes.send(Arc::new(change));
        }
        state.take_inventory_requests()
    }
}

/// Stops the observer's task when the last handle goes.
struct TaskGuard(tokio::task::JoinHandle<()>);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A live picture of a lattice. Cheap to clone: clones share one picture; the background task
/// stops when the last clone is dropped.
#[derive(Clone)]
pub struct LatticeObserver {
    shared: Arc<Shared>,
    lattice: String,
    _task: Arc<TaskGuard>,
}

impl LatticeObserver {
    /// Connects to the NATS server at `url` (comma-separated URLs are tried in turn) and observes
    /// `config.lattice`; returns once the picture is seeded. Fails when NATS cannot be reached or
    /// the event subscription fails; hosts that do not answer a seeding request are learnt from
    /// their next heartbeat instead.
    pub async fn connect(url: &str, config: ObserverConfig) -> Result<LatticeObserver> {
        Self::connect_with(&crate::NatsConnection::from_url(url)?, config).await
    }

    /// Like [`LatticeObserver::connect`] with full connection settings (credentials, TLS).
    pub async fn connect_with(
        settings: &crate::NatsConnection,
        config: ObserverConfig,
    ) -> Result<LatticeObserver> {
        let client = nats::connect_nats(settings).await?;
        Self::start_nats(client, config).await
    }

    /// Like [`LatticeObserver::connect`] over a NATS client the caller already has.
    pub async fn from_nats_client(
        client: async_nats::Client,
        config: ObserverConfig,
    ) -> Result<LatticeObserver> {
        Self::start_nats(client, config).await
    }

    async fn start_nats(
        client: async_nats::Client,
        config: ObserverConfig,
    ) -> Result<LatticeObserver> {
        let shared = Shared::new(&config);
        let lattice = config.lattice.clone();
        let task = nats::start(client, config, shared.clone()).await?;
        Ok(LatticeObserver {
            shared,
            lattice,
            _task: Arc::new(TaskGuard(task)),
        })
    }

    /// Observes an embedded host: its events, inventory, links and claims, no NATS. (For a host
    /// that joined a NATS lattice, [`LatticeObserver::connect`] sees every host of the lattice.)
    /// Fails when the host is stopped.
    pub async fn from_host(host: &Host, mut config: ObserverConfig) -> Result<LatticeObserver> {
        config.lattice = host.lattice().to_string();
        // The host's interval is known: no need to learn it.
        config
            .expiry
            .heartbeat_interval
            .get_or_insert(host.config().heartbeat_interval);
        let shared = Shared::new(&config);
        let task = embedded::start(host, shared.clone())?;
        Ok(LatticeObserver {
            shared,
            lattice: config.lattice,
            _task: Arc::new(TaskGuard(task)),
        })
    }

    /// The whole lattice `host` is in: over the host's own control connection settings when it
    /// joined NATS (every host of the lattice, seeded like [`LatticeObserver::connect`]), the host
    /// alone ([`LatticeObserver::from_host`]) when its lattice is embedded. What the bindings'
    /// "observe this host's lattice" calls use.
    pub async fn for_host(host: &Host, mut config: ObserverConfig) -> Result<LatticeObserver> {
        match &host.config().nats {
            Some(nats) => {
                config.lattice = host.lattice().to_string();
                config.ctl_topic_prefix = host.config().ctl_topic_prefix.clone();
                Self::connect_with(&nats.ctl, config).await
            }
            None => Self::from_host(host, config).await,
        }
    }

    /// The lattice id observed.
    pub fn lattice(&self) -> &str {
        &self.lattice
    }

    /// The picture now.
    pub fn snapshot(&self) -> LatticeSnapshot {
        self.shared.state.lock().snapshot()
    }

    /// The picture now and every change after it, with nothing missed in between.
    pub fn watch(&self) -> (LatticeSnapshot, ChangeStream) {
        let state = self.shared.state.lock();
        (
            state.snapshot(),
            ChangeStream {
                rx: self.shared.changes.subscribe(),
            },
        )
    }

    /// Changes from now on.
    pub fn subscribe(&self) -> ChangeStream {
        ChangeStream {
            rx: self.shared.changes.subscribe(),
        }
    }

    /// Polls the snapshot until `check` holds or `timeout` passes; the last snapshot either way
    /// (`Err` carries it when the time ran out). For tests and scripts that wait for a state.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&LatticeSnapshot) -> bool,
    ) -> std::result::Result<LatticeSnapshot, Box<LatticeSnapshot>> {
        let (snapshot, mut changes) = self.watch();
        if check(&snapshot) {
            return Ok(snapshot);
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, changes.next()).await {
                Ok(Some(_)) => {
                    let snapshot = self.snapshot();
                    if check(&snapshot) {
                        return Ok(snapshot);
                    }
                }
                Ok(None) | Err(_) => return Err(Box::new(self.snapshot())),
            }
        }
    }
}

/// Changes of an observer's picture, in order. A subscriber more than 4096 changes behind skips
/// the oldest (a warning says how many; take a fresh snapshot then).
pub struct ChangeStream {
    rx: broadcast::Receiver<Arc<ChangeEvent>>,
}

impl ChangeStream {
    /// The next change, or `None` once the observer is gone.
    pub async fn next(&mut self) -> Option<Arc<ChangeEvent>> {
        loop {
            match self.rx.recv().await {
                Ok(change) => return Some(change),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "lattice change subscriber fell behind")
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// Blocking variant of [`ChangeStream::next`] for threads outside the async runtime.
    pub fn blocking_next(&mut self) -> Option<Arc<ChangeEvent>> {
        loop {
            match self.rx.blocking_recv() {
                Ok(change) => return Some(change),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "lattice change subscriber fell behind")
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

/// Wall-clock unix milliseconds: what `last_seen_ms` and expiry are measured in.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn transport(message: String) -> Error {
    crate::lattice::nats::transport_error(message)
}
