//! Link definitions: which provider (contract id + link name) answers an actor's host calls.

use std::collections::HashMap;

use parking_lot::RwLock;
use wasmhost_protocol::rpc::LinkDefinition;

/// Links keyed by (actor id, contract id, link name): a new put for the same triple replaces the old one.
#[derive(Default)]
pub(crate) struct LinkStore {
    links: RwLock<HashMap<(String, String, String), LinkDefinition>>,
}

impl LinkStore {
    /// Stores `link`; returns the one it replaced.
    pub(crate) fn put(&self, link: LinkDefinition) -> Option<LinkDefinition> {
        let key = (
            link.actor_id.clone(),
            link.contract_id.clone(),
            link.link_name.clone(),
        );
        self.links.write().insert(key, link)
    }

    /// Removes the link for the triple; returns it if there was one.
    pub(crate) fn delete(
        &self,
        actor_id: &str,
        contract_id: &str,
        link_name: &str,
    ) -> Option<LinkDefinition> {
        self.links.write().remove(&(
            actor_id.to_string(),
            contract_id.to_string(),
            link_name.to_string(),
        ))
    }

    pub(crate) fn get(
        &self,
        actor_id: &str,
        contract_id: &str,
        link_name: &str,
    ) -> Option<LinkDefinition> {
        self.links
            .read()
            .get(&(
                actor_id.to_string(),
                contract_id.to_string(),
                link_name.to_string(),
            ))
            .cloned()
    }

    /// The links served by provider `provider_id` under `link_name` (what that provider is told).
    pub(crate) fn for_provider(&self, provider_id: &str, link_name: &str) -> Vec<LinkDefinition> {
        self.links
            .read()
            .values()
            .filter(|l| l.provider_id == provider_id && l.link_name == link_name)
            .cloned()
            .collect()
    }

    /// Every link, sorted for stable output.
    pub(crate) fn list(&self) -> Vec<LinkDefinition> {
        let mut all: Vec<_> = self.links.read().values().cloned().collect();
        all.sort_by(|a, b| {
            (&a.actor_id, &a.contract_id, &a.link_name).cmp(&(
                &b.actor_id,
                &b.contract_id,
                &b.link_name,
            ))
        });
        all
    }
}
