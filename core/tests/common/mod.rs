//! Shared test helpers: fixtures from the repo and from protocol/tests/vectors, signing at test time.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use nkeys::KeyPair;
use wasmhost::protocol::claims::{sign_actor, ActorSigning};
use wasmhost::{EventStream, Host, HostConfig};

pub fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(rel)
}

pub fn vector(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../protocol/tests/vectors")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read vector {}: {e}", path.display()))
}

/// A committed example actor (signed) from examples/actors.
pub fn example_actor(name: &str) -> Vec<u8> {
    let path = repo_path(&format!("examples/actors/{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; run examples/actors/build.sh",
            path.display()
        )
    })
}

/// A .wat fixture from examples/actors/fixtures, compiled.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = repo_path(&format!("examples/actors/fixtures/{name}.wat"));
    wat::parse_file(&path).unwrap_or_else(|e| panic!("cannot compile {}: {e}", path.display()))
}

pub struct Signer {
    pub account: KeyPair,
}

impl Signer {
    pub fn new() -> Self {
        Signer {
            account: KeyPair::new_account(),
        }
    }

    /// Signs `module` as a fresh actor with `caps`; returns (signed module, actor key pair).
    pub fn sign(&self, module: &[u8], caps: &[&str]) -> (Vec<u8>, KeyPair) {
        let subject = KeyPair::new_module();
        let signed = self.sign_as(module, &subject, caps, 1, None);
        (signed, subject)
    }

    pub fn sign_as(
        &self,
        module: &[u8],
        subject: &KeyPair,
        caps: &[&str],
        rev: i32,
        alias: Option<&str>,
    ) -> Vec<u8> {
        let signing = ActorSigning {
            name: Some("test".into()),
            caps: caps.iter().map(|c| c.to_string()).collect(),
            rev: Some(rev),
            ver: Some(format!("0.{rev}.0")),
            call_alias: alias.map(String::from),
            ..Default::default()
        };
        sign_actor(module, &signing, &self.account, subject).expect("sign")
    }
}

pub async fn host() -> Host {
    Host::start(HostConfig::default())
        .await
        .expect("host starts")
}

pub async fn host_with(config: HostConfig) -> Host {
    Host::start(config).await.expect("host starts")
}

pub fn none() -> HashMap<String, String> {
    HashMap::new()
}

/// Collects the events available within `wait`, as (type suffix, data).
pub async fn drain(events: &mut EventStream, wait: Duration) -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    while let Ok(Some(event)) = tokio::time::timeout(wait, events.next()).await {
        let suffix = event
            .event_type
            .trim_start_matches("com.wasmcloud.lattice.")
            .to_string();
        out.push((suffix, event.data.clone()));
    }
    out
}

pub fn count(events: &[(String, serde_json::Value)], kind: &str) -> usize {
    events.iter().filter(|(k, _)| k == kind).count()
}
