//! Host options from Elixir (`Wasmhost.start_host/1` fills every key) to a `HostConfig`.

use std::collections::HashMap;
use std::time::Duration;

use rustler::NifMap;
use wasmhost::{Error, ErrorKind, HostConfig, NatsConfig};

/// The options map built by `Wasmhost.start_host/1`; `nil` keeps the core's default.
#[derive(NifMap)]
pub(crate) struct HostOpts {
    lattice: Option<String>,
    host_seed: Option<String>,
    cluster_seed: Option<String>,
    cluster_issuers: Vec<String>,
    labels: HashMap<String, String>,
    friendly_name: Option<String>,
    nats_url: Option<String>,
    rpc_timeout_ms: Option<u64>,
    invocation_timeout_ms: Option<u64>,
    heartbeat_interval_ms: Option<u64>,
    max_instance_memory: Option<u64>,
    max_instances: Option<u32>,
    max_payload: Option<u64>,
    enable_invocation_events: bool,
}

impl HostOpts {
    /// The core configuration; fails on a malformed NATS URL or an out-of-range size.
    pub(crate) fn into_config(self) -> Result<HostConfig, Error> {
        let mut cfg = HostConfig::default();
        if let Some(v) = self.lattice {
            cfg.lattice = v;
        }
        cfg.host_seed = self.host_seed;
        cfg.cluster_seed = self.cluster_seed;
        cfg.cluster_issuers = self.cluster_issuers;
        cfg.labels = self.labels;
        cfg.friendly_name = self.friendly_name;
        if let Some(url) = self.nats_url {
            cfg.nats = Some(NatsConfig::single(&url)?);
        }
        if let Some(ms) = self.rpc_timeout_ms {
            cfg.rpc_timeout = Duration::from_millis(ms);
        }
        if let Some(ms) = self.invocation_timeout_ms {
            cfg.invocation_timeout = Duration::from_millis(ms);
        }
        if let Some(ms) = self.heartbeat_interval_ms {
            cfg.heartbeat_interval = Duration::from_millis(ms);
        }
        if let Some(v) = self.max_instance_memory {
            cfg.max_instance_memory = usize_opt("max_instance_memory", v)?;
        }
        if let Some(v) = self.max_instances {
            cfg.max_instances = v;
        }
        if let Some(v) = self.max_payload {
            cfg.max_payload = usize_opt("max_payload", v)?;
        }
        cfg.enable_invocation_events = self.enable_invocation_events;
        Ok(cfg)
    }
}

fn usize_opt(name: &str, v: u64) -> Result<usize, Error> {
    usize::try_from(v).map_err(|_| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("{name} {v} is too large for this machine"),
        )
    })
}
