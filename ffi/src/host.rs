//! `wasmhost_host_t`: start, stop, free, identity, labels and inventory.

use std::collections::BTreeMap;
use std::ffi::{c_char, CString};

use host::{Host, HostConfig};

use crate::config::wasmhost_config_t;
use crate::error::{guard, wasmhost_error_t, wasmhost_result_t, FfiError, FfiResult};
use crate::ptr::{obj_arg, string_out, Out};
use crate::runtime::{block_on, can_block, runtime};

/// A running (or stopped) host. Thread-safe: every function taking a `const wasmhost_host_t *` may
/// be called from several threads at once. Freed with wasmhost_host_free().
pub struct wasmhost_host_t {
    pub(crate) host: Host,
    id: CString,
}

/// The host behind a handle.
pub(crate) fn host_arg<'a>(host: *const wasmhost_host_t) -> FfiResult<&'a Host> {
    Ok(&obj_arg(host, "host")?.host)
}

/// Starts a host. `config` may be NULL for the defaults (the embedded lattice); the host copies it,
/// so the config may be freed right after. On success `*out` owns the new host.
/// Blocking (until the host has started). Fails with WASMHOST_ERR_INVALID_INPUT on an invalid
/// configuration (bad seeds, NATS settings in this build without a NATS transport).
#[no_mangle]
pub extern "C" fn wasmhost_host_start(
    config: *const wasmhost_config_t,
    out: *mut *mut wasmhost_host_t,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let out = Out::new(out, "out")?;
        // SAFETY: NULL or a config this library returned.
        let config = match unsafe { config.as_ref() } {
            Some(c) => c.config.clone(),
            None => HostConfig::default(),
        };
        let host = block_on(Host::start(config))??;
        let id =
            CString::new(host.id()).map_err(|_| FfiError::internal("host id with a NUL byte"))?;
        out.write(Box::into_raw(Box::new(wasmhost_host_t { host, id })));
        Ok(())
    })
}

/// Stops the host gracefully: stops every actor (running calls finish first, up to the invocation
/// timeout), publishes `host_stopped`, ends event subscriptions. Blocking. A second stop fails with
/// WASMHOST_ERR_STOPPED. The handle stays valid (for id, labels, inventory) until wasmhost_host_free().
/// Calling it from a capability callback of an actor of this host waits for that call's timeout.
#[no_mangle]
pub extern "C" fn wasmhost_host_stop(
    host: *const wasmhost_host_t,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let host = host_arg(host)?;
        block_on(host.stop())??;
        Ok(())
    })
}

/// Frees a host handle; a host that is still running is stopped first (blocking; where blocking is
/// not allowed, e.g. inside a log callback, the stop runs in the background). NULL is a no-op.
/// In-flight async calls and registered handlers keep the host's internals alive until they finish.
#[no_mangle]
pub extern "C" fn wasmhost_host_free(host: *mut wasmhost_host_t) {
    if host.is_null() {
        return;
    }
    // SAFETY: a host this library returned, freed once.
    let handle = unsafe { Box::from_raw(host) };
    let _ = crate::error::catch_panic(|| {
        if !handle.host.is_stopped() {
            let host = handle.host.clone();
            if can_block() {
                let _ = block_on(host.stop());
            } else if let Ok(rt) = runtime() {
                rt.spawn(async move {
                    let _ = host.stop().await;
                });
            }
        }
        Ok(())
    });
}

/// The host's public key (`N...`), its id in the lattice. On success `*out_id` points to a string
/// owned by the host handle: valid until wasmhost_host_free(), do not free it.
#[no_mangle]
pub extern "C" fn wasmhost_host_id(
    host: *const wasmhost_host_t,
    out_id: *mut *const c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let handle = obj_arg(host, "host")?;
        Out::new(out_id, "out_id")?.write(handle.id.as_ptr());
        Ok(())
    })
}

/// The host's labels (`hostcore.*` included) as a JSON object with sorted keys. On success
/// `*out_json` is a string to free with wasmhost_string_free().
#[no_mangle]
pub extern "C" fn wasmhost_host_labels_json(
    host: *const wasmhost_host_t,
    out_json: *mut *mut c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let host = host_arg(host)?;
        let out = Out::new(out_json, "out_json")?;
        let labels: BTreeMap<_, _> = host.labels().iter().collect();
        out.write(string_out(
            serde_json::to_string(&labels).map_err(|e| FfiError::internal(e.to_string()))?,
        )?);
        Ok(())
    })
}

/// The host inventory as the control interface reports it (`host_id`, `issuer`, `labels`,
/// `friendly_name`, `actors` with their instances and annotations, `providers`), as JSON. Works on a
/// stopped host too (it is then empty of actors). On success `*out_json` is a string to free with
/// wasmhost_string_free().
#[no_mangle]
pub extern "C" fn wasmhost_host_inventory_json(
    host: *const wasmhost_host_t,
    out_json: *mut *mut c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let host = host_arg(host)?;
        let out = Out::new(out_json, "out_json")?;
        out.write(string_out(
            serde_json::to_string(&host.inventory())
                .map_err(|e| FfiError::internal(e.to_string()))?,
        )?);
        Ok(())
    })
}
