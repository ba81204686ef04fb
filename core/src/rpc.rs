//! Invocation routing: calls to actors (local or elsewhere in the lattice) and the resolution of an
//! actor's `__host_call` (LATTICE.md §3.5).

use bytes::Bytes;
use serde_json::json;
use wasmhost_protocol::rpc::{Invocation, InvocationResponse, WasmCloudEntity};

use crate::actor::context::{ActorContext, HostCallRouter};
use crate::builtins;
use crate::capability::CapabilityCall;
use crate::host::{check_policy, HostInner};
use crate::policy::PolicyRequest;
use crate::{Error, ErrorKind, Result};

/// Who is calling an actor.
pub(crate) enum Caller<'a> {
    /// The embedding application (or a control client) through [`crate::Host::call_actor`].
    Host,
    /// Another actor, through `__host_call`.
    Actor(&'a ActorContext),
}

impl Caller<'_> {
    fn entity(&self, inner: &HostInner) -> WasmCloudEntity {
        match self {
            Caller::Host => WasmCloudEntity {
                public_key: inner.id.clone(),
                link_name: String::new(),
                contract_id: String::new(),
            },
            Caller::Actor(ctx) => WasmCloudEntity::actor(&ctx.public_key),
        }
    }
}

/// Is `s` shaped like an actor public key (LATTICE.md §3.5 step 3)?
pub(crate) fn is_actor_key(s: &str) -> bool {
    s.len() == 56
        && s.starts_with('M')
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Calls `operation` on `actor` (public key or call alias): on this host if it runs here, else over
/// the lattice when there is one.
pub(crate) async fn call_actor(
    inner: &HostInner,
    caller: Caller<'_>,
    actor: &str,
    operation: &str,
    payload: Bytes,
) -> Result<Vec<u8>> {
    if payload.len() > inner.config.max_payload {
        return Err(Error::invalid(format!(
            "payload of {} bytes exceeds the limit of {} bytes",
            payload.len(),
            inner.config.max_payload
        )));
    }
    if operation.is_empty() {
        return Err(Error::invalid("operation must not be empty"));
    }
    // Hot path: a key lookup without allocating; call aliases only when the key is not running here.
    let local = inner.actors.read().get(actor).cloned();
    let (target, local) = match local {
        Some(running) => (std::borrow::Cow::Borrowed(actor), Some(running)),
        None => {
            let target = inner.resolve_alias(actor);
            let running = inner.actors.read().get(&target).cloned();
            (std::borrow::Cow::Owned(target), running)
        }
    };
    let size = payload.len();
    let result = match local {
        Some(running) => {
            if inner.policy.read().is_some() {
                let source = caller.entity(inner);
                let request = PolicyRequest::Invoke {
                    source: source.public_key,
                    source_contract_id: source.contract_id,
                    target: target.to_string(),
                    operation: operation.to_string(),
                };
                check_policy(inner, &request).await?;
            }
            let timeout = inner.config.invocation_timeout;
            running
                .pool
                .invoke(operation, payload, timeout, timeout)
                .await
        }
        None => {
            let lattice = inner.lattice.read().clone();
            match lattice {
                Some(lattice) => {
                    let invocation = Invocation::new_signed(
                        &inner.cluster_key,
                        caller.entity(inner),
                        WasmCloudEntity::actor(target.as_ref()),
                        operation,
                        payload.to_vec(),
                        &inner.id,
                    )?;
                    let response = lattice.invoke(invocation, inner.config.rpc_timeout).await?;
                    match response.error {
                        Some(error) => Err(Error::runtime(error)),
                        None => Ok(response.msg),
                    }
                }
                None => Err(Error::not_found(format!(
                    "actor {actor} is not running on this host"
                ))),
            }
        }
    };
    if inner.config.enable_invocation_events {
        publish_invocation_event(
            inner,
            &caller.entity(inner),
            &WasmCloudEntity::actor(target.as_ref()),
            operation,
            size,
            &result,
        );
    }
    result
}

/// Serves an invocation that arrived over the lattice for an actor running here (LATTICE.md §3.4):
/// anti-forgery check against the cluster issuers, capability check when a provider calls,
/// policy, then the actor. Failures are replied in `error`, never raised.
pub(crate) async fn serve_inbound(inner: &HostInner, invocation: Invocation) -> InvocationResponse {
    let id = invocation.id.clone();
    let (origin, target, operation, size) = (
        invocation.origin.clone(),
        invocation.target.clone(),
        invocation.operation.clone(),
        invocation.msg.len(),
    );
    let result = serve_inbound_checked(inner, invocation).await;
    if inner.config.enable_invocation_events {
        let as_result = result
            .as_ref()
            .map(|_| Vec::new())
            .map_err(|e| Error::runtime(e.clone()));
        publish_invocation_event(inner, &origin, &target, &operation, size, &as_result);
    }
    match result {
        Ok(msg) => InvocationResponse::success(id, msg),
        Err(error) => InvocationResponse::failure(id, error),
    }
}

async fn serve_inbound_checked(
    inner: &HostInner,
    invocation: Invocation,
) -> Result<Vec<u8>, String> {
    invocation
        .validate(&inner.cluster_issuers)
        .map_err(|e| e.to_string())?;
    let target = &invocation.target.public_key;
    let Some(actor) = inner.actors.read().get(target).cloned() else {
        return Err(format!("Failed to handle actor RPC: \"Actor {target} is not running on this host. RPC call skipped.\""));
    };
    let origin = &invocation.origin;
    if !origin.contract_id.is_empty() && !actor.claims.read().has_cap(&origin.contract_id) {
        return Err(format!(
            "Actor is missing the capability claim for \"{}\"",
            invocation.operation
        ));
    }
    check_policy(
        inner,
        &PolicyRequest::Invoke {
            source: origin.public_key.clone(),
            source_contract_id: origin.contract_id.clone(),
            target: target.clone(),
            operation: invocation.operation.clone(),
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    let timeout = inner.config.invocation_timeout;
    actor
        .pool
        .invoke(
            &invocation.operation,
            Bytes::from(invocation.msg),
            timeout,
            timeout,
        )
        .await
        .map_err(|e| e.to_string())
}

fn publish_invocation_event(
    inner: &HostInner,
    source: &WasmCloudEntity,
    dest: &WasmCloudEntity,
    operation: &str,
    bytes: usize,
    result: &Result<Vec<u8>>,
) {
    let entity = |e: &WasmCloudEntity| json!({"public_key": e.public_key, "contract_id": e.contract_id, "link_name": e.link_name});
    let kind = if result.is_ok() {
        wasmhost_protocol::events::INVOCATION_SUCCEEDED
    } else {
        wasmhost_protocol::events::INVOCATION_FAILED
    };
    inner.events.publish(kind, json!({"source": entity(source), "dest": entity(dest), "operation": operation, "bytes": bytes}));
}

#[async_trait::async_trait]
impl HostCallRouter for HostInner {
    async fn route_host_call(
        &self,
        actor: &ActorContext,
        binding: &str,
        namespace: &str,
        operation: &str,
        payload: Bytes,
    ) -> Result<Vec<u8>, String> {
        if payload.len() > self.config.max_payload {
            return Err(format!(
                "payload of {} bytes exceeds the limit of {} bytes",
                payload.len(),
                self.config.max_payload
            ));
        }
        if builtins::is_builtin(namespace) {
            if !actor.claims.has_cap(namespace) {
                return Err(format!(
                    "Invocation not authorized: missing capability claim for {namespace}"
                ));
            }
            return builtins::handle(&actor.public_key, namespace, operation, &payload);
        }
        if namespace.contains(':') {
            return self
                .call_capability(actor, binding, namespace, operation, payload)
                .await;
        }
        let target = if is_actor_key(namespace) {
            namespace.to_string()
        } else {
            match self.aliases.read().get(namespace) {
                Some(pk) => pk.clone(),
                None => {
                    return Err(format!(
                        "Call alias not found: {namespace} on {}",
                        self.config.lattice
                    ))
                }
            }
        };
        call_actor(self, Caller::Actor(actor), &target, operation, payload)
            .await
            .map_err(|e| e.to_string())
    }
}

impl HostInner {
    /// A host call to a capability contract: the caps claim is checked, then a linked provider in the
    /// lattice or an in-process handler answers.
    async fn call_capability(
        &self,
        actor: &ActorContext,
        binding: &str,
        contract_id: &str,
        operation: &str,
        payload: Bytes,
    ) -> Result<Vec<u8>, String> {
        let link_name = if binding.is_empty() {
            "default"
        } else {
            binding
        };
        if !actor.claims.has_cap(contract_id) {
            return Err(format!(
                "Invocation not authorized: missing capability claim for {contract_id}"
            ));
        }
        let link = self.links.get(&actor.public_key, contract_id, link_name);
        let lattice = self.lattice.read().clone();
        if let (Some(link), Some(lattice)) = (&link, lattice) {
            let target = WasmCloudEntity::provider(&link.provider_id, contract_id, link_name);
            let invocation = Invocation::new_signed(
                &self.cluster_key,
                WasmCloudEntity::actor(&actor.public_key),
                target,
                operation,
                payload.to_vec(),
                &self.id,
            )
            .map_err(|e| e.to_string())?;
            return match lattice.invoke(invocation, self.config.rpc_timeout).await {
                Ok(response) => match response.error {
                    Some(error) => Err(error),
                    None => Ok(response.msg),
                },
                Err(e) if e.kind() == ErrorKind::Timeout => {
                    Err(format!("Failed to perform RPC call: request timeout ({e})"))
                }
                Err(e) => Err(format!("Failed to perform RPC call: {e}")),
            };
        }
        if let Some(handler) = self.capabilities.get(contract_id, link_name) {
            let call = CapabilityCall {
                actor_id: actor.public_key.clone(),
                contract_id: contract_id.to_string(),
                link_name: link_name.to_string(),
                operation: operation.to_string(),
                payload,
            };
            return handler.handle(call).await;
        }
        if link.is_some() {
            return Err(format!(
                "no provider for {contract_id} (link name {link_name}) is reachable: this host has no lattice connection and no in-process handler"
            ));
        }
        Err(format!(
            "Invocation not authorized: missing link definition for {contract_id} on {}",
            self.config.lattice
        ))
    }
}
