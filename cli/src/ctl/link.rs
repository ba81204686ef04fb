//! `ctl link put|del`.

use super::client::CtlClient;
use super::options::parse_key_value;
use super::output::Output;
use clap::{Args, Subcommand};
use serde_json::json;
use wasmhost::protocol::LinkDefinition;

#[derive(Subcommand)]
pub enum LinkCommand {
    /// Link an actor to a provider (replaces a link with the same actor, contract and link name).
    Put(LinkPutArgs),
    /// Remove the link of an actor for a contract and link name.
    Del(LinkDelArgs),
}

#[derive(Args)]
pub struct LinkPutArgs {
    /// Actor id (M...).
    actor_id: String,
    /// Provider id (V...).
    provider_id: String,
    /// Contract id, e.g. wasmcloud:keyvalue.
    contract_id: String,
    /// Link name.
    #[arg(long, default_value = "default")]
    link_name: String,
    /// Link value `KEY=VALUE` handed to the provider (repeatable).
    #[arg(value_parser = parse_key_value)]
    values: Vec<(String, String)>,
}

#[derive(Args)]
pub struct LinkDelArgs {
    /// Actor id (M...).
    actor_id: String,
    /// Contract id.
    contract_id: String,
    /// Link name.
    #[arg(long, default_value = "default")]
    link_name: String,
}

pub async fn run(client: &CtlClient, out: &Output, cmd: LinkCommand) -> Result<(), String> {
    match cmd {
        LinkCommand::Put(p) => {
            let link = LinkDefinition {
                actor_id: p.actor_id,
                provider_id: p.provider_id,
                link_name: p.link_name,
                contract_id: p.contract_id,
                values: p.values.into_iter().collect(),
            };
            client.command(client.requests.link_put(&link)).await?;
            out.result(&json!({"accepted": true, "link": link}), || {
                format!(
                    "Linked actor {} to provider {} ({}, link {})",
                    link.actor_id, link.provider_id, link.contract_id, link.link_name
                )
            });
        }
        LinkCommand::Del(d) => {
            client
                .command(
                    client
                        .requests
                        .link_del(&d.actor_id, &d.contract_id, &d.link_name),
                )
                .await?;
            out.result(&json!({"accepted": true, "actor_id": d.actor_id, "contract_id": d.contract_id, "link_name": d.link_name}), || {
                format!("Removed the link of actor {} for {} (link {})", d.actor_id, d.contract_id, d.link_name)
            });
        }
    }
    Ok(())
}
