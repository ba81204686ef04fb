//! `wasmhost keys gen KIND`: a new nkey pair, e.g. the cluster seed every host of a lattice shares.

use clap::{Subcommand, ValueEnum};
use nkeys::KeyPair;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Generate a key pair and print its public key and seed.
    Gen {
        /// What the key is for.
        kind: KeyKind,
        /// Print `{"public_key": ..., "seed": ...}` instead of two lines.
        #[arg(long)]
        json: bool,
    },
}

/// The nkey kinds of the lattice (LATTICE.md §5.1).
#[derive(Clone, Copy, ValueEnum)]
pub enum KeyKind {
    /// A (signs actor and provider claims).
    Account,
    /// C (signs invocations; `--cluster-seed` of every host in a lattice).
    Cluster,
    /// N (a host's identity, `--host-seed`).
    Server,
    /// M (an actor's identity).
    Module,
    /// V (a provider's identity).
    Service,
    /// U (a NATS user).
    User,
    /// O (a NATS operator).
    Operator,
}

pub fn run(cmd: KeysCommand) -> Result<(), String> {
    let KeysCommand::Gen { kind, json } = cmd;
    let pair = match kind {
        KeyKind::Account => KeyPair::new_account(),
        KeyKind::Cluster => KeyPair::new_cluster(),
        KeyKind::Server => KeyPair::new_server(),
        KeyKind::Module => KeyPair::new_module(),
        KeyKind::Service => KeyPair::new_service(),
        KeyKind::User => KeyPair::new_user(),
        KeyKind::Operator => KeyPair::new_operator(),
    };
    let seed = pair
        .seed()
        .map_err(|e| format!("cannot encode the seed: {e}"))?;
    if json {
        println!(
            "{}",
            serde_json::json!({"public_key": pair.public_key(), "seed": seed})
        );
    } else {
        println!("Public Key: {}\nSeed: {seed}", pair.public_key());
    }
    Ok(())
}
