//! The NATS lattice transport: separate RPC and control connections, the control-interface
//! server, per-actor RPC subscriptions, outbound invocations (chunked when large), lattice events
//! and the `LATTICEDATA` KV bucket. The host decides; this module carries.
//!
//! Choices where LATTICE.md leaves room:
//! * the host starts without waiting for NATS (connections retry forever in the background);
//!   claims and refmaps written while NATS is away are written when it answers;
//! * links, claims and call aliases written to the bucket by anyone (other hosts, newer clients
//!   writing it directly) update this host; only the host that handled a change publishes its
//!   `linkdef_set`/`linkdef_deleted` event and pushes it to the provider, as v0.59 does;

pub(crate) mod control;
mod events;
mod kv;
pub(crate) mod rpc_server;
mod state;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::Client;
use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use wasmhost_protocol::events::CloudEvent;
use wasmhost_protocol::rpc::{Invocation, InvocationResponse, LinkDefinition};
use wasmhost_protocol::subjects;

use crate::config::NatsConfig;
use crate::lattice::{HostPort, LatticeTransport};
use crate::{Error, ErrorKind, Result};

use kv::LatticeData;
use rpc_server::RpcServer;
use wasmhost_nats::ChunkStore;

/// How long a starting host waits for the lattice state (links, claims) before serving anyway.
const CATCH_UP_WAIT: Duration = Duration::from_secs(5);
/// How long a starting host waits for NATS before it gives up waiting for the catch-up
/// (it still joins when the server comes).
const CONNECT_WAIT: Duration = Duration::from_secs(3);
/// Pause between attempts of a bucket write while NATS does not answer.
const WRITE_RETRY: Duration = Duration::from_secs(1);
/// Longest wait for queued events and the final flush when the host stops.
pub(super) const SHUTDOWN_WAIT: Duration = Duration::from_secs(2);

pub(crate) fn transport_error(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Transport, message)
}

/// The largest message `client`'s server accepts; unknown (0) before the first connect, when
/// nothing is sent anyway: then unbounded.
pub(crate) fn max_payload(client: &Client) -> usize {
    match client.server_info().max_payload {
        0 => usize::MAX,
        n => n,
    }
}

/// The host's membership in a NATS lattice.
pub(crate) struct NatsTransport {
    lattice: String,
    rpc: Client,
    ctl: Client,
    chunks: Arc<ChunkStore>,
    data: Arc<LatticeData>,
    rpc_server: RpcServer,
    events: Mutex<Option<mpsc::UnboundedSender<Arc<CloudEvent>>>>,
    event_task: Mutex<Option<JoinHandle<()>>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl NatsTransport {
    /// Connects (in the background when the server is not up yet), starts the control server and
    /// the lattice state sync, and waits briefly for the catch-up. Fails only on invalid settings.
    pub(crate) async fn start(
        port: Arc<dyn HostPort>,
        nats: &NatsConfig,
    ) -> Result<Arc<NatsTransport>> {
        let identity = port.identity().clone();
        let (lattice, id) = (identity.lattice.clone(), identity.host_id.clone());
        nats.check()?;
        let rpc = wasmhost_nats::connect(&nats.rpc, &format!("wasmhost {id} rpc")).await?;
        let ctl = wasmhost_nats::connect(&nats.ctl, &format!("wasmhost {id} ctl")).await?;
        let js_domain = nats.js_domain.as_deref();
        let chunks = Arc::new(ChunkStore::for_client(
            &rpc,
            &lattice,
            js_domain,
            nats.replicas,
        ));
        let data = Arc::new(LatticeData::new(
            wasmhost_nats::stores::jetstream(&ctl, js_domain),
            &lattice,
            nats.replicas,
        ));
        let (events_tx, event_task) = events::spawn_publisher(ctl.clone(), &lattice);
        let control = control::spawn(ctl.clone(), port.clone()).await?;
        let (synced_tx, synced_rx) = oneshot::channel();
        let sync = tokio::spawn(state::run_sync(data.clone(), port.clone(), synced_tx));
        let transport = Arc::new(NatsTransport {
            rpc_server: RpcServer::new(rpc.clone(), chunks.clone(), &lattice, port),
            lattice,
            rpc,
            ctl,
            chunks,
            data,
            events: Mutex::new(Some(events_tx)),
            event_task: Mutex::new(Some(event_task)),
            tasks: Mutex::new(vec![control, sync]),
        });
        transport.wait_for_catch_up(synced_rx).await;
        Ok(transport)
    }

    /// Runs a bucket write in the background, retrying every second until it succeeds or the
    /// host stops (the task is aborted with the others).
    fn spawn_write<F, Fut>(&self, what: String, write: F)
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<()>> + Send,
    {
        self.spawn_task(async move {
            loop {
                match write().await {
                    Ok(()) => return,
                    Err(e) => {
                        tracing::debug!(what, error = %e, "lattice bucket write failed; retrying")
                    }
                }
                tokio::time::sleep(WRITE_RETRY).await;
            }
        });
    }

    fn spawn_task(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        let task = tokio::spawn(task);
        let mut tasks = self.tasks.lock();
        tasks.retain(|t| !t.is_finished());
        tasks.push(task);
    }

    /// Tells every instance of the linked provider in the lattice (LATTICE.md §4.3: msgpack, no
    /// queue group, no reply); only the host that handled the change does this.
    async fn push_to_provider(&self, subject: String, link: &LinkDefinition) {
        if let Err(e) = self
            .rpc
            .publish(subject.clone(), link.encode().into())
            .await
        {
            tracing::warn!(%subject, error = %e, "could not push a link definition to its provider");
        }
    }

    /// A request on the RPC connection (where providers listen) with its own timeout.
    async fn request(
        &self,
        subject: String,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<async_nats::Message> {
        match tokio::time::timeout(timeout, self.rpc.request(subject.clone(), body.into())).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(e)) => Err(transport_error(format!("request to {subject} failed: {e}"))),
            Err(_) => Err(Error::new(
                ErrorKind::Timeout,
                format!("no reply on {subject} within {timeout:?}"),
            )),
        }
    }

    async fn wait_for_catch_up(&self, mut synced: oneshot::Receiver<()>) {
        let started = Instant::now();
        loop {
            tokio::select! {
                _ = &mut synced => break,
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
            let connected = self.ctl.connection_state() == async_nats::connection::State::Connected;
            if started.elapsed() > CATCH_UP_WAIT || (!connected && started.elapsed() > CONNECT_WAIT)
            {
                tracing::warn!(lattice = %self.lattice, "lattice state not loaded yet; the host starts now and catches up when NATS answers");
                return;
            }
        }
        // The server has seen our subscriptions once the flush returns: the host answers from now on.
        for client in [&self.ctl, &self.rpc] {
            let _ = tokio::time::timeout(SHUTDOWN_WAIT, client.flush()).await;
        }
    }
}

/// The OTP host's health request: msgpack `{"placeholder": true}` (§4.4; providers ignore it).
fn health_request_body() -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct HealthRequest {
        placeholder: bool,
    }
    rmp_serde::to_vec_named(&HealthRequest { placeholder: true })
        .expect("a one-field map always encodes")
}

impl Drop for NatsTransport {
    /// A host dropped without `stop` must not leave subscriptions answering for it.
    fn drop(&mut self) {
        for task in self.tasks.get_mut().drain(..) {
            task.abort();
        }
        if let Some(task) = self.event_task.get_mut().take() {
            task.abort();
        }
        self.rpc_server.abort_all();
    }
}

#[async_trait::async_trait]
impl LatticeTransport for NatsTransport {
    fn publish_event(&self, event: Arc<CloudEvent>) {
        if let Some(tx) = self.events.lock().as_ref() {
            let _ = tx.send(event);
        }
    }

    async fn actor_available(&self, public_key: &str) -> Result<()> {
        self.rpc_server.serve(public_key).await
    }

    async fn actor_unavailable(&self, public_key: &str) -> Result<()> {
        self.rpc_server.stop_serving(public_key).await;
        Ok(())
    }

    async fn invoke(
        &self,
        invocation: Invocation,
        timeout: Duration,
    ) -> Result<InvocationResponse> {
        Ok(
            wasmhost_nats::invoke(&self.rpc, &self.chunks, &self.lattice, invocation, timeout)
                .await?,
        )
    }

    async fn put_link(&self, link: &LinkDefinition) -> Result<()> {
        self.data.put_link(link).await?;
        self.push_to_provider(
            subjects::provider_linkdefs_put(&self.lattice, &link.provider_id, &link.link_name),
            link,
        )
        .await;
        Ok(())
    }

    async fn deliver_link(&self, link: &LinkDefinition) {
        self.push_to_provider(
            subjects::provider_linkdefs_put(&self.lattice, &link.provider_id, &link.link_name),
            link,
        )
        .await;
    }

    async fn delete_link(&self, link: &LinkDefinition) -> Result<()> {
        self.data.delete_link(link).await?;
        self.push_to_provider(
            subjects::provider_linkdefs_del(&self.lattice, &link.provider_id, &link.link_name),
            link,
        )
        .await;
        Ok(())
    }

    /// Written in the background, retried until NATS answers (the host knows them at once).
    fn share_claims(&self, map: HashMap<String, String>) {
        let public_key = map.get("sub").cloned().unwrap_or_default();
        let data = self.data.clone();
        self.spawn_write(format!("claims of {public_key}"), move || {
            let (data, map) = (data.clone(), map.clone());
            async move { data.put_claims(&map).await }
        });
    }

    /// Like [`NatsTransport::share_claims`].
    fn share_refmap(&self, image_ref: &str, public_key: &str) {
        let (data, image_ref, public_key) = (
            self.data.clone(),
            image_ref.to_string(),
            public_key.to_string(),
        );
        self.spawn_write(format!("refmap of {image_ref}"), move || {
            let (data, image_ref, public_key) =
                (data.clone(), image_ref.clone(), public_key.clone());
            async move { data.put_refmap(&image_ref, &public_key).await }
        });
    }

    async fn provider_health(
        &self,
        public_key: &str,
        link_name: &str,
        timeout: Duration,
    ) -> Result<()> {
        let subject = subjects::provider_health(&self.lattice, public_key, link_name);
        self.request(subject, health_request_body(), timeout)
            .await
            .map(|_| ())
    }

    async fn provider_shutdown(
        &self,
        public_key: &str,
        link_name: &str,
        host_id: &str,
        timeout: Duration,
    ) -> Result<()> {
        let subject = subjects::provider_shutdown(&self.lattice, public_key, link_name);
        let body = serde_json::json!({ "host_id": host_id }).to_string();
        self.request(subject, body.into_bytes(), timeout)
            .await
            .map(|_| ())
    }

    async fn subscribe_events(&self) -> Result<crate::EventStream> {
        let subject = subjects::events(&self.lattice);
        let mut subscription = self
            .ctl
            .subscribe(subject.clone())
            .await
            .map_err(|e| transport_error(format!("cannot subscribe to {subject}: {e}")))?;
        let (tx, rx) = tokio::sync::broadcast::channel(crate::events::EVENT_BUFFER);
        // Ends (and unsubscribes) when the last reader is gone and the next event comes, or when
        // the host stops (the task is aborted with the others, which ends the readers' streams).
        self.spawn_task(async move {
            use futures::StreamExt;
            while let Some(message) = subscription.next().await {
                match CloudEvent::from_json_bytes(&message.payload) {
                    Ok(event) => {
                        if tx.send(Arc::new(event)).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::debug!(%subject, error = %e, "ignoring a malformed lattice event")
                    }
                }
            }
        });
        Ok(crate::EventStream::from_receiver(rx))
    }

    async fn shutdown(&self) {
        self.rpc_server.stop_all().await;
        for task in self.tasks.lock().drain(..) {
            task.abort();
        }
        // Closing the channel lets the publisher send what is queued (host_stopped last), then end.
        self.events.lock().take();
        let event_task = self.event_task.lock().take();
        if let Some(task) = event_task {
            let _ = tokio::time::timeout(SHUTDOWN_WAIT, task).await;
        }
        for (name, client) in [("control", &self.ctl), ("rpc", &self.rpc)] {
            match tokio::time::timeout(SHUTDOWN_WAIT, client.flush()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!(connection = name, error = %e, "NATS flush on stop failed")
                }
                Err(_) => tracing::warn!(connection = name, "NATS flush on stop timed out"),
            }
        }
    }
}
