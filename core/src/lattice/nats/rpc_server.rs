//! Inbound invocations: one queue subscription per actor running here on
//! `wasmbus.rpc.{lattice}.{actor}` (queue group = the subject, so one host of the lattice serves
//! each call), each message answered with an `InvocationResponse`.

use std::collections::HashMap;
use std::sync::Arc;

use async_nats::{Client, Message};
use futures::StreamExt;
use tokio::sync::{oneshot, Mutex};
use tokio::task::JoinHandle;
use wasmhost_protocol::rpc::{Invocation, InvocationResponse};
use wasmhost_protocol::subjects;

use super::{transport_error, SHUTDOWN_WAIT};
use crate::lattice::HostPort;
use crate::Result;
use wasmhost_nats::ChunkStore;

/// The reply to bytes that are not an invocation (the OTP host's text).
pub(crate) const UNDECODABLE: &str = "Failed to deserialize msgpack invocation";

/// One actor's subscription: a signal that starts its drain, and the task that answers it.
struct Serving {
    drain_signal: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

pub(crate) struct RpcServer {
    rpc: Client,
    chunks: Arc<ChunkStore>,
    lattice: String,
    port: Arc<dyn HostPort>,
    serving: Mutex<HashMap<String, Serving>>,
}

impl RpcServer {
    pub(crate) fn new(
        rpc: Client,
        chunks: Arc<ChunkStore>,
        lattice: &str,
        port: Arc<dyn HostPort>,
    ) -> Self {
        RpcServer {
            rpc,
            chunks,
            lattice: lattice.to_string(),
            port,
            serving: Mutex::new(HashMap::new()),
        }
    }

    /// Subscribes to the actor's subject unless already subscribed.
    pub(crate) async fn serve(&self, public_key: &str) -> Result<()> {
        let mut serving = self.serving.lock().await;
        if serving.contains_key(public_key) {
            return Ok(());
        }
        let subject = subjects::actor_rpc(&self.lattice, public_key);
        let mut subscription = self
            .rpc
            .queue_subscribe(subject.clone(), subject.clone())
            .await
            .map_err(|e| transport_error(format!("cannot subscribe to {subject}: {e}")))?;
        let (rpc, chunks, port) = (self.rpc.clone(), self.chunks.clone(), self.port.clone());
        let (drain_signal, mut drain_requested) = oneshot::channel();
        let task = tokio::spawn(async move {
            let mut draining = false;
            loop {
                let message = tokio::select! {
                    message = subscription.next() => message,
                    _ = &mut drain_requested, if !draining => {
                        draining = true;
                        // Unsubscribes and ends the stream once the server confirms; calls the
                        // server routed here before that are still answered (with "not running").
                        if subscription.drain().await.is_err() {
                            break;
                        }
                        continue;
                    }
                };
                let Some(message) = message else { break };
                // Calls run concurrently; the actor's instance pool bounds the parallelism.
                tokio::spawn(answer(rpc.clone(), chunks.clone(), port.clone(), message));
            }
        });
        serving.insert(public_key.to_string(), Serving { drain_signal, task });
        Ok(())
    }

    /// Unsubscribes the actor and waits until the server has confirmed it, so that a call sent
    /// after the actor stopped meets "no responders" instead of a subscription that drops it.
    pub(crate) async fn stop_serving(&self, public_key: &str) {
        let serving = self.serving.lock().await.remove(public_key);
        if let Some(serving) = serving {
            drain(serving, self.connected()).await;
        }
    }

    /// Drops every subscription without waiting (for `Drop`).
    pub(crate) fn abort_all(&mut self) {
        for (_, serving) in self.serving.get_mut().drain() {
            serving.task.abort();
        }
    }

    /// Unsubscribes every actor, waiting for the server's confirmations.
    pub(crate) async fn stop_all(&self) {
        let all: Vec<Serving> = self.serving.lock().await.drain().map(|(_, s)| s).collect();
        let connected = self.connected();
        futures::future::join_all(all.into_iter().map(|s| drain(s, connected))).await;
    }

    /// Without a connection no confirmation can come: the subscriptions are just dropped (the
    /// server forgets them with the connection).
    fn connected(&self) -> bool {
        self.rpc.connection_state() == async_nats::connection::State::Connected
    }
}

async fn drain(serving: Serving, connected: bool) {
    let Serving {
        drain_signal,
        mut task,
    } = serving;
    if !connected {
        task.abort();
        return;
    }
    let _ = drain_signal.send(());
    if tokio::time::timeout(SHUTDOWN_WAIT, &mut task)
        .await
        .is_err()
    {
        tracing::warn!("an actor's unsubscription was not confirmed in time");
        task.abort();
    }
}

async fn answer(rpc: Client, chunks: Arc<ChunkStore>, port: Arc<dyn HostPort>, message: Message) {
    let Some(reply) = message.reply.clone() else {
        tracing::debug!(subject = %message.subject, "invocation without a reply subject ignored");
        return;
    };
    let response = match Invocation::decode(&message.payload) {
        Err(e) => {
            tracing::debug!(subject = %message.subject, error = %e, "undecodable invocation");
            InvocationResponse {
                error: Some(UNDECODABLE.to_string()),
                ..Default::default()
            }
        }
        Ok(invocation) => handle(&chunks, port.as_ref(), invocation).await,
    };
    let mut response = response;
    if let Err(e) = wasmhost_nats::store_response(&chunks, &mut response).await {
        response = InvocationResponse::failure(response.invocation_id, e.to_string());
    }
    if let Err(e) = rpc.publish(reply, response.encode().into()).await {
        tracing::warn!(error = %e, "could not send an invocation response");
    }
}

async fn handle(
    chunks: &ChunkStore,
    port: &dyn HostPort,
    mut invocation: Invocation,
) -> InvocationResponse {
    if let Err(e) = wasmhost_nats::fetch_request(chunks, &mut invocation).await {
        return InvocationResponse::failure(invocation.id, e.to_string());
    }
    port.serve(invocation).await
}
