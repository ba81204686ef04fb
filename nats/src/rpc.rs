//! Invocations over NATS (LATTICE.md §3): the outbound request to an actor
//! (`wasmbus.rpc.{lattice}.{actor}`) or a provider (`wasmbus.rpc.{lattice}.{provider}.{link}`),
//! and the two halves a server needs, all chunking payloads above [`CHUNK_THRESHOLD`] both ways.
//! Nothing here signs: callers pass a signed [`Invocation`].

use std::time::Duration;

use async_nats::{Client, RequestErrorKind};
use wasmhost_protocol::rpc::{Invocation, InvocationResponse};
use wasmhost_protocol::subjects;

use crate::objects::{ChunkStore, CHUNKED_RPC_TIMEOUT, CHUNK_THRESHOLD};
use crate::{NatsError, Result};

/// The subject an invocation's target listens on.
pub fn target_subject(lattice: &str, invocation: &Invocation) -> String {
    let target = &invocation.target;
    if target.is_actor() {
        subjects::actor_rpc(lattice, &target.public_key)
    } else {
        subjects::provider_rpc(lattice, &target.public_key, &target.link_name)
    }
}

/// The object name of a chunked response.
fn response_object(invocation_id: &str) -> String {
    format!("{invocation_id}-r")
}

/// Sends `invocation` to its target and waits up to `timeout` for the response (at least
/// [`CHUNKED_RPC_TIMEOUT`] when the request is chunked). A large payload goes to the object
/// store first; a chunked response is fetched (and deleted) before returning. A response with
/// `error` set is returned as is; fails with [`NatsError::Timeout`], [`NatsError::NoResponders`]
/// (nothing serves the target) or [`NatsError::Transport`].
pub async fn invoke(
    client: &Client,
    chunks: &ChunkStore,
    lattice: &str,
    mut invocation: Invocation,
    timeout: Duration,
) -> Result<InvocationResponse> {
    let subject = target_subject(lattice, &invocation);
    let mut timeout = timeout;
    if invocation.msg.len() > CHUNK_THRESHOLD {
        chunks.put(&invocation.id, &invocation.msg).await?;
        invocation.content_length = Some(invocation.msg.len() as u64);
        invocation.msg = Vec::new();
        timeout = timeout.max(CHUNKED_RPC_TIMEOUT);
    }
    let request = async_nats::Request::new()
        .payload(invocation.encode().into())
        .timeout(Some(timeout));
    let reply = client
        .send_request(subject.clone(), request)
        .await
        .map_err(|e| match e.kind() {
            RequestErrorKind::TimedOut => NatsError::Timeout(format!(
                "no reply on {subject} within {timeout:?} (timed out)"
            )),
            RequestErrorKind::NoResponders => NatsError::NoResponders(format!(
                "nothing in the lattice serves {subject} (no responders)"
            )),
            _ => NatsError::transport(format!("request on {subject} failed: {e}")),
        })?;
    let mut response = InvocationResponse::decode(&reply.payload).map_err(|e| {
        NatsError::transport(format!("malformed invocation response on {subject}: {e}"))
    })?;
    if response.error.is_none() && response.is_chunked() {
        response.msg = chunks.take(&response_object(&invocation.id)).await?;
    }
    Ok(response)
}

/// Inbound: replaces the empty `msg` of a chunked invocation with its payload from the store.
pub async fn fetch_request(chunks: &ChunkStore, invocation: &mut Invocation) -> Result<()> {
    if invocation.is_chunked() {
        invocation.msg = chunks.take(&invocation.id).await?;
    }
    Ok(())
}

/// Outbound reply: moves a successful response's payload above [`CHUNK_THRESHOLD`] to the store
/// as `{invocation id}-r`, leaving `msg` empty and `content_length` the full size.
pub async fn store_response(chunks: &ChunkStore, response: &mut InvocationResponse) -> Result<()> {
    if response.error.is_none() && response.msg.len() > CHUNK_THRESHOLD {
        chunks
            .put(&response_object(&response.invocation_id), &response.msg)
            .await?;
        response.content_length = Some(response.msg.len() as u64);
        response.msg = Vec::new();
    }
    Ok(())
}
