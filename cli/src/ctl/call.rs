//! `ctl call ACTOR OPERATION`: a signed invocation straight onto the actor's RPC subject,
//! as `wash call` sent it.

use super::client::CtlClient;
use super::output::Output;
use crate::payload::{describe_reply, encode_payload};
use clap::Args;
use std::io::Write;
use wasmhost::protocol::nkeys::KeyPair;
use wasmhost::protocol::{Invocation, InvocationResponse, WasmCloudEntity};

/// The caller key `wash call` put in its invocations' origin: not a real key, an actor-style
/// entity (no contract), so hosts treat the call like an actor-to-actor call.
const CALLER_KEY: &str = "__WASH__";

#[derive(Args)]
pub struct CallArgs {
    /// Actor id (M...).
    actor_id: String,
    /// Operation, e.g. HttpServer.HandleRequest.
    operation: String,
    /// Payload as JSON (sent as msgpack; for HttpServer.HandleRequest an HttpRequest
    /// like {"method":"GET","path":"/x","body":"text"}).
    #[arg(long, conflicts_with = "data_file")]
    data: Option<String>,
    /// Read the payload from a file instead (JSON, or any bytes with --raw); payloads above
    /// 900 KiB travel through the lattice's object store, as between hosts.
    #[arg(long)]
    data_file: Option<std::path::PathBuf>,
    /// Send --data as raw bytes and print the raw reply bytes.
    #[arg(long)]
    raw: bool,
    /// Cluster seed (SC...) that signs the invocation; the host must list its public key as a cluster issuer.
    #[arg(long, env = "WASMCLOUD_CLUSTER_SEED", hide_env_values = true)]
    cluster_seed: String,
}

pub async fn run(client: &CtlClient, out: &Output, args: CallArgs) -> Result<(), String> {
    let invocation = build_invocation(&args)?;
    // The host's own invocation path: large payloads go through the object store both ways.
    let chunks = wasmhost_nats::ChunkStore::for_client(
        client.nats(),
        client.lattice(),
        None,
        wasmhost_nats::DEFAULT_REPLICAS,
    );
    let response = wasmhost_nats::invoke(
        client.nats(),
        &chunks,
        client.lattice(),
        invocation,
        client.timeout(),
    )
    .await
    .map_err(|e| format!("the call to {} failed: {e}", args.actor_id))?;
    let msg = reply_payload(&args.actor_id, response)?;
    if args.raw {
        std::io::stdout()
            .write_all(&msg)
            .map_err(|e| format!("cannot write the reply: {e}"))?;
        return Ok(());
    }
    let described = describe_reply(&args.operation, &msg);
    out.result(&described, || {
        serde_json::to_string_pretty(&described).unwrap_or_default()
    });
    Ok(())
}

/// Checks the actor id and seed, encodes the payload and signs the invocation.
fn build_invocation(args: &CallArgs) -> Result<Invocation, String> {
    if !(args.actor_id.starts_with('M') && args.actor_id.len() == 56) {
        return Err(format!(
            "'{}' is not an actor id (56 characters starting with M)",
            args.actor_id
        ));
    }
    let cluster = KeyPair::from_seed(args.cluster_seed.trim())
        .map_err(|e| format!("invalid cluster seed: {e}"))?;
    let payload = match &args.data_file {
        Some(path) => {
            let bytes = crate::local_file::read(path, "--data-file")?;
            if args.raw {
                bytes
            } else {
                let text = String::from_utf8(bytes).map_err(|_| {
                    format!(
                        "--data-file {} is not UTF-8 JSON (use --raw for bytes)",
                        path.display()
                    )
                })?;
                encode_payload(&args.operation, Some(&text), false)?
            }
        }
        None => encode_payload(&args.operation, args.data.as_deref(), args.raw)?,
    };
    // A fresh server key stands in for the host id wash put there; hosts only check its shape.
    let host_id = KeyPair::new_server().public_key();
    Invocation::new_signed(
        &cluster,
        WasmCloudEntity::actor(CALLER_KEY),
        WasmCloudEntity::actor(&args.actor_id),
        &args.operation,
        payload,
        &host_id,
    )
    .map_err(|e| format!("cannot sign the invocation: {e}"))
}

/// The reply's payload, or the error the actor or host reported.
fn reply_payload(actor_id: &str, response: InvocationResponse) -> Result<Vec<u8>, String> {
    if let Some(error) = response.error.as_deref().filter(|e| !e.is_empty()) {
        return Err(format!("the call to {actor_id} failed: {error}"));
    }
    Ok(response.msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACTOR: &str = "MB3YFG3MKA2INWK3R7UZ5J4VKRCLQREI42ASDYNV3JAVJPKZGQYXJJBJ";
    const CLUSTER_SEED: &str = "SCAKUNN72IFVVHIEKSS76LBAJOWFE4FRIDNSCVHFUASRG3FZSGWE6WVUJU";
    const CLUSTER_PK: &str = "CC4PEB6LR6S7SCYQIWPVD2SKHPXSRDYG7FQSUC5HXIQ6RCMI7VQG52G6";

    fn args(actor: &str, seed: &str) -> CallArgs {
        CallArgs {
            actor_id: actor.into(),
            operation: "Echo.Echo".into(),
            data: Some("hello".into()),
            data_file: None,
            raw: true,
            cluster_seed: seed.into(),
        }
    }

    #[test]
    fn invocations_are_signed_by_the_cluster_seed_and_validate() {
        let invocation = Invocation::decode(
            &build_invocation(&args(ACTOR, CLUSTER_SEED))
                .unwrap()
                .encode(),
        )
        .unwrap();
        invocation.validate(&[CLUSTER_PK.to_string()]).unwrap();
        assert_eq!(invocation.msg, b"hello");
        assert_eq!(invocation.target, WasmCloudEntity::actor(ACTOR));
        assert_eq!(invocation.origin.contract_id, "");
        assert!(invocation
            .validate(&[KeyPair::new_cluster().public_key()])
            .is_err());
    }

    #[test]
    fn bad_actor_ids_and_seeds_are_clear_errors() {
        assert!(build_invocation(&args("echo", CLUSTER_SEED))
            .unwrap_err()
            .contains("not an actor id"));
        assert!(build_invocation(&args(ACTOR, "SCnotaseed"))
            .unwrap_err()
            .contains("invalid cluster seed"));
    }

    #[test]
    fn reply_errors_are_reported() {
        assert_eq!(
            reply_payload(ACTOR, InvocationResponse::success("i", b"ok".to_vec())).unwrap(),
            b"ok"
        );
        let err = reply_payload(ACTOR, InvocationResponse::failure("i", "boom")).unwrap_err();
        assert!(err.contains("boom"), "{err}");
    }
}
