//! The seam between the host and a lattice transport.
//!
//! The embedded lattice has no transport: control operations are method calls on [`crate::Host`],
//! events go to in-process subscribers, invocations reach local actors and in-process capability
//! handlers. A transport (NATS) adds the rest of the lattice: it carries events out, serves the RPC
//! subjects of the actors running here, sends invocations to actors and providers elsewhere, and
//! shares link definitions and claims. The host decides; the transport carries.

pub(crate) mod nats;

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
    async fn invoke(&self, invocation: Invocation, timeout: Duration) -> Result<InvocationResponse>;

    /// Shares a new or replaced link definition with the lattice.
    async fn put_link(&self, link: &LinkDefinition) -> Result<()>;

    /// Removes a link definition from the lattice.
    async fn delete_link(&self, link: &LinkDefinition) -> Result<()>;

    /// Shares the claims of an actor started here.
    async fn put_claims(&self, claims: &ActorClaims) -> Result<()>;

    /// Records that `image_ref` holds the actor `public_key` (the lattice's refmap).
    async fn put_refmap(&self, image_ref: &str, public_key: &str) -> Result<()> {
        let _ = (image_ref, public_key);
        Ok(())
    }

    /// Flushes and disconnects; called once when the host stops.
    async fn shutdown(&self);
}
