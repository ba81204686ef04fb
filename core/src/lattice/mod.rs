//! The seam between the host and a lattice transport.
//!
//! The embedded lattice has no transport: control operations are method calls on [`crate::Host`],
//! events go to in-process subscribers, invocations reach local actors and in-process capability
//! handlers. A transport (NATS) adds the rest of the lattice: it carries events out, serves the RPC
//! subjects of the actors running here, sends invocations to actors and providers elsewhere, and
//! shares link definitions and claims. The host decides; the transport carries.

pub(crate) mod nats;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use wasmhost_protocol::claims::ActorClaims;
use wasmhost_protocol::events::CloudEvent;
use wasmhost_protocol::rpc::{Invocation, InvocationResponse, LinkDefinition};

use crate::Result;

/// What a lattice transport does for the host. Every method is called from the async runtime and
/// must not block it.
#[async_trait::async_trait]
pub trait LatticeTransport: Send + Sync + 'static {
    /// Publishes a lifecycle event (`wasmbus.evt.{lattice}`); fire-and-forget, never fails the caller.
    fn publish_event(&self, event: Arc<CloudEvent>);

    /// The actor has at least one instance here: serve its RPC subject.
    async fn actor_available(&self, public_key: &str) -> Result<()>;

    /// The actor's last instance stopped: stop serving its RPC subject.
    async fn actor_unavailable(&self, public_key: &str) -> Result<()>;

    /// Sends `invocation` to its target elsewhere in the lattice (an actor on another host, or a
    /// provider) and waits up to `timeout` for the response.
    async fn invoke(&self, invocation: Invocation, timeout: Duration)
        -> Result<InvocationResponse>;

    /// Shares a new or replaced link definition with the lattice.
    async fn put_link(&self, link: &LinkDefinition) -> Result<()>;

    /// Sends a link to the provider processes it names again (`linkdefs.put`, LATTICE.md §4.3),
    /// without touching the lattice's store; best effort.
    async fn deliver_link(&self, link: &LinkDefinition);

    /// Removes a link definition from the lattice.
    async fn delete_link(&self, link: &LinkDefinition) -> Result<()>;

    /// Shares the claims of an actor or provider started here: the flat `get.claims` map of
    /// LATTICE.md §1.5, `sub` being its public key.
    async fn put_claims(&self, claims: HashMap<String, String>) -> Result<()>;

    /// Records that `image_ref` holds the actor `public_key` (the lattice's refmap).
    async fn put_refmap(&self, image_ref: &str, public_key: &str) -> Result<()> {
        let _ = (image_ref, public_key);
        Ok(())
    }

    /// Asks a provider process for its health (LATTICE.md §4.4). `Ok` when it answered within
    /// `timeout`: any reply counts as healthy.
    async fn provider_health(
        &self,
        public_key: &str,
        link_name: &str,
        timeout: Duration,
    ) -> Result<()>;

    /// Asks the provider instance that `host_id` runs to shut down (LATTICE.md §4.5); `Ok` when it
    /// acknowledged within `timeout`.
    async fn provider_shutdown(
        &self,
        public_key: &str,
        link_name: &str,
        host_id: &str,
        timeout: Duration,
    ) -> Result<()>;

    /// Every host's events: a subscription to `wasmbus.evt.{lattice}` that ends when the host stops.
    async fn subscribe_events(&self) -> Result<crate::EventStream>;

    /// Flushes and disconnects; called once when the host stops.
    async fn shutdown(&self);
}

/// The `get.claims` map of an actor (§1.5) plus the v0.60 `contract_id` (empty for actors).
pub(crate) fn actor_claims_map(claims: &ActorClaims) -> HashMap<String, String> {
    let mut map = claims.claims_map();
    map.insert("contract_id".into(), String::new());
    map
}
