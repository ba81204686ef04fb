//! `ctl scale actor` and `ctl update actor`: change what runs under an actor id.

use super::client::CtlClient;
use super::options::parse_key_value;
use super::output::Output;
use clap::{Args, Subcommand};
use serde_json::json;

#[derive(Subcommand)]
pub enum ScaleCommand {
    /// Set the number of instances of an actor on one host (starts or stops the difference).
    Actor(ScaleActorArgs),
}

#[derive(Subcommand)]
pub enum UpdateCommand {
    /// Replace a running actor's module by a newer revision (same actor id).
    Actor(UpdateActorArgs),
}

#[derive(Args)]
pub struct ScaleActorArgs {
    /// Host id (N...).
    host: String,
    /// Actor id (M...).
    actor_id: String,
    /// Reference to start new instances from; empty uses the running instances' reference.
    #[arg(default_value = "")]
    actor_ref: String,
    /// Desired number of instances.
    #[arg(long)]
    count: u16,
    /// Annotation `key=value` (repeatable; 0.5x hosts ignore it).
    #[arg(long = "annotation", value_parser = parse_key_value)]
    annotations: Vec<(String, String)>,
}

#[derive(Args)]
pub struct UpdateActorArgs {
    /// Host id (N...).
    host: String,
    /// Actor id (M...).
    actor_id: String,
    /// Reference of the new module.
    new_actor_ref: String,
}

pub async fn run_scale(client: &CtlClient, out: &Output, cmd: ScaleCommand) -> Result<(), String> {
    let ScaleCommand::Actor(a) = cmd;
    let request = client.requests.scale_actor(
        &a.host,
        &a.actor_id,
        &a.actor_ref,
        a.count,
        a.annotations.into_iter().collect(),
    );
    client.command(request).await?;
    out.result(
        &json!({"accepted": true, "host_id": a.host, "actor_id": a.actor_id, "count": a.count}),
        || {
            format!(
                "Host {} is scaling actor {} to {} instance(s)",
                a.host, a.actor_id, a.count
            )
        },
    );
    Ok(())
}

pub async fn run_update(
    client: &CtlClient,
    out: &Output,
    cmd: UpdateCommand,
) -> Result<(), String> {
    let UpdateCommand::Actor(a) = cmd;
    let request =
        client
            .requests
            .update_actor(&a.host, &a.actor_id, &a.new_actor_ref, Default::default());
    client.command(request).await?;
    out.result(&json!({"accepted": true, "host_id": a.host, "actor_id": a.actor_id, "new_actor_ref": a.new_actor_ref}), || {
        format!("Host {} updated actor {} to {}", a.host, a.actor_id, a.new_actor_ref)
    });
    Ok(())
}
