//! The host's side of the seam: what a lattice adapter may ask of it ([`HostPort`]).

use std::sync::Weak;

use wasmhost_protocol::rpc::{Invocation, InvocationResponse};
use wasmhost_protocol::subjects;

use super::{Host, HostInner};
use crate::lattice::{ControlRequest, HostIdentity, HostPort, RemoteChange};

/// The port an adapter holds. Weak: the adapter lives inside the host and must not keep it alive;
/// once the host is gone, control requests get no reply and invocations a "stopping" error.
pub(super) struct Port {
    host: Weak<HostInner>,
    identity: HostIdentity,
}

impl Port {
    pub(super) fn new(inner: &std::sync::Arc<HostInner>) -> Port {
        let identity = HostIdentity {
            host_id: inner.id.clone(),
            lattice: inner.config.lattice.clone(),
            ctl_prefix: subjects::ctl_prefix(&inner.config.ctl_topic_prefix, &inner.config.lattice),
        };
        Port {
            host: std::sync::Arc::downgrade(inner),
            identity,
        }
    }

    fn host(&self) -> Option<Host> {
        self.host.upgrade().map(|inner| Host { inner })
    }
}

#[async_trait::async_trait]
impl HostPort for Port {
    fn identity(&self) -> &HostIdentity {
        &self.identity
    }

    async fn control(&self, request: ControlRequest) -> Option<Vec<u8>> {
        let host = self.host()?;
        crate::control::handle(&host, request).await
    }

    async fn serve(&self, invocation: Invocation) -> InvocationResponse {
        match self.host.upgrade() {
            Some(inner) => super::invoke::serve_inbound(&inner, invocation).await,
            None => InvocationResponse::failure(invocation.id, "the host is stopping"),
        }
    }

    fn apply_remote(&self, change: RemoteChange) {
        if let Some(host) = self.host() {
            host.apply_remote(change);
        }
    }
}
