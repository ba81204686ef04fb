//! `LatticeObserver` for Python: the core's live picture of a lattice, as JSON texts that
//! `wasmhost/_observer.py` turns into dicts, and its change stream (blocking or awaited).

use std::sync::Arc;

use pyo3::prelude::*;
use tokio::sync::Mutex;
use wasmhost::observer::{ChangeStream, LatticeObserver, ObserverConfig};

use crate::errors::IntoPyResult;
use crate::host::PyHost;
use crate::runtime::runtime;
use crate::streams::{next_async, next_blocking, JsonStream};

impl JsonStream for ChangeStream {
    async fn next_json(&mut self) -> Option<String> {
        self.next().await.map(|change| change.to_json())
    }
}

#[pyclass(frozen, name = "LatticeObserver", module = "wasmhost._native")]
pub(crate) struct PyObserver {
    observer: LatticeObserver,
}

#[pymethods]
impl PyObserver {
    /// Connects to NATS at `url` and seeds the picture (blocking, GIL released, about
    /// `ping_timeout_ms`); `options_json` as `ObserverConfig::from_json` reads it.
    #[staticmethod]
    fn connect(py: Python<'_>, url: String, options_json: String) -> PyResult<Self> {
        let config = ObserverConfig::from_json(&options_json).py_err(py)?;
        let observer = py
            .detach(|| runtime().block_on(LatticeObserver::connect(&url, config)))
            .py_err(py)?;
        Ok(PyObserver { observer })
    }

    /// Observes the lattice of `host` (`LatticeObserver::for_host`): every host of it over the
    /// host's NATS settings, or the embedded host alone.
    #[staticmethod]
    fn from_host(py: Python<'_>, host: &PyHost, options_json: String) -> PyResult<Self> {
        let config = ObserverConfig::from_json(&options_json).py_err(py)?;
        let host = host.inner().clone();
        let observer = py
            .detach(|| runtime().block_on(LatticeObserver::for_host(&host, config)))
            .py_err(py)?;
        Ok(PyObserver { observer })
    }

    #[getter]
    fn lattice(&self) -> String {
        self.observer.lattice().to_string()
    }

    /// The picture now, as JSON.
    fn snapshot_json(&self) -> String {
        self.observer.snapshot().to_json()
    }

    /// The picture now and the stream of every change after it (apply the changes whose `seq`
    /// is greater than the snapshot's to keep an exact copy).
    fn watch(&self) -> (String, PyChangeStream) {
        let (snapshot, changes) = self.observer.watch();
        (
            snapshot.to_json(),
            PyChangeStream {
                stream: Arc::new(Mutex::new(changes)),
            },
        )
    }
}

/// The changes of an observer's picture; ends when the observer is dropped.
#[pyclass(frozen, name = "ChangeStream", module = "wasmhost._native")]
pub(crate) struct PyChangeStream {
    stream: Arc<Mutex<ChangeStream>>,
}

#[pymethods]
impl PyChangeStream {
    /// The next change's JSON, `None` at the end; `TimeoutError` after `timeout` seconds.
    #[pyo3(signature = (timeout=None))]
    fn next(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<String>> {
        next_blocking(py, &self.stream, timeout, "change")
    }

    /// Resolves `future` (of `event_loop`) with the next change's JSON, or `None` at the end.
    fn next_async(&self, event_loop: Py<PyAny>, future: Py<PyAny>) {
        next_async(&self.stream, event_loop, future)
    }
}
