//! Outbound invocations: to actors on other hosts (`wasmbus.rpc.{lattice}.{actor}`) and to
//! providers (`wasmbus.rpc.{lattice}.{provider}.{link}`), chunking large payloads both ways.

use std::time::Duration;

use async_nats::{Client, RequestErrorKind};
use wasmhost_protocol::rpc::{Invocation, InvocationResponse};
use wasmhost_protocol::subjects;

use super::chunking::{ChunkStore, CHUNKED_RPC_TIMEOUT, CHUNK_THRESHOLD};
use super::transport_error;
use crate::{Error, ErrorKind, Result};

/// The subject an invocation's target listens on.
pub(crate) fn target_subject(lattice: &str, invocation: &Invocation) -> String {
    let target = &invocation.target;
    if target.is_actor() {
        subjects::actor_rpc(lattice, &target.public_key)
    } else {
        subjects::provider_rpc(lattice, &target.public_key, &target.link_name)
    }
}

/// Sends `invocation` and waits up to `timeout` (at least 15 s when the payload is chunked).
/// A reply with `error` set is returned as is; transport failures are errors (timeout, nobody
/// serving the target, connection down).
pub(crate) async fn invoke(
    rpc: &Client,
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
    let reply = rpc
        .send_request(subject.clone(), request)
        .await
        .map_err(|e| match e.kind() {
            RequestErrorKind::TimedOut => {
                Error::timeout(format!("no reply on {subject} within {timeout:?}"))
            }
            RequestErrorKind::NoResponders => Error::new(
                ErrorKind::NotFound,
                format!("nothing in the lattice serves {subject}"),
            ),
            _ => transport_error(format!("request on {subject} failed: {e}")),
        })?;
    let mut response = InvocationResponse::decode(&reply.payload)
        .map_err(|e| transport_error(format!("malformed invocation response on {subject}: {e}")))?;
    if response.error.is_none() && response.is_chunked() {
        response.msg = chunks.take(&format!("{}-r", invocation.id)).await?;
    }
    Ok(response)
}
