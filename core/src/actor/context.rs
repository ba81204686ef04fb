//! What an actor instance knows about itself and how its `__host_call`s reach the host.

use std::sync::{Arc, Weak};

use bytes::Bytes;
use wasmhost_protocol::claims::ActorClaims;

/// Resolves an actor's `__host_call` (LATTICE.md §3.5). Implemented by the host.
#[async_trait::async_trait]
pub(crate) trait HostCallRouter: Send + Sync {
    /// Performs the call and returns the reply bytes, or the error text the guest reads with `__host_error`.
    async fn route_host_call(
        &self,
        actor: &ActorContext,
        binding: &str,
        namespace: &str,
        operation: &str,
        payload: Bytes,
    ) -> Result<Vec<u8>, String>;
}

/// Identity and claims of the actor an instance belongs to.
pub(crate) struct ActorContext {
    pub(crate) public_key: String,
    pub(crate) claims: Arc<ActorClaims>,
    /// Weak: instances live inside the host, and must not keep it alive.
    pub(crate) router: Weak<dyn HostCallRouter>,
}

impl ActorContext {
    pub(crate) async fn host_call(
        &self,
        binding: &str,
        namespace: &str,
        operation: &str,
        payload: Bytes,
    ) -> Result<Vec<u8>, String> {
        match self.router.upgrade() {
            Some(router) => {
                router
                    .route_host_call(self, binding, namespace, operation, payload)
                    .await
            }
            None => Err("the host is stopped".to_string()),
        }
    }
}
