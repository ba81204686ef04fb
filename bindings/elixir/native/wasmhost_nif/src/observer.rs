//! The core's lattice observer for Elixir (`Wasmhost.Lattice` wraps it): a resource holding the
//! observer, its picture as a map, and its changes forwarded to a process as messages.

use std::collections::HashMap;

use rustler::{Encoder, Env, LocalPid, OwnedEnv, Resource, ResourceArc, Term};
use wasmhost::observer::{LatticeObserver, ObserverConfig};

use crate::atoms;
use crate::host::HostResource;
use crate::runtime::{run, runtime};
use crate::terms::{self, Json};

/// An observer owned by the BEAM; its background task stops when the last reference is collected.
pub(crate) struct ObserverResource {
    observer: LatticeObserver,
}

#[rustler::resource_impl]
impl Resource for ObserverResource {}

/// The observer options of `Wasmhost.Lattice` (string keys, integer or string values) as the
/// JSON `ObserverConfig::from_json` reads, so unknown keys and bad values get its messages.
fn config(options: HashMap<String, Term<'_>>) -> Result<ObserverConfig, wasmhost::Error> {
    let mut json = serde_json::Map::new();
    for (key, value) in options {
        let value = if let Ok(n) = value.decode::<i64>() {
            serde_json::Value::from(n)
        } else if let Ok(s) = value.decode::<String>() {
            serde_json::Value::from(s)
        } else {
            return Err(wasmhost::Error::new(
                wasmhost::ErrorKind::InvalidInput,
                format!("observer option {key} must be an integer or a string"),
            ));
        };
        json.insert(key, value);
    }
    ObserverConfig::from_json(&serde_json::Value::Object(json).to_string())
}

fn started(env: Env<'_>, observer: Result<LatticeObserver, wasmhost::Error>) -> Term<'_> {
    terms::result(
        env,
        observer.map(|observer| ResourceArc::new(ObserverResource { observer })),
    )
}

/// Connects to NATS at `url` and seeds the picture: `{:ok, observer}` or `{:error, {kind, msg}}`.
#[rustler::nif(schedule = "DirtyIo")]
fn observer_connect<'a>(env: Env<'a>, url: String, options: HashMap<String, Term<'a>>) -> Term<'a> {
    let observer = config(options)
        .and_then(|config| run(async move { LatticeObserver::connect(&url, config).await }));
    started(env, observer)
}

/// Observes the lattice `host` is in (over its NATS settings, or the embedded host alone).
#[rustler::nif(schedule = "DirtyIo")]
fn observer_for_host<'a>(
    env: Env<'a>,
    resource: ResourceArc<HostResource>,
    options: HashMap<String, Term<'a>>,
) -> Term<'a> {
    let host = resource.host.clone();
    let observer = config(options)
        .and_then(|config| run(async move { LatticeObserver::for_host(&host, config).await }));
    started(env, observer)
}

/// The picture now, as a map with string keys (the README's "Lattice observer" fields).
#[rustler::nif]
fn observer_snapshot(env: Env<'_>, resource: ResourceArc<ObserverResource>) -> Term<'_> {
    let snapshot = serde_json::to_value(resource.observer.snapshot()).unwrap_or_default();
    Json(snapshot).encode(env)
}

/// Sends `{:wasmhost_lattice_change, change}` to `pid` for every change from now on (`change` a
/// map with string keys: `"seq"`, `"kind"`, ...); returns the picture at that moment, so applying
/// the changes with a greater `"seq"` keeps an exact copy. The forwarding ends when the observer
/// is collected or a send finds `pid` dead.
#[rustler::nif]
fn observer_subscribe<'a>(
    env: Env<'a>,
    resource: ResourceArc<ObserverResource>,
    pid: LocalPid,
) -> Term<'a> {
    let (snapshot, mut changes) = resource.observer.watch();
    let forwarded = runtime().map(|rt| {
        rt.spawn(async move {
            let mut msg_env = OwnedEnv::new();
            while let Some(change) = changes.next().await {
                let json = serde_json::to_value(&*change).unwrap_or_default();
                let sent = msg_env.send_and_clear(&pid, |env| {
                    (atoms::wasmhost_lattice_change(), Json(json)).encode(env)
                });
                if sent.is_err() {
                    break;
                }
            }
        });
    });
    let snapshot = serde_json::to_value(snapshot).unwrap_or_default();
    terms::result(env, forwarded.map(|()| Json(snapshot)))
}
