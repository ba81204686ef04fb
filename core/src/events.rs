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

/// The JSON of `event` in at most `limit` bytes, so an event never vanishes because a NATS
/// server refuses it: whole when it fits; else with every string in its data cut like any quoted
/// input; else with its data reduced to its top-level scalar fields plus `"truncated": true` and
/// the size it had.
pub(crate) fn fit_event(event: &CloudEvent, limit: usize) -> Vec<u8> {
    let whole = event.to_json_bytes();
    if whole.len() <= limit {
        return whole;
    }
    let mut cut = event.clone();
    cut_strings(&mut cut.data);
    let shorter = cut.to_json_bytes();
    if shorter.len() <= limit {
        return shorter;
    }
    let mut data = serde_json::Map::new();
    if let serde_json::Value::Object(fields) = &cut.data {
        for (key, value) in fields {
            if !(value.is_object() || value.is_array()) {
                data.insert(key.clone(), value.clone());
            }
        }
    }
    data.insert("truncated".into(), true.into());
    data.insert("original_bytes".into(), whole.len().into());
    cut.data = serde_json::Value::Object(data);
    cut.to_json_bytes()
}

fn cut_strings(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => {
            if let std::borrow::Cow::Owned(short) = crate::quote::quote_input(s) {
                *s = short;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(cut_strings),
        serde_json::Value::Object(fields) => fields.values_mut().for_each(cut_strings),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_that_fit_are_sent_whole_and_others_are_cut_to_fit() {
        let small = CloudEvent::new("linkdef_set", "N", json!({"id": "X", "values": {"K": "v"}}));
        assert_eq!(fit_event(&small, 1 << 20), small.to_json_bytes());

        let long = CloudEvent::new(
            "linkdef_set",
            "N",
            json!({"id": "X", "values": {"CERT": "c".repeat(100_000)}}),
        );
        let cut = fit_event(&long, 8192);
        assert!(cut.len() <= 8192);
        let parsed = CloudEvent::from_json_bytes(&cut).unwrap();
        assert!(parsed.data["values"]["CERT"]
            .as_str()
            .unwrap()
            .contains("truncated"));

        let many = CloudEvent::new(
            "host_heartbeat",
            "N",
            json!({"friendly_name": "a-b-1", "actors": vec![json!({"public_key": "M", "instance_id": "i"}); 5000]}),
        );
        let cut = fit_event(&many, 4096);
        assert!(cut.len() <= 4096, "{}", cut.len());
        let parsed = CloudEvent::from_json_bytes(&cut).unwrap();
        assert_eq!(parsed.data["truncated"], true);
        assert_eq!(parsed.data["friendly_name"], "a-b-1");
        assert!(parsed.data["original_bytes"].as_u64().unwrap() > 4096);
        assert_eq!(parsed.id, many.id, "the same event, cut");
    }
}
