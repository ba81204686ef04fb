//! The control interface on NATS (LATTICE.md §1.1): subscribes the v0.59 subjects with their
//! queue groups, decodes each subject and hands the request to the host's port; publishes the
//! reply. What to answer is the host's business (`crate::control`); nothing a client sends can
//! stop this loop.

use std::sync::Arc;

use async_nats::{Client, Message};
use futures::stream::{self, StreamExt};
use tokio::task::JoinHandle;
use wasmhost_protocol::subjects;

use super::transport_error;
use crate::lattice::{ControlRequest, HostPort};
use crate::Result;

/// Subscribes every control subject and serves them until the task is aborted.
pub(crate) async fn spawn(ctl: Client, port: Arc<dyn HostPort>) -> Result<JoinHandle<()>> {
    let identity = port.identity();
    let (p, id) = (identity.ctl_prefix.clone(), identity.host_id.clone());
    // (subject, queue group) as the v0.59 host subscribes them (§1.1).
    let plan: Vec<(String, Option<String>)> = vec![
        (subjects::registries_put(&p), None),
        (subjects::host_commands_wildcard(&p, &id), None),
        (subjects::ping_hosts(&p), None),
        (subjects::linkdefs_wildcard(&p), Some(p.clone())),
        (subjects::get_wildcard(&p), Some(p.clone())),
        (subjects::host_inventory(&p, &id), None),
        (subjects::auction_wildcard(&p), None),
    ];
    let mut subscriptions = Vec::new();
    for (subject, queue) in plan {
        let subscription = match queue {
            Some(queue) => ctl.queue_subscribe(subject.clone(), queue).await,
            None => ctl.subscribe(subject.clone()).await,
        }
        .map_err(|e| transport_error(format!("cannot subscribe to {subject}: {e}")))?;
        subscriptions.push(subscription);
    }
    let mut messages = stream::select_all(subscriptions);
    Ok(tokio::spawn(async move {
        while let Some(message) = messages.next().await {
            tokio::spawn(answer(ctl.clone(), port.clone(), p.clone(), message));
        }
    }))
}

async fn answer(ctl: Client, port: Arc<dyn HostPort>, p: String, message: Message) {
    let Some(kind) = subjects::parse_ctl_subject(p.as_str(), message.subject.as_str()) else {
        tracing::debug!(subject = %crate::quote::quote_input(&message.subject), "unknown control subject ignored");
        return;
    };
    let request = ControlRequest {
        kind,
        body: message.payload.clone(),
        reply_limit: super::max_payload(&ctl),
    };
    let reply = port.control(request).await;
    if let (Some(reply_to), Some(body)) = (message.reply, reply) {
        if let Err(e) = ctl.publish(reply_to, body.into()).await {
            tracing::warn!(subject = %message.subject, error = %e, "could not send a control reply");
        }
    }
}
