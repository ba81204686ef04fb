//! Term conversions at the edge: results, errors, binaries, JSON values, actor and provider info.

use std::collections::HashMap;

use rustler::types::atom::Atom;
use rustler::{Encoder, Env, NewBinary, NifMap, Term};
use wasmhost::{ActorInfo, Error, ProviderInfo};

use crate::atoms;

/// Every core error kind as the atom the NIFs return (tests compare it with `Wasmhost.Error.kinds/0`).
#[rustler::nif]
fn error_kinds(env: Env<'_>) -> Vec<Atom> {
    wasmhost::ErrorKind::ALL
        .iter()
        .filter_map(|kind| Atom::from_str(env, kind.as_str()).ok())
        .collect()
}

/// `{:ok, value}` or `{:error, {kind, message}}` with `kind` one of the core's `ErrorKind` names.
pub(crate) fn result<'a, T: Encoder>(env: Env<'a>, result: Result<T, Error>) -> Term<'a> {
    match result {
        Ok(value) => (atoms::ok(), value).encode(env),
        Err(e) => error(env, &e),
    }
}

/// `:ok` or `{:error, {kind, message}}`.
pub(crate) fn unit<'a>(env: Env<'a>, result: Result<(), Error>) -> Term<'a> {
    match result {
        Ok(()) => atoms::ok().encode(env),
        Err(e) => error(env, &e),
    }
}

/// `{:error, {kind, message}}`.
pub(crate) fn error<'a>(env: Env<'a>, e: &Error) -> Term<'a> {
    (atoms::error(), (kind_atom(env, e), e.message())).encode(env)
}

fn kind_atom(env: Env<'_>, e: &Error) -> Atom {
    // Kind names are short ASCII constants, so the atom always fits; `internal` covers the impossible.
    Atom::from_str(env, e.kind().as_str()).unwrap_or_else(|_| rustler::types::atom::error())
}

/// Bytes that encode as an Erlang binary (a `Vec<u8>` would encode as a list of integers).
pub(crate) struct Bin(pub Vec<u8>);

impl<'a> rustler::Decoder<'a> for Bin {
    fn decode(term: Term<'a>) -> rustler::NifResult<Self> {
        Ok(Bin(rustler::Binary::from_term(term)?.as_slice().to_vec()))
    }
}

impl Encoder for Bin {
    fn encode<'a>(&self, env: Env<'a>) -> Term<'a> {
        let mut bin = NewBinary::new(env, self.0.len());
        bin.as_mut_slice().copy_from_slice(&self.0);
        Term::from(bin)
    }
}

/// A JSON value as the natural term: objects are maps with string keys, `null` is `nil`.
pub(crate) struct Json(pub serde_json::Value);

impl Encoder for Json {
    fn encode<'a>(&self, env: Env<'a>) -> Term<'a> {
        json_term(env, &self.0)
    }
}

fn json_term<'a>(env: Env<'a>, value: &serde_json::Value) -> Term<'a> {
    use serde_json::Value;
    match value {
        Value::Null => rustler::types::atom::nil().encode(env),
        Value::Bool(b) => b.encode(env),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.encode(env),
            (None, Some(u)) => u.encode(env),
            _ => n.as_f64().unwrap_or(0.0).encode(env),
        },
        Value::String(s) => s.encode(env),
        Value::Array(items) => items
            .iter()
            .map(|item| json_term(env, item))
            .collect::<Vec<_>>()
            .encode(env),
        Value::Object(fields) => {
            let mut map = rustler::types::map::map_new(env);
            for (key, value) in fields {
                // map_put only fails on a non-map, and `map` always is one.
                if let Ok(next) = map.map_put(key.as_str(), json_term(env, value)) {
                    map = next;
                }
            }
            map
        }
    }
}

/// One running instance of an actor.
#[derive(NifMap)]
pub(crate) struct InstanceTerm {
    instance_id: String,
    annotations: HashMap<String, String>,
}

/// A running actor, as `start_actor`, `scale_actor` and `update_actor` return it.
#[derive(NifMap)]
pub(crate) struct ActorTerm {
    public_key: String,
    image_ref: String,
    name: Option<String>,
    issuer: String,
    revision: i32,
    call_alias: Option<String>,
    caps: Vec<String>,
    api_version: i32,
    instances: Vec<InstanceTerm>,
}

impl From<ActorInfo> for ActorTerm {
    fn from(info: ActorInfo) -> Self {
        ActorTerm {
            public_key: info.public_key,
            image_ref: info.image_ref,
            name: info.claims.name().map(String::from),
            issuer: info.claims.issuer().to_string(),
            revision: info.claims.revision(),
            call_alias: info
                .claims
                .call_alias()
                .filter(|a| !a.is_empty())
                .map(String::from),
            caps: info.claims.caps().to_vec(),
            api_version: info.api_version,
            instances: info
                .instances
                .into_iter()
                .map(|i| InstanceTerm {
                    instance_id: i.instance_id,
                    annotations: i.annotations,
                })
                .collect(),
        }
    }
}

/// A running capability provider, as `start_provider` and `providers` return it.
#[derive(NifMap)]
pub(crate) struct ProviderTerm {
    public_key: String,
    link_name: String,
    contract_id: String,
    image_ref: String,
    annotations: HashMap<String, String>,
    name: Option<String>,
    vendor: Option<String>,
    revision: Option<i32>,
    version: Option<String>,
    issuer: String,
    instance_id: String,
    pid: Option<u32>,
    healthy: bool,
    restarts: u32,
}

impl From<ProviderInfo> for ProviderTerm {
    fn from(info: ProviderInfo) -> Self {
        let wascap = info.claims.wascap.as_ref();
        ProviderTerm {
            name: wascap.and_then(|w| w.name.clone()),
            vendor: wascap.map(|w| w.vendor.clone()),
            revision: wascap.and_then(|w| w.rev),
            version: wascap.and_then(|w| w.ver.clone()),
            issuer: info.claims.iss.clone(),
            public_key: info.public_key,
            link_name: info.link_name,
            contract_id: info.contract_id,
            image_ref: info.image_ref,
            annotations: info.annotations,
            instance_id: info.instance_id,
            pid: info.pid,
            healthy: info.healthy,
            restarts: info.restarts,
        }
    }
}
