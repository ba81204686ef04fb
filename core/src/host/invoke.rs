//! Invocations of actors: from the embedding application or another actor (local, or over the
//! lattice when the actor runs elsewhere), and inbound ones from the lattice (LATTICE.md §3.4).

use std::borrow::Cow;

use bytes::Bytes;
use wasmhost_protocol::event_data::{EventData, InvocationEntity, InvocationEvent};
use wasmhost_protocol::rpc::{Invocation, InvocationResponse, WasmCloudEntity};

use super::HostInner;
use crate::actor::context::ActorContext;
use crate::policy::{PolicyDecision, PolicyRequest};
use crate::quote::quote_input;
use crate::{Error, Result};

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
    crate::limits::check_operation(operation)?;
    // Hot path: a key lookup without allocating; call aliases only when the key is not running here.
    let local = inner.actors.read().get(actor).cloned();
    let (target, local) = match local {
        Some(running) => (Cow::Borrowed(actor), Some(running)),
        None => {
            let target = inner
                .lattice_view
                .resolve_alias(actor)
                .unwrap_or_else(|| actor.to_string());
            let running = inner.actors.read().get(&target).cloned();
            (Cow::Owned(target), running)
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
        None => match inner.transport() {
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
                "actor {} is not running on this host",
                quote_input(actor)
            ))),
        },
    };
    if inner.config.enable_invocation_events {
        publish_invocation_event(
            inner,
            &caller.entity(inner),
            &WasmCloudEntity::actor(target.as_ref()),
            operation,
            size,
            result.is_ok(),
        );
    }
    result
}

/// Serves an invocation that arrived over the lattice for an actor running here (LATTICE.md §3.4):
/// anti-forgery check against the cluster issuers, capability check when a provider calls,
/// policy, then the actor. Failures are replied in `error`, never raised.
pub(crate) async fn serve_inbound(inner: &HostInner, invocation: Invocation) -> InvocationResponse {
    let id = invocation.id.clone();
    let events = inner.config.enable_invocation_events.then(|| {
        (
            invocation.origin.clone(),
            invocation.target.clone(),
            invocation.operation.clone(),
            invocation.msg.len(),
        )
    });
    let result = serve_inbound_checked(inner, invocation).await;
    if let Some((origin, target, operation, size)) = events {
        publish_invocation_event(inner, &origin, &target, &operation, size, result.is_ok());
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
    crate::limits::check_operation(&invocation.operation).map_err(|e| e.to_string())?;
    invocation
        .validate(&inner.cluster_issuers)
        .map_err(|e| e.to_string())?;
    let target = &invocation.target.public_key;
    let Some(actor) = inner.actors.read().get(target).cloned() else {
        return Err(format!("Failed to handle actor RPC: \"Actor {} is not running on this host. RPC call skipped.\"", quote_input(target)));
    };
    let origin = &invocation.origin;
    if !origin.contract_id.is_empty() && !actor.claims.read().has_cap(&origin.contract_id) {
        return Err(format!(
            "Actor is missing the capability claim for \"{}\"",
            quote_input(&invocation.operation)
        ));
    }
    if inner.policy.read().is_some() {
        let request = PolicyRequest::Invoke {
            source: origin.public_key.clone(),
            source_contract_id: origin.contract_id.clone(),
            target: target.clone(),
            operation: invocation.operation.clone(),
        };
        check_policy(inner, &request)
            .await
            .map_err(|e| e.to_string())?;
    }
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

/// Asks the policy callback, when one is installed.
pub(crate) async fn check_policy(inner: &HostInner, request: &PolicyRequest) -> Result<()> {
    let policy = inner.policy.read().clone();
    match policy {
        None => Ok(()),
        Some(policy) => match policy.evaluate(request).await {
            PolicyDecision::Permit => Ok(()),
            PolicyDecision::Deny(reason) => {
                Err(Error::denied(format!("denied by policy: {reason}")))
            }
        },
    }
}

fn publish_invocation_event(
    inner: &HostInner,
    source: &WasmCloudEntity,
    dest: &WasmCloudEntity,
    operation: &str,
    bytes: usize,
    succeeded: bool,
) {
    let entity = |e: &WasmCloudEntity| InvocationEntity {
        public_key: e.public_key.clone(),
        contract_id: Some(e.contract_id.clone()),
        link_name: Some(e.link_name.clone()),
    };
    let data = InvocationEvent {
        source: entity(source),
        dest: entity(dest),
        operation: quote_input(operation).into_owned(),
        bytes: bytes as u64,
    };
    inner.events.publish(if succeeded {
        EventData::InvocationSucceeded(data)
    } else {
        EventData::InvocationFailed(data)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_keys_are_recognised_by_shape() {
        assert!(is_actor_key(
            "MBCFOPM6JW2APJLXJD3Z5O4CN7CPYJ2B4FTKLJUR5YR5MITIU7HD3WD5"
        ));
        assert!(!is_actor_key(
            "VAG3QITQQ2ODAOWB5TTQSDJ53XK3SHBEIFNK4AYJ5RKAX2UNSCAPHA5M"
        ));
        assert!(!is_actor_key("wasmhost/pong"));
        assert!(!is_actor_key(
            "Mbcfopm6jw2apjlxjd3z5o4cn7cpyj2b4ftkljur5yr5mitiu7hd3wd5"
        ));
    }
}
