//! msgpack for Python values (named-field maps as the 2022 interfaces use), and the HttpServer
//! wire types encoded by the protocol crate so the keys and the `bin` body are exactly right.

use std::collections::HashMap;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyMemoryView, PyString, PyTuple,
};
use rmpv::Value;
use wasmhost::protocol::http::{HttpRequest, HttpResponse};
use wasmhost::ErrorKind;

use crate::convert::bytes_arg;
use crate::errors::exception;

/// Deepest nesting accepted in either direction (keeps a hostile payload off the stack's end).
const MAX_DEPTH: usize = 256;

fn invalid(py: Python<'_>, message: String) -> PyErr {
    exception(py, ErrorKind::InvalidInput, &message)
}

fn to_value(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    let py = obj.py();
    if depth > MAX_DEPTH {
        return Err(invalid(
            py,
            format!("msgpack encode: nested deeper than {MAX_DEPTH} levels"),
        ));
    }
    if obj.is_none() {
        return Ok(Value::Nil);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Boolean(b.is_true()));
    }
    if obj.cast::<PyInt>().is_ok() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Err(invalid(
            py,
            "msgpack encode: integer out of the 64-bit range".into(),
        ));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Ok(Value::F64(f.value()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::from(s.to_cow()?.as_ref()));
    }
    if obj.cast::<PyBytes>().is_ok()
        || obj.cast::<PyByteArray>().is_ok()
        || obj.cast::<PyMemoryView>().is_ok()
    {
        return Ok(Value::Binary(bytes_arg(obj, "value")?));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut pairs = Vec::with_capacity(d.len());
        for (k, v) in d.iter() {
            pairs.push((to_value(&k, depth + 1)?, to_value(&v, depth + 1)?));
        }
        return Ok(Value::Map(pairs));
    }
    if let Ok(l) = obj.cast::<PyList>() {
        return l
            .iter()
            .map(|v| to_value(&v, depth + 1))
            .collect::<PyResult<_>>()
            .map(Value::Array);
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        return t
            .iter()
            .map(|v| to_value(&v, depth + 1))
            .collect::<PyResult<_>>()
            .map(Value::Array);
    }
    Err(PyTypeError::new_err(format!(
        "msgpack encode: cannot encode a {}",
        obj.get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".into())
    )))
}

fn from_value<'py>(py: Python<'py>, value: &Value, depth: usize) -> PyResult<Bound<'py, PyAny>> {
    if depth > MAX_DEPTH {
        return Err(invalid(
            py,
            format!("msgpack decode: nested deeper than {MAX_DEPTH} levels"),
        ));
    }
    Ok(match value {
        Value::Nil => py.None().into_bound(py),
        Value::Boolean(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Integer(i) => match (i.as_i64(), i.as_u64()) {
            (Some(v), _) => v.into_pyobject(py)?.into_any(),
            (None, Some(v)) => v.into_pyobject(py)?.into_any(),
            _ => return Err(invalid(py, "msgpack decode: integer out of range".into())),
        },
        Value::F32(f) => PyFloat::new(py, f64::from(*f)).into_any(),
        Value::F64(f) => PyFloat::new(py, *f).into_any(),
        Value::String(s) => match s.as_str() {
            Some(text) => PyString::new(py, text).into_any(),
            None => PyBytes::new(py, s.as_bytes()).into_any(),
        },
        Value::Binary(b) => PyBytes::new(py, b).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(from_value(py, item, depth + 1)?)?;
            }
            list.into_any()
        }
        Value::Map(pairs) => {
            let dict = PyDict::new(py);
            for (k, v) in pairs {
                let key = from_value(py, k, depth + 1)?;
                dict.set_item(key, from_value(py, v, depth + 1)?)
                    .map_err(|e| invalid(py, format!("msgpack decode: unusable map key: {e}")))?;
            }
            dict.into_any()
        }
        Value::Ext(kind, _) => {
            return Err(invalid(
                py,
                format!("msgpack decode: extension type {kind} is not supported"),
            ))
        }
    })
}

/// Encodes a Python value (None, bool, int, float, str, bytes, list, tuple, dict) as msgpack;
/// `str` becomes a msgpack string and `bytes` a msgpack `bin`.
#[pyfunction]
pub(crate) fn msgpack_encode<'py>(
    py: Python<'py>,
    value: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let value = to_value(value, 0)?;
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &value)
        .map_err(|e| invalid(py, format!("msgpack encode: {e}")))?;
    Ok(PyBytes::new(py, &out))
}

/// Decodes one msgpack value; trailing bytes, truncation and extension types are `InvalidInput`.
#[pyfunction]
pub(crate) fn msgpack_decode<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let bytes = bytes_arg(data, "data")?;
    let mut cursor = &bytes[..];
    let value = rmpv::decode::read_value(&mut cursor)
        .map_err(|e| invalid(py, format!("msgpack decode: {e}")))?;
    if !cursor.is_empty() {
        return Err(invalid(
            py,
            format!(
                "msgpack decode: {} trailing bytes after the value",
                cursor.len()
            ),
        ));
    }
    from_value(py, &value, 0)
}

type Header = HashMap<String, Vec<String>>;

/// Encodes an `HttpServer.HandleRequest` argument.
#[pyfunction]
pub(crate) fn encode_http_request<'py>(
    py: Python<'py>,
    method: String,
    path: String,
    query_string: String,
    header: Header,
    body: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let request = HttpRequest {
        method,
        path,
        query_string,
        header,
        body: bytes_arg(body, "body")?,
    };
    Ok(PyBytes::new(py, &wasmhost::protocol::encode(&request)))
}

/// Decodes an `HttpServer.HandleRequest` argument into `(method, path, query_string, header, body)`.
#[pyfunction]
pub(crate) fn decode_http_request<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
) -> PyResult<(String, String, String, Header, Bound<'py, PyBytes>)> {
    let r: HttpRequest = wasmhost::protocol::decode(&bytes_arg(data, "data")?)
        .map_err(|e| invalid(py, e.to_string()))?;
    Ok((
        r.method,
        r.path,
        r.query_string,
        r.header,
        PyBytes::new(py, &r.body),
    ))
}

/// Encodes an actor's HTTP reply.
#[pyfunction]
pub(crate) fn encode_http_response<'py>(
    py: Python<'py>,
    status_code: u16,
    header: Header,
    body: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let response = HttpResponse {
        status_code,
        header,
        body: bytes_arg(body, "body")?,
    };
    Ok(PyBytes::new(py, &wasmhost::protocol::encode(&response)))
}

/// Decodes an actor's HTTP reply into `(status_code, header, body)`.
#[pyfunction]
pub(crate) fn decode_http_response<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
) -> PyResult<(u16, Header, Bound<'py, PyBytes>)> {
    let r: HttpResponse = wasmhost::protocol::decode(&bytes_arg(data, "data")?)
        .map_err(|e| invalid(py, e.to_string()))?;
    Ok((r.status_code, r.header, PyBytes::new(py, &r.body)))
}
