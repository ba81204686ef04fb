//! The observer over NATS: subscribe to `wasmbus.evt.{lattice}` first, then seed from the
//! control interface (so no event between the seed and the subscription is lost), then follow the
//! events; re-seed after every reconnect. Only the wire protocol is used, never a host's internals.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::task::JoinHandle;
use wasmhost_protocol::ctl::{
    self, GetClaimsResponse, HostInventory, HostPing, LinkDefinitionList,
};
use wasmhost_protocol::events::CloudEvent;
use wasmhost_protocol::subjects;

use super::{transport, ObserverConfig, Shared, EXPIRY_TICK};
use crate::Result;

/// A host's inventory is fetched at most this often when its reports keep lacking details.
const INVENTORY_INTERVAL: Duration = Duration::from_secs(2);

/// Connects with `settings` (every auth form and TLS of [`crate::NatsConnection`], several
/// servers tried in turn); fails if none answers. The client reconnects by itself afterwards.
pub async fn connect_nats(settings: &crate::NatsConnection) -> Result<async_nats::Client> {
    let mut settings = settings.clone();
    settings.reconnect = settings.reconnect.fail_fast();
    wasmhost_nats::connect(&settings, "wasmhost lattice observer")
        .await
        .map_err(|e| transport(e.to_string()))
}

/// Subscribes, seeds, and spawns the task that follows the lattice.
pub(super) async fn start(
    client: async_nats::Client,
    config: ObserverConfig,
    shared: Arc<Shared>,
) -> Result<JoinHandle<()>> {
    let subject = subjects::events(&config.lattice);
    let mut events = client
        .subscribe(subject.clone())
        .await
        .map_err(|e| transport(format!("cannot subscribe to {subject}: {e}")))?;
    client
        .flush()
        .await
        .map_err(|e| transport(format!("cannot flush the subscription to {subject}: {e}")))?;
    let seeder = Seeder {
        prefix: subjects::ctl_prefix(&config.ctl_topic_prefix, &config.lattice),
        client,
        config,
    };
    seeder.seed(&shared).await;
    // A reconnect shows as one more connect in the client's statistics.
    let mut connects = seeder
        .client
        .statistics()
        .connects
        .load(std::sync::atomic::Ordering::Relaxed);
    Ok(tokio::spawn(async move {
        let mut tick = tokio::time::interval(EXPIRY_TICK);
        let mut fetched: HashMap<String, Instant> = HashMap::new();
        // Wanted inventories not fetched yet because the host's last one is too recent.
        let mut deferred: HashSet<String> = HashSet::new();
        loop {
            let wanted = tokio::select! {
                message = events.next() => {
                    let Some(message) = message else { break };
                    match CloudEvent::from_json_bytes(&message.payload) {
                        Ok(event) => shared.apply(|state, now| state.apply_event(&event, now)),
                        Err(_) => {
                            tracing::debug!(subject = %message.subject, "skipped a message that is not a CloudEvent");
                            continue;
                        }
                    }
                }
                _ = tick.tick() => {
                    let now_connects = seeder.client.statistics().connects.load(std::sync::atomic::Ordering::Relaxed);
                    if now_connects != connects {
                        connects = now_connects;
                        // Events may have been missed while disconnected: start over from the lattice.
                        seeder.seed(&shared).await;
                        continue;
                    }
                    shared.apply(|state, now| state.expire(now))
                }
            };
            fetched.retain(|_, at| at.elapsed() < INVENTORY_INTERVAL);
            deferred.extend(wanted);
            deferred.retain(|host| {
                if fetched.contains_key(host) {
                    return true;
                }
                fetched.insert(host.clone(), Instant::now());
                tokio::spawn(seeder.clone().inventory(host.clone(), shared.clone()));
                false
            });
        }
    }))
}

/// The control-interface requests that seed the picture.
#[derive(Clone)]
struct Seeder {
    client: async_nats::Client,
    prefix: String,
    config: ObserverConfig,
}

impl Seeder {
    /// Every host's ping and inventory, then links and claims. Failures are logged: a host that
    /// does not answer is learnt from its next heartbeat.
    async fn seed(&self, shared: &Arc<Shared>) {
        let pings: Vec<HostPing> = self.gather(subjects::ping_hosts(&self.prefix)).await;
        let mut wanted = Vec::new();
        for ping in &pings {
            wanted.extend(shared.apply(|state, now| state.apply_ping(ping, now)));
        }
        let inventories = pings
            .iter()
            .map(|p| p.id.clone())
            .chain(wanted)
            .map(|host| self.clone().inventory(host, shared.clone()));
        futures::future::join_all(inventories).await;
        if let Some(links) = self
            .request::<LinkDefinitionList>(subjects::get_links(&self.prefix))
            .await
        {
            shared.apply(|state, now| state.apply_links(&links.links, now));
        }
        if let Some(claims) = self
            .request::<GetClaimsResponse>(subjects::get_claims(&self.prefix))
            .await
        {
            shared.apply(|state, _| state.apply_claims(&claims.claims));
        }
    }

    async fn inventory(self, host: String, shared: Arc<Shared>) {
        if let Some(inventory) = self
            .request::<HostInventory>(subjects::host_inventory(&self.prefix, &host))
            .await
        {
            // A host that does not know the id replies with a failure ack, which decodes as empty.
            if inventory.host_id == host {
                shared.apply(|state, now| state.apply_inventory(&inventory, now));
            }
        }
    }

    /// A request with an empty body; `None` (logged) when nobody answers or the reply is not `T`.
    async fn request<T: serde::de::DeserializeOwned>(&self, subject: String) -> Option<T> {
        let reply = tokio::time::timeout(
            self.config.request_timeout,
            self.client.request(subject.clone(), Default::default()),
        )
        .await;
        match reply {
            Ok(Ok(message)) => match ctl::from_json::<T>(&message.payload) {
                Ok(value) => Some(value),
                Err(e) => {
                    tracing::warn!(%subject, error = %e, "unexpected reply while seeding the lattice picture");
                    None
                }
            },
            Ok(Err(e)) => {
                tracing::debug!(%subject, error = %e, "no reply while seeding the lattice picture");
                None
            }
            Err(_) => {
                tracing::warn!(%subject, timeout_ms = self.config.request_timeout.as_millis() as u64, "no reply in time while seeding the lattice picture");
                None
            }
        }
    }

    /// Scatter/gather: every reply that arrives within the ping timeout.
    async fn gather<T: serde::de::DeserializeOwned>(&self, subject: String) -> Vec<T> {
        let inbox = self.client.new_inbox();
        let mut replies = match self.client.subscribe(inbox.clone()).await {
            Ok(replies) => replies,
            Err(e) => {
                tracing::warn!(%subject, error = %e, "cannot subscribe to the reply inbox");
                return Vec::new();
            }
        };
        if let Err(e) = self
            .client
            .publish_with_reply(subject.clone(), inbox, Default::default())
            .await
        {
            tracing::warn!(%subject, error = %e, "cannot publish");
            return Vec::new();
        }
        let mut gathered = Vec::new();
        let deadline = tokio::time::Instant::now() + self.config.ping_timeout;
        while let Ok(Some(message)) = tokio::time::timeout_at(deadline, replies.next()).await {
            match message.status {
                // Nobody listens: no host will answer.
                Some(status) if status == async_nats::StatusCode::NO_RESPONDERS => break,
                Some(_) => continue,
                None => {}
            }
            match ctl::from_json::<T>(&message.payload) {
                Ok(value) => gathered.push(value),
                Err(e) => {
                    tracing::warn!(%subject, error = %e, "ignored a reply that does not decode")
                }
            }
        }
        gathered
    }
}
