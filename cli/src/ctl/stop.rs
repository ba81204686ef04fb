//! `ctl stop actor|provider|host`.

use super::client::CtlClient;
use super::options::parse_key_value;
use super::output::Output;
use clap::{Args, Subcommand};
use serde_json::json;

#[derive(Subcommand)]
pub enum StopCommand {
    /// Stop instances of an actor on one host.
    Actor(StopActorArgs),
    /// Stop a provider on one host.
    Provider(StopProviderArgs),
    /// Stop a host: its actors and providers stop, then it leaves the lattice.
    Host(StopHostArgs),
}

#[derive(Args)]
pub struct StopActorArgs {
    /// Host id (N...).
    host: String,
    /// Actor id (M...).
    actor_id: String,
    /// Instances to stop; 0 stops them all.
    #[arg(long, default_value_t = 0)]
    count: u16,
    /// Only stop instances carrying this annotation `key=value` (repeatable).
    #[arg(long = "annotation", value_parser = parse_key_value)]
    annotations: Vec<(String, String)>,
}

#[derive(Args)]
pub struct StopProviderArgs {
    /// Host id (N...).
    host: String,
    /// Provider id (V...).
    provider_id: String,
    /// Link name it serves.
    #[arg(long, default_value = "default")]
    link_name: String,
    /// Contract id (informational for 0.5x hosts).
    #[arg(long, default_value = "")]
    contract_id: String,
}

#[derive(Args)]
pub struct StopHostArgs {
    /// Host id (N...).
    host: String,
    /// Shutdown timeout passed along in the request (0.5x hosts ignore it).
    #[arg(long)]
    host_timeout: Option<u64>,
}

pub async fn run(client: &CtlClient, out: &Output, cmd: StopCommand) -> Result<(), String> {
    match cmd {
        StopCommand::Actor(a) => {
            let request = client.requests.stop_actor(
                &a.host,
                &a.actor_id,
                a.count,
                a.annotations.into_iter().collect(),
            );
            client.command(request).await?;
            let how_many = if a.count == 0 {
                "all instances".to_string()
            } else {
                format!("{} instance(s)", a.count)
            };
            out.result(&json!({"accepted": true, "host_id": a.host, "actor_id": a.actor_id, "count": a.count}), || {
                format!("Host {} is stopping {how_many} of actor {}", a.host, a.actor_id)
            });
        }
        StopCommand::Provider(p) => {
            client
                .command(client.requests.stop_provider(
                    &p.host,
                    &p.provider_id,
                    &p.link_name,
                    &p.contract_id,
                ))
                .await?;
            out.result(&json!({"accepted": true, "host_id": p.host, "provider_id": p.provider_id, "link_name": p.link_name}), || {
                format!("Host {} stopped provider {} (link {})", p.host, p.provider_id, p.link_name)
            });
        }
        StopCommand::Host(h) => {
            client
                .command(client.requests.stop_host(&h.host, h.host_timeout))
                .await?;
            out.result(&json!({"accepted": true, "host_id": h.host}), || {
                format!("Host {} is stopping", h.host)
            });
        }
    }
    Ok(())
}
