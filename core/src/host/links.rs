//! Link definitions: which provider (contract id + link name) answers an actor's host calls; the
//! store, the host's API over it, and changes the lattice reports.

use std::collections::HashMap;

use parking_lot::RwLock;
use wasmhost_protocol::event_data::{EventData, LinkdefEvent};
use wasmhost_protocol::rpc::LinkDefinition;

use super::Host;
use crate::limits::{check_link, MAX_LINKS};
use crate::{Error, Result};

type LinkKey = (String, String, String);

/// Links keyed by (actor id, contract id, link name): a new put for the same triple replaces the old one.
#[derive(Default)]
pub(crate) struct LinkStore {
    links: RwLock<HashMap<LinkKey, LinkDefinition>>,
}

fn key(actor_id: &str, contract_id: &str, link_name: &str) -> LinkKey {
    (
        actor_id.to_string(),
        contract_id.to_string(),
        link_name.to_string(),
    )
}

impl LinkStore {
    /// Stores `link`; returns the one it replaced. Fails when the store is full and `link` is new.
    pub(crate) fn put(&self, link: LinkDefinition) -> Result<Option<LinkDefinition>> {
        let key = key(&link.actor_id, &link.contract_id, &link.link_name);
        let mut links = self.links.write();
        if links.len() >= MAX_LINKS && !links.contains_key(&key) {
            return Err(Error::invalid(format!(
                "the lattice already holds {MAX_LINKS} link definitions, the most one host keeps; delete unused links first"
            )));
        }
        Ok(links.insert(key, link))
    }

    /// Removes the link for the triple; returns it if there was one.
    pub(crate) fn delete(
        &self,
        actor_id: &str,
        contract_id: &str,
        link_name: &str,
    ) -> Option<LinkDefinition> {
        self.links
            .write()
            .remove(&key(actor_id, contract_id, link_name))
    }

    /// Removes the link whose deterministic id is `id` (how the lattice bucket names it).
    pub(crate) fn delete_by_id(&self, id: &str) -> Option<LinkDefinition> {
        let mut links = self.links.write();
        let key = links
            .iter()
            .find(|(_, l)| l.hash_id() == id)
            .map(|(k, _)| k.clone())?;
        links.remove(&key)
    }

    pub(crate) fn get(
        &self,
        actor_id: &str,
        contract_id: &str,
        link_name: &str,
    ) -> Option<LinkDefinition> {
        self.links
            .read()
            .get(&key(actor_id, contract_id, link_name))
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

/// The data of `linkdef_set` / `linkdef_deleted`.
fn link_event(link: &LinkDefinition) -> LinkdefEvent {
    LinkdefEvent {
        id: link.hash_id(),
        actor_id: link.actor_id.clone(),
        provider_id: link.provider_id.clone(),
        link_name: link.link_name.clone(),
        contract_id: link.contract_id.clone(),
        values: link.values.clone(),
    }
}

impl Host {
    /// Puts a link definition: the actor's host calls to `contract_id` with `link_name` go to `provider_id`.
    /// A put for the same (actor, contract, link name) replaces the previous link. Publishes `linkdef_set`.
    /// Fails on a link with a missing or oversized field, too many or too large values
    /// (see [`crate::limits`]), or when the lattice's store cannot be written.
    pub async fn put_link(&self, link: LinkDefinition) -> Result<()> {
        self.ensure_running()?;
        check_link(&link)?;
        if let Some(lattice) = self.transport() {
            lattice.put_link(&link).await?;
        }
        self.inner.links.put(link.clone())?;
        self.publish(EventData::LinkdefSet(link_event(&link)));
        Ok(())
    }

    /// Deletes the link for (actor, contract, link name). Deleting a link that does not exist is not
    /// an error (as in the OTP host); returns whether one existed. Publishes `linkdef_deleted`.
    pub async fn delete_link(
        &self,
        actor_id: &str,
        contract_id: &str,
        link_name: &str,
    ) -> Result<bool> {
        self.ensure_running()?;
        let Some(link) = self.inner.links.delete(actor_id, contract_id, link_name) else {
            tracing::warn!(
                actor_id = %crate::quote::quote_input(actor_id),
                contract_id = %crate::quote::quote_input(contract_id),
                link_name = %crate::quote::quote_input(link_name),
                "delete of a link that does not exist"
            );
            return Ok(false);
        };
        if let Some(lattice) = self.transport() {
            lattice.delete_link(&link).await?;
        }
        self.publish(EventData::LinkdefDeleted(link_event(&link)));
        Ok(true)
    }

    /// Every link definition known to this host.
    pub fn links(&self) -> Vec<LinkDefinition> {
        self.inner.links.list()
    }

    /// A link put by someone else in the lattice (already checked there; checked again, since a
    /// bucket can be written by anyone).
    pub(crate) fn apply_remote_link(&self, link: LinkDefinition) {
        if let Err(e) = check_link(&link).and_then(|()| self.inner.links.put(link).map(drop)) {
            tracing::warn!(error = %e, "ignoring a link definition from the lattice bucket");
        }
    }

    /// A link deleted by someone else in the lattice.
    pub(crate) fn apply_remote_link_deleted(&self, id: &str) {
        self.inner.links.delete_by_id(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HostConfig;

    fn link(actor: &str) -> LinkDefinition {
        LinkDefinition {
            actor_id: actor.into(),
            provider_id: "VPROVIDER".into(),
            contract_id: "wasmcloud:keyvalue".into(),
            link_name: "default".into(),
            values: [("URL".to_string(), "redis://127.0.0.1".to_string())].into(),
        }
    }

    #[test]
    fn a_put_for_the_same_triple_replaces_and_ids_delete() {
        let store = LinkStore::default();
        assert!(store.put(link("MA")).unwrap().is_none());
        let mut other = link("MA");
        other.provider_id = "VOTHER".into();
        assert_eq!(store.put(other).unwrap().unwrap().provider_id, "VPROVIDER");
        assert_eq!(store.list().len(), 1);
        assert_eq!(store.for_provider("VOTHER", "default").len(), 1);
        assert!(store.delete_by_id(&link("MA").hash_id()).is_some());
        assert!(store.list().is_empty());
    }

    #[test]
    fn the_store_is_bounded() {
        let store = LinkStore::default();
        for i in 0..MAX_LINKS {
            store.put(link(&format!("M{i}"))).unwrap();
        }
        let e = store.put(link("MNEW")).unwrap_err();
        assert!(e.message().contains("delete unused links"), "{e}");
        // Replacing an existing link is still possible when full.
        assert!(store.put(link("M0")).is_ok());
    }

    #[tokio::test]
    async fn host_links_publish_events_and_refuse_bad_links() {
        let host = Host::start(HostConfig::default()).await.unwrap();
        let mut events = host.subscribe_events().unwrap();
        host.put_link(link("MA")).await.unwrap();
        let mut bad = link("MB");
        bad.contract_id.clear();
        assert!(host.put_link(bad).await.is_err());
        assert!(host
            .delete_link("MA", "wasmcloud:keyvalue", "default")
            .await
            .unwrap());
        assert!(!host
            .delete_link("MA", "wasmcloud:keyvalue", "default")
            .await
            .unwrap());
        let kinds: Vec<String> = std::iter::from_fn(|| events.try_next())
            .map(|e| e.short_type().to_string())
            .filter(|kind| kind.starts_with("linkdef"))
            .collect();
        assert_eq!(kinds, ["linkdef_set", "linkdef_deleted"]);
        host.stop().await.unwrap();
    }
}
