//! [`Provider`]: the running provider as its handler sees it: identity, links, and calls
//! to actors.

use crate::{ProviderError, DEFAULT_RPC_TIMEOUT_MS};
use async_nats::Client;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use wasmhost_nats::ChunkStore;
use wasmhost_protocol::nkeys::KeyPair;
use wasmhost_protocol::{HostData, Invocation, LinkDefinition, WasmCloudEntity};

/// A cheap, cloneable handle on the running provider.
#[derive(Clone)]
pub struct Provider {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    host_data: HostData,
    contract_id: String,
    /// `None` when HostData's `invocation_seed` is missing or bad: calls out then fail.
    signer: Option<KeyPair>,
    chunks: ChunkStore,
    links: RwLock<HashMap<String, LinkDefinition>>,
}

impl Provider {
    pub(crate) fn new(client: Client, host_data: HostData, contract_id: &str) -> Self {
        let signer = match KeyPair::from_seed(host_data.invocation_seed.trim()) {
            Ok(key) => Some(key),
            Err(e) => {
                tracing::warn!(error = %e, "HostData has no usable invocation_seed; calls to actors will fail");
                None
            }
        };
        let chunks = ChunkStore::for_client(
            &client,
            &host_data.lattice_rpc_prefix,
            host_data.js_domain.as_deref(),
            wasmhost_nats::DEFAULT_REPLICAS,
        );
        Provider {
            inner: Arc::new(Inner {
                client,
                host_data,
                contract_id: contract_id.to_string(),
                signer,
                chunks,
                links: RwLock::new(HashMap::new()),
            }),
        }
    }

    /// What the host sent at start.
    pub fn host_data(&self) -> &HostData {
        &self.inner.host_data
    }

    /// The contract this provider implements, e.g. `wasmcloud:httpserver`.
    pub fn contract_id(&self) -> &str {
        &self.inner.contract_id
    }

    /// This provider as the origin of its calls: `{provider_key, link_name, contract_id}`.
    pub fn entity(&self) -> WasmCloudEntity {
        let hd = &self.inner.host_data;
        WasmCloudEntity::provider(&hd.provider_key, &self.inner.contract_id, &hd.link_name)
    }

    /// The NATS connection (for providers that need more than RPC).
    pub fn nats(&self) -> &Client {
        &self.inner.client
    }

    /// The accepted link of `actor_id`, if any.
    pub fn link(&self, actor_id: &str) -> Option<LinkDefinition> {
        self.inner.links.read().get(actor_id).cloned()
    }

    /// Whether `actor_id` has an accepted link.
    pub fn is_linked(&self, actor_id: &str) -> bool {
        self.inner.links.read().contains_key(actor_id)
    }

    /// Every accepted link.
    pub fn links(&self) -> Vec<LinkDefinition> {
        self.inner.links.read().values().cloned().collect()
    }

    pub(crate) fn remember_link(&self, link: LinkDefinition) {
        self.inner.links.write().insert(link.actor_id.clone(), link);
    }

    pub(crate) fn forget_link(&self, actor_id: &str) {
        self.inner.links.write().remove(actor_id);
    }

    pub(crate) fn chunks(&self) -> &ChunkStore {
        &self.inner.chunks
    }

    /// The timeout of calls to actors: HostData's `default_rpc_timeout_ms`, else 2000 ms.
    pub fn rpc_timeout(&self) -> Duration {
        Duration::from_millis(
            self.inner
                .host_data
                .default_rpc_timeout_ms
                .unwrap_or(DEFAULT_RPC_TIMEOUT_MS),
        )
    }

    /// Calls `operation` on actor `actor_id` with `payload` and returns its reply payload.
    ///
    /// Sends a signed invocation (origin = [`entity`](Self::entity), signed with HostData's
    /// `invocation_seed`) on `wasmbus.rpc.{lattice}.{actor}`; payloads above 900 KiB go
    /// through the object store both ways, and the timeout is then at least 15 s. Fails with [`ProviderError::Timeout`],
    /// [`ProviderError::NoResponders`] (the actor runs nowhere), [`ProviderError::Remote`]
    /// (the reply's `error`), [`ProviderError::Invalid`] (an undecodable reply), or
    /// [`ProviderError::Transport`].
    pub async fn call_actor(
        &self,
        actor_id: &str,
        operation: &str,
        payload: Vec<u8>,
    ) -> Result<Vec<u8>, ProviderError> {
        let hd = &self.inner.host_data;
        let signer = self.inner.signer.as_ref().ok_or_else(|| {
            ProviderError::Denied(
                "cannot sign invocations: HostData has no valid invocation_seed".into(),
            )
        })?;
        let inv = Invocation::new_signed(
            signer,
            self.entity(),
            WasmCloudEntity::actor(actor_id),
            operation,
            payload,
            &hd.host_id,
        )
        .map_err(|e| ProviderError::Denied(format!("cannot sign invocation: {e}")))?;
        let response = wasmhost_nats::invoke(
            &self.inner.client,
            self.chunks(),
            &hd.lattice_rpc_prefix,
            inv,
            self.rpc_timeout(),
        )
        .await?;
        if let Some(error) = response.error {
            return Err(ProviderError::Remote(error));
        }
        Ok(response.msg)
    }
}
