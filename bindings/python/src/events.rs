//! Lattice events for Python: a stream read blocking or awaited, and callback subscriptions.
//! Events cross as their CloudEvents JSON text; `wasmhost/_host.py` turns it into `Event`.

use std::sync::Arc;

use pyo3::prelude::*;
use tokio::sync::{Mutex, Notify};
use wasmhost::protocol::CloudEvent;
use wasmhost::EventStream;

use crate::attach::with_python;
use crate::runtime::runtime;
use crate::streams::{next_async, next_blocking, JsonStream};

fn to_json(event: &CloudEvent) -> String {
    serde_json::to_string(event)
        .unwrap_or_else(|e| format!("{{\"error\":\"unserializable event: {e}\"}}"))
}

/// One subscriber's event stream; ends (returns `None`) once the host has stopped.
#[pyclass(frozen, name = "EventStream", module = "wasmhost._native")]
pub(crate) struct PyEventStream {
    stream: Arc<Mutex<EventStream>>,
}

impl PyEventStream {
    pub(crate) fn new(stream: EventStream) -> Self {
        PyEventStream {
            stream: Arc::new(Mutex::new(stream)),
        }
    }
}

impl JsonStream for EventStream {
    async fn next_json(&mut self) -> Option<String> {
        self.next().await.map(|e| to_json(&e))
    }
}

#[pymethods]
impl PyEventStream {
    /// The next event's JSON, `None` at the end of the stream; raises `TimeoutError` when `timeout`
    /// (seconds) passes first. Releases the GIL while waiting.
    #[pyo3(signature = (timeout=None))]
    fn next(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<String>> {
        next_blocking(py, &self.stream, timeout, "event")
    }

    /// Resolves `future` (of `event_loop`) with the next event's JSON, or `None` at the end.
    fn next_async(&self, event_loop: Py<PyAny>, future: Py<PyAny>) {
        next_async(&self.stream, event_loop, future)
    }
}

/// A running `on_event` callback; `close()` stops it. It also ends when the host stops.
#[pyclass(frozen, name = "Subscription", module = "wasmhost._native")]
pub(crate) struct PySubscription {
    cancel: Arc<Notify>,
}

#[pymethods]
impl PySubscription {
    /// Stops delivering events to the callback (events already being delivered finish).
    fn close(&self) {
        self.cancel.notify_one();
    }
}

/// Calls `callback(json)` for every event of `stream`, in order, on a blocking thread.
pub(crate) fn subscribe(stream: EventStream, callback: Py<PyAny>) -> PySubscription {
    let cancel = Arc::new(Notify::new());
    let stop = cancel.clone();
    let callback = Arc::new(callback);
    let mut stream = stream;
    runtime().spawn(async move {
        loop {
            let event = tokio::select! {
                event = stream.next() => event,
                _ = stop.notified() => None,
            };
            let Some(event) = event else { return };
            let callback = callback.clone();
            let json = to_json(&event);
            let delivered = tokio::task::spawn_blocking(move || {
                with_python(|py| {
                    if let Err(e) = callback.call1(py, (json,)) {
                        tracing::warn!(error = %e, "an on_event callback raised");
                    }
                })
                .is_some()
            })
            .await;
            if !matches!(delivered, Ok(true)) {
                return;
            }
        }
    });
    PySubscription { cancel }
}
