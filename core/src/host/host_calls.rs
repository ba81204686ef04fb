//! An actor's `__host_call` (LATTICE.md §3.5): builtins, capability contracts (a linked provider in
//! the lattice, or an in-process handler), and other actors by key or call alias.

use bytes::Bytes;
use wasmhost_protocol::rpc::{Invocation, WasmCloudEntity};

use super::invoke::{call_actor, is_actor_key, Caller};
use super::HostInner;
use crate::actor::context::{ActorContext, HostCallRouter};
use crate::builtins;
use crate::capability::CapabilityCall;
use crate::quote::quote_input;
use crate::ErrorKind;

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
                    "Invocation not authorized: missing capability claim for {}",
                    quote_input(namespace)
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
            match self.lattice_view.resolve_alias(namespace) {
                Some(pk) => pk,
                None => {
                    return Err(format!(
                        "Call alias not found: {} on {}",
                        quote_input(namespace),
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
                "Invocation not authorized: missing capability claim for {}",
                quote_input(contract_id)
            ));
        }
        let link = self.links.get(&actor.public_key, contract_id, link_name);
        if let (Some(link), Some(lattice)) = (&link, self.transport()) {
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
            "Invocation not authorized: missing link definition for {} on {}",
            quote_input(contract_id),
            self.config.lattice
        ))
    }
}
