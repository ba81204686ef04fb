//! `wasmhost-httpserver`: the `wasmcloud:httpserver` capability provider (LATTICE.md §6.6).
//!
//! Each linked actor gets its own HTTP/1 listener (link values in [`config`]); every
//! request becomes an `HttpServer.HandleRequest` call to that actor and its
//! `HttpResponse` is written back. Timeout → 504, no actor → 503, actor error or an
//! undecodable reply → 500. The provider receives no operations itself.

mod config;
mod convert;
mod server;

use parking_lot::Mutex;
use std::collections::HashMap;
use wasmhost_provider::protocol::http::CONTRACT_ID;
use wasmhost_provider::{
    async_trait, Context, LinkDefinition, Provider, ProviderError, ProviderHandler,
};

/// The provider: one server per linked actor.
#[derive(Default)]
struct HttpServerProvider {
    servers: Mutex<HashMap<String, server::Server>>,
}

#[async_trait]
impl ProviderHandler for HttpServerProvider {
    async fn put_link(
        &self,
        provider: &Provider,
        link: &LinkDefinition,
    ) -> Result<bool, ProviderError> {
        let config = config::ServerConfig::from_values(&link.values)?;
        let server = server::Server::start(provider.clone(), &link.actor_id, &config).await.inspect_err(|e| {
            tracing::error!(actor = %link.actor_id, addr = %config.addr, error = %e, "cannot start the HTTP listener");
        })?;
        tracing::info!(actor = %link.actor_id, addr = %config.addr, "HTTP listener started");
        self.servers.lock().insert(link.actor_id.clone(), server);
        Ok(true)
    }

    async fn delete_link(&self, actor_id: &str) {
        if self.servers.lock().remove(actor_id).is_some() {
            tracing::info!(actor = %actor_id, "HTTP listener stopped");
        }
    }

    async fn dispatch(
        &self,
        _ctx: &Context,
        operation: &str,
        _msg: Vec<u8>,
    ) -> Result<Vec<u8>, ProviderError> {
        Err(ProviderError::unknown_operation(operation))
    }

    async fn shutdown(&self) {
        self.servers.lock().clear();
    }
}

fn main() -> std::process::ExitCode {
    wasmhost_provider::provider_main(CONTRACT_ID, HttpServerProvider::default())
}
