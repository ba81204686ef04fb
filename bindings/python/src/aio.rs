//! Resolving asyncio futures from Rust: a tokio task computes the result, then hands it to the
//! future's own loop with `loop.call_soon_threadsafe` (asyncio futures are not thread-safe).

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

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

    /// Sets the result now: only on the loop's own thread.
    fn resolve_here(self, py: Python<'_>, outcome: PyResult<Py<PyAny>>) {
        let (ok, value) = match outcome {
            Ok(v) => (true, v),
            Err(e) => (false, e.into_value(py).into_any()),
        };
        let resolved = py
            .import("wasmhost._aio")
            .and_then(|m| m.getattr("resolve_future"))
            .and_then(|resolver| resolver.call1((self.future, ok, value)).map(drop));
        if let Err(e) = resolved {
            tracing::warn!(error = %e, "could not resolve an async result");
        }
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
            self.event_loop.call_method1(
                py,
                "call_soon_threadsafe",
                (resolver, self.future, ok, value),
            )?;
            Ok(())
        })();
        if let Err(e) = scheduled {
            tracing::debug!(error = %e, "could not deliver an async result (event loop closed?)");
        }
    }
}

/// Like [`spawn_resolving`], but first polls `work` once right here (GIL released, inside the
/// runtime's context). A call that completes at once (a warm local actor) resolves the future
/// without two thread hops; anything still pending continues on the runtime, where the next poll
/// registers a real waker. Must be called on the loop's thread (the Python wrapper ensures it).
pub(crate) fn run_resolving<T, Fut, Conv>(
    py: Python<'_>,
    target: LoopFuture,
    work: Fut,
    convert: Conv,
) where
    T: Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
    Conv: FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
{
    let mut work = Box::pin(work);
    let first = py.detach(|| {
        let _context = runtime().enter();
        pin!(&mut work).poll(&mut Context::from_waker(Waker::noop()))
    });
    match first {
        Poll::Ready(output) => {
            let outcome = convert(py, output);
            target.resolve_here(py, outcome);
        }
        Poll::Pending => spawn_resolving(target, work, convert),
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
