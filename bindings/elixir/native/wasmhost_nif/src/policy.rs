//! A policy answered by an Elixir process: it approves or denies actor starts and invocations.
//!
//! Each decision is `{:wasmhost_policy, reply_ref, request}` sent to the registered pid, answered
//! with `Wasmhost.reply(reply_ref, {:ok, _})` (permit) or `{:error, reason}` (deny). A dead,
//! exiting or silent process denies: the policy fails closed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rustler::{Encoder, Env, LocalPid, ResourceArc, Term};
use wasmhost::{Policy, PolicyDecision, PolicyRequest};

use crate::atoms;
use crate::capability::request;
use crate::host::HostResource;

struct ElixirPolicy {
    pid: LocalPid,
    timeout: Duration,
}

/// The request as a map with atom keys; `kind` says which one.
fn request_fields(request: &PolicyRequest) -> HashMap<&'static str, String> {
    let mut fields = HashMap::new();
    match request {
        PolicyRequest::StartActor {
            public_key,
            issuer,
            image_ref,
            capabilities,
        } => {
            fields.insert("kind", "start_actor".to_string());
            fields.insert("public_key", public_key.clone());
            fields.insert("issuer", issuer.clone());
            fields.insert("image_ref", image_ref.clone());
            fields.insert("capabilities", capabilities.join(","));
        }
        PolicyRequest::StartProvider {
            public_key,
            issuer,
            image_ref,
            link_name,
            contract_id,
        } => {
            fields.insert("kind", "start_provider".to_string());
            fields.insert("public_key", public_key.clone());
            fields.insert("issuer", issuer.clone());
            fields.insert("image_ref", image_ref.clone());
            fields.insert("link_name", link_name.clone());
            fields.insert("contract_id", contract_id.clone());
        }
        PolicyRequest::Invoke {
            source,
            source_contract_id,
            target,
            operation,
        } => {
            fields.insert("kind", "invoke".to_string());
            fields.insert("source", source.clone());
            fields.insert("source_contract_id", source_contract_id.clone());
            fields.insert("target", target.clone());
            fields.insert("operation", operation.clone());
        }
        _ => {
            fields.insert("kind", "unknown".to_string());
        }
    }
    fields
}

fn fields_term<'a>(env: Env<'a>, fields: HashMap<&'static str, String>) -> Term<'a> {
    let mut map = rustler::types::map::map_new(env);
    for (key, value) in fields {
        // Contract ids never contain commas: the list travels joined and arrives as a list.
        let value = if key == "capabilities" {
            value
                .split(',')
                .filter(|c| !c.is_empty())
                .map(String::from)
                .collect::<Vec<_>>()
                .encode(env)
        } else {
            value.encode(env)
        };
        let key = rustler::types::atom::Atom::from_str(env, key)
            .map(|a| a.encode(env))
            .unwrap_or_else(|_| key.encode(env));
        if let Ok(next) = map.map_put(key, value) {
            map = next;
        }
    }
    map
}

#[async_trait::async_trait]
impl Policy for ElixirPolicy {
    async fn evaluate(&self, policy_request: &PolicyRequest) -> PolicyDecision {
        let fields = request_fields(policy_request);
        let what = format!(
            "the policy request {}",
            fields.get("kind").map(String::as_str).unwrap_or("?")
        );
        let reply = request(self.pid, self.timeout, &what, move |env, slot| {
            (atoms::wasmhost_policy(), slot, fields_term(env, fields)).encode(env)
        })
        .await;
        match reply {
            Ok(_) => PolicyDecision::Permit,
            Err(reason) => PolicyDecision::Deny(reason),
        }
    }
}

/// Installs `pid` as the host's policy (`nil` removes it).
#[rustler::nif]
fn policy_set(
    resource: ResourceArc<HostResource>,
    pid: Option<LocalPid>,
    timeout_ms: u64,
) -> rustler::Atom {
    let policy = pid.map(|pid| {
        Arc::new(ElixirPolicy {
            pid,
            timeout: Duration::from_millis(timeout_ms),
        }) as Arc<dyn Policy>
    });
    resource.host.set_policy(policy);
    atoms::ok()
}
