//! Resolving asyncio futures from Rust: a tokio task computes the result, then hands it to the
//! future's own loop with `loop.call_soon_threadsafe` (asyncio futures are not thread-safe).

use std::future::Future;

use pyo3::prelude::*;

use crate::attach::with_python;
use crate::runtime::runtime;

/// A Python future together with the loop that owns it.
pub(crate) struct LoopFuture {
    event_loop: Py<PyAny>,
    future: Py<PyAny>,
}

impl LoopFuture {
    /// Wraps `future`, which belongs to `event_loop`.
    pub(crate) fn new(event_loop: Py<PyAny>, future: Py<PyAny>) -> Self {
        LoopFuture { event_loop, future }
    }

    /// Sets the future's result (`Ok`) or exception (`Err`) on its loop's thread. A cancelled
    /// future is left alone; a closed loop means nobody waits any more, so that error is dropped.
    pub(crate) fn resolve(self, py: Python<'_>, outcome: PyResult<Py<PyAny>>) {
        let (ok, value) = match outcome {
            Ok(v) => (true, v),
            Err(e) => (false, e.into_value(py).into_any()),
        };
        let scheduled = (|| -> PyResult<()> {
            let resolver = py.import("wasmhost._aio")?.getattr("resolve_future")?;
            self.event_loop.call_method1(py, "call_soon_threadsafe", (resolver, self.future, ok, value))?;
            Ok(())
        })();
        if let Err(e) = scheduled {
            tracing::debug!(error = %e, "could not deliver an async result (event loop closed?)");
        }
    }
}

/// Runs `work` on the runtime and resolves `target` with what `convert` makes of its output.
/// Returns immediately; the Python caller awaits the future.
pub(crate) fn spawn_resolving<T, Fut, Conv>(target: LoopFuture, work: Fut, convert: Conv)
where
    T: Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
    Conv: FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
{
    runtime().spawn(async move {
        let output = work.await;
        // At interpreter exit nobody awaits the future any more.
        with_python(|py| {
            let outcome = convert(py, output);
            target.resolve(py, outcome);
        });
    });
}
