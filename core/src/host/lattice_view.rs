//! What this host knows of the lattice beyond its own instances: the claims of every actor and
//! provider (the `get.claims` maps), call aliases, and which image reference holds which key.
//! Filled by this host's own starts and by the changes the lattice adapter reports.

use std::collections::HashMap;

use parking_lot::RwLock;
use wasmhost_protocol::claims::ActorClaims;
use wasmhost_protocol::event_data::{EventData, RefmapSet};

use super::Host;
use crate::lattice::RemoteChange;

/// A flat claims map as `get.claims` replies it (LATTICE.md §1.5), `sub` being the public key.
pub(crate) type ClaimsMap = HashMap<String, String>;

#[derive(Default)]
pub(crate) struct LatticeView {
    /// Claims maps by public key, ours and other hosts'.
    claims: RwLock<HashMap<String, ClaimsMap>>,
    /// Call alias → actor public key.
    aliases: RwLock<HashMap<String, String>>,
    /// Image reference → public key.
    refmaps: RwLock<HashMap<String, String>>,
}

impl LatticeView {
    pub(crate) fn resolve_alias(&self, alias: &str) -> Option<String> {
        self.aliases.read().get(alias).cloned()
    }

    /// Records claims; a `call_alias` in them names the actor from now on.
    pub(crate) fn put_claims(&self, map: ClaimsMap) {
        let Some(public_key) = map.get("sub").filter(|s| !s.is_empty()).cloned() else {
            return;
        };
        if let Some(alias) = map.get("call_alias").filter(|a| !a.is_empty()) {
            self.aliases
                .write()
                .insert(alias.clone(), public_key.clone());
        }
        self.claims.write().insert(public_key, map);
    }

    pub(crate) fn remove_claims(&self, public_key: &str) {
        self.claims.write().remove(public_key);
        self.aliases.write().retain(|_, pk| pk != public_key);
    }

    pub(crate) fn put_refmap(&self, image_ref: &str, public_key: &str) {
        self.refmaps
            .write()
            .insert(image_ref.to_string(), public_key.to_string());
    }

    pub(crate) fn refmap(&self, image_ref: &str) -> Option<String> {
        self.refmaps.read().get(image_ref).cloned()
    }

    /// Every claims map, sorted by public key.
    pub(crate) fn claims(&self) -> Vec<ClaimsMap> {
        let mut all: Vec<_> = self.claims.read().values().cloned().collect();
        all.sort_by(|a, b| a.get("sub").cmp(&b.get("sub")));
        all
    }

    pub(crate) fn refmaps(&self) -> HashMap<String, String> {
        self.refmaps.read().clone()
    }
}

/// The `get.claims` map of an actor (§1.5) plus the v0.60 `contract_id` (empty for actors).
pub(crate) fn actor_claims_map(claims: &ActorClaims) -> ClaimsMap {
    let mut map = claims.claims_map();
    map.insert("contract_id".into(), String::new());
    map
}

impl Host {
    /// Applies one change the lattice reported (another host, or a client writing the shared
    /// bucket directly).
    pub(crate) fn apply_remote(&self, change: RemoteChange) {
        match change {
            RemoteChange::LinkPut(link) => self.apply_remote_link(link),
            RemoteChange::LinkDeleted { id } => self.apply_remote_link_deleted(&id),
            RemoteChange::ClaimsPut(map) => self.inner.lattice_view.put_claims(map),
            RemoteChange::ClaimsDeleted { public_key } => {
                self.inner.lattice_view.remove_claims(&public_key)
            }
            RemoteChange::RefmapPut {
                image_ref,
                public_key,
            } => self.inner.lattice_view.put_refmap(&image_ref, &public_key),
        }
    }

    /// Claims this host started something with: known here at once, shared with the lattice in
    /// the background.
    pub(crate) fn share_claims(&self, map: ClaimsMap) {
        self.inner.lattice_view.put_claims(map.clone());
        if let Some(lattice) = self.transport() {
            lattice.share_claims(map);
        }
    }

    /// Records that `image_ref` resolved to `public_key`, shares it and publishes `refmap_set`.
    pub(crate) fn record_refmap(&self, image_ref: &str, public_key: &str) {
        self.inner.lattice_view.put_refmap(image_ref, public_key);
        if let Some(lattice) = self.transport() {
            lattice.share_refmap(image_ref, public_key);
        }
        self.publish(EventData::RefmapSet(RefmapSet {
            oci_url: image_ref.to_string(),
            public_key: public_key.to_string(),
        }));
    }

    /// Image references of the lattice with the public key each resolved to (this host's
    /// starts and, in a NATS lattice, every other host's).
    pub fn refmaps(&self) -> HashMap<String, String> {
        self.inner.lattice_view.refmaps()
    }

    /// The claims maps of every actor and provider the lattice knows (`get.claims`).
    pub(crate) fn lattice_claims(&self) -> Vec<ClaimsMap> {
        self.inner.lattice_view.claims()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(sub: &str, alias: &str) -> ClaimsMap {
        [("sub", sub), ("call_alias", alias), ("name", "x")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn claims_name_aliases_until_removed() {
        let view = LatticeView::default();
        view.put_claims(claims("MA", "wasmhost/pong"));
        view.put_claims(claims("MB", ""));
        assert_eq!(view.resolve_alias("wasmhost/pong").as_deref(), Some("MA"));
        assert_eq!(view.claims().len(), 2);
        view.remove_claims("MA");
        assert_eq!(view.resolve_alias("wasmhost/pong"), None);
        assert_eq!(view.claims().len(), 1);
        // Claims without a subject are not stored.
        view.put_claims(claims("", "x"));
        assert_eq!(view.claims().len(), 1);
    }

    #[test]
    fn refmaps_resolve() {
        let view = LatticeView::default();
        view.put_refmap("reg:5000/echo:0.1", "MA");
        assert_eq!(view.refmap("reg:5000/echo:0.1").as_deref(), Some("MA"));
        assert_eq!(view.refmaps().len(), 1);
    }
}
