//! Core data (actors, providers, claims, links) as plain Python dicts; `wasmhost/_host.py` wraps them in
//! typed classes.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use wasmhost::protocol::claims::ActorClaims;
use wasmhost::protocol::LinkDefinition;
use wasmhost::{ActorInfo, ProviderInfo};

/// `{public_key, issuer, name, caps, tags, revision, version, call_alias, issued_at, expires, not_before}`.
pub(crate) fn claims_dict<'py>(py: Python<'py>, c: &ActorClaims) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("public_key", c.public_key())?;
    d.set_item("issuer", c.issuer())?;
    d.set_item("name", c.name())?;
    d.set_item("caps", c.caps().to_vec())?;
    d.set_item("tags", c.tags().to_vec())?;
    d.set_item("revision", c.revision())?;
    d.set_item("version", c.version())?;
    d.set_item("call_alias", c.call_alias())?;
    d.set_item("issued_at", c.claims.iat)?;
    d.set_item("expires", c.claims.exp)?;
    d.set_item("not_before", c.claims.nbf)?;
    Ok(d)
}

/// `{public_key, image_ref, api_version, claims, instances: [{instance_id, annotations}]}`.
pub(crate) fn actor_dict<'py>(py: Python<'py>, a: &ActorInfo) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("public_key", &a.public_key)?;
    d.set_item("image_ref", &a.image_ref)?;
    d.set_item("api_version", a.api_version)?;
    d.set_item("claims", claims_dict(py, &a.claims)?)?;
    let instances = PyList::empty(py);
    for i in &a.instances {
        let id = PyDict::new(py);
        id.set_item("instance_id", &i.instance_id)?;
        id.set_item("annotations", i.annotations.clone())?;
        instances.append(id)?;
    }
    d.set_item("instances", instances)?;
    Ok(d)
}

/// `{actor_id, provider_id, contract_id, link_name, values}`.
pub(crate) fn link_dict<'py>(py: Python<'py>, l: &LinkDefinition) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("actor_id", &l.actor_id)?;
    d.set_item("provider_id", &l.provider_id)?;
    d.set_item("contract_id", &l.contract_id)?;
    d.set_item("link_name", &l.link_name)?;
    d.set_item("values", l.values.clone())?;
    Ok(d)
}

/// `{public_key, link_name, contract_id, image_ref, annotations, name, vendor, revision, version,
/// issuer, instance_id, pid, healthy, restarts}`.
pub(crate) fn provider_dict<'py>(
    py: Python<'py>,
    p: &ProviderInfo,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let wascap = p.claims.wascap.as_ref();
    d.set_item("public_key", &p.public_key)?;
    d.set_item("link_name", &p.link_name)?;
    d.set_item("contract_id", &p.contract_id)?;
    d.set_item("image_ref", &p.image_ref)?;
    d.set_item("annotations", p.annotations.clone())?;
    d.set_item("name", wascap.and_then(|w| w.name.clone()))?;
    d.set_item("vendor", wascap.map(|w| w.vendor.clone()))?;
    d.set_item("revision", wascap.and_then(|w| w.rev))?;
    d.set_item("version", wascap.and_then(|w| w.ver.clone()))?;
    d.set_item("issuer", &p.claims.iss)?;
    d.set_item("instance_id", &p.instance_id)?;
    d.set_item("pid", p.pid)?;
    d.set_item("healthy", p.healthy)?;
    d.set_item("restarts", p.restarts)?;
    Ok(d)
}
