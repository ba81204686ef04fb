//! `wasmhost par create|inspect`: build signed capability provider archives (.par.gz) and read them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use nkeys::KeyPair;
use wasmhost::provider_archive::{create_archive, native_target, ProviderArchiveSpec};
use wasmhost::ProviderArchive;

use crate::claims_cmd::load_or_generate;

#[derive(Subcommand)]
pub enum ParCommand {
    /// Sign provider claims (with the SHA-256 of every binary) and pack them with the binaries into a .par.gz.
    Create(CreateArgs),
    /// Verify an archive (claims signature, binary hashes) and print what it holds.
    Inspect {
        /// The .par or .par.gz file.
        file: PathBuf,
    },
}

#[derive(Args)]
pub struct CreateArgs {
    /// Capability contract id the provider implements, e.g. wasmcloud:httpserver.
    #[arg(long)]
    capid: String,
    /// Provider name.
    #[arg(long)]
    name: String,
    /// Vendor.
    #[arg(long)]
    vendor: String,
    /// A binary for one target, as TARGET=PATH (e.g. x86_64-linux=./provider); repeatable.
    #[arg(long = "binary", required = true)]
    binaries: Vec<String>,
    /// Account seed (SA...) or a file holding it; generated when absent.
    #[arg(long)]
    issuer: Option<String>,
    /// Service seed (SV...) or a file holding it: the provider's identity; generated when absent.
    #[arg(long)]
    subject: Option<String>,
    /// Revision.
    #[arg(long)]
    rev: Option<i32>,
    /// Human-readable version.
    #[arg(long)]
    ver: Option<String>,
    /// Output file (.par.gz).
    #[arg(long, short = 'o')]
    output: PathBuf,
}

pub fn run(cmd: ParCommand) -> Result<(), String> {
    match cmd {
        ParCommand::Create(args) => create(args),
        ParCommand::Inspect { file } => inspect(&file),
    }
}

fn create(args: CreateArgs) -> Result<(), String> {
    let mut binaries = BTreeMap::new();
    for spec in &args.binaries {
        let (target, path) = spec.split_once('=').ok_or_else(|| {
            format!(
                "--binary `{spec}`: expected TARGET=PATH, e.g. {}=./provider",
                native_target()
            )
        })?;
        let data = crate::local_file::read(Path::new(path), "provider binary")?;
        if binaries.insert(target.trim().to_string(), data).is_some() {
            return Err(format!("target {target} given twice"));
        }
    }
    let issuer = load_or_generate(args.issuer.as_deref(), 'A', KeyPair::new_account, "account")?;
    let subject = load_or_generate(
        args.subject.as_deref(),
        'V',
        KeyPair::new_service,
        "service",
    )?;
    let spec = ProviderArchiveSpec {
        capid: args.capid,
        name: Some(args.name),
        vendor: args.vendor,
        rev: args.rev,
        ver: args.ver,
        binaries,
    };
    let archive = create_archive(&spec, &issuer, &subject).map_err(|e| e.to_string())?;
    std::fs::write(&args.output, &archive)
        .map_err(|e| format!("cannot write {}: {e}", args.output.display()))?;
    println!(
        "created {} for provider {} (account {}), targets: {}",
        args.output.display(),
        subject.public_key(),
        issuer.public_key(),
        spec.binaries.keys().cloned().collect::<Vec<_>>().join(", ")
    );
    Ok(())
}

fn inspect(file: &std::path::Path) -> Result<(), String> {
    let data = crate::local_file::read(file, "provider archive")?;
    let par = ProviderArchive::parse(&data).map_err(|e| format!("{}: {e}", file.display()))?;
    let meta = par.claims().wascap.clone().unwrap_or_default();
    println!("{:<13} {}", "provider", par.public_key());
    println!("{:<13} {}", "account", par.claims().iss);
    println!("{:<13} {}", "contract", par.contract_id());
    println!("{:<13} {}", "name", meta.name.as_deref().unwrap_or(""));
    println!("{:<13} {}", "vendor", meta.vendor);
    println!(
        "{:<13} {}",
        "revision",
        meta.rev.map(|r| r.to_string()).unwrap_or_default()
    );
    println!("{:<13} {}", "version", meta.ver.as_deref().unwrap_or(""));
    for target in par.targets() {
        let hash = meta.target_hashes.get(&target).cloned().unwrap_or_default();
        let mark = if target == native_target() {
            " (this machine)"
        } else {
            ""
        };
        println!("{:<13} {target}{mark} {hash}", "target");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(binaries: Vec<String>, output: PathBuf) -> CreateArgs {
        CreateArgs {
            capid: "wasmcloud:example".into(),
            name: "Example".into(),
            vendor: "tests".into(),
            binaries,
            issuer: Some(KeyPair::new_account().seed().unwrap()),
            subject: Some(KeyPair::new_service().seed().unwrap()),
            rev: Some(2),
            ver: Some("0.2.0".into()),
            output,
        }
    }

    #[test]
    fn create_writes_a_verifiable_archive() {
        let dir = std::env::temp_dir().join(format!("wasmhost-par-cmd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bin = dir.join("provider");
        std::fs::write(&bin, b"#!/bin/sh\n").unwrap();
        let out = dir.join("p.par.gz");
        create(args(
            vec![format!("{}={}", native_target(), bin.display())],
            out.clone(),
        ))
        .unwrap();
        let par = ProviderArchive::parse(&std::fs::read(&out).unwrap()).unwrap();
        assert_eq!(par.native_binary().unwrap(), b"#!/bin/sh\n");
        assert_eq!(par.claims().wascap.as_ref().unwrap().rev, Some(2));
        inspect(&out).unwrap();

        let err = create(args(vec![bin.display().to_string()], out.clone()))
            .err()
            .unwrap();
        assert!(err.contains("expected TARGET=PATH"), "{err}");
        let twice = format!("x86_64-linux={}", bin.display());
        assert!(create(args(vec![twice.clone(), twice], out.clone()))
            .err()
            .unwrap()
            .contains("given twice"));
        let missing = create(args(vec!["x86_64-linux=/nonexistent".into()], out))
            .err()
            .unwrap();
        assert!(
            missing.contains("cannot read provider binary /nonexistent"),
            "{missing}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
