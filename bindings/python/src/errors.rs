//! Core errors to Python exceptions: one class per `wasmhost::ErrorKind`, defined in
//! `wasmhost/errors.py` so a class can also derive from a builtin (`TimeoutError`, `ValueError`).

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use wasmhost::ErrorKind;

/// The Python class name for a core error kind (see `wasmhost/errors.py`).
pub(crate) fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::NotFound => "ActorNotFound",
        ErrorKind::InvalidInput => "InvalidInput",
        ErrorKind::Claims => "ClaimsError",
        ErrorKind::Denied => "PolicyDenied",
        ErrorKind::Timeout => "TimeoutError",
        ErrorKind::Transport => "LatticeError",
        ErrorKind::Runtime => "InvocationError",
        ErrorKind::Stopped => "HostStopped",
        ErrorKind::Internal => "InternalError",
        _ => "WasmhostError",
    }
}

/// Every core error kind with the exception it becomes: `[(kind, exception instance)]`, so the
/// tests can check that no kind falls through to the base class.
#[pyfunction]
pub(crate) fn error_kinds(py: Python<'_>) -> Vec<(&'static str, Py<PyAny>)> {
    ErrorKind::ALL
        .iter()
        .map(|&kind| {
            (
                kind.as_str(),
                exception(py, kind, "probe").into_value(py).into_any(),
            )
        })
        .collect()
}

/// Builds the exception for `kind` with `message`; falls back to `RuntimeError` only if the
/// `wasmhost.errors` module cannot be imported (a broken installation).
pub(crate) fn exception(py: Python<'_>, kind: ErrorKind, message: &str) -> PyErr {
    let built = (|| -> PyResult<PyErr> {
        let class = py.import("wasmhost.errors")?.getattr(class_name(kind))?;
        let value = class.call1((message,))?;
        value.setattr("kind", kind.as_str())?;
        Ok(PyErr::from_value(value))
    })();
    built.unwrap_or_else(|e| {
        PyRuntimeError::new_err(format!("{message} (and wasmhost.errors is unusable: {e})"))
    })
}

/// Converts a core error into its Python exception.
pub(crate) fn to_py(py: Python<'_>, e: &wasmhost::Error) -> PyErr {
    exception(py, e.kind(), e.message())
}

/// `Result<T, wasmhost::Error>` → `PyResult<T>`.
pub(crate) trait IntoPyResult<T> {
    fn py_err(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for wasmhost::Result<T> {
    fn py_err(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py(py, &e))
    }
}
