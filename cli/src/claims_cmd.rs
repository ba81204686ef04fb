//! `wasmhost claims inspect|sign`.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use nkeys::KeyPair;
use wasmhost::protocol::claims::{extract_actor_claims, sign_actor, ActorSigning};

#[derive(Subcommand)]
pub enum ClaimsCommand {
    /// Verify and print the claims embedded in an actor module.
    Inspect {
        /// The signed .wasm file.
        file: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Embed signed claims in an actor module (generating keys that are not given).
    Sign(Box<SignArgs>),
}

#[derive(Args)]
pub struct SignArgs {
    /// The .wasm module to sign (any existing claims are replaced).
    file: PathBuf,
    /// Actor name.
    #[arg(long)]
    name: String,
    /// Capability contract id the actor may call, e.g. wasmcloud:keyvalue (repeatable).
    #[arg(long = "cap", short = 'c')]
    caps: Vec<String>,
    /// Tag (repeatable).
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// Call alias other actors may use instead of the public key.
    #[arg(long)]
    alias: Option<String>,
    /// Account seed (SA...) or a file holding it; generated when absent.
    #[arg(long)]
    issuer: Option<String>,
    /// Module seed (SM...) or a file holding it; generated when absent.
    #[arg(long)]
    subject: Option<String>,
    /// Revision (live updates need a higher one).
    #[arg(long, default_value_t = 0)]
    rev: i32,
    /// Human-readable version.
    #[arg(long)]
    ver: Option<String>,
    /// Expire the claims this many seconds from now.
    #[arg(long)]
    expires_in: Option<u64>,
    /// Make the claims valid only this many seconds from now.
    #[arg(long)]
    not_before: Option<u64>,
    /// Output file; default FILE with `_s.wasm` in place of `.wasm`.
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
}

pub fn run(cmd: ClaimsCommand) -> Result<(), String> {
    match cmd {
        ClaimsCommand::Inspect { file, json } => inspect(&file, json),
        ClaimsCommand::Sign(args) => sign(*args),
    }
}

fn inspect(file: &Path, as_json: bool) -> Result<(), String> {
    let module = crate::local_file::read(file, "actor module")?;
    let claims = extract_actor_claims(&module).map_err(|e| format!("{}: {e}", file.display()))?;
    let wascap = claims.claims.wascap.clone().unwrap_or_default();
    if as_json {
        let value = serde_json::json!({
            "account": claims.issuer(),
            "module": claims.public_key(),
            "name": claims.name(),
            "capabilities": claims.caps(),
            "tags": wascap.tags,
            "revision": claims.revision(),
            "version": wascap.ver,
            "call_alias": claims.call_alias(),
            "issued_at": claims.claims.iat,
            "expires": claims.expires_human(),
            "can_be_used": claims.not_before_human(),
            "hash": wascap.hash,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?
        );
        return Ok(());
    }
    let rows = [
        ("Account", claims.issuer().to_string()),
        ("Module", claims.public_key().to_string()),
        ("Name", claims.name().unwrap_or("").to_string()),
        ("Capabilities", claims.caps().join(", ")),
        ("Tags", wascap.tags.unwrap_or_default().join(", ")),
        ("Revision", claims.revision().to_string()),
        ("Version", wascap.ver.unwrap_or_default()),
        ("Call alias", claims.call_alias().unwrap_or("").to_string()),
        ("Expires", claims.expires_human()),
        ("Can be used", claims.not_before_human()),
        ("Hash", wascap.hash),
    ];
    for (k, v) in rows {
        println!("{k:<13} {v}");
    }
    Ok(())
}

fn sign(args: SignArgs) -> Result<(), String> {
    let module = crate::local_file::read(&args.file, "actor module")?;
    let issuer = load_or_generate(args.issuer.as_deref(), 'A', KeyPair::new_account, "account")?;
    let subject = load_or_generate(args.subject.as_deref(), 'M', KeyPair::new_module, "module")?;
    let signing = ActorSigning {
        name: Some(args.name),
        caps: args.caps,
        tags: args.tags,
        rev: Some(args.rev),
        ver: args.ver,
        call_alias: args.alias,
        expires_in_secs: args.expires_in,
        not_before_secs: args.not_before,
    };
    let signed = sign_actor(&module, &signing, &issuer, &subject)
        .map_err(|e| format!("cannot sign {}: {e}", args.file.display()))?;
    let output = args.output.unwrap_or_else(|| {
        let stem = args
            .file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("actor");
        args.file.with_file_name(format!("{stem}_s.wasm"))
    });
    std::fs::write(&output, signed)
        .map_err(|e| format!("cannot write {}: {e}", output.display()))?;
    println!(
        "signed {} as {} (account {})",
        output.display(),
        subject.public_key(),
        issuer.public_key()
    );
    Ok(())
}

/// A seed given inline or in a file; a generated key is printed so the identity can be kept.
pub(crate) fn load_or_generate(
    value: Option<&str>,
    prefix: char,
    generate: fn() -> KeyPair,
    what: &str,
) -> Result<KeyPair, String> {
    let Some(value) = value else {
        let kp = generate();
        let seed = kp.seed().map_err(|e| e.to_string())?;
        eprintln!(
            "generated {what} key {} (seed: {seed}) - keep the seed to sign later versions",
            kp.public_key()
        );
        return Ok(kp);
    };
    let seed = match Path::new(value).is_file() {
        true => crate::local_file::read_text(Path::new(value), &format!("{what} seed file"))?,
        false => value.to_string(),
    };
    let kp = KeyPair::from_seed(seed.trim()).map_err(|e| format!("invalid {what} seed: {e}"))?;
    if !kp.public_key().starts_with(prefix) {
        return Err(format!("the {what} seed must be an S{prefix}... seed"));
    }
    Ok(kp)
}
