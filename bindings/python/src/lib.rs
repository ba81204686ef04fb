//! `wasmhost._native`: the pyo3 module under the `wasmhost` Python package. Thin: it converts
//! arguments, releases the GIL around the core's calls and maps errors; the Pythonic surface
//! (context managers, `Actor`, typed results) is in `python/wasmhost/`.

mod aio;
mod attach;
mod capability;
mod convert;
mod errors;
mod events;
mod host;
mod info;
mod logging;
mod msgpack;
mod observer;
mod policy;
mod runtime;
mod streams;

use pyo3::prelude::*;

/// The native half of the `wasmhost` package.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    logging::install();
    m.add("VERSION", wasmhost::VERSION)?;
    m.add_class::<host::PyHost>()?;
    m.add_class::<capability::PyCapabilityCall>()?;
    m.add_class::<events::PyEventStream>()?;
    m.add_class::<events::PySubscription>()?;
    m.add_class::<observer::PyObserver>()?;
    m.add_class::<observer::PyChangeStream>()?;
    m.add_function(wrap_pyfunction!(attach::python_exiting, m)?)?;
    m.add_function(wrap_pyfunction!(logging::set_log_level, m)?)?;
    m.add_function(wrap_pyfunction!(errors::error_kinds, m)?)?;
    m.add_function(wrap_pyfunction!(logging::flush_logs, m)?)?;
    m.add_function(wrap_pyfunction!(msgpack::msgpack_encode, m)?)?;
    m.add_function(wrap_pyfunction!(msgpack::msgpack_decode, m)?)?;
    m.add_function(wrap_pyfunction!(msgpack::encode_http_request, m)?)?;
    m.add_function(wrap_pyfunction!(msgpack::decode_http_request, m)?)?;
    m.add_function(wrap_pyfunction!(msgpack::encode_http_response, m)?)?;
    m.add_function(wrap_pyfunction!(msgpack::decode_http_response, m)?)?;
    Ok(())
}
