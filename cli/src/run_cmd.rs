//! `wasmhost run`: one-shot embedded host for trying an actor.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use wasmhost::keyvalue::{InMemoryKeyValue, KEYVALUE_CONTRACT};
use wasmhost::protocol::http::HttpResponse;
use wasmhost::{ActorSource, Host, HostConfig};

use wasmhost::protocol::http::HANDLE_REQUEST;

use crate::hot_reload::{prepare_update, revision_hint, FileWatcher, SigningKeys};

#[derive(Args)]
pub struct RunArgs {
    /// The signed actor module (.wasm) to start and invoke.
    actor: PathBuf,
    /// Operation to invoke.
    #[arg(long, default_value = HANDLE_REQUEST)]
    op: String,
    /// Payload as JSON, sent as msgpack. For HttpServer.HandleRequest it is an HttpRequest
    /// (`{"method":"GET","path":"/x","queryString":"","header":{},"body":"text"}`; missing fields default).
    #[arg(long, conflicts_with = "data_file")]
    data: Option<String>,
    /// Read the payload JSON from a file.
    #[arg(long)]
    data_file: Option<PathBuf>,
    /// Send the --data text as raw bytes instead of JSON-to-msgpack.
    #[arg(long)]
    raw: bool,
    /// Instances to start.
    #[arg(long, default_value_t = 1)]
    count: u16,
    /// Invoke this many times (each reply is printed).
    #[arg(long, default_value_t = 1)]
    repeat: u32,
    /// Other actors to start first (e.g. a call target), repeatable.
    #[arg(long = "with")]
    with: Vec<PathBuf>,
    /// Serve wasmcloud:keyvalue (link name `default`) from an in-process in-memory store.
    #[arg(long)]
    kv_memory: bool,
    /// Keep running and hot-reload the actor whenever its file changes (live update, instance
    /// count kept; the invocation is repeated after each update). Until Ctrl-C.
    #[arg(long)]
    watch: bool,
    /// With --watch: a directory of `*.nk` seeds (e.g. examples/actors/keys); a rebuild signed with
    /// a revision that is not higher than the running one is re-signed with the next revision.
    #[arg(long, value_name = "DIR", requires = "watch")]
    signing_keys: Option<PathBuf>,
}

pub fn run(args: RunArgs) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: RunArgs) -> Result<(), String> {
    let payload = build_payload(&args)?;
    let host = Host::start(HostConfig::default())
        .await
        .map_err(|e| e.to_string())?;
    let result = invoke_all(&host, &args, payload).await;
    host.stop().await.map_err(|e| e.to_string())?;
    result
}

async fn invoke_all(host: &Host, args: &RunArgs, payload: Vec<u8>) -> Result<(), String> {
    if args.kv_memory {
        host.register_capability(
            KEYVALUE_CONTRACT,
            "default",
            Arc::new(InMemoryKeyValue::new()),
        )
        .map_err(|e| e.to_string())?;
    }
    for extra in &args.with {
        let info = host
            .start_actor(ActorSource::File(extra.clone()), 1, HashMap::new())
            .await
            .map_err(|e| format!("{}: {e}", extra.display()))?;
        eprintln!("started {} ({})", info.public_key, extra.display());
    }
    let actor = host
        .start_actor(
            ActorSource::File(args.actor.clone()),
            args.count,
            HashMap::new(),
        )
        .await
        .map_err(|e| format!("{}: {e}", args.actor.display()))?;
    eprintln!(
        "started {} ({}) with {} instance(s)",
        actor.public_key,
        args.actor.display(),
        actor.instances.len()
    );
    invoke(host, args, &actor.public_key, &payload).await?;
    if args.watch {
        watch(host, args, &actor.public_key, &payload).await?;
    }
    Ok(())
}

async fn invoke(host: &Host, args: &RunArgs, actor: &str, payload: &[u8]) -> Result<(), String> {
    for _ in 0..args.repeat {
        let reply = host
            .call_actor(actor, &args.op, payload.to_vec())
            .await
            .map_err(|e| e.to_string())?;
        print_reply(&args.op, &reply);
    }
    Ok(())
}

/// Live-updates the actor on every settled rebuild of its file until Ctrl-C. A rebuild the host
/// refuses (bad wasm, bad claims, revision not higher) leaves the running version in place; the
/// host publishes `actor_update_failed` and the reason is printed.
async fn watch(host: &Host, args: &RunArgs, actor: &str, payload: &[u8]) -> Result<(), String> {
    let keys = args
        .signing_keys
        .as_deref()
        .map(SigningKeys::load)
        .transpose()?;
    let mut watcher = FileWatcher::new(&args.actor)?;
    eprintln!(
        "watching {} for rebuilds (Ctrl-C stops)",
        watcher.path().display()
    );
    loop {
        let rebuild = tokio::select! {
            rebuild = watcher.next_rebuild() => match rebuild {
                Some(rebuild) => rebuild,
                None => return Err("the file watcher stopped".into()),
            },
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let running = host.actor(actor).map_err(|e| e.to_string())?;
        let prepared = prepare_update(rebuild, running.claims.revision(), keys.as_ref());
        if let Some(revision) = prepared.resigned_to {
            eprintln!("hot reload: re-signed the rebuild with revision {revision}");
        }
        match host
            .update_actor(actor, ActorSource::from(prepared.module))
            .await
        {
            Ok(info) => {
                eprintln!(
                    "hot reload: {actor} updated to revision {} ({} instance(s))",
                    info.claims.revision(),
                    info.instances.len()
                );
                if let Err(e) = invoke(host, args, actor, payload).await {
                    eprintln!("hot reload: the updated actor failed the invocation: {e}");
                }
            }
            Err(e) => {
                let message = e.to_string();
                eprintln!(
                    "hot reload: rebuild refused, revision {} keeps running: {message}",
                    running.claims.revision()
                );
                if let Some(hint) = revision_hint(&message, keys.is_some()) {
                    eprintln!("hot reload: {hint}");
                }
            }
        }
    }
}

fn build_payload(args: &RunArgs) -> Result<Vec<u8>, String> {
    let text = match (&args.data, &args.data_file) {
        (Some(d), _) => Some(d.clone()),
        (None, Some(f)) => Some(crate::local_file::read_text(f, "--data-file")?),
        (None, None) => None,
    };
    crate::payload::encode_payload(&args.op, text.as_deref(), args.raw)
}

fn print_reply(op: &str, reply: &[u8]) {
    if op == HANDLE_REQUEST {
        if let Ok(response) = wasmhost::protocol::decode::<HttpResponse>(reply) {
            println!("HTTP {}", response.status_code);
            let mut headers: Vec<_> = response.header.iter().collect();
            headers.sort();
            for (name, values) in headers {
                println!("{name}: {}", values.join(", "));
            }
            println!();
            println!("{}", String::from_utf8_lossy(&response.body));
            return;
        }
    }
    match crate::payload::msgpack_value(reply) {
        Some(value) => println!("{value}"),
        None => println!("{}", String::from_utf8_lossy(reply)),
    }
}
