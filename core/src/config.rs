//! Host configuration: defaults that work out of the box, and the OTP host's `WASMCLOUD_*` environment names.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use wasmhost_nats::env::truthy;
pub use wasmhost_nats::NatsConfig;

/// Everything a host needs to start. `HostConfig::default()` runs an embedded lattice of one host
/// with generated keys; [`HostConfig::from_env`] reads the OTP host's environment variables.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Lattice id (`WASMCLOUD_LATTICE_PREFIX`), `default` unless set.
    pub lattice: String,
    /// Host seed (SN...); a fresh key is generated when absent.
    pub host_seed: Option<String>,
    /// Cluster seed (SC...) that signs invocations; generated when absent.
    pub cluster_seed: Option<String>,
    /// Cluster public keys (C...) whose invocations are accepted, besides our own.
    pub cluster_issuers: Vec<String>,
    /// Extra labels; `hostcore.*` labels are always added and win over these.
    pub labels: HashMap<String, String>,
    /// A name for humans; an adjective-noun-number name is generated when absent.
    pub friendly_name: Option<String>,
    /// `None` = embedded lattice (no server); `Some` = join a NATS lattice.
    pub nats: Option<NatsConfig>,
    /// Control subject prefix (`WASMCLOUD_CTL_TOPIC_PREFIX`), two tokens, `wasmbus.ctl` by default.
    pub ctl_topic_prefix: String,
    /// Timeout of RPC requests to other hosts and providers (`WASMCLOUD_RPC_TIMEOUT_MS`, 2 s).
    pub rpc_timeout: Duration,
    /// Longest time one actor invocation may run before it is interrupted (10 s).
    pub invocation_timeout: Duration,
    /// Largest linear memory one actor instance may grow to, in bytes (64 MiB).
    pub max_instance_memory: usize,
    /// Instances the host can hold at once across all actors; sizes wasmtime's pooling allocator (2048).
    pub max_instances: u32,
    /// Largest payload accepted for an invocation, in bytes (16 MiB).
    pub max_payload: usize,
    /// Interval between `host_heartbeat` events (30 s, as the OTP host).
    pub heartbeat_interval: Duration,
    /// Publish `invocation_succeeded`/`invocation_failed` events (off by default: they cost a publish per call).
    pub enable_invocation_events: bool,
    /// Allow `:latest` OCI references (`WASMCLOUD_OCI_ALLOW_LATEST`).
    pub oci_allow_latest: bool,
    /// Registries that may be reached over plain HTTP (`WASMCLOUD_OCI_ALLOWED_INSECURE`).
    pub oci_allowed_insecure: Vec<String>,
    /// Directory of the content-addressed OCI cache, shared by the hosts of a machine
    /// (`WASMHOST_OCI_CACHE_DIR`); `None` = `$XDG_CACHE_HOME/wasmhost/oci` or `~/.cache/wasmhost/oci`.
    pub oci_cache_dir: Option<PathBuf>,
    /// Bound of the OCI cache in bytes; least recently used artifacts are evicted beyond it
    /// (`WASMHOST_OCI_CACHE_MAX_BYTES`, 1 GiB).
    pub oci_cache_max_bytes: u64,
    /// Largest artifact fetched from a registry, in bytes (`WASMHOST_OCI_MAX_ARTIFACT_BYTES`, 512 MiB).
    pub oci_max_artifact_bytes: u64,
    /// Pause between a provider's shutdown request and killing it (`WASMCLOUD_PROV_SHUTDOWN_DELAY_MS`, 300 ms).
    pub provider_shutdown_delay: Duration,
    /// Start-up window of a provider process (5 s): the host probes its health every 250 ms until it
    /// first answers (publishing `health_check_passed` and re-sending its links), at most this long,
    /// then checks every `provider_health_check_interval`. The OTP host checks once after 5 s.
    pub provider_health_check_delay: Duration,
    /// Interval between provider health checks (30 s, as the OTP host).
    pub provider_health_check_interval: Duration,
    /// Where provider binaries are extracted (`WASMHOST_PROVIDER_CACHE_DIR`); `None` = `{tmp}/wasmcloudcache`
    /// as the OTP host, laid out `{provider key}/{revision}/{contract}_{link name}`.
    pub provider_cache_dir: Option<PathBuf>,
    /// Tell providers to log JSON lines (`WASMCLOUD_STRUCTURED_LOGGING_ENABLED`; off).
    pub structured_logging: bool,
    /// Directories from which control-interface requests (`la`, `scale`, `upd`, `lp` arriving over
    /// the lattice) may load `file://` or path references (`WASMCLOUD_ALLOW_FILE_LOAD`, a `:` or
    /// `,` separated list). Empty (the default): a remote client cannot make the host read local
    /// files. The embedding API and the CLI's own commands read local files regardless.
    pub allow_file_load: Vec<PathBuf>,
    /// Keep compiled actors on disk so an actor started again (after a restart, or by another
    /// host of this machine) skips compiling (`WASMHOST_MODULE_CACHE`, on by default).
    pub module_cache: bool,
    /// Where compiled actors are kept (`WASMHOST_MODULE_CACHE_DIR`); `None` =
    /// `$XDG_CACHE_HOME/wasmhost/modules` or `~/.cache/wasmhost/modules`. Must be private to the
    /// user (it holds native code): a directory others can write to is not used.
    pub module_cache_dir: Option<PathBuf>,
    /// Bound of that cache in bytes; least recently used modules go first
    /// (`WASMHOST_MODULE_CACHE_MAX_BYTES`, 512 MiB).
    pub module_cache_max_bytes: u64,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            lattice: "default".into(),
            host_seed: None,
            cluster_seed: None,
            cluster_issuers: Vec::new(),
            labels: HashMap::new(),
            friendly_name: None,
            nats: None,
            ctl_topic_prefix: "wasmbus.ctl".into(),
            rpc_timeout: Duration::from_millis(2000),
            invocation_timeout: Duration::from_secs(10),
            max_instance_memory: 64 << 20,
            max_instances: 2048,
            max_payload: 16 << 20,
            heartbeat_interval: Duration::from_secs(30),
            enable_invocation_events: false,
            oci_allow_latest: false,
            oci_allowed_insecure: Vec::new(),
            oci_cache_dir: None,
            oci_cache_max_bytes: crate::oci::DEFAULT_CACHE_MAX_BYTES,
            oci_max_artifact_bytes: crate::oci::DEFAULT_MAX_ARTIFACT_BYTES,
            provider_shutdown_delay: Duration::from_millis(300),
            provider_health_check_delay: Duration::from_secs(5),
            provider_health_check_interval: Duration::from_secs(30),
            provider_cache_dir: None,
            structured_logging: false,
            allow_file_load: Vec::new(),
            module_cache: true,
            module_cache_dir: None,
            module_cache_max_bytes: crate::actor::module_cache::DEFAULT_MODULE_CACHE_MAX_BYTES,
        }
    }
}

impl HostConfig {
    /// Reads the OTP host's environment variables (LATTICE.md §8.3) over the defaults.
    /// NATS is configured when any of `WASMCLOUD_RPC_HOST`, `WASMCLOUD_CTL_HOST`, `WASMCLOUD_RPC_PORT`,
    /// `WASMCLOUD_CTL_PORT` or `WASMCLOUD_NATS_URL` is set; otherwise the host runs the embedded lattice.
    pub fn from_env() -> crate::Result<Self> {
        Self::from_vars(std::env::vars())
    }

    /// Like [`HostConfig::from_env`], from any set of variables (testable without touching the process env).
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> crate::Result<Self> {
        let vars: HashMap<String, String> = vars.into_iter().collect();
        let get = |k: &str| {
            vars.get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut cfg = HostConfig::default();
        if let Some(v) = get("WASMCLOUD_LATTICE_PREFIX") {
            cfg.lattice = v;
        }
        cfg.host_seed = get("WASMCLOUD_HOST_SEED");
        cfg.cluster_seed = get("WASMCLOUD_CLUSTER_SEED");
        if let Some(v) = get("WASMCLOUD_CLUSTER_ISSUERS") {
            cfg.cluster_issuers = split_list(&v);
        }
        if let Some(v) = get("WASMCLOUD_CTL_TOPIC_PREFIX") {
            cfg.ctl_topic_prefix = v;
        }
        if let Some(v) = get("WASMCLOUD_RPC_TIMEOUT_MS") {
            cfg.rpc_timeout = Duration::from_millis(parse_num(&v, "WASMCLOUD_RPC_TIMEOUT_MS")?);
        }
        if let Some(v) = get("WASMCLOUD_PROV_SHUTDOWN_DELAY_MS") {
            cfg.provider_shutdown_delay =
                Duration::from_millis(parse_num(&v, "WASMCLOUD_PROV_SHUTDOWN_DELAY_MS")?);
        }
        if let Some(v) = get("WASMHOST_PROVIDER_CACHE_DIR") {
            cfg.provider_cache_dir = Some(PathBuf::from(v));
        }
        if let Some(v) = get("WASMCLOUD_STRUCTURED_LOGGING_ENABLED") {
            cfg.structured_logging = truthy(&v);
        }
        if let Some(v) = get("WASMCLOUD_HEARTBEAT_INTERVAL_MS") {
            cfg.heartbeat_interval =
                Duration::from_millis(parse_num(&v, "WASMCLOUD_HEARTBEAT_INTERVAL_MS")?);
        }
        if let Some(v) = get("WASMCLOUD_OCI_ALLOW_LATEST") {
            cfg.oci_allow_latest = truthy(&v);
        }
        if let Some(v) = get("WASMCLOUD_OCI_ALLOWED_INSECURE") {
            cfg.oci_allowed_insecure = split_list(&v);
        }
        if let Some(v) = get("WASMHOST_OCI_CACHE_DIR") {
            cfg.oci_cache_dir = Some(PathBuf::from(v));
        }
        if let Some(v) = get("WASMHOST_OCI_CACHE_MAX_BYTES") {
            cfg.oci_cache_max_bytes = parse_num(&v, "WASMHOST_OCI_CACHE_MAX_BYTES")?;
        }
        if let Some(v) = get("WASMHOST_OCI_MAX_ARTIFACT_BYTES") {
            cfg.oci_max_artifact_bytes = parse_num(&v, "WASMHOST_OCI_MAX_ARTIFACT_BYTES")?;
        }
        if let Some(v) = get("WASMHOST_MODULE_CACHE") {
            cfg.module_cache = truthy(&v);
        }
        if let Some(v) = get("WASMHOST_MODULE_CACHE_DIR") {
            cfg.module_cache_dir = Some(PathBuf::from(v));
        }
        if let Some(v) = get("WASMHOST_MODULE_CACHE_MAX_BYTES") {
            cfg.module_cache_max_bytes = parse_num(&v, "WASMHOST_MODULE_CACHE_MAX_BYTES")?;
        }
        if let Some(v) = get("WASMCLOUD_ALLOW_FILE_LOAD") {
            cfg.allow_file_load = parse_allowed_dirs(&v)?;
        }
        if let Some(v) = get("WASMCLOUD_ENABLE_INVOCATION_EVENTS") {
            cfg.enable_invocation_events = truthy(&v);
        }
        for (k, v) in &vars {
            if let Some(label) = k.strip_prefix("HOST_") {
                if !label.is_empty() {
                    cfg.labels.insert(label.to_lowercase(), v.clone());
                }
            }
        }
        // WASMCLOUD_{RPC,CTL,PROV_RPC}_* and ours in that family (wasmhost_nats::env).
        cfg.nats = wasmhost_nats::env::config_from_vars(&vars)?;
        Ok(cfg)
    }

    /// Sets the lattice id.
    pub fn with_lattice(mut self, lattice: impl Into<String>) -> Self {
        self.lattice = lattice.into();
        self
    }
    /// Joins a NATS lattice at `url`: one server or a comma list (failover in order), the same
    /// for RPC, control and providers, anonymous. For credentials and TLS set [`HostConfig::nats`]
    /// (a [`NatsConfig`]) or use the `WASMCLOUD_*` variables.
    pub fn with_nats_url(mut self, url: &str) -> crate::Result<Self> {
        self.nats = Some(NatsConfig::single(url)?);
        Ok(self)
    }
    /// Adds a label.
    pub fn with_label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }
    /// Sets the per-invocation timeout.
    pub fn with_invocation_timeout(mut self, timeout: Duration) -> Self {
        self.invocation_timeout = timeout;
        self
    }
    /// Sets the per-instance memory limit in bytes.
    pub fn with_max_instance_memory(mut self, bytes: usize) -> Self {
        self.max_instance_memory = bytes;
        self
    }

    pub(crate) fn validate(&self) -> crate::Result<()> {
        if self.lattice.is_empty() || self.lattice.contains(['.', ' ', '*', '>']) {
            return Err(crate::Error::invalid(format!(
                "invalid lattice id `{}`: it must be one NATS subject token",
                self.lattice
            )));
        }
        if self.ctl_topic_prefix.split('.').count() != 2 {
            return Err(crate::Error::invalid(format!(
                "invalid control topic prefix `{}`: it must be two tokens, like `wasmbus.ctl`",
                self.ctl_topic_prefix
            )));
        }
        if self.max_instances == 0 || self.max_instance_memory < 65536 {
            return Err(crate::Error::invalid(
                "max_instances must be > 0 and max_instance_memory at least one wasm page (64 KiB)",
            ));
        }
        if self.invocation_timeout.is_zero() {
            return Err(crate::Error::invalid(
                "invocation_timeout must be greater than zero",
            ));
        }
        if self.heartbeat_interval.is_zero() {
            return Err(crate::Error::invalid(
                "heartbeat_interval must be greater than zero",
            ));
        }
        if self.provider_health_check_interval.is_zero() {
            return Err(crate::Error::invalid(
                "provider_health_check_interval must be greater than zero",
            ));
        }
        Ok(())
    }
}

fn split_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// `WASMCLOUD_ALLOW_FILE_LOAD`: absolute directories, `:` or `,` separated. wasmCloud's later
/// hosts took a boolean there; `true` is refused (it would let any lattice client read any file
/// the host can), `false`/`0` mean none.
fn parse_allowed_dirs(v: &str) -> crate::Result<Vec<PathBuf>> {
    let lower = v.to_ascii_lowercase();
    if matches!(lower.as_str(), "false" | "0" | "no" | "off" | "disabled") {
        return Ok(Vec::new());
    }
    if truthy(v) {
        return Err(crate::Error::invalid(format!(
            "WASMCLOUD_ALLOW_FILE_LOAD takes the directories lattice clients may load files from (e.g. /srv/actors), not `{v}`"
        )));
    }
    v.split([':', ','])
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            let dir = PathBuf::from(d);
            if dir.is_absolute() {
                Ok(dir)
            } else {
                Err(crate::Error::invalid(format!(
                    "WASMCLOUD_ALLOW_FILE_LOAD: `{d}` is not an absolute directory"
                )))
            }
        })
        .collect()
}

fn parse_num<T: std::str::FromStr>(v: &str, name: &str) -> crate::Result<T> {
    v.parse()
        .map_err(|_| crate::Error::invalid(format!("{name}: `{v}` is not a valid number")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_run_the_embedded_lattice() {
        let cfg = HostConfig::from_vars(vars(&[])).unwrap();
        assert!(cfg.nats.is_none());
        assert_eq!(cfg.lattice, "default");
        assert_eq!(cfg.rpc_timeout, Duration::from_millis(2000));
        cfg.validate().unwrap();
    }

    #[test]
    fn env_names_of_the_otp_host_are_read() {
        let cfg = HostConfig::from_vars(vars(&[
            ("WASMCLOUD_LATTICE_PREFIX", "prod"),
            ("WASMCLOUD_RPC_HOST", "127.0.0.5"),
            ("WASMCLOUD_RPC_PORT", "4333"),
            ("WASMCLOUD_CTL_PORT", "4444"),
            ("WASMCLOUD_CLUSTER_ISSUERS", "CA, CB ,"),
            ("WASMCLOUD_OCI_ALLOW_LATEST", "true"),
            ("HOST_REGION", "eu"),
        ]))
        .unwrap();
        let nats = cfg.nats.unwrap();
        assert_eq!(nats.rpc.url(), "nats://127.0.0.5:4333");
        assert_eq!(nats.ctl.url(), "nats://127.0.0.1:4444");
        assert_eq!(cfg.cluster_issuers, vec!["CA", "CB"]);
        assert!(cfg.oci_allow_latest);
        assert_eq!(cfg.labels["region"], "eu");
        assert_eq!(cfg.lattice, "prod");
    }

    #[test]
    fn oci_settings_are_read() {
        let cfg = HostConfig::from_vars(vars(&[
            (
                "WASMCLOUD_OCI_ALLOWED_INSECURE",
                "localhost:5000, 127.0.0.1:5001",
            ),
            ("WASMHOST_OCI_CACHE_DIR", "/var/cache/wasmhost"),
            ("WASMHOST_OCI_CACHE_MAX_BYTES", "1048576"),
            ("WASMHOST_OCI_MAX_ARTIFACT_BYTES", "4096"),
        ]))
        .unwrap();
        assert_eq!(
            cfg.oci_allowed_insecure,
            vec!["localhost:5000", "127.0.0.1:5001"]
        );
        assert_eq!(
            cfg.oci_cache_dir,
            Some(PathBuf::from("/var/cache/wasmhost"))
        );
        assert_eq!(
            (cfg.oci_cache_max_bytes, cfg.oci_max_artifact_bytes),
            (1 << 20, 4096)
        );
        let defaults = HostConfig::default();
        assert_eq!(
            (defaults.oci_cache_dir, defaults.oci_allow_latest),
            (None, false)
        );
        let err =
            HostConfig::from_vars(vars(&[("WASMHOST_OCI_CACHE_MAX_BYTES", "lots")])).unwrap_err();
        assert!(
            err.to_string().contains("WASMHOST_OCI_CACHE_MAX_BYTES"),
            "{err}"
        );
    }

    #[test]
    fn bad_values_are_refused_with_the_variable_name() {
        let err = HostConfig::from_vars(vars(&[("WASMCLOUD_RPC_TIMEOUT_MS", "soon")])).unwrap_err();
        assert!(
            err.to_string().contains("WASMCLOUD_RPC_TIMEOUT_MS"),
            "{err}"
        );
        let err = HostConfig::default()
            .with_lattice("a.b")
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("lattice"), "{err}");
        let zero_heartbeat = HostConfig {
            heartbeat_interval: Duration::ZERO,
            ..Default::default()
        };
        assert!(zero_heartbeat
            .validate()
            .unwrap_err()
            .to_string()
            .contains("heartbeat_interval"));
    }

    #[test]
    fn the_module_cache_can_be_moved_bounded_or_turned_off() {
        assert!(HostConfig::default().module_cache);
        let cfg = HostConfig::from_vars(vars(&[
            ("WASMHOST_MODULE_CACHE", "off"),
            ("WASMHOST_MODULE_CACHE_DIR", "/var/cache/m"),
            ("WASMHOST_MODULE_CACHE_MAX_BYTES", "1000"),
        ]))
        .unwrap();
        assert!(!cfg.module_cache);
        assert_eq!(
            (cfg.module_cache_dir, cfg.module_cache_max_bytes),
            (Some(PathBuf::from("/var/cache/m")), 1000)
        );
    }

    #[test]
    fn file_loads_are_off_unless_directories_are_given() {
        assert!(HostConfig::default().allow_file_load.is_empty());
        let cfg = HostConfig::from_vars(vars(&[(
            "WASMCLOUD_ALLOW_FILE_LOAD",
            "/srv/actors:/opt/a, /opt/b",
        )]))
        .unwrap();
        assert_eq!(
            cfg.allow_file_load,
            vec![
                PathBuf::from("/srv/actors"),
                PathBuf::from("/opt/a"),
                PathBuf::from("/opt/b")
            ]
        );
        assert!(
            HostConfig::from_vars(vars(&[("WASMCLOUD_ALLOW_FILE_LOAD", "false")]))
                .unwrap()
                .allow_file_load
                .is_empty()
        );
        for bad in ["true", "actors"] {
            let err =
                HostConfig::from_vars(vars(&[("WASMCLOUD_ALLOW_FILE_LOAD", bad)])).unwrap_err();
            assert!(
                err.to_string().contains("WASMCLOUD_ALLOW_FILE_LOAD"),
                "{err}"
            );
        }
    }

    #[test]
    fn nats_urls_parse() {
        let cfg = HostConfig::default()
            .with_nats_url("nats://127.0.0.1:4567, b")
            .unwrap();
        let nats = cfg.nats.unwrap();
        assert_eq!(nats.rpc.url(), "nats://127.0.0.1:4567, nats://b:4222");
        assert_eq!(nats.prov_rpc, nats.ctl);
        let err = HostConfig::default()
            .with_nats_url("http://x:1")
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        assert!(HostConfig::default().with_nats_url("x:notaport").is_err());
    }

    #[test]
    fn nats_settings_from_the_environment_are_checked() {
        let err = HostConfig::from_vars(vars(&[
            ("WASMCLOUD_CTL_HOST", "a"),
            ("WASMCLOUD_CTL_CREDS", "/nonexistent.creds"),
        ]))
        .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("WASMCLOUD_CTL_CREDS"), "{err}");
        let cfg = HostConfig::from_vars(vars(&[
            ("WASMCLOUD_RPC_HOST", "a:1,b:2"),
            ("WASMCLOUD_RPC_TOKEN", "t"),
        ]))
        .unwrap();
        let nats = cfg.nats.unwrap();
        assert_eq!(
            (nats.rpc.url(), nats.rpc.auth.describe()),
            ("nats://a:1, nats://b:2".to_string(), "token")
        );
    }
}
