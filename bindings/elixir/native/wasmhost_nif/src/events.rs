//! Event subscriptions: each subscriber gets a task that forwards the host's CloudEvents as messages.

use rustler::{Encoder, Env, LocalPid, OwnedEnv, ResourceArc, Term};

use crate::atoms;
use crate::host::HostResource;
use crate::runtime::runtime;
use crate::terms::{self, Json};

/// Sends `{:wasmhost_event, host_id, event}` to `pid` for every event from now on, where `event` is
/// the CloudEvent JSON as a map with string keys. The forwarding task ends when the host stops or
/// when a send finds `pid` dead.
#[rustler::nif]
fn events_subscribe(env: Env<'_>, resource: ResourceArc<HostResource>, pid: LocalPid) -> Term<'_> {
    let subscribed = resource.host.subscribe_events().and_then(|mut stream| {
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
                let sent = msg_env.send_and_clear(&pid, |env| (atoms::wasmhost_event(), host_id.as_str(), Json(json)).encode(env));
                if sent.is_err() {
                    break; // the subscriber is gone
                }
            }
        });
        Ok(())
    });
    terms::unit(env, subscribed)
}
