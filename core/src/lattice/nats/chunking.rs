//! Payloads above the NATS message limit travel through the JetStream object store named after the
//! lattice (LATTICE.md §3.6): the sender puts the object first, then sends the message with an empty
//! `msg` and the full `content_length`; the receiver reads the object and deletes it.

use std::time::Duration;

use async_nats::jetstream::{self, object_store::ObjectStore};
use tokio::io::AsyncReadExt;
use tokio::sync::OnceCell;

use super::transport_error;
use crate::Result;

/// Payloads larger than this are chunked (wasmbus-rpc 0.11 and the OTP host's responses).
pub(crate) const CHUNK_THRESHOLD: usize = 900 * 1024;
/// Request timeout when the payload is chunked (the OTP host's `@chunk_rpc_timeout`).
pub(crate) const CHUNKED_RPC_TIMEOUT: Duration = Duration::from_secs(15);

/// The lattice's object store, opened (or created) on first use.
pub(crate) struct ChunkStore {
    js: jetstream::Context,
    bucket: String,
    store: OnceCell<ObjectStore>,
}

impl ChunkStore {
    pub(crate) fn new(js: jetstream::Context, lattice: &str) -> Self {
        ChunkStore {
            js,
            bucket: lattice.to_string(),
            store: OnceCell::new(),
        }
    }

    async fn store(&self) -> Result<&ObjectStore> {
        self.store
            .get_or_try_init(|| async {
                if let Ok(store) = self.js.get_object_store(&self.bucket).await {
                    return Ok(store);
                }
                let config = jetstream::object_store::Config {
                    bucket: self.bucket.clone(),
                    ..Default::default()
                };
                match self.js.create_object_store(config).await {
                    Ok(store) => Ok(store),
                    // Another host created it between our two requests.
                    Err(create) => self.js.get_object_store(&self.bucket).await.map_err(|_| {
                        transport_error(format!(
                            "cannot open object store `{}`: {create}",
                            self.bucket
                        ))
                    }),
                }
            })
            .await
    }

    /// Stores `bytes` under `name`, replacing an object of that name.
    pub(crate) async fn put(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let mut reader = bytes;
        self.store()
            .await?
            .put(name, &mut reader)
            .await
            .map_err(|e| transport_error(format!("cannot store chunked payload `{name}`: {e}")))?;
        Ok(())
    }

    /// Reads object `name` whole, then deletes it.
    pub(crate) async fn take(&self, name: &str) -> Result<Vec<u8>> {
        let store = self.store().await?;
        let mut object = store
            .get(name)
            .await
            .map_err(|e| transport_error(format!("cannot fetch chunked payload `{name}`: {e}")))?;
        let mut bytes = Vec::new();
        object
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| transport_error(format!("cannot read chunked payload `{name}`: {e}")))?;
        if let Err(e) = store.delete(name).await {
            tracing::warn!(object = name, error = %e, "could not delete a chunked payload after reading it");
        }
        Ok(bytes)
    }
}
