//! What the host reports about itself: inventory (`get.{host}.inv`), ping reply (`ping.hosts`),
//! heartbeat (`host_heartbeat`), in the shapes of LATTICE.md §1.3, §1.4 and §2.4.

use std::sync::Arc;

use wasmhost_protocol::ctl::{
    ActorDescription, ActorInstance as CtlActorInstance, HostInventory, HostPing,
};
use wasmhost_protocol::event_data::EventData;
use wasmhost_protocol::events::{humanize_duration, HeartbeatActor, HeartbeatData};

use super::{Host, VERSION};

impl Host {
    /// The inventory as the control interface reports it (`get.{host}.inv`).
    pub fn inventory(&self) -> HostInventory {
        let actors = self
            .actors()
            .into_iter()
            .map(|a| ActorDescription {
                id: a.public_key.clone(),
                image_ref: Some(if a.image_ref.is_empty() {
                    "n/a".to_string()
                } else {
                    a.image_ref.clone()
                }),
                name: Some(a.claims.name().unwrap_or("N/A").to_string()),
                instances: a
                    .instances
                    .iter()
                    .map(|i| CtlActorInstance {
                        annotations: i.annotations.clone(),
                        instance_id: i.instance_id.clone(),
                        revision: a.claims.revision(),
                    })
                    .collect(),
            })
            .collect();
        HostInventory {
            host_id: self.id().to_string(),
            issuer: self.cluster_key(),
            labels: self.inner.labels.clone(),
            friendly_name: self.inner.friendly_name.clone(),
            actors,
            providers: self.provider_descriptions(),
        }
    }

    /// The reply to `ping.hosts`.
    pub fn ping_reply(&self) -> HostPing {
        let config = self.config();
        let nats = config.nats.clone().unwrap_or_default();
        let uptime = self.uptime().as_secs();
        HostPing {
            id: self.id().to_string(),
            issuer: self.cluster_key(),
            labels: self.labels().clone(),
            friendly_name: self.friendly_name().to_string(),
            uptime_seconds: uptime,
            uptime_human: humanize_duration(uptime),
            version: VERSION.to_string(),
            cluster_issuers: self.cluster_issuers().join(","),
            js_domain: nats.js_domain.clone(),
            ctl_host: nats.ctl.host().to_string(),
            prov_rpc_host: nats.prov_rpc.host().to_string(),
            rpc_host: nats.rpc.host().to_string(),
            lattice_prefix: config.lattice.clone(),
        }
    }

    /// The heartbeat's `data` (LATTICE.md §2.4, v0.59 per-instance form).
    pub fn heartbeat_data(&self) -> HeartbeatData {
        let actors = self
            .actors()
            .into_iter()
            .flat_map(|a| {
                let pk = a.public_key;
                a.instances.into_iter().map(move |i| HeartbeatActor {
                    public_key: pk.clone(),
                    instance_id: i.instance_id,
                })
            })
            .collect();
        let uptime = self.uptime().as_secs();
        HeartbeatData {
            actors,
            providers: self.provider_heartbeat_entries(),
            labels: self.inner.labels.clone(),
            friendly_name: self.inner.friendly_name.clone(),
            version: VERSION.to_string(),
            uptime_seconds: uptime,
            uptime_human: humanize_duration(uptime),
        }
    }

    /// Publishes a heartbeat now (also done every `heartbeat_interval` and after a ping).
    pub fn publish_heartbeat(&self) {
        self.publish(EventData::HostHeartbeat(self.heartbeat_data()));
    }

    /// Publishes a heartbeat every `heartbeat_interval`, the first one at once.
    pub(super) fn spawn_heartbeat(&self) {
        let weak = Arc::downgrade(&self.inner);
        let interval = self.inner.config.heartbeat_interval;
        let task = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            loop {
                ticker.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                Host { inner }.publish_heartbeat();
            }
        });
        self.inner.background.lock().push(task);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HostConfig;

    #[tokio::test]
    async fn an_empty_host_reports_itself() {
        let mut config = HostConfig::default();
        config.labels.insert("region".into(), "eu".into());
        config.friendly_name = Some("quiet-host-1".into());
        let host = Host::start(config).await.unwrap();
        let inventory = host.inventory();
        assert_eq!(inventory.host_id, host.id());
        assert_eq!(inventory.labels["region"], "eu");
        assert_eq!(inventory.labels["hostcore.os"], std::env::consts::OS);
        assert!(inventory.actors.is_empty() && inventory.providers.is_empty());
        let ping = host.ping_reply();
        assert_eq!(ping.friendly_name, "quiet-host-1");
        assert_eq!(ping.cluster_issuers, host.cluster_key());
        assert_eq!(ping.js_domain, None);
        let beat = host.heartbeat_data();
        assert_eq!(beat.version, VERSION);
        assert!(beat.actors.is_empty());
        host.stop().await.unwrap();
    }
}
