//! A Python callable as the host's policy: it sees each request as a dict and answers `None`
//! (permit) or a reason string (deny). Anything else, or an exception, denies: a policy fails closed.

use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use wasmhost::{Policy, PolicyDecision, PolicyRequest};

use crate::attach::with_python;

/// Adapts a Python policy function (already wrapped by `wasmhost/_callbacks.py`).
pub(crate) struct PyPolicy {
    pub(crate) callback: Arc<Py<PyAny>>,
    pub(crate) timeout: Duration,
}

#[async_trait::async_trait]
impl Policy for PyPolicy {
    async fn evaluate(&self, request: &PolicyRequest) -> PolicyDecision {
        let callback = self.callback.clone();
        let request = request.clone();
        let blocking = tokio::task::spawn_blocking(move || {
            with_python(|py| decide(py, &callback, &request)).unwrap_or_else(|| {
                PolicyDecision::Deny("the Python interpreter is shutting down".into())
            })
        });
        match tokio::time::timeout(self.timeout, blocking).await {
            Ok(Ok(decision)) => decision,
            Ok(Err(join)) => PolicyDecision::Deny(format!("the Python policy failed: {join}")),
            Err(_) => PolicyDecision::Deny(format!(
                "the Python policy did not answer within {:?}",
                self.timeout
            )),
        }
    }
}

fn decide(py: Python<'_>, callback: &Py<PyAny>, request: &PolicyRequest) -> PolicyDecision {
    let verdict = request_dict(py, request).and_then(|d| callback.call1(py, (d,)));
    match verdict {
        Err(e) => PolicyDecision::Deny(format!("the Python policy raised {e}")),
        Ok(v) if v.is_none(py) => PolicyDecision::Permit,
        Ok(v) => match v.extract::<String>(py) {
            Ok(reason) => PolicyDecision::Deny(reason),
            Err(_) => PolicyDecision::Deny(
                "the Python policy returned neither None nor a reason string".into(),
            ),
        },
    }
}

fn request_dict<'py>(py: Python<'py>, request: &PolicyRequest) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    match request {
        PolicyRequest::StartActor {
            public_key,
            issuer,
            image_ref,
            capabilities,
        } => {
            d.set_item("kind", "start_actor")?;
            d.set_item("public_key", public_key)?;
            d.set_item("issuer", issuer)?;
            d.set_item("image_ref", image_ref)?;
            d.set_item("capabilities", capabilities.clone())?;
        }
        PolicyRequest::StartProvider {
            public_key,
            issuer,
            image_ref,
            link_name,
            contract_id,
        } => {
            d.set_item("kind", "start_provider")?;
            d.set_item("public_key", public_key)?;
            d.set_item("issuer", issuer)?;
            d.set_item("image_ref", image_ref)?;
            d.set_item("link_name", link_name)?;
            d.set_item("contract_id", contract_id)?;
        }
        PolicyRequest::Invoke {
            source,
            source_contract_id,
            target,
            operation,
        } => {
            d.set_item("kind", "invoke")?;
            d.set_item("source", source)?;
            d.set_item("source_contract_id", source_contract_id)?;
            d.set_item("target", target)?;
            d.set_item("operation", operation)?;
        }
        other => {
            d.set_item("kind", "unknown")?;
            d.set_item("description", format!("{other:?}"))?;
        }
    }
    Ok(d)
}
