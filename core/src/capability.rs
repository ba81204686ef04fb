//! In-process capability handlers: the embedding application answers actors' host calls itself.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::RwLock;

/// One host call from an actor to a capability contract.
#[derive(Debug, Clone)]
pub struct CapabilityCall {
    /// Public key (M...) of the calling actor.
    pub actor_id: String,
    /// Contract id the actor named, e.g. `wasmcloud:keyvalue`.
    pub contract_id: String,
    /// Link name the actor named (`default` unless the actor chose another).
    pub link_name: String,
    /// Operation, e.g. `KeyValue.Increment`.
    pub operation: String,
    /// The encoded argument (msgpack for the 2022 interfaces).
    pub payload: Bytes,
}

/// Answers host calls for one contract id and link name, inside the host's process.
///
/// The returned bytes go back to the actor as its host response; an `Err(text)` reaches the actor
/// as a host error (`__host_error`) with that text. Handlers run on the host's async runtime:
/// blocking work belongs in `tokio::task::spawn_blocking`.
#[async_trait::async_trait]
pub trait CapabilityHandler: Send + Sync + 'static {
    /// Handles one call.
    async fn handle(&self, call: CapabilityCall) -> Result<Vec<u8>, String>;
}

type BoxedReply = Pin<Box<dyn Future<Output = Result<Vec<u8>, String>> + Send>>;

/// A [`CapabilityHandler`] made from an async closure: `capability_fn(|call| async move { Ok(vec![]) })`.
pub fn capability_fn<F, Fut>(f: F) -> Arc<dyn CapabilityHandler>
where
    F: Fn(CapabilityCall) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Vec<u8>, String>> + Send + 'static,
{
    struct FnHandler(Box<dyn Fn(CapabilityCall) -> BoxedReply + Send + Sync>);
    #[async_trait::async_trait]
    impl CapabilityHandler for FnHandler {
        async fn handle(&self, call: CapabilityCall) -> Result<Vec<u8>, String> {
            (self.0)(call).await
        }
    }
    Arc::new(FnHandler(Box::new(move |call| Box::pin(f(call)))))
}

/// Handlers by (contract id, link name).
#[derive(Default)]
pub(crate) struct CapabilityRegistry {
    handlers: RwLock<HashMap<(String, String), Arc<dyn CapabilityHandler>>>,
}

impl CapabilityRegistry {
    pub(crate) fn register(
        &self,
        contract_id: &str,
        link_name: &str,
        handler: Arc<dyn CapabilityHandler>,
    ) -> Option<Arc<dyn CapabilityHandler>> {
        self.handlers
            .write()
            .insert((contract_id.to_string(), link_name.to_string()), handler)
    }
    pub(crate) fn unregister(&self, contract_id: &str, link_name: &str) -> bool {
        self.handlers
            .write()
            .remove(&(contract_id.to_string(), link_name.to_string()))
            .is_some()
    }
    pub(crate) fn get(
        &self,
        contract_id: &str,
        link_name: &str,
    ) -> Option<Arc<dyn CapabilityHandler>> {
        self.handlers
            .read()
            .get(&(contract_id.to_string(), link_name.to_string()))
            .cloned()
    }
}
