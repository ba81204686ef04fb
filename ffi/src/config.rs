//! `wasmhost_config_t`: every HostConfig setting, starting from the embedded default.

use std::ffi::c_char;
use std::time::Duration;

use host::{HostConfig, NatsAuth, NatsConfig, NatsConnection, ServerAddress};

use crate::error::{guard, wasmhost_error_t, wasmhost_result_t, FfiError, FfiResult};
use crate::ptr::{obj_mut, opt_str_arg, str_arg, Out};

/// Host settings. Create with wasmhost_config_new() (the embedded lattice) or
/// wasmhost_config_from_env(), change with the setters, pass to wasmhost_host_start(), free with
/// wasmhost_config_free(). Not thread-safe: do not change one config from two threads at once.
pub struct wasmhost_config_t {
    pub(crate) config: HostConfig,
}

/// Which NATS connection wasmhost_config_set_nats_connection() changes.
#[repr(C)]
#[allow(non_camel_case_types)]
pub enum wasmhost_nats_connection_t {
    /// RPC (`wasmbus.rpc.*`).
    WASMHOST_NATS_RPC = 0,
    /// Control interface, events and lattice state.
    WASMHOST_NATS_CTL = 1,
    /// The connection settings given to capability providers.
    WASMHOST_NATS_PROV_RPC = 2,
}

fn with_config(
    config: *mut wasmhost_config_t,
    err: *mut *mut wasmhost_error_t,
    f: impl FnOnce(&mut HostConfig) -> FfiResult<()>,
) -> wasmhost_result_t {
    guard(err, || f(&mut obj_mut(config, "config")?.config))
}

fn positive_ms(ms: u64, what: &str) -> FfiResult<Duration> {
    if ms == 0 {
        Err(FfiError::invalid(format!(
            "{what} must be greater than zero"
        )))
    } else {
        Ok(Duration::from_millis(ms))
    }
}

/// Creates a config with the defaults: an embedded lattice of one host (no NATS server), lattice
/// `default`, generated host and cluster keys. On success `*out` owns a new config.
#[no_mangle]
pub extern "C" fn wasmhost_config_new(
    out: *mut *mut wasmhost_config_t,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let out = Out::new(out, "out")?;
        out.write(Box::into_raw(Box::new(wasmhost_config_t {
            config: HostConfig::default(),
        })));
        Ok(())
    })
}

/// Creates a config from the wasmCloud OTP host's environment variables (`WASMCLOUD_LATTICE_PREFIX`,
/// `WASMCLOUD_RPC_HOST`, `WASMCLOUD_CTL_PORT`, `WASMCLOUD_CLUSTER_SEED`, `HOST_<label>`, ...); NATS is
/// configured only when a NATS variable is set. Fails with WASMHOST_ERR_INVALID_INPUT on a malformed value.
#[no_mangle]
pub extern "C" fn wasmhost_config_from_env(
    out: *mut *mut wasmhost_config_t,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let out = Out::new(out, "out")?;
        let config = HostConfig::from_env()?;
        out.write(Box::into_raw(Box::new(wasmhost_config_t { config })));
        Ok(())
    })
}

/// Frees a config. NULL is a no-op. A host started from it keeps its own copy.
#[no_mangle]
pub extern "C" fn wasmhost_config_free(config: *mut wasmhost_config_t) {
    if !config.is_null() {
        // SAFETY: a config this library returned, freed once.
        drop(unsafe { Box::from_raw(config) });
    }
}

/// Sets the lattice id (one NATS subject token: no `.`, space, `*`, `>`).
#[no_mangle]
pub extern "C" fn wasmhost_config_set_lattice(
    config: *mut wasmhost_config_t,
    lattice: *const c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    with_config(config, err, |c| {
        let lattice = str_arg(lattice, "lattice")?;
        if lattice.is_empty() || lattice.contains(['.', ' ', '*', '>']) {
            return Err(FfiError::invalid(format!(
                "invalid lattice id `{lattice}`: it must be one NATS subject token"
            )));
        }
        c.lattice = lattice.to_string();
        Ok(())
    })
}

/// Sets the host seed (`SN...`); NULL generates a fresh key at start. The seed is checked at start.
#[no_mangle]
pub extern "C" fn wasmhost_config_set_host_seed(
    config: *mut wasmhost_config_t,
    seed: *const c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    with_config(config, err, |c| {
        c.host_seed = opt_str_arg(seed, "seed")?.map(String::from);
        Ok(())
    })
}

/// Sets the cluster seed (`SC...`) that signs invocations; NULL generates one at start.
#[no_mangle]
pub extern "C" fn wasmhost_config_set_cluster_seed(
    config: *mut wasmhost_config_t,
    seed: *const c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    with_config(config, err, |c| {
        c.cluster_seed = opt_str_arg(seed, "seed")?.map(String::from);
        Ok(())
    })
}

/// Adds a cluster public key (`C...`) whose invocations this host accepts, besides its own.
#[no_mangle]
pub extern "C" fn wasmhost_config_add_cluster_issuer(
    config: *mut wasmhost_config_t,
    issuer: *const c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    with_config(config, err, |c| {
        let issuer = str_arg(issuer, "issuer")?;
        if !issuer.starts_with('C') {
            return Err(FfiError::invalid(format!(
                "cluster issuer `{issuer}` is not a cluster public key (C...)"
            )));
        }
        c.cluster_issuers.push(issuer.to_string());
        Ok(())
    })
}

/// Adds (or replaces) a host label. `hostcore.*` labels are set by the host and win over these.
#[no_mangle]
pub extern "C" fn wasmhost_config_set_label(
    config: *mut wasmhost_config_t,
    key: *const c_char,
    value: *const c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    with_config(config, err, |c| {
        let key = str_arg(key, "key")?;
        let value = str_arg(value, "value")?;
        if key.is_empty() {
            return Err(FfiError::invalid("label key must not be empty"));
        }
        c.labels.insert(key.to_string(), value.to_string());
        Ok(())
    })
}

/// Sets the name for humans; NULL generates an adjective-noun-number name at start.
#[no_mangle]
pub extern "C" fn wasmhost_config_set_friendly_name(
    config: *mut wasmhost_config_t,
    name: *const c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    with_config(config, err, |c| {
        c.friendly_name = opt_str_arg(name, "name")?.map(String::from);
        Ok(())
    })
}

/// Sets the control subject prefix (two tokens, `wasmbus.ctl` by default).
#[no_mangle]
pub extern "C" fn wasmhost_config_set_ctl_topic_prefix(
    config: *mut wasmhost_config_t,
    prefix: *const c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    with_config(config, err, |c| {
        let prefix = str_arg(prefix, "prefix")?;
        if prefix.split('.').count() != 2 || prefix.split('.').any(str::is_empty) {
            return Err(FfiError::invalid(format!("invalid control topic prefix `{prefix}`: it must be two tokens, like `wasmbus.ctl`")));
        }
        c.ctl_topic_prefix = prefix.to_string();
        Ok(())
    })
}

/// Sets the timeout of RPC requests to other hosts and providers, in milliseconds (> 0; 2000 by default).
#[no_mangle]
pub extern "C" fn wasmhost_config_set_rpc_timeout_ms(
    config: *mut wasmhost_config_t,
    ms: u64,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    with_config(config, err, |c| {
        c.rpc_timeout = positive_ms(ms, "rpc timeout")?;
        Ok(())
    })
}

/// Sets the longest time one actor invocation may run, in milliseconds (> 0; 10000 by default).
#[no_mangle]
pub extern "C" fn wasmhost_config_set_invocation_timeout_ms(
    config: *mut wasmhost_config_t,
    ms: u64,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    with_config(config, err, |c| {
        c.invocation_timeout = positive_ms(ms, "invocation timeout")?;
        Ok(())
    })
}

/// Sets the interval between `host_heartbeat` events, in milliseconds (> 0; 30000 by default).
#[no_mangle]
pub extern "C" fn wasmhost_config_set_heartbeat_interval_ms(
    config: *mut wasmhost_config_t,
    ms: u64,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    with_config(config, err, |c| {
        c.heartbeat_interval = positive_ms(ms, "heartbeat interval")?;
        Ok(())
    })
}

/// Sets the pause between a provider's shutdown request and killing it, in milliseconds (300 by default).
#[no_mangle]
pub extern "C" fn wasmhost_config_set_provider_shutdown_delay_ms(
    config: *mut wasmhost_config_t,
    ms: u64,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    with_config(config, err, |c| {
        c.provider_shutdown_delay = Duration::from_millis(ms);
        Ok(())
    })
}

/// Sets the largest linear memory one actor instance may grow to, in bytes (>= 65536; 64 MiB by default).
#[no_mangle]
pub extern "C" fn wasmhost_config_set_max_instance_memory(
    config: *mut wasmhost_config_t,
    bytes: usize,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    with_config(config, err, |c| {
        if bytes < 65536 {
            return Err(FfiError::invalid(
                "max instance memory must be at least one wasm page (65536 bytes)",
            ));
        }
        c.max_instance_memory = bytes;
        Ok(())
    })
}

/// Sets how many actor instances the host can hold at once (> 0; 2048 by default). It sizes the
/// engine's instance pool, which reserves address space per instance.
#[no_mangle]
pub extern "C" fn wasmhost_config_set_max_instances(
    config: *mut wasmhost_config_t,
    count: u32,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    with_config(config, err, |c| {
        if count == 0 {
            return Err(FfiError::invalid("max instances must be greater than zero"));
        }
        c.max_instances = count;
        Ok(())
    })
}

/// Sets the largest invocation payload accepted, in bytes (> 0; 16 MiB by default).
#[no_mangle]
pub extern "C" fn wasmhost_config_set_max_payload(
    config: *mut wasmhost_config_t,
    bytes: usize,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    with_config(config, err, |c| {
        if bytes == 0 {
            return Err(FfiError::invalid("max payload must be greater than zero"));
        }
        c.max_payload = bytes;
        Ok(())
    })
}

/// Publishes `invocation_succeeded` / `invocation_failed` events (off by default).
#[no_mangle]
pub extern "C" fn wasmhost_config_set_enable_invocation_events(
    config: *mut wasmhost_config_t,
    enable: bool,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    with_config(config, err, |c| {
        c.enable_invocation_events = enable;
        Ok(())
    })
}

/// Allows `:latest` OCI references (off by default).
#[no_mangle]
pub extern "C" fn wasmhost_config_set_oci_allow_latest(
    config: *mut wasmhost_config_t,
    allow: bool,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    with_config(config, err, |c| {
        c.oci_allow_latest = allow;
        Ok(())
    })
}

/// Adds a registry (`host:port`) that may be reached over plain HTTP.
#[no_mangle]
pub extern "C" fn wasmhost_config_add_oci_allowed_insecure(
    config: *mut wasmhost_config_t,
    registry: *const c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    with_config(config, err, |c| {
        let registry = str_arg(registry, "registry")?;
        if registry.is_empty() {
            return Err(FfiError::invalid("registry must not be empty"));
        }
        c.oci_allowed_insecure.push(registry.to_string());
        Ok(())
    })
}

/// Joins a NATS lattice at `url` (`nats://host:port`, `tls://host:port`, `host:port` or `host`),
/// or at several servers given as a comma list (`nats://a:4222,nats://b:4222`), tried in order
/// with failover: the same servers for RPC, control and providers, anonymous. The host starts
/// even while no server is reachable yet and joins when one is; settings that can never work
/// (a bad seed, a server that refuses the credentials) make wasmhost_host_start() fail.
#[no_mangle]
pub extern "C" fn wasmhost_config_set_nats_url(
    config: *mut wasmhost_config_t,
    url: *const c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    with_config(config, err, |c| {
        c.nats = Some(NatsConfig::single(str_arg(url, "url")?).map_err(host::Error::from)?);
        Ok(())
    })
}

/// Sets one NATS connection (`which` is a wasmhost_nats_connection_t value): server `host` (or a
/// comma list of hosts / `host:port`s, tried in order) and `port` (for hosts that name none),
/// nkey `seed` and user `jwt` (NULL or "" for anonymous; a JWT needs its seed), and whether TLS
/// is required.
/// Turns NATS on (the other connections keep 127.0.0.1:4222 unless set).
#[no_mangle]
pub extern "C" fn wasmhost_config_set_nats_connection(
    config: *mut wasmhost_config_t,
    which: i32,
    host: *const c_char,
    port: u16,
    seed: *const c_char,
    jwt: *const c_char,
    tls: bool,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    with_config(config, err, |c| {
        let host = str_arg(host, "host")?;
        if host.is_empty() || port == 0 {
            return Err(FfiError::invalid(
                "NATS host must not be empty and port must not be 0",
            ));
        }
        let seed = opt_str_arg(seed, "seed")?.unwrap_or_default().to_string();
        let jwt = opt_str_arg(jwt, "jwt")?.unwrap_or_default().to_string();
        let auth = match (seed.is_empty(), jwt.is_empty()) {
            (true, true) => NatsAuth::Anonymous,
            (false, true) => NatsAuth::Nkey { seed },
            (false, false) => NatsAuth::Jwt { jwt, seed },
            (true, false) => return Err(FfiError::invalid("a NATS user JWT needs its seed")),
        };
        let mut conn = NatsConnection {
            servers: ServerAddress::parse_list(host, "host", port).map_err(host::Error::from)?,
            auth,
            ..Default::default()
        };
        conn.tls.required = tls;
        let nats = c.nats.get_or_insert_with(NatsConfig::default);
        match which {
            0 => nats.rpc = conn,
            1 => nats.ctl = conn,
            2 => nats.prov_rpc = conn,
            other => {
                return Err(FfiError::invalid(format!(
                    "unknown NATS connection {other}: use WASMHOST_NATS_RPC, _CTL or _PROV_RPC"
                )))
            }
        }
        Ok(())
    })
}

/// Sets the JetStream domain of the lattice (NULL for none). Turns NATS on.
#[no_mangle]
pub extern "C" fn wasmhost_config_set_js_domain(
    config: *mut wasmhost_config_t,
    domain: *const c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    with_config(config, err, |c| {
        let domain = opt_str_arg(domain, "domain")?.map(String::from);
        c.nats.get_or_insert_with(NatsConfig::default).js_domain = domain;
        Ok(())
    })
}

/// Removes every NATS setting: the host runs the embedded lattice (the default).
#[no_mangle]
pub extern "C" fn wasmhost_config_set_embedded(
    config: *mut wasmhost_config_t,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    with_config(config, err, |c| {
        c.nats = None;
        Ok(())
    })
}

/// Describes a config as a JSON object (durations in milliseconds; seeds are not shown, only
/// whether they are set), for logs and tests. On success `*out_json` is a string to free with
/// wasmhost_string_free().
#[no_mangle]
pub extern "C" fn wasmhost_config_to_json(
    config: *const wasmhost_config_t,
    out_json: *mut *mut c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let c = &crate::ptr::obj_arg(config, "config")?.config;
        let out = Out::new(out_json, "out_json")?;
        let conn = |n: &NatsConnection| {
            let first = n.servers.first();
            let (seed_set, jwt_set) = match &n.auth {
                NatsAuth::Nkey { .. } => (true, false),
                NatsAuth::Jwt { .. } | NatsAuth::CredsFile(_) => (true, true),
                _ => (false, false),
            };
            serde_json::json!({"host": first.map(|s| s.host.as_str()), "port": first.map(|s| s.port), "servers": n.servers.iter().map(ToString::to_string).collect::<Vec<_>>(), "seed_set": seed_set, "jwt_set": jwt_set, "tls": n.tls_required()})
        };
        let labels: std::collections::BTreeMap<_, _> = c.labels.iter().collect();
        let json = serde_json::json!({
            "lattice": c.lattice,
            "host_seed_set": c.host_seed.is_some(),
            "cluster_seed_set": c.cluster_seed.is_some(),
            "cluster_issuers": c.cluster_issuers,
            "labels": labels,
            "friendly_name": c.friendly_name,
            "nats": c.nats.as_ref().map(|n| serde_json::json!({"rpc": conn(&n.rpc), "ctl": conn(&n.ctl), "prov_rpc": conn(&n.prov_rpc), "js_domain": n.js_domain})),
            "ctl_topic_prefix": c.ctl_topic_prefix,
            "rpc_timeout_ms": c.rpc_timeout.as_millis() as u64,
            "invocation_timeout_ms": c.invocation_timeout.as_millis() as u64,
            "max_instance_memory": c.max_instance_memory,
            "max_instances": c.max_instances,
            "max_payload": c.max_payload,
            "heartbeat_interval_ms": c.heartbeat_interval.as_millis() as u64,
            "enable_invocation_events": c.enable_invocation_events,
            "oci_allow_latest": c.oci_allow_latest,
            "oci_allowed_insecure": c.oci_allowed_insecure,
            "provider_shutdown_delay_ms": c.provider_shutdown_delay.as_millis() as u64,
        });
        out.write(crate::ptr::string_out(json.to_string())?);
        Ok(())
    })
}
