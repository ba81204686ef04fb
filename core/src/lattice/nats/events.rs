//! Publishing lattice events: lifecycle events on `wasmbus.evt.{lattice}`, invocation results on
//! `wasmbus.rpcevt.{lattice}`, in the order the host emitted them.

use std::sync::Arc;

use async_nats::Client;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use wasmhost_protocol::events::CloudEvent;
use wasmhost_protocol::subjects;

/// Starts the publisher task; events sent to the returned channel are published until it closes.
pub(crate) fn spawn_publisher(
    ctl: Client,
    lattice: &str,
) -> (mpsc::UnboundedSender<Arc<CloudEvent>>, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Arc<CloudEvent>>();
    let events = subjects::events(lattice);
    let rpc_events = subjects::rpc_events(lattice);
    let task = tokio::spawn(async move {
        while let Some(event) = rx.recv().await {
            let subject = if event.short_type().starts_with("invocation_") {
                &rpc_events
            } else {
                &events
            };
            let body = crate::events::fit_event(&event, super::max_payload(&ctl));
            if let Err(e) = ctl.publish(subject.clone(), body.into()).await {
                tracing::warn!(event = event.short_type(), error = %e, "could not publish a lattice event");
            }
        }
    });
    (tx, task)
}
