//! Event subscriptions: each subscriber gets a task that forwards CloudEvents as messages, either
//! the host's own events or every host's events in its lattice.

use rustler::{Encoder, Env, LocalPid, OwnedEnv, ResourceArc, Term};
use wasmhost::{Error, EventStream};

use crate::atoms;
use crate::host::HostResource;
use crate::runtime::{run, runtime};
use crate::terms::{self, Json};

/// Sends `{:wasmhost_event, host_id, event}` to `pid` for every event from now on, where `event` is
/// the CloudEvent JSON as a map with string keys. The forwarding task ends when the host stops or
/// when a send finds `pid` dead.
#[rustler::nif]
fn events_subscribe(env: Env<'_>, resource: ResourceArc<HostResource>, pid: LocalPid) -> Term<'_> {
    let subscribed = resource
        .host
        .subscribe_events()
        .and_then(|stream| forward(&resource, stream, pid));
    terms::unit(env, subscribed)
}

/// Like `events_subscribe`, for every host's events in the lattice (`wasmbus.evt.{lattice}`), this
/// one's included; `host_id` in the messages is the subscribing host's id, the event's `"source"`
/// the publisher's. Dirty: subscribing waits for the NATS server.
#[rustler::nif(schedule = "DirtyIo")]
fn lattice_events_subscribe(
    env: Env<'_>,
    resource: ResourceArc<HostResource>,
    pid: LocalPid,
) -> Term<'_> {
    let host = resource.host.clone();
    let subscribed = run(async move { host.subscribe_lattice_events().await })
        .and_then(|stream| forward(&resource, stream, pid));
    terms::unit(env, subscribed)
}

/// Spawns the task that sends `stream`'s events to `pid` (on a runtime worker: the VM refuses
/// `OwnedEnv` sends from its own threads).
fn forward(resource: &HostResource, mut stream: EventStream, pid: LocalPid) -> Result<(), Error> {
    let host_id = resource.host.id().to_string();
    runtime()?.spawn(async move {
        let mut msg_env = OwnedEnv::new();
        while let Some(event) = stream.next().await {
            let json = match serde_json::to_value(&*event) {
                Ok(json) => json,
                Err(e) => {
                    tracing::warn!(error = %e, "event does not serialize; not forwarded");
                    continue;
                }
            };
            let sent = msg_env.send_and_clear(&pid, |env| {
                (atoms::wasmhost_event(), host_id.as_str(), Json(json)).encode(env)
            });
            if sent.is_err() {
                break; // the subscriber is gone
            }
        }
    });
    Ok(())
}
