//! The lattice's shared state in the `LATTICEDATA` bucket, read back: caught up at start, then
//! every write (ours or anyone's) decoded into a [`RemoteChange`] for the host to apply. Records
//! the host cannot use (malformed JSON, incomplete links) are skipped with a warning.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::kv::Operation;
use futures::{StreamExt, TryStreamExt};
use tokio::sync::oneshot;
use wasmhost_protocol::rpc::LinkDefinition;

use super::kv::{LatticeData, CLAIMS_PREFIX, LINKDEF_PREFIX, REFMAP_PREFIX};
use super::transport_error;
use crate::lattice::{HostPort, RemoteChange};
use crate::Result;

/// Pause before watching the bucket again after the watch failed.
const RETRY_DELAY: Duration = Duration::from_secs(1);

/// What one bucket record means to the host, if anything.
pub(crate) fn decode(key: &str, operation: Operation, value: &[u8]) -> Option<RemoteChange> {
    let deleted = operation != Operation::Put;
    if let Some(id) = key.strip_prefix(LINKDEF_PREFIX) {
        if deleted {
            return Some(RemoteChange::LinkDeleted { id: id.to_string() });
        }
        return match LinkDefinition::from_json(value) {
            Ok(link)
                if !link.actor_id.is_empty()
                    && !link.contract_id.is_empty()
                    && !link.link_name.is_empty() =>
            {
                Some(RemoteChange::LinkPut(link))
            }
            Ok(_) => {
                tracing::warn!(
                    key,
                    "ignoring an incomplete link definition in the lattice bucket"
                );
                None
            }
            Err(e) => {
                tracing::warn!(key, error = %e, "ignoring a malformed link definition in the lattice bucket");
                None
            }
        };
    }
    if let Some(public_key) = key.strip_prefix(CLAIMS_PREFIX) {
        if deleted {
            return Some(RemoteChange::ClaimsDeleted {
                public_key: public_key.to_string(),
            });
        }
        let Ok(raw) = serde_json::from_slice::<HashMap<String, serde_json::Value>>(value) else {
            tracing::warn!(key, "ignoring malformed claims in the lattice bucket");
            return None;
        };
        // Other writers may send null (e.g. `version`): store strings only, as we reply them.
        let mut claims: HashMap<String, String> = raw
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
        claims
            .entry("sub".into())
            .or_insert_with(|| public_key.to_string());
        return Some(RemoteChange::ClaimsPut(claims));
    }
    if key.starts_with(REFMAP_PREFIX) && !deleted {
        #[derive(serde::Deserialize)]
        struct Refmap {
            oci_url: String,
            public_key: String,
        }
        return match serde_json::from_slice::<Refmap>(value) {
            Ok(r) => Some(RemoteChange::RefmapPut {
                image_ref: r.oci_url,
                public_key: r.public_key,
            }),
            Err(e) => {
                tracing::warn!(key, error = %e, "ignoring a malformed refmap in the lattice bucket");
                None
            }
        };
    }
    None
}

/// Keeps the host in step with the bucket for as long as the task runs: catch up, then watch;
/// after a failure (server unreachable, watch ended) start over. `synced` fires after the first
/// catch-up.
pub(crate) async fn run_sync(
    data: Arc<LatticeData>,
    port: Arc<dyn HostPort>,
    synced: oneshot::Sender<()>,
) {
    let mut synced = Some(synced);
    loop {
        if let Err(e) = catch_up_and_watch(&data, port.as_ref(), &mut synced).await {
            tracing::warn!(error = %e, "lattice state watch interrupted; retrying");
        }
        tokio::time::sleep(RETRY_DELAY).await;
    }
}

async fn catch_up_and_watch(
    data: &LatticeData,
    port: &dyn HostPort,
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
        if let Some(change) = value.and_then(|value| decode(&key, Operation::Put, &value)) {
            port.apply_remote(change);
        }
    }
    if let Some(tx) = synced.take() {
        let _ = tx.send(());
    }
    while let Some(entry) = watch.next().await {
        let entry =
            entry.map_err(|e| transport_error(format!("lattice bucket watch failed: {e}")))?;
        if let Some(change) = decode(&entry.key, entry.operation, &entry.value) {
            port.apply_remote(change);
        }
    }
    Err(transport_error("lattice bucket watch ended"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_records_decode_into_changes() {
        let link = br#"{"actor_id":"M","provider_id":"V","link_name":"default","contract_id":"wasmcloud:keyvalue","values":{}}"#;
        assert!(
            matches!(decode("LINKDEF_X", Operation::Put, link), Some(RemoteChange::LinkPut(l)) if l.provider_id == "V")
        );
        assert_eq!(
            decode("LINKDEF_X", Operation::Delete, b""),
            Some(RemoteChange::LinkDeleted { id: "X".into() })
        );
        assert_eq!(
            decode("LINKDEF_X", Operation::Put, br#"{"actor_id":""}"#),
            None
        );
        assert_eq!(decode("LINKDEF_X", Operation::Put, b"not json"), None);
        let Some(RemoteChange::ClaimsPut(claims)) = decode(
            "CLAIMS_MA",
            Operation::Put,
            br#"{"sub":"MA","version":null,"rev":"3"}"#,
        ) else {
            panic!()
        };
        assert_eq!(
            (claims["version"].as_str(), claims["rev"].as_str()),
            ("", "3")
        );
        assert_eq!(
            decode("CLAIMS_MA", Operation::Purge, b""),
            Some(RemoteChange::ClaimsDeleted {
                public_key: "MA".into()
            })
        );
        assert_eq!(
            decode(
                "REFMAP_x",
                Operation::Put,
                br#"{"oci_url":"r:1","public_key":"MA"}"#
            ),
            Some(RemoteChange::RefmapPut {
                image_ref: "r:1".into(),
                public_key: "MA".into()
            })
        );
        assert_eq!(decode("SOMETHING_ELSE", Operation::Put, b"{}"), None);
    }
}
