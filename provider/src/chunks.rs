//! Payloads above [`CHUNK_THRESHOLD`](crate::CHUNK_THRESHOLD) travel through the JetStream
//! object store named after the lattice (LATTICE.md §3.6): the sender puts the object
//! (request: the invocation id; response: `{id}-r`), then sends the message with an empty
//! `msg` and the full `content_length`; the receiver reads the object and deletes it.
//! wasmbus-rpc 0.11 providers use no JetStream domain here, nor do we.

use crate::ProviderError;
use async_nats::jetstream::{self, object_store::ObjectStore};
use tokio::io::AsyncReadExt;
use tokio::sync::OnceCell;

/// The lattice's object store, opened (or created) on first use.
pub(crate) struct ChunkStore {
    js: jetstream::Context,
    bucket: String,
    store: OnceCell<ObjectStore>,
}

fn transport(what: String) -> ProviderError {
    ProviderError::Transport(what)
}

impl ChunkStore {
    pub(crate) fn new(client: async_nats::Client, lattice: &str) -> Self {
        ChunkStore {
            js: jetstream::new(client),
            bucket: lattice.to_string(),
            store: OnceCell::new(),
        }
    }

    async fn store(&self) -> Result<&ObjectStore, ProviderError> {
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
                    // Someone else created it between our two requests.
                    Err(create) => self.js.get_object_store(&self.bucket).await.map_err(|_| {
                        transport(format!(
                            "cannot open object store `{}`: {create}",
                            self.bucket
                        ))
                    }),
                }
            })
            .await
    }

    /// Stores `bytes` under `name`.
    pub(crate) async fn put(&self, name: &str, bytes: &[u8]) -> Result<(), ProviderError> {
        let mut reader = bytes;
        self.store()
            .await?
            .put(name, &mut reader)
            .await
            .map_err(|e| transport(format!("cannot store chunked payload `{name}`: {e}")))?;
        Ok(())
    }

    /// Reads object `name` whole, then deletes it.
    pub(crate) async fn take(&self, name: &str) -> Result<Vec<u8>, ProviderError> {
        let store = self.store().await?;
        let mut object = store
            .get(name)
            .await
            .map_err(|e| transport(format!("cannot fetch chunked payload `{name}`: {e}")))?;
        let mut bytes = Vec::new();
        object
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| transport(format!("cannot read chunked payload `{name}`: {e}")))?;
        if let Err(e) = store.delete(name).await {
            tracing::warn!(object = name, error = %e, "could not delete a chunked payload after reading it");
        }
        Ok(bytes)
    }
}
