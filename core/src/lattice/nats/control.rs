//! The control-interface server (LATTICE.md §1): subscribes the v0.59 subjects with their queue
//! groups and maps each request onto the same [`Host`] methods the embedding API offers.
//! Malformed requests get a failure ack; nothing a client sends can stop the server.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use async_nats::{Client, Message};
use futures::stream::{self, StreamExt};
use tokio::task::JoinHandle;
use wasmhost_protocol::ctl::{
    self, ActorAuctionAck, ActorAuctionRequest, CtlOperationAck, GetClaimsResponse, HostPing, LinkDefinitionList, ProviderAuctionAck, ProviderAuctionRequest,
    RegistryCredentialMap, RemoveLinkDefinitionRequest, ScaleActorCommand, StartActorCommand, StartProviderCommand, StopActorCommand,
    StopHostCommand, StopProviderCommand, UpdateActorCommand,
};
use wasmhost_protocol::rpc::LinkDefinition;
use wasmhost_protocol::subjects::{self, CommandVerb, CtlRequestKind};

use super::state::LatticeState;
use super::transport_error;
use crate::host::{ActorSource, Host, HostInner};
use crate::provider::ALREADY_RUNNING;
use crate::Result;

/// Wrong host id in a `get.{host}.inv` or `scale` subject or body.
const WRONG_HOST: &str = "Command received by incorrect host and could not be processed";
/// Delay between acking `stop` and stopping, so the ack leaves first (as the OTP host).
const STOP_DELAY: Duration = Duration::from_millis(100);

/// Subscribes every control subject and serves them until the task is aborted.
pub(crate) async fn spawn(ctl: Client, host: Weak<HostInner>, state: Arc<LatticeState>) -> Result<JoinHandle<()>> {
    let inner = host.upgrade().ok_or_else(crate::Error::stopped)?;
    let p = subjects::ctl_prefix(&inner.config.ctl_topic_prefix, &inner.config.lattice);
    let id = inner.id.clone();
    drop(inner);
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
            let (ctl, host, state, p) = (ctl.clone(), host.clone(), state.clone(), p.clone());
            tokio::spawn(async move {
                let Some(inner) = host.upgrade() else { return };
                let host = Host { inner };
                let reply_to = message.reply.clone();
                let reply = handle(&host, &state, &p, &message).await;
                if let (Some(reply_to), Some(body)) = (reply_to, reply) {
                    if let Err(e) = ctl.publish(reply_to, body.into()).await {
                        tracing::warn!(subject = %message.subject, error = %e, "could not send a control reply");
                    }
                }
            });
        }
    }))
}

fn ack() -> Option<Vec<u8>> {
    Some(CtlOperationAck::ok().to_json())
}
fn fail(msg: impl Into<String>) -> Option<Vec<u8>> {
    Some(CtlOperationAck::fail(msg).to_json())
}

/// Runs one request; returns the reply body (`None` = no reply, as for unknown subjects or an
/// auction this host does not qualify for).
pub(crate) async fn handle(host: &Host, state: &LatticeState, p: &str, message: &Message) -> Option<Vec<u8>> {
    let body = &message.payload[..];
    let Some(kind) = subjects::parse_ctl_subject(p, message.subject.as_str()) else {
        tracing::debug!(subject = %message.subject, "unknown control subject ignored");
        return None;
    };
    match kind {
        CtlRequestKind::PingHosts => {
            host.publish_heartbeat();
            Some(ctl::to_json(&ping_reply(host)))
        }
        CtlRequestKind::Inventory { host: target } if target != host.id() => fail(WRONG_HOST),
        CtlRequestKind::Inventory { .. } => Some(ctl::to_json(&host.inventory())),
        CtlRequestKind::GetClaims => Some(ctl::to_json(&claims_reply(host, state))),
        CtlRequestKind::GetLinks => Some(ctl::to_json(&LinkDefinitionList { links: host.links() })),
        CtlRequestKind::LinkdefsPut => {
            let Ok(link) = ctl::from_json::<LinkDefinition>(body) else { return fail("Invalid link definition put request") };
            match host.put_link(link).await {
                Ok(()) => ack(),
                Err(e) if e.kind() == crate::ErrorKind::InvalidInput => fail(format!("Invalid link definition put request: {}", e.message())),
                Err(e) => fail(e.to_string()),
            }
        }
        CtlRequestKind::LinkdefsDel => {
            let Ok(req) = ctl::from_json::<RemoveLinkDefinitionRequest>(body) else { return fail("Invalid link definition removal request") };
            match host.delete_link(&req.actor_id, &req.contract_id, &req.link_name).await {
                Ok(_) => ack(),
                Err(e) => fail(e.to_string()),
            }
        }
        CtlRequestKind::Command { host: target, verb } => command(host, &target, verb, body).await,
        CtlRequestKind::AuctionActor => {
            let Ok(req) = ctl::from_json::<ActorAuctionRequest>(body) else { return fail("Invalid JSON request for actor auction") };
            if !satisfies(host.labels(), &req.constraints) {
                return None;
            }
            Some(ctl::to_json(&ActorAuctionAck { actor_ref: req.actor_ref, constraints: req.constraints, host_id: host.id().to_string() }))
        }
        CtlRequestKind::AuctionProvider => {
            let Ok(req) = ctl::from_json::<ProviderAuctionRequest>(body) else { return fail("Invalid JSON request to auction provider") };
            // A host qualifies when it has the labels and does not run that provider+link name yet.
            if !satisfies(host.labels(), &req.constraints) || host.provider_running(&req.provider_ref, &req.link_name) {
                return None;
            }
            Some(ctl::to_json(&ProviderAuctionAck {
                provider_ref: req.provider_ref,
                link_name: req.link_name,
                constraints: req.constraints,
                host_id: host.id().to_string(),
            }))
        }
        CtlRequestKind::RegistriesPut => {
            let Ok(map) = ctl::from_json::<RegistryCredentialMap>(body) else { return fail("Failed to update registry credential map") };
            host.put_registry_credentials(map);
            ack()
        }
    }
}

async fn command(host: &Host, target: &str, verb: CommandVerb, body: &[u8]) -> Option<Vec<u8>> {
    if target != host.id() {
        return fail(WRONG_HOST);
    }
    match verb {
        CommandVerb::La => {
            let Ok(cmd) = ctl::from_json::<StartActorCommand>(body) else { return fail("Invalid launch actor JSON request") };
            if cmd.count == 0 {
                return fail("Invalid launch actor JSON request: count must be at least 1");
            }
            let host = host.clone();
            // Acked at once; the outcome arrives as actor_started / actor_start_failed events.
            tokio::spawn(async move {
                let _ = host.start_actor(ActorSource::parse(&cmd.actor_ref), cmd.count, cmd.annotations.unwrap_or_default()).await;
            });
            ack()
        }
        CommandVerb::Sa => {
            let Ok(cmd) = ctl::from_json::<StopActorCommand>(body) else { return fail("Invalid request to stop actor") };
            if host.actor(&cmd.actor_ref).is_err() {
                return fail(format!("Invalid request to stop actor: actor {} is not running on this host", cmd.actor_ref));
            }
            let host = host.clone();
            tokio::spawn(async move {
                if let Err(e) = host.stop_actor(&cmd.actor_ref, cmd.count, cmd.annotations.unwrap_or_default()).await {
                    tracing::warn!(actor = %cmd.actor_ref, error = %e, "stop actor request failed");
                }
            });
            ack()
        }
        CommandVerb::Scale => {
            let Ok(cmd) = ctl::from_json::<ScaleActorCommand>(body) else { return fail("Invalid scale actor JSON request") };
            if !cmd.host_id.is_empty() && cmd.host_id != host.id() {
                return fail(WRONG_HOST);
            }
            let running = host.actor(&cmd.actor_id).ok();
            if running.is_none() && cmd.count > 0 && cmd.actor_ref.is_empty() {
                return fail(format!("Invalid scale actor JSON request: actor {} is not running here and no actor_ref was given", cmd.actor_id));
            }
            let host = host.clone();
            tokio::spawn(async move {
                let annotations = cmd.annotations.unwrap_or_default();
                let outcome = match running {
                    Some(_) => host.scale_actor(&cmd.actor_id, cmd.count, annotations).await.map(|_| ()),
                    None if cmd.count == 0 => Ok(()),
                    None => host.start_actor(ActorSource::parse(&cmd.actor_ref), cmd.count, annotations).await.map(|_| ()),
                };
                if let Err(e) = outcome {
                    tracing::warn!(actor = %cmd.actor_id, error = %e, "scale request failed");
                }
            });
            ack()
        }
        CommandVerb::Upd => {
            let Ok(cmd) = ctl::from_json::<UpdateActorCommand>(body) else { return fail("Invalid JSON request to update actor") };
            match host.update_actor(&cmd.actor_id, ActorSource::parse(&cmd.new_actor_ref)).await {
                Ok(_) => ack(),
                Err(e) => fail(format!("Unable to perform live update: {e}")),
            }
        }
        CommandVerb::Lp => {
            let Ok(cmd) = ctl::from_json::<StartProviderCommand>(body) else { return fail("Improperly formed start provider command JSON") };
            if cmd.link_name.is_empty() {
                return fail("Improperly formed start provider command JSON: link_name must not be empty");
            }
            if host.provider_running(&cmd.provider_ref, &cmd.link_name) {
                host.inner.events.publish(
                    wasmhost_protocol::events::PROVIDER_START_FAILED,
                    serde_json::json!({"provider_ref": cmd.provider_ref, "link_name": cmd.link_name, "error": ALREADY_RUNNING}),
                );
                return fail(ALREADY_RUNNING);
            }
            let host = host.clone();
            // Acked at once; the outcome arrives as provider_started / provider_start_failed.
            tokio::spawn(async move {
                let source = ActorSource::parse(&cmd.provider_ref);
                let _ = host.start_provider(source, &cmd.link_name, cmd.configuration, cmd.annotations.unwrap_or_default()).await;
            });
            ack()
        }
        CommandVerb::Sp => {
            let Ok(cmd) = ctl::from_json::<StopProviderCommand>(body) else { return fail("Invalid JSON request for stop provider") };
            // Acked after the provider is gone, as the OTP host does.
            match host.stop_provider(&cmd.provider_ref, &cmd.link_name).await {
                Ok(()) => ack(),
                Err(e) => fail(format!("Invalid request to stop provider: {}", e.message())),
            }
        }
        CommandVerb::Stop => {
            // Every field is optional; an unreadable body is still an error.
            let cmd = if body.iter().all(u8::is_ascii_whitespace) { Ok(StopHostCommand::default()) } else { ctl::from_json::<StopHostCommand>(body) };
            let Ok(cmd) = cmd else { return fail("Invalid JSON request to stop host") };
            if !cmd.host_id.is_empty() && cmd.host_id != host.id() {
                return fail("Handled stop request for incorrect host. Ignoring");
            }
            let host = host.clone();
            tokio::spawn(async move {
                tokio::time::sleep(STOP_DELAY).await;
                if let Err(e) = host.stop().await {
                    tracing::debug!(error = %e, "stop request for a host that is already stopping");
                }
            });
            ack()
        }
    }
}

/// Every constraint is one of the host's labels (the v0.59 subset test).
pub(crate) fn satisfies(labels: &HashMap<String, String>, constraints: &HashMap<String, String>) -> bool {
    constraints.iter().all(|(k, v)| labels.get(k) == Some(v))
}

pub(crate) fn ping_reply(host: &Host) -> HostPing {
    let config = host.config();
    let nats = config.nats.clone().unwrap_or_default();
    let uptime = host.uptime().as_secs();
    HostPing {
        id: host.id().to_string(),
        issuer: host.cluster_key(),
        labels: host.labels().clone(),
        friendly_name: host.friendly_name().to_string(),
        uptime_seconds: uptime,
        uptime_human: wasmhost_protocol::events::humanize_duration(uptime),
        version: crate::VERSION.to_string(),
        cluster_issuers: host.cluster_issuers().join(","),
        js_domain: nats.js_domain.clone(),
        ctl_host: nats.ctl.host.clone(),
        prov_rpc_host: nats.prov_rpc.host.clone(),
        rpc_host: nats.rpc.host.clone(),
        lattice_prefix: config.lattice.clone(),
    }
}

/// Claims of the whole lattice: what the bucket holds, plus our own actors' (in case a write is
/// still on its way).
fn claims_reply(host: &Host, state: &LatticeState) -> GetClaimsResponse {
    let mut all = state.claims.read().clone();
    for claims in host.claims() {
        all.entry(claims.public_key().to_string()).or_insert_with(|| crate::lattice::actor_claims_map(&claims));
    }
    let mut claims: Vec<_> = all.into_values().collect();
    claims.sort_by(|a, b| a.get("sub").cmp(&b.get("sub")));
    GetClaimsResponse { claims }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_are_a_subset_test() {
        let labels: HashMap<String, String> = [("region".into(), "eu".into()), ("hostcore.os".into(), "linux".into())].into();
        assert!(satisfies(&labels, &HashMap::new()));
        assert!(satisfies(&labels, &[("region".into(), "eu".into())].into()));
        assert!(!satisfies(&labels, &[("region".into(), "us".into())].into()));
        assert!(!satisfies(&labels, &[("zone".into(), "a".into())].into()));
    }
}
