//! Entering Python from the host's own threads, safely around interpreter shutdown.
//!
//! On Python < 3.13 attaching a thread while the interpreter finalizes aborts the process, and
//! pyo3 cannot detect finalization there. The package registers `python_exiting` with `atexit`,
//! which runs before finalization; after it, the host's threads no longer enter Python.

use std::sync::atomic::{AtomicBool, Ordering};

use pyo3::prelude::*;

static EXITING: AtomicBool = AtomicBool::new(false);

/// Runs `f` with the GIL, or returns `None` when Python is shutting down.
pub(crate) fn with_python<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> Option<R> {
    if EXITING.load(Ordering::Acquire) {
        return None;
    }
    Python::try_attach(f)
}

/// Called by `atexit`: from now on, host threads leave Python alone.
#[pyfunction]
pub(crate) fn python_exiting() {
    EXITING.store(true, Ordering::Release);
}
