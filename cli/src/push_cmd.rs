//! `wasmhost push REF FILE`: publish a signed actor (.wasm) or a provider archive (.par.gz) to an
//! OCI registry with the media types the 0.5x hosts expect.

use std::path::PathBuf;

use clap::Args;
use wasmhost::oci::{push, ArtifactKind, PushOptions};
use wasmhost::protocol::claims::extract_actor_claims;
use wasmhost::ProviderArchive;

#[derive(Args)]
pub struct PushArgs {
    /// Where to publish, e.g. `localhost:5000/echo:0.1.0`.
    reference: String,
    /// A signed actor module (.wasm) or a provider archive (.par / .par.gz); the kind is read from its bytes.
    file: PathBuf,
    /// Talk plain HTTP to the registry (for a local registry without TLS).
    #[arg(long)]
    insecure: bool,
    /// User name for basic auth (with --password).
    #[arg(long, requires = "password")]
    user: Option<String>,
    /// Password for basic auth (with --user).
    #[arg(long, requires = "user")]
    password: Option<String>,
}

pub fn run(args: PushArgs) -> Result<(), String> {
    let data = crate::local_file::read(&args.file, "artifact")?;
    let kind = ArtifactKind::detect(&data).ok_or_else(|| {
        format!(
            "{} is neither a WebAssembly module nor a provider archive (tar / tar.gz)",
            args.file.display()
        )
    })?;
    // Refuse to publish what a host would refuse to run.
    let identity = match kind {
        ArtifactKind::Actor => extract_actor_claims(&data)
            .map_err(|e| format!("{}: {e}", args.file.display()))?
            .public_key()
            .to_string(),
        ArtifactKind::ProviderArchive => ProviderArchive::parse(&data)
            .map_err(|e| format!("{}: {e}", args.file.display()))?
            .public_key()
            .to_string(),
    };
    let options = PushOptions {
        insecure: args.insecure,
        username: args.user,
        password: args.password,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let url = runtime
        .block_on(push(&args.reference, data, kind, &options))
        .map_err(|e| e.to_string())?;
    let what = match kind {
        ArtifactKind::Actor => "actor",
        ArtifactKind::ProviderArchive => "provider archive",
    };
    println!("pushed {what} {identity} to {} ({url})", args.reference);
    Ok(())
}
