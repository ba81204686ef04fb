//! Shared lattice state in the `LATTICEDATA_{lattice}` JetStream KV bucket (LATTICE.md §7.2):
//! `LINKDEF_{hash id}`, `CLAIMS_{public key}`, `REFMAP_{base64url(oci ref)}`, JSON values.

use std::collections::HashMap;

use async_nats::jetstream::{self, kv};
use data_encoding::BASE64URL_NOPAD;
use serde_json::json;
use tokio::sync::OnceCell;
use wasmhost_protocol::rpc::LinkDefinition;

use super::transport_error;
use crate::Result;

pub(crate) const LINKDEF_PREFIX: &str = "LINKDEF_";
pub(crate) const CLAIMS_PREFIX: &str = "CLAIMS_";
pub(crate) const REFMAP_PREFIX: &str = "REFMAP_";

/// The bucket, opened (or created with the v0.60 host's settings and the configured replica
/// count) on first use.
pub(crate) struct LatticeData {
    js: jetstream::Context,
    bucket: String,
    replicas: usize,
    store: OnceCell<kv::Store>,
}

impl LatticeData {
    pub(crate) fn new(js: jetstream::Context, lattice: &str, replicas: usize) -> Self {
        LatticeData {
            js,
            bucket: format!("LATTICEDATA_{lattice}"),
            replicas,
            store: OnceCell::new(),
        }
    }

    /// The bucket; fails while the server is unreachable.
    pub(crate) async fn store(&self) -> Result<&kv::Store> {
        self.store
            .get_or_try_init(|| async {
                // history 1 = max_msgs_per_subject 1; async-nats adds allow_direct, rollup, deny_delete, discard new.
                let config = kv::Config {
                    bucket: self.bucket.clone(),
                    history: 1,
                    storage: jetstream::stream::StorageType::File,
                    ..Default::default()
                };
                Ok(wasmhost_nats::stores::key_value(&self.js, config, self.replicas).await?)
            })
            .await
    }

    pub(crate) async fn put_link(&self, link: &LinkDefinition) -> Result<()> {
        self.put(&link_key(link), link_record(link)).await
    }

    pub(crate) async fn delete_link(&self, link: &LinkDefinition) -> Result<()> {
        let key = link_key(link);
        self.store().await?.purge(&key).await.map_err(|e| {
            transport_error(format!("cannot delete `{key}` from {}: {e}", self.bucket))
        })
    }

    pub(crate) async fn put_claims(&self, claims: &HashMap<String, String>) -> Result<()> {
        let Some(sub) = claims.get("sub") else {
            return Ok(());
        };
        self.put(
            &format!("{CLAIMS_PREFIX}{sub}"),
            serde_json::to_vec(claims).unwrap_or_default(),
        )
        .await
    }

    pub(crate) async fn put_refmap(&self, oci_url: &str, public_key: &str) -> Result<()> {
        let key = format!(
            "{REFMAP_PREFIX}{}",
            BASE64URL_NOPAD.encode(oci_url.as_bytes())
        );
        self.put(
            &key,
            json!({"oci_url": oci_url, "public_key": public_key})
                .to_string()
                .into_bytes(),
        )
        .await
    }

    async fn put(&self, key: &str, value: Vec<u8>) -> Result<()> {
        self.store()
            .await?
            .put(key, value.into())
            .await
            .map_err(|e| {
                transport_error(format!("cannot write `{key}` to {}: {e}", self.bucket))
            })?;
        Ok(())
    }
}

pub(crate) fn link_key(link: &LinkDefinition) -> String {
    format!("{LINKDEF_PREFIX}{}", link.hash_id())
}

/// The stored link record: the link definition plus its deterministic `id`.
fn link_record(link: &LinkDefinition) -> Vec<u8> {
    let mut value: serde_json::Value = serde_json::from_slice(&link.to_json()).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.insert("id".into(), link.hash_id().into());
    }
    value.to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_keys_use_the_v060_hash() {
        let link = LinkDefinition {
            actor_id: "Mbob".into(),
            contract_id: "wasmcloud:testy".into(),
            link_name: "default".into(),
            ..Default::default()
        };
        assert_eq!(
            link_key(&link),
            "LINKDEF_B40411AD09B70A2C83D59923584F66BA2C5A3C274DC4F19416DA49CCD6531F9C"
        );
        let record: serde_json::Value = serde_json::from_slice(&link_record(&link)).unwrap();
        assert_eq!(
            record["id"],
            "B40411AD09B70A2C83D59923584F66BA2C5A3C274DC4F19416DA49CCD6531F9C"
        );
        assert_eq!(record["values"], json!({}));
    }
}
