//! Small conversions at the Python edge.

use std::collections::HashMap;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView};

/// The bytes of a `bytes`, `bytearray` or `memoryview` argument; `str` and others are a `TypeError`.
pub(crate) fn bytes_arg(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<u8>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    if obj.cast::<PyMemoryView>().is_ok() {
        let b = obj.py().get_type::<PyBytes>().call1((obj,))?;
        return Ok(b.cast::<PyBytes>()?.as_bytes().to_vec());
    }
    Err(PyTypeError::new_err(format!(
        "{what} must be bytes, bytearray or memoryview, not {}",
        obj.get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".into())
    )))
}

/// `None` → empty map; otherwise a `dict[str, str]`.
pub(crate) fn string_map(obj: Option<&Bound<'_, PyAny>>) -> PyResult<HashMap<String, String>> {
    match obj {
        None => Ok(HashMap::new()),
        Some(o) if o.is_none() => Ok(HashMap::new()),
        Some(o) => o
            .extract()
            .map_err(|_| PyTypeError::new_err("expected a dict of str to str")),
    }
}
