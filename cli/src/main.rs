//! `wasmhost`: run actors in an embedded host, sign and inspect claims.

mod claims_cmd;
mod ctl;
mod dashboard;
mod hot_reload;
mod keys_cmd;
mod local_file;
mod nats_flags;
mod par_cmd;
mod payload;
mod push_cmd;
mod run_cmd;
mod up_cmd;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "wasmhost",
    version,
    about = "An embeddable wasmCloud-compatible lattice host for WebAssembly actors"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start an embedded host, start an actor, invoke it once (or --repeat times), print the reply and exit.
    Run(run_cmd::RunArgs),
    /// Sign and inspect actor claims (JWTs embedded in .wasm modules).
    #[command(subcommand)]
    Claims(claims_cmd::ClaimsCommand),
    /// Generate nkey pairs (cluster, account, ... keys).
    #[command(subcommand)]
    Keys(keys_cmd::KeysCommand),
    /// Publish a signed actor (.wasm) or a provider archive (.par.gz) to an OCI registry.
    Push(push_cmd::PushArgs),
    /// Create and inspect signed capability provider archives (.par.gz).
    #[command(subcommand)]
    Par(par_cmd::ParCommand),
    /// Run a host until Ctrl-C/SIGTERM: in a NATS lattice (WASMCLOUD_* env or --nats-url) or embedded.
    Up(up_cmd::UpArgs),
    /// Operate a lattice of hosts over NATS: query, start, scale, stop, link, call, watch (what `wash ctl` was).
    Ctl(ctl::CtlArgs),
    /// Serve a web dashboard of a NATS lattice: hosts, actors, providers, links, live events; start, scale, stop, hot-reload.
    Dashboard(dashboard::DashboardArgs),
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WASMHOST_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Run(args) => run_cmd::run(args),
        Command::Claims(cmd) => claims_cmd::run(cmd),
        Command::Keys(cmd) => keys_cmd::run(cmd),
        Command::Push(args) => push_cmd::run(args),
        Command::Par(cmd) => par_cmd::run(cmd),
        Command::Up(args) => up_cmd::run(args),
        Command::Ctl(args) => ctl::run(args),
        Command::Dashboard(args) => dashboard::run(args),
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
