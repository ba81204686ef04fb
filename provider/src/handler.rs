//! What a provider implements: [`ProviderHandler`], and what it is given per call.

use crate::{Provider, ProviderError};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use wasmhost_protocol::{LinkDefinition, WasmCloudEntity};

/// The reply to a health check (msgpack `{healthy, message?}`, wasmbus-rpc's
/// `HealthCheckResponse`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HealthCheckResponse {
    /// Whether the provider is healthy.
    #[serde(default)]
    pub healthy: bool,
    /// More detail; omitted from the wire when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl HealthCheckResponse {
    /// `{healthy: true}`.
    pub fn healthy() -> Self {
        HealthCheckResponse {
            healthy: true,
            message: None,
        }
    }

    /// `{healthy: false, message}`.
    pub fn unhealthy(message: impl Into<String>) -> Self {
        HealthCheckResponse {
            healthy: false,
            message: Some(message.into()),
        }
    }
}

/// Who is calling: handed to [`ProviderHandler::dispatch`] with every invocation.
#[derive(Clone)]
pub struct Context {
    /// The calling actor's public key (M...).
    pub actor: String,
    /// The caller as it appears in the invocation.
    pub origin: WasmCloudEntity,
    /// The link between that actor and this provider (every dispatched call has one:
    /// calls from unlinked actors are refused before dispatch).
    pub link: LinkDefinition,
    /// The invocation id.
    pub invocation_id: String,
    /// This provider, e.g. to call the actor back.
    pub provider: Provider,
}

/// A capability provider's behaviour. Every method but [`dispatch`](Self::dispatch) has a
/// default. Methods run concurrently (each invocation on its own task), so
/// implementations keep their state behind locks.
#[async_trait]
pub trait ProviderHandler: Send + Sync + 'static {
    /// A link from an actor to this provider was put (at start, for every link in
    /// HostData, and then for each `linkdefs.put`). `Ok(true)` accepts it: the actor may
    /// call from now on. `Ok(false)` or `Err` refuses it (logged; the actor stays unlinked).
    /// A second put for an actor that is already linked never reaches this method.
    async fn put_link(
        &self,
        provider: &Provider,
        link: &LinkDefinition,
    ) -> Result<bool, ProviderError> {
        let _ = (provider, link);
        Ok(true)
    }

    /// The link of `actor_id` was deleted: release what [`put_link`](Self::put_link) set up.
    async fn delete_link(&self, actor_id: &str) {
        let _ = actor_id;
    }

    /// Handles `operation` with payload `msg` from a linked actor; the returned bytes are
    /// the reply payload, an error's `Display` text the reply's `error`.
    async fn dispatch(
        &self,
        ctx: &Context,
        operation: &str,
        msg: Vec<u8>,
    ) -> Result<Vec<u8>, ProviderError>;

    /// Answers the host's periodic health check. Healthy by default.
    async fn health(&self) -> HealthCheckResponse {
        HealthCheckResponse::healthy()
    }

    /// The provider is stopping (host request, stdin closed or SIGTERM): release resources.
    async fn shutdown(&self) {}
}
