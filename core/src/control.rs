//! The control interface (LATTICE.md §1) as host logic, free of I/O: a decoded request in, the
//! reply body out. The lattice adapter only decodes subjects, calls this through the host's port
//! and publishes the reply; the same requests can be served (and tested) with no server at all.
//!
//! Rules every handler follows, whoever sends the request:
//! * a malformed body gets a failure ack (the OTP host's texts, LATTICE.md §1.2);
//! * `file://` and path references are refused unless the operator allowed directories;
//! * the reply comes within [`REPLY_BUDGET`]: work that may take longer (an OCI fetch for an
//!   update, a provider's shutdown) is acked as accepted when the budget runs out and finishes in
//!   the background, its outcome published as events;
//! * a command that is accepted and then fails publishes its failure event;
//! * a reply larger than the adapter can send is replaced by a failure ack that says so.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use wasmhost_protocol::ctl::{
    self, ActorAuctionAck, ActorAuctionRequest, CtlOperationAck, GetClaimsResponse,
    LinkDefinitionList, ProviderAuctionAck, ProviderAuctionRequest, RegistryCredentialMap,
    RemoveLinkDefinitionRequest, ScaleActorCommand, StartActorCommand, StartProviderCommand,
    StopActorCommand, StopHostCommand, StopProviderCommand, UpdateActorCommand,
};
use wasmhost_protocol::rpc::LinkDefinition;
use wasmhost_protocol::subjects::{CommandVerb, CtlRequestKind};

use crate::host::providers::ALREADY_RUNNING;
use crate::lattice::ControlRequest;
use crate::limits;
use crate::quote::quote_input;
use crate::{ErrorKind, Host};

/// Wrong host id in a `get.{host}.inv` or `scale` subject or body.
pub(crate) const WRONG_HOST: &str = "Command received by incorrect host and could not be processed";
/// Delay between acking `stop` and stopping, so the ack leaves first (as the OTP host).
const STOP_DELAY: Duration = Duration::from_millis(100);
/// Longest a handler takes before it replies: under the 2 s default timeout of `wasmhost ctl`
/// and the 2022 control-interface client, with room for the round trip.
pub(crate) const REPLY_BUDGET: Duration = Duration::from_millis(1500);

fn ack() -> Option<Vec<u8>> {
    Some(CtlOperationAck::ok().to_json())
}

fn fail(msg: impl Into<String>) -> Option<Vec<u8>> {
    Some(CtlOperationAck::fail(msg).to_json())
}

/// Answers one control request; `None` = no reply (an auction this host does not qualify for).
pub(crate) async fn handle(host: &Host, request: ControlRequest) -> Option<Vec<u8>> {
    let reply = dispatch(host, &request).await?;
    Some(bounded(reply, request.reply_limit))
}

/// A reply the adapter can send, or a failure ack that says why not.
fn bounded(reply: Vec<u8>, limit: usize) -> Vec<u8> {
    if reply.len() <= limit {
        return reply;
    }
    tracing::warn!(
        bytes = reply.len(),
        limit,
        "control reply too large for one NATS message"
    );
    CtlOperationAck::fail(format!(
        "the reply of {} bytes exceeds the NATS server's max_payload of {limit} bytes; raise max_payload on the server or query less at once",
        reply.len()
    ))
    .to_json()
}

async fn dispatch(host: &Host, request: &ControlRequest) -> Option<Vec<u8>> {
    let body = &request.body[..];
    match &request.kind {
        CtlRequestKind::PingHosts => {
            host.publish_heartbeat();
            Some(ctl::to_json(&host.ping_reply()))
        }
        CtlRequestKind::Inventory { host: target } if target != host.id() => fail(WRONG_HOST),
        CtlRequestKind::Inventory { .. } => Some(ctl::to_json(&host.inventory())),
        CtlRequestKind::GetClaims => Some(ctl::to_json(&GetClaimsResponse {
            claims: host.lattice_claims(),
        })),
        CtlRequestKind::GetLinks => Some(ctl::to_json(&LinkDefinitionList {
            links: host.links(),
        })),
        CtlRequestKind::LinkdefsPut => {
            let Ok(link) = ctl::from_json::<LinkDefinition>(body) else {
                return fail("Invalid link definition put request");
            };
            let host = host.clone();
            within_budget(async move {
                match host.put_link(link).await {
                    Ok(()) => ack(),
                    Err(e) if e.kind() == ErrorKind::InvalidInput => fail(format!(
                        "Invalid link definition put request: {}",
                        e.message()
                    )),
                    Err(e) => fail(e.to_string()),
                }
            })
            .await
        }
        CtlRequestKind::LinkdefsDel => {
            let Ok(req) = ctl::from_json::<RemoveLinkDefinitionRequest>(body) else {
                return fail("Invalid link definition removal request");
            };
            let host = host.clone();
            within_budget(async move {
                match host
                    .delete_link(&req.actor_id, &req.contract_id, &req.link_name)
                    .await
                {
                    Ok(_) => ack(),
                    Err(e) => fail(e.to_string()),
                }
            })
            .await
        }
        CtlRequestKind::Command { host: target, verb } => command(host, target, *verb, body).await,
        CtlRequestKind::AuctionActor => {
            let Ok(req) = ctl::from_json::<ActorAuctionRequest>(body) else {
                return fail("Invalid JSON request for actor auction");
            };
            if !satisfies(host.labels(), &req.constraints) {
                return None;
            }
            Some(ctl::to_json(&ActorAuctionAck {
                actor_ref: req.actor_ref,
                constraints: req.constraints,
                host_id: host.id().to_string(),
            }))
        }
        CtlRequestKind::AuctionProvider => {
            let Ok(req) = ctl::from_json::<ProviderAuctionRequest>(body) else {
                return fail("Invalid JSON request to auction provider");
            };
            // A host qualifies when it has the labels and does not run that provider+link name yet.
            if !satisfies(host.labels(), &req.constraints)
                || host.provider_running(&req.provider_ref, &req.link_name)
            {
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
            let Ok(map) = ctl::from_json::<RegistryCredentialMap>(body) else {
                return fail("Failed to update registry credential map");
            };
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
            let Ok(cmd) = ctl::from_json::<StartActorCommand>(body) else {
                return fail("Invalid launch actor JSON request");
            };
            if cmd.count == 0 {
                return fail("Invalid launch actor JSON request: count must be at least 1");
            }
            if let Err(e) = check_annotations(cmd.annotations.as_ref()) {
                host.publish_actor_start_failed(&cmd.actor_ref, &e);
                return fail(format!(
                    "Invalid launch actor JSON request: {}",
                    e.message()
                ));
            }
            let source = match host.source_from_lattice(&cmd.actor_ref) {
                Ok(source) => source,
                Err(e) => {
                    host.publish_actor_start_failed(&cmd.actor_ref, &e);
                    return fail(format!(
                        "Invalid launch actor JSON request: {}",
                        e.message()
                    ));
                }
            };
            let host = host.clone();
            // Acked at once; the outcome arrives as actor_started / actor_start_failed events.
            tokio::spawn(async move {
                let _ = host
                    .start_actor(source, cmd.count, cmd.annotations.unwrap_or_default())
                    .await;
            });
            ack()
        }
        CommandVerb::Sa => {
            let Ok(cmd) = ctl::from_json::<StopActorCommand>(body) else {
                return fail("Invalid request to stop actor");
            };
            if host.actor(&cmd.actor_ref).is_err() {
                return fail(format!(
                    "Invalid request to stop actor: actor {} is not running on this host",
                    quote_input(&cmd.actor_ref)
                ));
            }
            let host = host.clone();
            // Acked at once; actor_stopped (or actor_stop_failed) follows.
            tokio::spawn(async move {
                let _ = host
                    .stop_actor(
                        &cmd.actor_ref,
                        cmd.count,
                        cmd.annotations.unwrap_or_default(),
                    )
                    .await;
            });
            ack()
        }
        CommandVerb::Scale => {
            let Ok(cmd) = ctl::from_json::<ScaleActorCommand>(body) else {
                return fail("Invalid scale actor JSON request");
            };
            if !cmd.host_id.is_empty() && cmd.host_id != host.id() {
                return fail(WRONG_HOST);
            }
            let running = host.actor(&cmd.actor_id).ok();
            let source = match &running {
                Some(_) => None,
                None if cmd.count == 0 => None,
                None if cmd.actor_ref.is_empty() => {
                    return fail(format!(
                        "Invalid scale actor JSON request: actor {} is not running here and no actor_ref was given",
                        quote_input(&cmd.actor_id)
                    ))
                }
                None => match host.source_from_lattice(&cmd.actor_ref) {
                    Ok(source) => Some(source),
                    Err(e) => {
                        host.publish_actor_start_failed(&cmd.actor_ref, &e);
                        return fail(format!("Invalid scale actor JSON request: {}", e.message()));
                    }
                },
            };
            if let Err(e) = check_annotations(cmd.annotations.as_ref()) {
                return fail(format!("Invalid scale actor JSON request: {}", e.message()));
            }
            let current = running.as_ref().map_or(0, |a| a.instances.len());
            if let Err(e) = host.check_capacity((cmd.count as usize).saturating_sub(current)) {
                host.publish_actor_start_failed(
                    if cmd.actor_ref.is_empty() {
                        &cmd.actor_id
                    } else {
                        &cmd.actor_ref
                    },
                    &e,
                );
                return fail(format!("Invalid scale actor JSON request: {}", e.message()));
            }
            let host = host.clone();
            // Acked at once; instances started or stopped arrive as events, failures as
            // actor_start_failed / actor_stop_failed.
            tokio::spawn(async move {
                let annotations = cmd.annotations.unwrap_or_default();
                let _ = match (running, source) {
                    (Some(_), _) => host
                        .scale_actor(&cmd.actor_id, cmd.count, annotations)
                        .await
                        .map(drop),
                    (None, Some(source)) => host
                        .start_actor(source, cmd.count, annotations)
                        .await
                        .map(drop),
                    (None, None) => Ok(()),
                };
            });
            ack()
        }
        CommandVerb::Upd => {
            let Ok(cmd) = ctl::from_json::<UpdateActorCommand>(body) else {
                return fail("Invalid JSON request to update actor");
            };
            let source = match host.source_from_lattice(&cmd.new_actor_ref) {
                Ok(source) => source,
                Err(e) => return fail(format!("Unable to perform live update: {}", e.message())),
            };
            let host = host.clone();
            // As the OTP host: the ack follows the update; past the budget it is accepted and
            // the outcome arrives as actor_updated / actor_update_failed.
            within_budget(async move {
                match host.update_actor(&cmd.actor_id, source).await {
                    Ok(_) => ack(),
                    Err(e) => fail(format!("Unable to perform live update: {e}")),
                }
            })
            .await
        }
        CommandVerb::Lp => {
            let Ok(cmd) = ctl::from_json::<StartProviderCommand>(body) else {
                return fail("Improperly formed start provider command JSON");
            };
            if cmd.link_name.is_empty() {
                return fail(
                    "Improperly formed start provider command JSON: link_name must not be empty",
                );
            }
            if host.provider_running(&cmd.provider_ref, &cmd.link_name) {
                host.publish_provider_start_failed(
                    &cmd.provider_ref,
                    &cmd.link_name,
                    ALREADY_RUNNING,
                );
                return fail(ALREADY_RUNNING);
            }
            let source = match host.source_from_lattice(&cmd.provider_ref) {
                Ok(source) => source,
                Err(e) => {
                    host.publish_provider_start_failed(
                        &cmd.provider_ref,
                        &cmd.link_name,
                        &e.to_string(),
                    );
                    return fail(format!(
                        "Improperly formed start provider command JSON: {}",
                        e.message()
                    ));
                }
            };
            let host = host.clone();
            // Acked at once; the outcome arrives as provider_started / provider_start_failed.
            tokio::spawn(async move {
                let _ = host
                    .start_provider(
                        source,
                        &cmd.link_name,
                        cmd.configuration,
                        cmd.annotations.unwrap_or_default(),
                    )
                    .await;
            });
            ack()
        }
        CommandVerb::Sp => {
            let Ok(cmd) = ctl::from_json::<StopProviderCommand>(body) else {
                return fail("Invalid JSON request for stop provider");
            };
            let host = host.clone();
            // Acked after the provider is gone, as the OTP host does, unless its shutdown takes
            // longer than the budget; provider_stopped tells when it is.
            within_budget(async move {
                match host.stop_provider(&cmd.provider_ref, &cmd.link_name).await {
                    Ok(()) => ack(),
                    Err(e) => fail(format!("Invalid request to stop provider: {}", e.message())),
                }
            })
            .await
        }
        CommandVerb::Stop => {
            // Every field is optional; an unreadable body is still an error.
            let cmd = if body.iter().all(u8::is_ascii_whitespace) {
                Ok(StopHostCommand::default())
            } else {
                ctl::from_json::<StopHostCommand>(body)
            };
            let Ok(cmd) = cmd else {
                return fail("Invalid JSON request to stop host");
            };
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

/// Runs `work` to its end in a task of its own; its reply if it comes within [`REPLY_BUDGET`],
/// else an accepted ack (the work goes on, and its events report the outcome).
async fn within_budget(
    work: impl Future<Output = Option<Vec<u8>>> + Send + 'static,
) -> Option<Vec<u8>> {
    let task = tokio::spawn(work);
    match tokio::time::timeout(REPLY_BUDGET, task).await {
        Ok(Ok(reply)) => reply,
        Ok(Err(e)) => fail(format!("the request failed inside the host: {e}")),
        Err(_) => {
            tracing::info!(budget = ?REPLY_BUDGET, "control request still running; acked, its outcome follows as events");
            ack()
        }
    }
}

fn check_annotations(annotations: Option<&HashMap<String, String>>) -> crate::Result<()> {
    annotations.map_or(Ok(()), limits::check_annotations)
}

/// Every constraint is one of the host's labels (the v0.59 subset test).
pub(crate) fn satisfies(
    labels: &HashMap<String, String>,
    constraints: &HashMap<String, String>,
) -> bool {
    constraints.iter().all(|(k, v)| labels.get(k) == Some(v))
}

#[cfg(test)]
mod tests;
