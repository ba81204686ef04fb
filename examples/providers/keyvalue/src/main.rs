//! `wasmhost-keyvalue`: the `wasmcloud:keyvalue` capability provider (LATTICE.md §6.7).
//!
//! Each linked actor gets a backend chosen by its link values: Redis when the link has a
//! `URL` value (e.g. `redis://127.0.0.1:6379/`), else the in-memory store. The in-memory
//! store is one per process, shared by every actor linked without a URL, as actors
//! sharing one Redis would share it: link with a URL when actors must not see each
//! other's keys.

mod memory;
mod ops;
mod redis_store;
mod store;

use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;
use store::KvStore;
use wasmhost_provider::protocol::keyvalue::CONTRACT_ID;
use wasmhost_provider::{
    async_trait, Context, LinkDefinition, Provider, ProviderError, ProviderHandler,
};

/// The provider: a backend per linked actor.
#[derive(Default)]
struct KeyValueProvider {
    memory: Arc<memory::MemoryStore>,
    backends: RwLock<HashMap<String, Arc<dyn KvStore>>>,
}

/// The link's `URL` value, whatever its case.
fn redis_url(link: &LinkDefinition) -> Option<&str> {
    link.values
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("url"))
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.trim().is_empty())
}

#[async_trait]
impl ProviderHandler for KeyValueProvider {
    async fn put_link(
        &self,
        _provider: &Provider,
        link: &LinkDefinition,
    ) -> Result<bool, ProviderError> {
        let backend: Arc<dyn KvStore> = match redis_url(link) {
            Some(url) => {
                let store = redis_store::RedisStore::new(url)?;
                tracing::info!(actor = %link.actor_id, url = %store.display_url(), "actor linked to Redis");
                Arc::new(store)
            }
            None => {
                tracing::info!(actor = %link.actor_id, "actor linked to the in-memory store");
                self.memory.clone()
            }
        };
        self.backends.write().insert(link.actor_id.clone(), backend);
        Ok(true)
    }

    async fn delete_link(&self, actor_id: &str) {
        self.backends.write().remove(actor_id);
    }

    async fn dispatch(
        &self,
        ctx: &Context,
        operation: &str,
        msg: Vec<u8>,
    ) -> Result<Vec<u8>, ProviderError> {
        let backend = self
            .backends
            .read()
            .get(&ctx.actor)
            .cloned()
            .ok_or_else(|| {
                ProviderError::Denied(format!("no key-value backend for actor {}", ctx.actor))
            })?;
        ops::dispatch(backend.as_ref(), operation, &msg).await
    }
}

fn main() -> std::process::ExitCode {
    wasmhost_provider::provider_main(CONTRACT_ID, KeyValueProvider::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_key_is_case_insensitive() {
        let mut link = LinkDefinition::default();
        assert_eq!(redis_url(&link), None);
        link.values.insert("url".into(), "redis://x/".into());
        assert_eq!(redis_url(&link), Some("redis://x/"));
        link.values.clear();
        link.values.insert("URL".into(), " ".into());
        assert_eq!(redis_url(&link), None);
    }
}
