//! `wasmhost._native.Host`: one core host, every method a thin call with the GIL released.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};
use wasmhost::protocol::LinkDefinition;
use wasmhost::{ActorSource, ErrorKind, Host, HostConfig};

use crate::aio::{run_resolving, LoopFuture};
use crate::capability::PyCapability;
use crate::convert::{bytes_arg, string_map};
use crate::errors::{exception, to_py, IntoPyResult};
use crate::events::{subscribe, PyEventStream, PySubscription};
use crate::info::{actor_dict, claims_dict, link_dict, provider_dict};
use crate::policy::PyPolicy;
use crate::runtime::runtime;

fn seconds(py: Python<'_>, name: &str, value: f64) -> PyResult<Duration> {
    if !(value.is_finite() && value > 0.0 && value < 1e9) {
        return Err(exception(
            py,
            ErrorKind::InvalidInput,
            &format!("{name} must be a positive number of seconds, got {value}"),
        ));
    }
    Ok(Duration::from_secs_f64(value))
}

fn count_arg(py: Python<'_>, count: i64, min: i64) -> PyResult<u16> {
    if count < min || count > i64::from(u16::MAX) {
        return Err(exception(
            py,
            ErrorKind::InvalidInput,
            &format!("count must be between {min} and {}, got {count}", u16::MAX),
        ));
    }
    Ok(count as u16)
}

/// bytes-like → the module itself; `str` → a path or reference (as the CLI reads it);
/// `os.PathLike` → a file.
fn actor_source(source: &Bound<'_, PyAny>) -> PyResult<ActorSource> {
    if let Ok(s) = source.cast::<PyString>() {
        return Ok(ActorSource::parse(&s.to_cow()?));
    }
    if let Ok(bytes) = bytes_arg(source, "source") {
        return Ok(ActorSource::from(bytes));
    }
    let path: std::path::PathBuf = source
        .py()
        .import("os")?
        .call_method1("fspath", (source,))
        .map_err(|_| {
            pyo3::exceptions::PyTypeError::new_err(
                "source must be bytes, a path or an OCI reference string",
            )
        })?
        .extract()?;
    Ok(ActorSource::File(path))
}

/// A running host. Dropping the last reference to a host that was not stopped stops it in the
/// background (actors stop, `host_stopped` is published).
#[pyclass(frozen, name = "Host", module = "wasmhost._native")]
pub(crate) struct PyHost {
    host: Host,
}

impl PyHost {
    /// The core host, for the other classes of this module (the observer).
    pub(crate) fn inner(&self) -> &Host {
        &self.host
    }
}

impl Drop for PyHost {
    fn drop(&mut self) {
        if !self.host.is_stopped() {
            let host = self.host.clone();
            // Never block here: a finalizer may run on any thread, holding the GIL.
            runtime().spawn(async move {
                if let Err(e) = host.stop().await {
                    tracing::debug!(error = %e, "stop of a garbage-collected host");
                }
            });
        }
    }
}

/// `nats_url=`: one URL (or a comma list) or a list of URLs, tried in order.
fn nats_url_arg(value: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(url) = value.extract::<String>() {
        return Ok(url);
    }
    value
        .extract::<Vec<String>>()
        .map(|urls| urls.join(","))
        .map_err(|_| {
            pyo3::exceptions::PyTypeError::new_err("nats_url must be a str or a list of str")
        })
}

#[pymethods]
impl PyHost {
    /// Starts a host. No `nats_url` = the embedded lattice of one host, no server needed.
    #[new]
    #[pyo3(signature = (*, lattice=None, nats_url=None, host_seed=None, cluster_seed=None, cluster_issuers=None,
        labels=None, friendly_name=None, invocation_timeout=None, rpc_timeout=None, heartbeat_interval=None,
        max_instance_memory=None, max_instances=None, max_payload=None, enable_invocation_events=None,
        oci_allow_latest=None, oci_allowed_insecure=None, from_env=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        lattice: Option<String>,
        nats_url: Option<&Bound<'_, PyAny>>,
        host_seed: Option<String>,
        cluster_seed: Option<String>,
        cluster_issuers: Option<Vec<String>>,
        labels: Option<&Bound<'_, PyAny>>,
        friendly_name: Option<String>,
        invocation_timeout: Option<f64>,
        rpc_timeout: Option<f64>,
        heartbeat_interval: Option<f64>,
        max_instance_memory: Option<usize>,
        max_instances: Option<u32>,
        max_payload: Option<usize>,
        enable_invocation_events: Option<bool>,
        oci_allow_latest: Option<bool>,
        oci_allowed_insecure: Option<Vec<String>>,
        from_env: bool,
    ) -> PyResult<Self> {
        let mut config = if from_env {
            HostConfig::from_env().py_err(py)?
        } else {
            HostConfig::default()
        };
        if let Some(v) = lattice {
            config.lattice = v;
        }
        if let Some(url) = nats_url {
            config = config.with_nats_url(&nats_url_arg(url)?).py_err(py)?;
        }
        if host_seed.is_some() {
            config.host_seed = host_seed;
        }
        if cluster_seed.is_some() {
            config.cluster_seed = cluster_seed;
        }
        if let Some(v) = cluster_issuers {
            config.cluster_issuers = v;
        }
        config.labels.extend(string_map(labels)?);
        if friendly_name.is_some() {
            config.friendly_name = friendly_name;
        }
        if let Some(v) = invocation_timeout {
            config.invocation_timeout = seconds(py, "invocation_timeout", v)?;
        }
        if let Some(v) = rpc_timeout {
            config.rpc_timeout = seconds(py, "rpc_timeout", v)?;
        }
        if let Some(v) = heartbeat_interval {
            config.heartbeat_interval = seconds(py, "heartbeat_interval", v)?;
        }
        if let Some(v) = max_instance_memory {
            config.max_instance_memory = v;
        }
        if let Some(v) = max_instances {
            config.max_instances = v;
        }
        if let Some(v) = max_payload {
            config.max_payload = v;
        }
        if let Some(v) = enable_invocation_events {
            config.enable_invocation_events = v;
        }
        if let Some(v) = oci_allow_latest {
            config.oci_allow_latest = v;
        }
        if let Some(v) = oci_allowed_insecure {
            config.oci_allowed_insecure = v;
        }
        let started = py.detach(|| runtime().block_on(Host::start(config)));
        Ok(PyHost {
            host: started.py_err(py)?,
        })
    }

    /// The host's public key (N...).
    #[getter]
    fn id(&self) -> &str {
        self.host.id()
    }
    /// The lattice id.
    #[getter]
    fn lattice(&self) -> &str {
        self.host.lattice()
    }
    /// The cluster public key (C...) that signs this host's invocations.
    #[getter]
    fn cluster_key(&self) -> String {
        self.host.cluster_key()
    }
    /// The name for humans.
    #[getter]
    fn friendly_name(&self) -> &str {
        self.host.friendly_name()
    }
    /// Labels, `hostcore.*` included.
    #[getter]
    fn labels(&self) -> HashMap<String, String> {
        self.host.labels().clone()
    }
    /// Seconds since start.
    #[getter]
    fn uptime(&self) -> f64 {
        self.host.uptime().as_secs_f64()
    }
    /// Whether `stop()` was called (or the host was collected).
    #[getter]
    fn is_stopped(&self) -> bool {
        self.host.is_stopped()
    }
    /// Per-invocation timeout in seconds (also bounds Python handlers and policies).
    #[getter]
    fn invocation_timeout(&self) -> f64 {
        self.host.config().invocation_timeout.as_secs_f64()
    }

    /// Stops the host gracefully; a second stop raises `HostStopped`.
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        let host = self.host.clone();
        py.detach(|| runtime().block_on(host.stop())).py_err(py)
    }

    /// Starts `count` instances of an actor and returns its description.
    #[pyo3(signature = (source, count=1, annotations=None))]
    fn start_actor<'py>(
        &self,
        py: Python<'py>,
        source: &Bound<'py, PyAny>,
        count: i64,
        annotations: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let source = actor_source(source)?;
        let count = count_arg(py, count, 1)?;
        let annotations = string_map(annotations)?;
        let host = self.host.clone();
        let info = py
            .detach(|| runtime().block_on(host.start_actor(source, count, annotations)))
            .py_err(py)?;
        actor_dict(py, &info)
    }

    /// Sets the number of instances of a running actor (0 stops it).
    #[pyo3(signature = (public_key, count, annotations=None))]
    fn scale_actor<'py>(
        &self,
        py: Python<'py>,
        public_key: String,
        count: i64,
        annotations: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let count = count_arg(py, count, 0)?;
        let annotations = string_map(annotations)?;
        let host = self.host.clone();
        let info = py
            .detach(|| runtime().block_on(host.scale_actor(&public_key, count, annotations)))
            .py_err(py)?;
        actor_dict(py, &info)
    }

    /// Stops `count` instances (0 = all) whose annotations include `annotations`.
    #[pyo3(signature = (public_key, count=0, annotations=None))]
    fn stop_actor(
        &self,
        py: Python<'_>,
        public_key: String,
        count: i64,
        annotations: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let count = count_arg(py, count, 0)?;
        let annotations = string_map(annotations)?;
        let host = self.host.clone();
        py.detach(|| runtime().block_on(host.stop_actor(&public_key, count, annotations)))
            .py_err(py)
    }

    /// Replaces a running actor's module with a newer revision.
    fn update_actor<'py>(
        &self,
        py: Python<'py>,
        public_key: String,
        source: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let source = actor_source(source)?;
        let host = self.host.clone();
        let info = py
            .detach(|| runtime().block_on(host.update_actor(&public_key, source)))
            .py_err(py)?;
        actor_dict(py, &info)
    }

    /// The running actors.
    fn actors<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let host = self.host.clone();
        let all = py.detach(|| host.actors());
        let list = PyList::empty(py);
        for a in &all {
            list.append(actor_dict(py, a)?)?;
        }
        Ok(list)
    }

    /// One running actor by public key or call alias.
    fn actor<'py>(&self, py: Python<'py>, actor: String) -> PyResult<Bound<'py, PyDict>> {
        let host = self.host.clone();
        let info = py.detach(|| host.actor(&actor)).py_err(py)?;
        actor_dict(py, &info)
    }

    /// Claims of every actor this host has seen.
    fn claims<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let host = self.host.clone();
        let all = py.detach(|| host.claims());
        let list = PyList::empty(py);
        for c in &all {
            list.append(claims_dict(py, c)?)?;
        }
        Ok(list)
    }

    /// Starts a capability provider from a provider archive (bytes, a path or an OCI reference)
    /// serving `link_name`; `config` reaches the provider unchanged. Needs a NATS lattice
    /// (`InvalidInput` on an embedded host).
    #[pyo3(signature = (source, link_name="default".to_string(), config=None, annotations=None))]
    fn start_provider<'py>(
        &self,
        py: Python<'py>,
        source: &Bound<'py, PyAny>,
        link_name: String,
        config: Option<String>,
        annotations: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let source = actor_source(source)?;
        let annotations = string_map(annotations)?;
        let host = self.host.clone();
        let info = py
            .detach(|| {
                runtime().block_on(host.start_provider(source, &link_name, config, annotations))
            })
            .py_err(py)?;
        provider_dict(py, &info)
    }

    /// Stops a provider (shutdown request, grace period, then the process group is killed).
    #[pyo3(signature = (public_key, link_name="default".to_string()))]
    fn stop_provider(&self, py: Python<'_>, public_key: String, link_name: String) -> PyResult<()> {
        let host = self.host.clone();
        py.detach(|| runtime().block_on(host.stop_provider(&public_key, &link_name)))
            .py_err(py)
    }

    /// The running providers.
    fn providers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let host = self.host.clone();
        let all = py.detach(|| host.providers());
        let list = PyList::empty(py);
        for p in &all {
            list.append(provider_dict(py, p)?)?;
        }
        Ok(list)
    }

    /// The control interface's inventory, as JSON text.
    fn inventory_json(&self, py: Python<'_>) -> PyResult<String> {
        let host = self.host.clone();
        let inventory = py.detach(|| host.inventory());
        serde_json::to_string(&inventory)
            .map_err(|e| exception(py, ErrorKind::Internal, &e.to_string()))
    }

    /// Invokes `operation` on an actor and returns the reply; the GIL is released meanwhile.
    fn call<'py>(
        &self,
        py: Python<'py>,
        actor: String,
        operation: String,
        payload: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let payload = bytes_arg(payload, "payload")?;
        let host = self.host.clone();
        let reply = py
            .detach(|| runtime().block_on(host.call_actor(&actor, &operation, payload)))
            .py_err(py)?;
        Ok(PyBytes::new(py, &reply))
    }

    /// Like `call`, resolving `future` (owned by `event_loop`) with the reply or the exception.
    /// Must be called on the loop's thread.
    fn call_async(
        &self,
        py: Python<'_>,
        actor: String,
        operation: String,
        payload: &Bound<'_, PyAny>,
        event_loop: Py<PyAny>,
        future: Py<PyAny>,
    ) -> PyResult<()> {
        let payload = bytes_arg(payload, "payload")?;
        let host = self.host.clone();
        run_resolving(
            py,
            LoopFuture::new(event_loop, future),
            async move { host.call_actor(&actor, &operation, payload).await },
            |py, reply| match reply {
                Ok(bytes) => Ok(PyBytes::new(py, &bytes).into_any().unbind()),
                Err(e) => Err(to_py(py, &e)),
            },
        );
        Ok(())
    }

    /// The benchmark baseline of BENCHMARKS.md: `n` sequential `call_actor` round trips driven and
    /// timed inside Rust (no Python per call), in nanoseconds each. Not part of the public API.
    fn _bench_rust_calls(
        &self,
        py: Python<'_>,
        actor: String,
        operation: String,
        payload: &Bound<'_, PyAny>,
        n: usize,
    ) -> PyResult<Vec<u64>> {
        let payload = bytes::Bytes::from(bytes_arg(payload, "payload")?);
        let host = self.host.clone();
        py.detach(|| {
            runtime().block_on(async {
                let mut samples = Vec::with_capacity(n);
                for _ in 0..n {
                    let start = std::time::Instant::now();
                    host.call_actor(&actor, &operation, payload.clone()).await?;
                    samples.push(start.elapsed().as_nanos() as u64);
                }
                Ok(samples)
            })
        })
        .py_err(py)
    }

    /// Puts a link definition (replaces the one for the same actor, contract and link name).
    #[pyo3(signature = (actor_id, provider_id, contract_id, link_name, values=None))]
    fn put_link(
        &self,
        py: Python<'_>,
        actor_id: String,
        provider_id: String,
        contract_id: String,
        link_name: String,
        values: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let link = LinkDefinition {
            actor_id,
            provider_id,
            contract_id,
            link_name,
            values: string_map(values)?,
        };
        let host = self.host.clone();
        py.detach(|| runtime().block_on(host.put_link(link)))
            .py_err(py)
    }

    /// Deletes a link; returns whether it existed.
    fn delete_link(
        &self,
        py: Python<'_>,
        actor_id: String,
        contract_id: String,
        link_name: String,
    ) -> PyResult<bool> {
        let host = self.host.clone();
        py.detach(|| runtime().block_on(host.delete_link(&actor_id, &contract_id, &link_name)))
            .py_err(py)
    }

    /// Every link definition.
    fn links<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let host = self.host.clone();
        let all = py.detach(|| host.links());
        let list = PyList::empty(py);
        for l in &all {
            list.append(link_dict(py, l)?)?;
        }
        Ok(list)
    }

    /// A new event stream, starting with the next event published.
    fn events(&self, py: Python<'_>) -> PyResult<PyEventStream> {
        Ok(PyEventStream::new(self.host.subscribe_events().py_err(py)?))
    }

    /// A new stream of every host's events in the lattice (`wasmbus.evt.{lattice}`), this host's
    /// included; in the embedded lattice that is this host's own. Ends when this host stops.
    fn lattice_events(&self, py: Python<'_>) -> PyResult<PyEventStream> {
        let host = self.host.clone();
        Ok(PyEventStream::new(
            py.detach(|| runtime().block_on(host.subscribe_lattice_events()))
                .py_err(py)?,
        ))
    }

    /// Calls `callback(event_json)` for every event from now on, on a background thread.
    fn on_event(&self, py: Python<'_>, callback: Py<PyAny>) -> PyResult<PySubscription> {
        let stream = self.host.subscribe_events().py_err(py)?;
        Ok(subscribe(stream, callback))
    }

    /// Makes `handler(call) -> bytes` answer actors' host calls to `contract_id`/`link_name`.
    fn register_capability(
        &self,
        py: Python<'_>,
        contract_id: String,
        link_name: String,
        handler: Py<PyAny>,
    ) -> PyResult<()> {
        let timeout = self.host.config().invocation_timeout;
        let handler = Arc::new(PyCapability {
            handler: Arc::new(handler),
            timeout,
        });
        self.host
            .register_capability(&contract_id, &link_name, handler)
            .py_err(py)
    }

    /// Removes a handler; returns whether one was registered.
    fn unregister_capability(&self, contract_id: String, link_name: String) -> bool {
        self.host.unregister_capability(&contract_id, &link_name)
    }

    /// Installs `callback(request_dict) -> None | reason` as the policy, or removes it with `None`.
    fn set_policy(&self, callback: Option<Py<PyAny>>) {
        let timeout = self.host.config().invocation_timeout;
        self.host.set_policy(callback.map(|c| {
            Arc::new(PyPolicy {
                callback: Arc::new(c),
                timeout,
            }) as Arc<dyn wasmhost::Policy>
        }));
    }
}
