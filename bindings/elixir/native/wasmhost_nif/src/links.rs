//! Link definition NIFs: put, delete, list.

use std::collections::HashMap;

use rustler::{Env, NifMap, ResourceArc, Term};
use wasmhost::protocol::rpc::LinkDefinition;

use crate::host::HostResource;
use crate::runtime::run;
use crate::terms;

/// A link definition as a map with atom keys.
#[derive(NifMap)]
pub(crate) struct LinkTerm {
    actor_id: String,
    provider_id: String,
    contract_id: String,
    link_name: String,
    values: HashMap<String, String>,
}

impl From<LinkDefinition> for LinkTerm {
    fn from(l: LinkDefinition) -> Self {
        LinkTerm {
            actor_id: l.actor_id,
            provider_id: l.provider_id,
            contract_id: l.contract_id,
            link_name: l.link_name,
            values: l.values,
        }
    }
}

impl From<LinkTerm> for LinkDefinition {
    fn from(l: LinkTerm) -> Self {
        LinkDefinition {
            actor_id: l.actor_id,
            provider_id: l.provider_id,
            contract_id: l.contract_id,
            link_name: l.link_name,
            values: l.values,
        }
    }
}

/// Puts (or replaces) a link definition.
#[rustler::nif(schedule = "DirtyIo")]
fn link_put(env: Env<'_>, resource: ResourceArc<HostResource>, link: LinkTerm) -> Term<'_> {
    let host = resource.host.clone();
    terms::unit(env, run(async move { host.put_link(link.into()).await }))
}

/// Deletes a link: `{:ok, existed?}`.
#[rustler::nif(schedule = "DirtyIo")]
fn link_delete(
    env: Env<'_>,
    resource: ResourceArc<HostResource>,
    actor_id: String,
    contract_id: String,
    link_name: String,
) -> Term<'_> {
    let host = resource.host.clone();
    terms::result(
        env,
        run(async move { host.delete_link(&actor_id, &contract_id, &link_name).await }),
    )
}

/// Every link definition known to the host.
#[rustler::nif]
fn link_list(resource: ResourceArc<HostResource>) -> Vec<LinkTerm> {
    resource
        .host
        .links()
        .into_iter()
        .map(LinkTerm::from)
        .collect()
}
