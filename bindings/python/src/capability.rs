//! Python functions as in-process capability handlers: the actor's host call runs the function on a
//! blocking thread (never on a runtime worker), with the GIL, and its bytes go back to the actor.

use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use wasmhost::{CapabilityCall, CapabilityHandler};

use crate::attach::with_python;

/// One host call from an actor, as the Python handler sees it.
#[pyclass(frozen, name = "CapabilityCall", module = "wasmhost._native")]
pub(crate) struct PyCapabilityCall {
    call: CapabilityCall,
}

#[pymethods]
impl PyCapabilityCall {
    /// Public key (M...) of the calling actor.
    #[getter]
    fn actor_id(&self) -> &str {
        &self.call.actor_id
    }
    /// Contract id the actor named, e.g. `wasmcloud:keyvalue`.
    #[getter]
    fn contract_id(&self) -> &str {
        &self.call.contract_id
    }
    /// Link name the actor named.
    #[getter]
    fn link_name(&self) -> &str {
        &self.call.link_name
    }
    /// Operation, e.g. `KeyValue.Increment`.
    #[getter]
    fn operation(&self) -> &str {
        &self.call.operation
    }
    /// The encoded argument (msgpack for the standard contracts).
    #[getter]
    fn payload<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.call.payload)
    }
    fn __repr__(&self) -> String {
        format!(
            "CapabilityCall(actor_id={:?}, contract_id={:?}, link_name={:?}, operation={:?}, payload=<{} bytes>)",
            self.call.actor_id,
            self.call.contract_id,
            self.call.link_name,
            self.call.operation,
            self.call.payload.len()
        )
    }
}

/// Adapts a Python callable `(CapabilityCall) -> bytes` to the core's handler trait. The Python
/// side (`wasmhost/_callbacks.py`) has already wrapped async functions into sync ones.
pub(crate) struct PyCapability {
    pub(crate) handler: Arc<Py<PyAny>>,
    /// A handler that never returns must not hold the actor forever.
    pub(crate) timeout: Duration,
}

#[async_trait::async_trait]
impl CapabilityHandler for PyCapability {
    async fn handle(&self, call: CapabilityCall) -> Result<Vec<u8>, String> {
        let handler = self.handler.clone();
        let operation = call.operation.clone();
        let blocking = tokio::task::spawn_blocking(move || {
            with_python(|py| invoke(py, &handler, call))
                .unwrap_or_else(|| Err("the Python interpreter is shutting down".into()))
        });
        match tokio::time::timeout(self.timeout, blocking).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(join)) => Err(format!(
                "the Python capability handler for {operation} failed: {join}"
            )),
            Err(_) => Err(format!(
                "the Python capability handler for {operation} did not answer within {:?}",
                self.timeout
            )),
        }
    }
}

fn invoke(py: Python<'_>, handler: &Py<PyAny>, call: CapabilityCall) -> Result<Vec<u8>, String> {
    let reply = handler
        .call1(py, (PyCapabilityCall { call },))
        .map_err(|e| e.to_string())?;
    let reply = reply.bind(py);
    match reply.cast::<PyBytes>() {
        Ok(bytes) => Ok(bytes.as_bytes().to_vec()),
        Err(_) => Err(format!(
            "TypeError: a capability handler must return bytes, not {}",
            reply
                .get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_else(|_| "?".into())
        )),
    }
}
