//! The host resource and its lifecycle NIFs: start, stop, identity, inventory.

use rustler::{Env, Resource, ResourceArc, Term};
use wasmhost::Host;

use crate::config::HostOpts;
use crate::runtime::{self, run};
use crate::terms::{self, Json};

/// A host owned by the BEAM. When the last reference is garbage-collected the host is stopped
/// in the background (never on the scheduler thread that runs the destructor).
pub(crate) struct HostResource {
    pub(crate) host: Host,
}

#[rustler::resource_impl]
impl Resource for HostResource {}

impl Drop for HostResource {
    fn drop(&mut self) {
        if self.host.is_stopped() {
            return;
        }
        let host = self.host.clone();
        if let Ok(rt) = runtime::runtime() {
            rt.spawn(async move {
                // `Stopped` means someone stopped it in the meantime: nothing to report.
                if let Err(e) = host.stop().await {
                    if e.kind() != wasmhost::ErrorKind::Stopped {
                        tracing::warn!(error = %e, "stopping a garbage-collected host failed");
                    }
                }
            });
        }
    }
}

/// Starts a host: `{:ok, {resource, host_id}}` or `{:error, {kind, message}}`.
#[rustler::nif(schedule = "DirtyIo")]
fn host_start(env: Env<'_>, opts: HostOpts) -> Term<'_> {
    let started = opts
        .into_config()
        .and_then(|config| run(async move { Host::start(config).await }));
    terms::result(
        env,
        started.map(|host| {
            let id = host.id().to_string();
            (ResourceArc::new(HostResource { host }), id)
        }),
    )
}

/// Stops a host gracefully; `{:error, {:stopped, _}}` if it was already stopped.
#[rustler::nif(schedule = "DirtyIo")]
fn host_stop(env: Env<'_>, resource: ResourceArc<HostResource>) -> Term<'_> {
    let host = resource.host.clone();
    terms::unit(env, run(async move { host.stop().await }))
}

/// Whether the host has been stopped.
#[rustler::nif]
fn host_stopped(resource: ResourceArc<HostResource>) -> bool {
    resource.host.is_stopped()
}

/// The host's labels (`hostcore.*` included).
#[rustler::nif]
fn host_labels(resource: ResourceArc<HostResource>) -> std::collections::HashMap<String, String> {
    resource.host.labels().clone()
}

/// The host's friendly name.
#[rustler::nif]
fn host_friendly_name(resource: ResourceArc<HostResource>) -> String {
    resource.host.friendly_name().to_string()
}

/// `{:ok, inventory}`: the control interface's JSON (`get.{host}.inv`) as a map with string keys.
#[rustler::nif]
fn host_inventory(env: Env<'_>, resource: ResourceArc<HostResource>) -> Term<'_> {
    let inventory = serde_json::to_value(resource.host.inventory())
        .map(Json)
        .map_err(|e| {
            wasmhost::Error::new(
                wasmhost::ErrorKind::Internal,
                format!("inventory does not serialize: {e}"),
            )
        });
    terms::result(env, inventory)
}
