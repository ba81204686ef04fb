//! One inbound invocation, from bytes to the reply bytes (LATTICE.md §3.4, wasmbus-rpc
//! 0.11's order): decode, de-chunk, check claims, target and link, dispatch, chunk a
//! large reply. Every failure becomes an `InvocationResponse` with `error` set.

use crate::{Context, Provider, ProviderError, ProviderHandler};
use wasmhost_protocol::{Invocation, InvocationResponse};

/// The reply to the raw message `payload`.
pub(crate) async fn handle(
    provider: &Provider,
    handler: &dyn ProviderHandler,
    payload: &[u8],
) -> InvocationResponse {
    let inv = match Invocation::decode(payload) {
        Ok(inv) => inv,
        Err(e) => {
            tracing::warn!(error = %e, "undecodable invocation");
            return InvocationResponse::failure("", format!("deser error: {e}"));
        }
    };
    let id = inv.id.clone();
    let operation = inv.operation.clone();
    match invoke(provider, handler, inv).await {
        Ok(msg) => match reply(provider, &id, msg).await {
            Ok(response) => response,
            Err(e) => InvocationResponse::failure(id, e.to_string()),
        },
        Err(e) => {
            tracing::debug!(invocation = %id, %operation, error = %e, "invocation failed");
            InvocationResponse::failure(id, e.to_string())
        }
    }
}

async fn invoke(
    provider: &Provider,
    handler: &dyn ProviderHandler,
    mut inv: Invocation,
) -> Result<Vec<u8>, ProviderError> {
    wasmhost_nats::fetch_request(provider.chunks(), &mut inv).await?;
    let hd = provider.host_data();
    inv.validate(&hd.cluster_issuers)
        .map_err(|e| ProviderError::Denied(e.to_string()))?;
    if inv.target.public_key != hd.provider_key {
        return Err(ProviderError::Denied(format!(
            "target key mismatch: {} != {}",
            inv.target.public_key, hd.provider_key
        )));
    }
    let link = provider.link(&inv.origin.public_key).ok_or_else(|| {
        ProviderError::Denied(format!("unlinked actor: '{}'", inv.origin.public_key))
    })?;
    let ctx = Context {
        actor: inv.origin.public_key.clone(),
        origin: inv.origin,
        link,
        invocation_id: inv.id,
        provider: provider.clone(),
    };
    handler.dispatch(&ctx, &inv.operation, inv.msg).await
}

/// A success reply; payloads above the threshold go to the object store as `{id}-r`.
async fn reply(
    provider: &Provider,
    id: &str,
    msg: Vec<u8>,
) -> Result<InvocationResponse, ProviderError> {
    let mut response = InvocationResponse::success(id, msg);
    wasmhost_nats::store_response(provider.chunks(), &mut response).await?;
    Ok(response)
}
