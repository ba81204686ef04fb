//! Lattice events: the same CloudEvents JSON as on `wasmbus.evt.{lattice}`, delivered to in-process
//! subscribers and, when the host is in a NATS lattice, to the transport.

use std::sync::Arc;

use parking_lot::RwLock;
use tokio::sync::broadcast;
use wasmhost_protocol::event_data::EventData;
use wasmhost_protocol::events::CloudEvent;

use crate::lattice::LatticeTransport;

/// How many events a slow subscriber may fall behind before it misses some.
pub(crate) const EVENT_BUFFER: usize = 4096;

/// A stream of lattice events for one subscriber. Events published while the subscriber was too far
/// behind are skipped (a warning says how many); the stream ends when the host stops.
pub struct EventStream {
    rx: broadcast::Receiver<Arc<CloudEvent>>,
}

impl EventStream {
    pub(crate) fn from_receiver(rx: broadcast::Receiver<Arc<CloudEvent>>) -> Self {
        EventStream { rx }
    }

    /// The next event, or `None` once the host has stopped and every event was read.
    pub async fn next(&mut self) -> Option<Arc<CloudEvent>> {
        loop {
            match self.rx.recv().await {
                Ok(event) => return Some(event),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "event subscriber fell behind")
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The next event if one is ready now, without waiting.
    pub fn try_next(&mut self) -> Option<Arc<CloudEvent>> {
        loop {
            match self.rx.try_recv() {
                Ok(event) => return Some(event),
                Err(broadcast::error::TryRecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "event subscriber fell behind")
                }
                Err(_) => return None,
            }
        }
    }

    /// Blocking variant of [`EventStream::next`] for threads outside the async runtime (bindings).
    pub fn blocking_next(&mut self) -> Option<Arc<CloudEvent>> {
        loop {
            match self.rx.blocking_recv() {
                Ok(event) => return Some(event),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "event subscriber fell behind")
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

/// Publishes events to subscribers and to the lattice.
pub(crate) struct EventBus {
    source: String,
    tx: RwLock<Option<broadcast::Sender<Arc<CloudEvent>>>>,
    lattice: RwLock<Option<Arc<dyn LatticeTransport>>>,
}

impl EventBus {
    pub(crate) fn new(source: String) -> Self {
        let (tx, _) = broadcast::channel(EVENT_BUFFER);
        EventBus {
            source,
            tx: RwLock::new(Some(tx)),
            lattice: RwLock::new(None),
        }
    }

    /// Also sends every event to the lattice (called once the NATS transport is attached).
    pub(crate) fn attach_lattice(&self, lattice: Arc<dyn LatticeTransport>) {
        *self.lattice.write() = Some(lattice);
    }

    pub(crate) fn subscribe(&self) -> Option<EventStream> {
        self.tx
            .read()
            .as_ref()
            .map(|tx| EventStream { rx: tx.subscribe() })
    }

    /// Publishes one event.
    pub(crate) fn publish(&self, data: EventData) {
        let event = Arc::new(CloudEvent::from_event_data(&self.source, &data));
        tracing::debug!(event = data.kind(), "lattice event");
        if let Some(lattice) = self.lattice.read().as_ref() {
            lattice.publish_event(event.clone());
        }
        if let Some(tx) = self.tx.read().as_ref() {
            let _ = tx.send(event);
        }
    }

    /// Ends every subscriber's stream (after the events already sent).
    pub(crate) fn close(&self) {
        self.tx.write().take();
        self.lattice.write().take();
    }
}
