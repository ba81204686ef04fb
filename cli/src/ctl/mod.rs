//! `wasmhost ctl`: the operator's client for a lattice of 0.5x hosts (what `wash ctl` was).
//!
//! Every request is built from the protocol crate's `ctl` types and `subjects`, so the
//! bytes on the wire are those the 2022 control-interface client sent.

mod call;
pub(crate) mod client;
mod get;
mod link;
pub(crate) mod options;
mod output;
pub(crate) mod requests;
pub(crate) mod start;
mod stop;
mod update;
mod wait;
mod watch;

use clap::{Args, Subcommand};

pub use options::GlobalOptions;

/// `wasmhost ctl [global options] <command>`.
#[derive(Args)]
pub struct CtlArgs {
    #[command(flatten)]
    options: GlobalOptions,
    #[command(subcommand)]
    command: CtlCommand,
}

#[derive(Subcommand)]
enum CtlCommand {
    /// Query the lattice: hosts, one host's inventory, claims, links.
    #[command(subcommand)]
    Get(get::GetCommand),
    /// Start an actor or a provider (on a given host, or on the winner of an auction).
    #[command(subcommand)]
    Start(start::StartCommand),
    /// Scale an actor on one host to a number of instances.
    #[command(subcommand)]
    Scale(update::ScaleCommand),
    /// Stop an actor, a provider or a whole host.
    #[command(subcommand)]
    Stop(stop::StopCommand),
    /// Live-update a running actor to a new module with the same key and a higher revision.
    #[command(subcommand)]
    Update(update::UpdateCommand),
    /// Put or delete a link definition.
    #[command(subcommand)]
    Link(link::LinkCommand),
    /// Invoke an operation on an actor with an invocation signed by the cluster seed.
    Call(call::CallArgs),
    /// Stream lattice events.
    #[command(subcommand)]
    Watch(watch::WatchCommand),
}

/// Runs one `ctl` command to completion on its own tokio runtime.
pub fn run(args: CtlArgs) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: CtlArgs) -> Result<(), String> {
    let client = client::CtlClient::connect(&args.options).await?;
    let out = output::Output::new(args.options.output);
    match args.command {
        CtlCommand::Get(cmd) => get::run(&client, &out, cmd).await,
        CtlCommand::Start(cmd) => start::run(&client, &out, cmd).await,
        CtlCommand::Scale(cmd) => update::run_scale(&client, &out, cmd).await,
        CtlCommand::Stop(cmd) => stop::run(&client, &out, cmd).await,
        CtlCommand::Update(cmd) => update::run_update(&client, &out, cmd).await,
        CtlCommand::Link(cmd) => link::run(&client, &out, cmd).await,
        CtlCommand::Call(args) => call::run(&client, &out, args).await,
        CtlCommand::Watch(cmd) => watch::run(&client, &out, cmd).await,
    }
}
