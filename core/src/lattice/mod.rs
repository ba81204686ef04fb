//! The seam between the host and a lattice adapter. The host decides; the adapter carries.
//!
//! Two traits, one per direction:
//! * [`LatticeTransport`]: what the host asks of the adapter (publish an event, serve an actor's
//!   RPC subject, send an invocation elsewhere, write the shared link/claims store, talk to a
//!   provider process). Implemented by the NATS adapter ([`nats`]).
//! * [`HostPort`]: what the adapter may ask of the host, and nothing more: who it is, answer a
//!   decoded control request, serve an inbound invocation, apply a change another host made to
//!   the shared state. Implemented by the host (`crate::host::port`).
//!
//! The embedded lattice has no adapter: control operations are method calls on [`crate::Host`],
//! events go to in-process subscribers, invocations reach local actors and in-process capability
//! handlers. [`join`] is the one place that knows which adapter a configuration means.

pub(crate) mod nats;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use wasmhost_protocol::events::CloudEvent;
use wasmhost_protocol::rpc::{Invocation, InvocationResponse, LinkDefinition};
use wasmhost_protocol::subjects::CtlRequestKind;

use crate::config::NatsConfig;
use crate::Result;

/// What a lattice adapter does for the host. Every method is called from the async runtime and
/// must not block it.
#[async_trait::async_trait]
pub(crate) trait LatticeTransport: Send + Sync + 'static {
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

    /// Writes a new or replaced link definition to the lattice's store and pushes it to the
    /// provider processes it names.
    async fn put_link(&self, link: &LinkDefinition) -> Result<()>;

    /// Sends a link to the provider processes it names again (`linkdefs.put`, LATTICE.md §4.3),
    /// without touching the lattice's store; best effort.
    async fn deliver_link(&self, link: &LinkDefinition);

    /// Removes a link definition from the lattice's store and tells its providers.
    async fn delete_link(&self, link: &LinkDefinition) -> Result<()>;

    /// Writes the claims of an actor or provider started here (the flat `get.claims` map of
    /// LATTICE.md §1.5, `sub` being its public key) to the lattice's store, in the background and
    /// retried until the store answers.
    fn share_claims(&self, claims: HashMap<String, String>);

    /// Writes that `image_ref` holds `public_key` (the lattice's refmap), like [`Self::share_claims`].
    fn share_refmap(&self, image_ref: &str, public_key: &str);

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

/// Who the host is, as far as an adapter needs to know to subscribe its subjects.
#[derive(Debug, Clone)]
pub(crate) struct HostIdentity {
    /// The host's public key (N...).
    pub(crate) host_id: String,
    /// The lattice id.
    pub(crate) lattice: String,
    /// Control subject prefix, `{ctl_topic_prefix}.{lattice}` (e.g. `wasmbus.ctl.default`).
    pub(crate) ctl_prefix: String,
}

/// A control-interface request the adapter decoded from its subject (LATTICE.md §1).
#[derive(Debug, Clone)]
pub(crate) struct ControlRequest {
    /// What the subject asks for.
    pub(crate) kind: CtlRequestKind,
    /// The JSON body, unparsed: malformed bodies get the host's failure ack.
    pub(crate) body: Bytes,
    /// Largest reply the adapter can send (the server's `max_payload`); a reply that would be
    /// larger is replaced by a failure ack that says so.
    pub(crate) reply_limit: usize,
}

/// A change to the lattice's shared state made elsewhere (another host, or a client that writes
/// the store directly), as the adapter read it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RemoteChange {
    /// A link definition was put.
    LinkPut(LinkDefinition),
    /// The link definition with this deterministic id was deleted.
    LinkDeleted { id: String },
    /// Claims (the flat `get.claims` map, with `sub`) were put.
    ClaimsPut(HashMap<String, String>),
    /// The claims of this public key were deleted.
    ClaimsDeleted { public_key: String },
    /// An image reference was recorded as holding a public key.
    RefmapPut {
        image_ref: String,
        public_key: String,
    },
}

/// What an adapter may ask of the host. Implemented by the host; the adapter holds it without
/// keeping the host alive (calls on a stopped host answer as a stopped host would).
#[async_trait::async_trait]
pub(crate) trait HostPort: Send + Sync + 'static {
    /// Who the host is.
    fn identity(&self) -> &HostIdentity;

    /// Answers a control request: the reply body, or `None` when the host stays silent (an
    /// auction it does not qualify for, a host that is gone).
    async fn control(&self, request: ControlRequest) -> Option<Vec<u8>>;

    /// Serves an invocation that arrived for an actor running here (already de-chunked).
    /// Failures are in the response's `error`.
    async fn serve(&self, invocation: Invocation) -> InvocationResponse;

    /// Applies a change to the shared state made elsewhere.
    fn apply_remote(&self, change: RemoteChange);
}

/// Joins the lattice the configuration names: today NATS, the only adapter.
pub(crate) async fn join(
    config: &NatsConfig,
    port: Arc<dyn HostPort>,
) -> Result<Arc<dyn LatticeTransport>> {
    let transport: Arc<dyn LatticeTransport> = nats::NatsTransport::start(port, config).await?;
    Ok(transport)
}
