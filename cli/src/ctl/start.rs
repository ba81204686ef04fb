//! `ctl start actor|provider`: on a named host, or on the winner of an auction.

use super::client::CtlClient;
use super::options::parse_key_value;
use super::output::Output;
use super::wait::{data_str, same_ref, EventWaiter, Verdict, WaitOptions};
use clap::{Args, Subcommand};
use rand::seq::SliceRandom;
use serde_json::json;
use std::time::Duration;
use wasmhost::protocol::ctl::{ActorAuctionAck, ProviderAuctionAck, StringMap};
use wasmhost::protocol::events;

#[derive(Subcommand)]
pub enum StartCommand {
    /// Start instances of an actor (OCI reference, or file:// path on hosts that allow it).
    Actor(StartActorArgs),
    /// Start a capability provider.
    Provider(StartProviderArgs),
}

/// Where to start: a host, or constraints for an auction.
#[derive(Args)]
pub struct Placement {
    /// Host id (N...) to start on; without it an auction picks a host.
    #[arg(long)]
    host: Option<String>,
    /// Auction constraint `label=value` a host must match (repeatable).
    #[arg(long = "constraint", value_parser = parse_key_value, conflicts_with = "host")]
    constraints: Vec<(String, String)>,
}

#[derive(Args)]
pub struct StartActorArgs {
    /// Actor reference.
    actor_ref: String,
    /// Instances to start.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    count: u16,
    /// Annotation `key=value` for the new instances (repeatable).
    #[arg(long = "annotation", value_parser = parse_key_value)]
    annotations: Vec<(String, String)>,
    #[command(flatten)]
    placement: Placement,
    #[command(flatten)]
    wait: WaitOptions,
}

#[derive(Args)]
pub struct StartProviderArgs {
    /// Provider reference.
    provider_ref: String,
    /// Link name the provider serves.
    #[arg(long, default_value = "default")]
    link_name: String,
    /// Configuration JSON handed to the provider (HostData `config_json`).
    #[arg(long)]
    config: Option<String>,
    /// Annotation `key=value` (repeatable).
    #[arg(long = "annotation", value_parser = parse_key_value)]
    annotations: Vec<(String, String)>,
    #[command(flatten)]
    placement: Placement,
    #[command(flatten)]
    wait: WaitOptions,
}

pub async fn run(client: &CtlClient, out: &Output, cmd: StartCommand) -> Result<(), String> {
    match cmd {
        StartCommand::Actor(args) => start_actor(client, out, args).await,
        StartCommand::Provider(args) => start_provider(client, out, args).await,
    }
}

/// Picks one of the hosts that answered an auction, at random to spread the load.
pub(crate) fn pick_winner(
    mut hosts: Vec<String>,
    what: &str,
    constraints: &StringMap,
) -> Result<String, String> {
    hosts.sort();
    hosts.dedup();
    hosts
        .choose(&mut rand::thread_rng())
        .cloned()
        .ok_or_else(|| {
            format!(
                "no host accepted the auction for {what} (constraints: {})",
                super::output::pairs(constraints)
            )
        })
}

async fn start_actor(client: &CtlClient, out: &Output, args: StartActorArgs) -> Result<(), String> {
    let host = match args.placement.host {
        Some(host) => host,
        None => {
            let constraints: StringMap = args.placement.constraints.into_iter().collect();
            let acks: Vec<ActorAuctionAck> = client
                .gather(
                    client
                        .requests
                        .actor_auction(&args.actor_ref, constraints.clone()),
                )
                .await?;
            pick_winner(
                acks.into_iter().map(|a| a.host_id).collect(),
                &args.actor_ref,
                &constraints,
            )?
        }
    };
    let mut waiter = if args.wait.no_wait {
        None
    } else {
        Some(EventWaiter::subscribe(client).await?)
    };
    let request = client.requests.start_actor(
        &host,
        &args.actor_ref,
        args.count,
        args.annotations.into_iter().collect(),
    );
    client.command(request).await?;
    let mut started = Vec::new();
    if let Some(waiter) = waiter.as_mut() {
        let wanted = usize::from(args.count);
        let what = format!("{wanted} actor_started event(s) for {}", args.actor_ref);
        waiter
            .until(Duration::from_millis(args.wait.wait_ms), &what, |event| {
                if event.source != host {
                    return Verdict::Continue;
                }
                match event.short_type() {
                    events::ACTOR_STARTED
                        if same_ref(data_str(event, "image_ref"), &args.actor_ref) =>
                    {
                        started.push(data_str(event, "public_key").to_string());
                        if started.len() >= wanted {
                            Verdict::Done
                        } else {
                            Verdict::Continue
                        }
                    }
                    events::ACTOR_START_FAILED
                        if same_ref(data_str(event, "actor_ref"), &args.actor_ref) =>
                    {
                        Verdict::Fail(format!(
                            "host {host} could not start {}: {}",
                            args.actor_ref,
                            data_str(event, "error")
                        ))
                    }
                    _ => Verdict::Continue,
                }
            })
            .await?;
    }
    let actor_id = started.first().cloned();
    let result = json!({"accepted": true, "host_id": host, "actor_ref": args.actor_ref, "actor_id": actor_id, "count": args.count});
    out.result(&result, || match &actor_id {
        Some(id) => format!(
            "Started {} instance(s) of actor {id} ({}) on host {host}",
            args.count, args.actor_ref
        ),
        None => format!(
            "Host {host} accepted starting {} instance(s) of {}",
            args.count, args.actor_ref
        ),
    });
    Ok(())
}

async fn start_provider(
    client: &CtlClient,
    out: &Output,
    args: StartProviderArgs,
) -> Result<(), String> {
    if let Some(config) = &args.config {
        serde_json::from_str::<serde_json::Value>(config)
            .map_err(|e| format!("--config is not JSON: {e}"))?;
    }
    let host = match args.placement.host {
        Some(host) => host,
        None => {
            let constraints: StringMap = args.placement.constraints.into_iter().collect();
            let request = client.requests.provider_auction(
                &args.provider_ref,
                &args.link_name,
                constraints.clone(),
            );
            let acks: Vec<ProviderAuctionAck> = client.gather(request).await?;
            pick_winner(
                acks.into_iter().map(|a| a.host_id).collect(),
                &args.provider_ref,
                &constraints,
            )?
        }
    };
    let mut waiter = if args.wait.no_wait {
        None
    } else {
        Some(EventWaiter::subscribe(client).await?)
    };
    let request = client.requests.start_provider(
        &host,
        &args.provider_ref,
        &args.link_name,
        args.annotations.into_iter().collect(),
        args.config.clone(),
    );
    client.command(request).await?;
    let mut provider_id = None;
    if let Some(waiter) = waiter.as_mut() {
        let what = format!(
            "provider_started for {} ({})",
            args.provider_ref, args.link_name
        );
        waiter
            .until(Duration::from_millis(args.wait.wait_ms), &what, |event| {
                let ours = event.source == host && data_str(event, "link_name") == args.link_name;
                match event.short_type() {
                    events::PROVIDER_STARTED
                        if ours && same_ref(data_str(event, "image_ref"), &args.provider_ref) =>
                    {
                        provider_id = Some(data_str(event, "public_key").to_string());
                        Verdict::Done
                    }
                    events::PROVIDER_START_FAILED
                        if ours
                            && same_ref(data_str(event, "provider_ref"), &args.provider_ref) =>
                    {
                        Verdict::Fail(format!(
                            "host {host} could not start {}: {}",
                            args.provider_ref,
                            data_str(event, "error")
                        ))
                    }
                    _ => Verdict::Continue,
                }
            })
            .await?;
    }
    let result = json!({"accepted": true, "host_id": host, "provider_ref": args.provider_ref, "provider_id": provider_id, "link_name": args.link_name});
    out.result(&result, || match &provider_id {
        Some(id) => format!(
            "Started provider {id} ({}, link {}) on host {host}",
            args.provider_ref, args.link_name
        ),
        None => format!(
            "Host {host} accepted starting provider {} (link {})",
            args.provider_ref, args.link_name
        ),
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_winner_is_one_of_the_bidders_and_no_bidder_is_an_error() {
        let winner = pick_winner(
            vec!["NB".into(), "NA".into(), "NB".into()],
            "echo",
            &StringMap::new(),
        )
        .unwrap();
        assert!(winner == "NA" || winner == "NB");
        let constraints: StringMap = [("zone".to_string(), "x".to_string())].into();
        let err = pick_winner(vec![], "echo", &constraints).unwrap_err();
        assert!(
            err.contains("no host accepted") && err.contains("zone=x"),
            "{err}"
        );
    }
}
