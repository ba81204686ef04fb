//! Payloads above [`CHUNK_THRESHOLD`] travel through the JetStream object store named after the
//! lattice (LATTICE.md §3.6): the sender puts the object (a request under the invocation id, a
//! response under `{id}-r`), then sends the message with an empty `msg` and the full
//! `content_length`; the receiver reads the object whole and deletes it.
//!
//! # What the object info must contain for the 2022 clients
//!
//! wasmbus-rpc 0.11 and the OTP-era providers read objects with async-nats **0.23**, whose
//! `ObjectInfo` requires every one of `name`, `bucket`, `nuid`, `size`, `chunks`, `digest`,
//! `deleted` and `modified` (RFC 3339), and compares `digest` (`SHA-256=` + padded base64url)
//! with the chunks it read. async-nats 0.51, which we build on, writes `mtime` instead of
//! `modified` and leaves `deleted` out while it is false, so 0.23 fails with
//! ``missing field `modified` `` (issue 19). We therefore write objects ourselves, in the layout
//! both versions share: chunks of 128 KiB on `$O.{bucket}.C.{nuid}`, then one meta message on
//! `$O.{bucket}.M.{padded base64url(name)}` with header `Nats-Rollup: sub`, whose JSON carries
//! both `modified` and `mtime` and an explicit `"deleted": false` (0.51 ignores the fields it
//! does not know, 0.23 the `options`/`metadata` it does not know). Reading uses async-nats 0.51,
//! which reads what either version wrote.

use std::time::Duration;

use async_nats::jetstream::{self, object_store::ObjectStore};
use async_nats::HeaderMap;
use bytes::Bytes;
use data_encoding::BASE64URL;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;
use tokio::sync::OnceCell;

use crate::stores;
use crate::{NatsError, Result};

/// Payloads larger than this are chunked (wasmbus-rpc 0.11 and the OTP host's responses).
pub const CHUNK_THRESHOLD: usize = 900 * 1024;
/// Shortest request timeout when a payload is chunked (the OTP host's `@chunk_rpc_timeout`).
pub const CHUNKED_RPC_TIMEOUT: Duration = Duration::from_secs(15);
/// Size of one chunk message: what both async-nats versions write.
pub const CHUNK_SIZE: usize = 128 * 1024;

/// The lattice's object store, opened (or created) on first use.
pub struct ChunkStore {
    js: jetstream::Context,
    bucket: String,
    replicas: usize,
    store: OnceCell<ObjectStore>,
}

impl ChunkStore {
    /// The object store of `lattice` through `js`; created with `replicas` replicas if missing.
    pub fn new(js: jetstream::Context, lattice: &str, replicas: usize) -> Self {
        ChunkStore {
            js,
            bucket: lattice.to_string(),
            replicas,
            store: OnceCell::new(),
        }
    }

    /// The object store of `lattice` over `client`, in JetStream domain `js_domain` if any.
    pub fn for_client(
        client: &async_nats::Client,
        lattice: &str,
        js_domain: Option<&str>,
        replicas: usize,
    ) -> Self {
        Self::new(stores::jetstream(client, js_domain), lattice, replicas)
    }

    async fn store(&self) -> Result<&ObjectStore> {
        self.store
            .get_or_try_init(|| stores::object_store(&self.js, &self.bucket, self.replicas))
            .await
    }

    /// Stores `bytes` under `name` in the layout both async-nats 0.23 and 0.51 read (see the
    /// module docs), replacing an object of that name.
    pub async fn put(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let failed = |what: &str, e: &dyn std::fmt::Display| {
            NatsError::transport(format!(
                "cannot store chunked payload `{name}`: {what}: {e}"
            ))
        };
        let store = self.store().await?;
        let replaced = store.info(name).await.ok();
        let nuid = data_encoding::HEXLOWER.encode(&rand_bytes());
        let chunk_subject = format!("$O.{}.C.{nuid}", self.bucket);
        // Publish every chunk, then wait for the acks: the store holds all before the meta names them.
        let mut acks = Vec::new();
        for chunk in bytes.chunks(CHUNK_SIZE) {
            let ack = self
                .js
                .publish(chunk_subject.clone(), Bytes::copy_from_slice(chunk))
                .await
                .map_err(|e| failed("chunk", &e))?;
            acks.push(ack);
        }
        for ack in acks {
            ack.await.map_err(|e| failed("chunk ack", &e))?;
        }
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Rollup", "sub");
        let meta_subject = format!("$O.{}.M.{}", self.bucket, BASE64URL.encode(name.as_bytes()));
        let meta = object_info(&self.bucket, name, &nuid, bytes);
        self.js
            .publish_with_headers(meta_subject, headers, meta.into())
            .await
            .map_err(|e| failed("meta", &e))?
            .await
            .map_err(|e| failed("meta ack", &e))?;
        if let Some(old) = replaced {
            let old_chunks = format!("$O.{}.C.{}", self.bucket, old.nuid);
            let purged = async {
                let stream = self
                    .js
                    .get_stream(format!("OBJ_{}", self.bucket))
                    .await
                    .map_err(|e| e.to_string())?;
                stream
                    .purge()
                    .filter(old_chunks)
                    .await
                    .map_err(|e| e.to_string())
            };
            if let Err(e) = purged.await {
                tracing::warn!(object = name, error = %e, "could not purge the chunks of a replaced object");
            }
        }
        Ok(())
    }

    /// Reads object `name` whole, then deletes it.
    pub async fn take(&self, name: &str) -> Result<Vec<u8>> {
        let store = self.store().await?;
        let mut object = get_once_stored(store, name).await?;
        let mut bytes = Vec::with_capacity(object.info().size);
        object.read_to_end(&mut bytes).await.map_err(|e| {
            NatsError::transport(format!("cannot read chunked payload `{name}`: {e}"))
        })?;
        if let Err(e) = store.delete(name).await {
            tracing::warn!(object = name, error = %e, "could not delete a chunked payload after reading it");
        }
        Ok(bytes)
    }
}

/// How long a named object may take to appear after the message that names it.
pub const OBJECT_ARRIVAL_WAIT: Duration = Duration::from_secs(3);

/// Object `name`, waiting up to [`OBJECT_ARRIVAL_WAIT`] for it to be stored: async-nats 0.23
/// (the 2022 senders: wasmbus-rpc 0.11 clients and providers) publishes an object's chunks and
/// meta without awaiting their acks, then sends the invocation at once, so on a loaded machine
/// the message that names an object can arrive before JetStream has stored the object.
async fn get_once_stored(
    store: &ObjectStore,
    name: &str,
) -> Result<async_nats::jetstream::object_store::Object> {
    use async_nats::jetstream::object_store::GetErrorKind;
    let deadline = tokio::time::Instant::now() + OBJECT_ARRIVAL_WAIT;
    let mut pause = Duration::from_millis(2);
    loop {
        match store.get(name).await {
            Ok(object) => return Ok(object),
            Err(e)
                if e.kind() == GetErrorKind::NotFound
                    && tokio::time::Instant::now() + pause < deadline =>
            {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            Err(e) => {
                return Err(NatsError::transport(format!(
                    "cannot fetch chunked payload `{name}`: {e}"
                )))
            }
        }
    }
}

/// 16 bytes unique to this object (a NUID's job: a fresh chunk subject per object version).
fn rand_bytes() -> [u8; 16] {
    *uuid::Uuid::new_v4().as_bytes()
}

/// The meta JSON of one object: every field async-nats 0.23 requires plus 0.51's names.
fn object_info(bucket: &str, name: &str, nuid: &str, bytes: &[u8]) -> Vec<u8> {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    let digest = format!("SHA-256={}", BASE64URL.encode(&Sha256::digest(bytes)));
    json!({
        "name": name,
        "description": null,
        "bucket": bucket,
        "nuid": nuid,
        "size": bytes.len(),
        "chunks": bytes.len().div_ceil(CHUNK_SIZE),
        "modified": now,
        "mtime": now,
        "digest": digest,
        "deleted": false,
        "options": {"max_chunk_size": CHUNK_SIZE},
        "metadata": {},
    })
    .to_string()
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_info_has_every_field_both_clients_need() {
        let bytes = vec![7u8; CHUNK_SIZE * 2 + 1];
        let info: serde_json::Value =
            serde_json::from_slice(&object_info("lat", "inv-r", "abc", &bytes)).unwrap();
        for field in [
            "name", "bucket", "nuid", "size", "chunks", "modified", "mtime", "digest", "deleted",
        ] {
            assert!(!info[field].is_null(), "{field} missing: {info}");
        }
        assert_eq!(
            (
                info["size"].as_u64(),
                info["chunks"].as_u64(),
                info["deleted"].as_bool()
            ),
            (Some(bytes.len() as u64), Some(3), Some(false))
        );
        assert_eq!(info["modified"], info["mtime"]);
        assert!(chrono::DateTime::parse_from_rfc3339(info["modified"].as_str().unwrap()).is_ok());
        // SHA-256 of the bytes, padded base64url: the text both versions compare with.
        let digest = info["digest"].as_str().unwrap();
        assert!(
            digest.starts_with("SHA-256=") && digest.ends_with('='),
            "{digest}"
        );
        // async-nats 0.51 reads it back.
        let parsed: async_nats::jetstream::object_store::ObjectInfo =
            serde_json::from_value(info).unwrap();
        assert_eq!(
            (parsed.size, parsed.chunks, parsed.deleted),
            (bytes.len(), 3, false)
        );
        assert!(parsed.modified.is_some());
    }
}
