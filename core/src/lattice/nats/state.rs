//! The lattice's replicated view (links, claims, call aliases, refmaps) kept in step with the
//! `LATTICEDATA` bucket: caught up at start, then updated by every write, ours or anyone's.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use async_nats::jetstream::kv::Operation;
use futures::{StreamExt, TryStreamExt};
use parking_lot::RwLock;
use tokio::sync::oneshot;
use wasmhost_protocol::rpc::LinkDefinition;

use super::kv::{LatticeData, CLAIMS_PREFIX, LINKDEF_PREFIX, REFMAP_PREFIX};
use super::transport_error;
use crate::host::HostInner;
use crate::Result;

/// Pause before watching the bucket again after the watch failed.
const RETRY_DELAY: Duration = Duration::from_secs(1);

/// What the lattice knows beyond this host's own actors.
#[derive(Default)]
pub(crate) struct LatticeState {
    /// Claims maps (`get.claims` shape) by public key, from every host.
    pub(crate) claims: RwLock<HashMap<String, HashMap<String, String>>>,
    /// OCI reference → public key.
    pub(crate) refmaps: RwLock<HashMap<String, String>>,
}

impl LatticeState {
    /// Applies one bucket record to the host's link store, aliases and this view.
    pub(crate) fn apply(&self, inner: &HostInner, key: &str, operation: Operation, value: &[u8]) {
        let deleted = operation != Operation::Put;
        if let Some(id) = key.strip_prefix(LINKDEF_PREFIX) {
            if deleted {
                if let Some(link) = inner.links.list().into_iter().find(|l| l.hash_id() == id) {
                    inner
                        .links
                        .delete(&link.actor_id, &link.contract_id, &link.link_name);
                }
            } else {
                match LinkDefinition::from_json(value) {
                    Ok(link)
                        if !link.actor_id.is_empty()
                            && !link.contract_id.is_empty()
                            && !link.link_name.is_empty() =>
                    {
                        inner.links.put(link);
                    }
                    Ok(_) => tracing::warn!(
                        key,
                        "ignoring an incomplete link definition in the lattice bucket"
                    ),
                    Err(e) => {
                        tracing::warn!(key, error = %e, "ignoring a malformed link definition in the lattice bucket")
                    }
                }
            }
        } else if let Some(public_key) = key.strip_prefix(CLAIMS_PREFIX) {
            if deleted {
                self.claims.write().remove(public_key);
                inner.aliases.write().retain(|_, pk| pk != public_key);
                return;
            }
            let Ok(raw) = serde_json::from_slice::<HashMap<String, serde_json::Value>>(value)
            else {
                tracing::warn!(key, "ignoring malformed claims in the lattice bucket");
                return;
            };
            // Other writers may send null (e.g. `version`): store strings only, as we reply them.
            let claims: HashMap<String, String> = raw
                .into_iter()
                .map(|(k, v)| {
                    let s = match v {
                        serde_json::Value::String(s) => s,
                        serde_json::Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    (k, s)
                })
                .collect();
            if let Some(alias) = claims.get("call_alias").filter(|a| !a.is_empty()) {
                inner
                    .aliases
                    .write()
                    .insert(alias.clone(), public_key.to_string());
            }
            self.claims.write().insert(public_key.to_string(), claims);
        } else if key.starts_with(REFMAP_PREFIX) {
            #[derive(serde::Deserialize)]
            struct Refmap {
                oci_url: String,
                public_key: String,
            }
            if deleted {
                return;
            }
            match serde_json::from_slice::<Refmap>(value) {
                Ok(r) => {
                    self.refmaps.write().insert(r.oci_url, r.public_key);
                }
                Err(e) => {
                    tracing::warn!(key, error = %e, "ignoring a malformed refmap in the lattice bucket")
                }
            }
        }
    }
}

/// Keeps the host in step with the bucket for as long as the host lives: catch up, then watch;
/// after a failure (server unreachable, watch ended) start over. `synced` fires after the first
/// catch-up.
pub(crate) async fn run_sync(
    data: Arc<LatticeData>,
    state: Arc<LatticeState>,
    host: Weak<HostInner>,
    synced: oneshot::Sender<()>,
) {
    let mut synced = Some(synced);
    loop {
        match catch_up_and_watch(&data, &state, &host, &mut synced).await {
            Ok(()) => return, // the host is gone
            Err(e) => tracing::warn!(error = %e, "lattice state watch interrupted; retrying"),
        }
        tokio::time::sleep(RETRY_DELAY).await;
    }
}

async fn catch_up_and_watch(
    data: &LatticeData,
    state: &LatticeState,
    host: &Weak<HostInner>,
    synced: &mut Option<oneshot::Sender<()>>,
) -> Result<()> {
    let store = data.store().await?;
    // Watch first so nothing written during the catch-up is missed; applying a record twice is harmless.
    let mut watch = store
        .watch_with_history(">")
        .await
        .map_err(|e| transport_error(format!("cannot watch the lattice bucket: {e}")))?;
    let keys: Vec<String> = store
        .keys()
        .await
        .map_err(|e| transport_error(format!("cannot list the lattice bucket: {e}")))?
        .try_collect()
        .await
        .map_err(|e| transport_error(format!("cannot list the lattice bucket: {e}")))?;
    for key in keys {
        let value = store
            .get(&key)
            .await
            .map_err(|e| transport_error(format!("cannot read `{key}`: {e}")))?;
        let Some(inner) = host.upgrade() else {
            return Ok(());
        };
        if let Some(value) = value {
            state.apply(&inner, &key, Operation::Put, &value);
        }
    }
    if let Some(tx) = synced.take() {
        let _ = tx.send(());
    }
    while let Some(entry) = watch.next().await {
        let entry =
            entry.map_err(|e| transport_error(format!("lattice bucket watch failed: {e}")))?;
        let Some(inner) = host.upgrade() else {
            return Ok(());
        };
        state.apply(&inner, &entry.key, entry.operation, &entry.value);
    }
    Err(transport_error("lattice bucket watch ended"))
}
