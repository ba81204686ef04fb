//! The observer on an embedded host: the host's own events, inventory, links and claims, without
//! NATS. The same state model as over NATS.

use std::sync::Arc;

use tokio::task::JoinHandle;

use super::{Shared, EXPIRY_TICK};
use crate::{Host, Result};

/// Subscribes to the host's events, seeds from its inventory, and follows it until it stops.
pub(super) fn start(host: &Host, shared: Arc<Shared>) -> Result<JoinHandle<()>> {
    let mut events = host.subscribe_events()?;
    seed(host, &shared);
    let weak = host.downgrade();
    Ok(tokio::spawn(async move {
        let mut tick = tokio::time::interval(EXPIRY_TICK);
        loop {
            let wanted = tokio::select! {
                event = events.next() => match event {
                    Some(event) => shared.apply(|state, now| state.apply_event(&event, now)),
                    // The host stopped: host_stopped was the last event.
                    None => break,
                },
                _ = tick.tick() => shared.apply(|state, now| state.expire(now)),
            };
            if !wanted.is_empty() {
                let Some(host) = weak.upgrade() else { break };
                let inventory = host.inventory();
                shared.apply(|state, now| state.apply_inventory(&inventory, now));
            }
        }
    }))
}

fn seed(host: &Host, shared: &Shared) {
    // What the host answers to `ping.hosts`.
    let ping = host.ping_reply();
    let inventory = host.inventory();
    let links = host.links();
    let claims = host.lattice_claims();
    shared.apply(|state, now| {
        let mut changes = state.apply_ping(&ping, now);
        changes.extend(state.apply_inventory(&inventory, now));
        changes.extend(state.apply_links(&links, now));
        changes.extend(state.apply_claims(&claims));
        changes
    });
}
