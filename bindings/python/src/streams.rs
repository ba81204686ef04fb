//! Streams of JSON texts read from Python: blocking with a timeout (waking for Ctrl-C) or awaited.
//! Host events and observer changes are both read this way.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::{PyTimeoutError, PyValueError};
use pyo3::prelude::*;
use tokio::sync::Mutex;

use crate::aio::{spawn_resolving, LoopFuture};
use crate::runtime::runtime;

/// How often a blocking wait wakes up to let Python handle Ctrl-C.
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// A stream whose items cross into Python as JSON text; `None` ends it.
pub(crate) trait JsonStream: Send + 'static {
    fn next_json(&mut self) -> impl Future<Output = Option<String>> + Send;
}

/// The next item of `stream`, `None` at its end; `TimeoutError` once `timeout` seconds pass.
/// Releases the GIL while waiting.
pub(crate) fn next_blocking<S: JsonStream>(
    py: Python<'_>,
    stream: &Arc<Mutex<S>>,
    timeout: Option<f64>,
    what: &str,
) -> PyResult<Option<String>> {
    let deadline = match timeout {
        Some(t) if !(t.is_finite() && t >= 0.0) => {
            return Err(PyValueError::new_err(
                "timeout must be a non-negative number of seconds",
            ))
        }
        Some(t) => Some(tokio::time::Instant::now() + Duration::from_secs_f64(t)),
        None => None,
    };
    loop {
        let slice = match deadline {
            Some(d) => d
                .saturating_duration_since(tokio::time::Instant::now())
                .min(SIGNAL_CHECK),
            None => SIGNAL_CHECK,
        };
        let stream = stream.clone();
        let got = py.detach(|| {
            runtime().block_on(async move {
                let mut s = stream.lock().await;
                tokio::time::timeout(slice, s.next_json()).await
            })
        });
        match got {
            Ok(item) => return Ok(item),
            Err(_) => {
                py.check_signals()?;
                if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
                    return Err(PyTimeoutError::new_err(format!(
                        "no {what} arrived in time"
                    )));
                }
            }
        }
    }
}

/// Resolves `future` (of `event_loop`) with the next item of `stream`, or `None` at its end.
pub(crate) fn next_async<S: JsonStream>(
    stream: &Arc<Mutex<S>>,
    event_loop: Py<PyAny>,
    future: Py<PyAny>,
) {
    let stream = stream.clone();
    spawn_resolving(
        LoopFuture::new(event_loop, future),
        async move { stream.lock().await.next_json().await },
        |py, item| Ok(item.into_pyobject(py)?.into_any().unbind()),
    );
}
