//! `wasmhost_observer_t`: a live picture of a whole lattice (hosts, actors, providers, links,
//! claims) as JSON, and its changes through a callback.

use std::ffi::{c_char, c_void};

use host::observer::{ChangeEvent, ChangeStream, LatticeObserver, ObserverConfig};

use crate::callback::{wasmhost_free_fn_t, UserData};
use crate::error::{guard, wasmhost_error_t, wasmhost_result_t, FfiError, FfiResult};
use crate::events::{spawn_subscription, wasmhost_subscription_t, JsonSource};
use crate::host::{host_arg, wasmhost_host_t};
use crate::ptr::{obj_arg, opt_str_arg, str_arg, string_out, Out};
use crate::runtime::block_on;

/// A lattice observer. Thread-safe; freed with wasmhost_observer_free().
pub struct wasmhost_observer_t {
    observer: LatticeObserver,
}

/// Receives one change of the picture: `change_json[0..len]` is a JSON object
/// `{"seq": n, "kind": "host_added" | "host_updated" | "host_seen" | "host_removed" | "actor_added" |
/// "actor_scaled" | "actor_changed" | "actor_updated" | "actor_update_failed" | "actor_removed" |
/// "actor_start_failed" | "provider_added" | "provider_health_changed" | "provider_removed" |
/// "provider_start_failed" | "link_set" | "link_deleted" | "claims_set", ...what changed}`
/// (the README lists the fields), NUL-terminated, valid only during the callback. Changes arrive in
/// order on the subscription's own thread; the callback may call any wasmhost function.
#[allow(non_camel_case_types)]
pub type wasmhost_change_callback_t =
    Option<unsafe extern "C" fn(user_data: *mut c_void, change_json: *const c_char, len: usize)>;

fn options(options_json: *const c_char) -> FfiResult<ObserverConfig> {
    Ok(ObserverConfig::from_json(
        opt_str_arg(options_json, "options_json")?.unwrap_or(""),
    )?)
}

/// Connects to the NATS server at `nats_url` (`nats://host:port`; comma-separated URLs are tried
/// in turn) and observes a lattice: subscribes to `wasmbus.evt.{lattice}`, then seeds the picture
/// from `ping.hosts`, every host's inventory, `get.links` and `get.claims`; works with any 0.5x
/// host. `options_json` may be NULL or a JSON object with any of `lattice` ("default"),
/// `ctl_topic_prefix` ("wasmbus.ctl"), `missed_heartbeats` (3), `heartbeat_interval_ms` (learnt
/// per host when absent), `min_heartbeat_interval_ms` (1000), `ping_timeout_ms` (1000),
/// `request_timeout_ms` (2000). Blocking: returns once the picture is seeded (about
/// `ping_timeout_ms`). On success `*out` owns the observer. WASMHOST_ERR_TRANSPORT when NATS
/// cannot be reached, WASMHOST_ERR_INVALID_INPUT for bad options.
#[no_mangle]
pub extern "C" fn wasmhost_observer_connect(
    nats_url: *const c_char,
    options_json: *const c_char,
    out: *mut *mut wasmhost_observer_t,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let out = Out::new(out, "out")?;
        let url = str_arg(nats_url, "nats_url")?;
        let config = options(options_json)?;
        let observer = block_on(LatticeObserver::connect(url, config))??;
        out.write(Box::into_raw(Box::new(wasmhost_observer_t { observer })));
        Ok(())
    })
}

/// Observes the lattice `host` is in: for a host that joined NATS, every host of the lattice over
/// the host's own control connection settings (blocking like wasmhost_observer_connect()); for an
/// embedded host, the host alone (its events, inventory, links and claims; not blocking).
/// `options_json` as for wasmhost_observer_connect() (the lattice is the host's).
/// WASMHOST_ERR_STOPPED when the host is stopped.
#[no_mangle]
pub extern "C" fn wasmhost_observer_from_host(
    host: *const wasmhost_host_t,
    options_json: *const c_char,
    out: *mut *mut wasmhost_observer_t,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let host = host_arg(host)?;
        let out = Out::new(out, "out")?;
        let config = options(options_json)?;
        let observer = block_on(LatticeObserver::for_host(host, config))??;
        out.write(Box::into_raw(Box::new(wasmhost_observer_t { observer })));
        Ok(())
    })
}

/// The picture now, as JSON: `{"lattice", "seq", "hosts": [{"id", "friendly_name", "labels",
/// "issuer", "version", "uptime_seconds", "uptime_human", "last_seen_ms", "actors": [{"public_key",
/// "name", "image_ref", "revision", "instances": [{"instance_id", "annotations", "revision"}]}],
/// "providers": [{"public_key", "link_name", "contract_id", "name", "image_ref", "instance_id",
/// "annotations", "revision", "health"}]}], "links": [...], "claims": [...]}`. `*json` is freed with
/// wasmhost_string_free(). Not blocking.
#[no_mangle]
pub extern "C" fn wasmhost_observer_snapshot_json(
    observer: *const wasmhost_observer_t,
    json: *mut *mut c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let observer = &obj_arg(observer, "observer")?.observer;
        let out = Out::new(json, "json")?;
        out.write(string_out(observer.snapshot().to_json())?);
        Ok(())
    })
}

struct Changes(ChangeStream);

#[async_trait::async_trait]
impl JsonSource for Changes {
    async fn next_json(&mut self) -> Option<String> {
        self.0
            .next()
            .await
            .map(|change: std::sync::Arc<ChangeEvent>| change.to_json())
    }
}

/// Calls `callback` with every change of the picture from now on, until the observer is freed or
/// the subscription is (wasmhost_subscription_free(), same rules as for event subscriptions); then
/// `free_user_data(user_data)` runs once, on the subscription thread. When `snapshot_json` is not
/// NULL it receives the picture at the moment the subscription began (free it with
/// wasmhost_string_free()): applying the changes whose `seq` is greater than the snapshot's to it
/// keeps an exact copy. Not blocking. On an error return the callback never runs and `user_data`
/// stays yours.
#[no_mangle]
pub extern "C" fn wasmhost_observer_subscribe(
    observer: *const wasmhost_observer_t,
    callback: wasmhost_change_callback_t,
    user_data: *mut c_void,
    free_user_data: wasmhost_free_fn_t,
    snapshot_json: *mut *mut c_char,
    out: *mut *mut wasmhost_subscription_t,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let observer = &obj_arg(observer, "observer")?.observer;
        let out = Out::new(out, "out")?;
        let callback = callback.ok_or_else(|| FfiError::invalid("callback is NULL"))?;
        let (snapshot, changes) = observer.watch();
        let snapshot = if snapshot_json.is_null() {
            None
        } else {
            Some(string_out(snapshot.to_json())?)
        };
        let subscription = spawn_subscription(
            Changes(changes),
            callback,
            UserData::new(user_data, free_user_data),
        )?;
        if let Some(snapshot) = snapshot {
            Out::optional(snapshot_json).write(snapshot);
        }
        out.write(Box::into_raw(Box::new(subscription)));
        Ok(())
    })
}

/// Frees an observer: it stops following the lattice, and its change subscriptions end (each
/// still needs wasmhost_subscription_free()). NULL is a no-op.
#[no_mangle]
pub extern "C" fn wasmhost_observer_free(observer: *mut wasmhost_observer_t) {
    if observer.is_null() {
        return;
    }
    // SAFETY: an observer this library returned, freed once.
    drop(unsafe { Box::from_raw(observer) });
}
