//! Actor NIFs: start, scale, update, stop, list, and calls.

use std::collections::HashMap;
use std::path::PathBuf;

use rustler::types::atom::Atom;
use rustler::{Binary, Env, ResourceArc, Term};
use wasmhost::{ActorSource, Error, ErrorKind};

use crate::atoms;
use crate::host::HostResource;
use crate::runtime::run;
use crate::terms::{self, ActorTerm, Bin};

/// `{:bytes, module}`, `{:file, path}` or `{:reference, text}` (a `file://` URL, a path or an OCI reference).
fn actor_source(kind: Atom, data: Binary<'_>) -> Result<ActorSource, Error> {
    let text = || {
        std::str::from_utf8(data.as_slice())
            .map(String::from)
            .map_err(|_| {
                Error::new(
                    ErrorKind::InvalidInput,
                    "an actor path or reference must be UTF-8",
                )
            })
    };
    if kind == atoms::bytes() {
        Ok(ActorSource::from(data.as_slice()))
    } else if kind == atoms::file() {
        Ok(ActorSource::File(PathBuf::from(text()?)))
    } else if kind == atoms::reference() {
        Ok(ActorSource::parse(&text()?))
    } else {
        Err(Error::new(
            ErrorKind::InvalidInput,
            "the actor source kind must be :bytes, :file or :reference",
        ))
    }
}

/// Starts `count` instances: `{:ok, actor}` or `{:error, {kind, message}}`.
#[rustler::nif(schedule = "DirtyIo")]
fn actor_start<'a>(
    env: Env<'a>,
    resource: ResourceArc<HostResource>,
    kind: Atom,
    data: Binary<'a>,
    count: u16,
    annotations: HashMap<String, String>,
) -> Term<'a> {
    let host = resource.host.clone();
    let started = actor_source(kind, data)
        .and_then(|source| run(async move { host.start_actor(source, count, annotations).await }));
    terms::result(env, started.map(ActorTerm::from))
}

/// Sets the number of instances (0 stops the actor).
#[rustler::nif(schedule = "DirtyIo")]
fn actor_scale(
    env: Env<'_>,
    resource: ResourceArc<HostResource>,
    actor_id: String,
    count: u16,
    annotations: HashMap<String, String>,
) -> Term<'_> {
    let host = resource.host.clone();
    terms::result(
        env,
        run(async move { host.scale_actor(&actor_id, count, annotations).await })
            .map(ActorTerm::from),
    )
}

/// Stops `count` instances (0 = all) matching `annotations`.
#[rustler::nif(schedule = "DirtyIo")]
fn actor_stop(
    env: Env<'_>,
    resource: ResourceArc<HostResource>,
    actor_id: String,
    count: u16,
    annotations: HashMap<String, String>,
) -> Term<'_> {
    let host = resource.host.clone();
    terms::unit(
        env,
        run(async move { host.stop_actor(&actor_id, count, annotations).await }),
    )
}

/// Replaces a running actor's module with a higher revision.
#[rustler::nif(schedule = "DirtyIo")]
fn actor_update<'a>(
    env: Env<'a>,
    resource: ResourceArc<HostResource>,
    actor_id: String,
    kind: Atom,
    data: Binary<'a>,
) -> Term<'a> {
    let host = resource.host.clone();
    let updated = actor_source(kind, data)
        .and_then(|source| run(async move { host.update_actor(&actor_id, source).await }));
    terms::result(env, updated.map(ActorTerm::from))
}

/// The running actors.
#[rustler::nif]
fn actor_list(resource: ResourceArc<HostResource>) -> Vec<ActorTerm> {
    resource
        .host
        .actors()
        .into_iter()
        .map(ActorTerm::from)
        .collect()
}

/// Invokes `operation` on an actor (public key or call alias): `{:ok, reply}` or `{:error, {kind, message}}`.
#[rustler::nif(schedule = "DirtyIo")]
fn actor_call<'a>(
    env: Env<'a>,
    resource: ResourceArc<HostResource>,
    actor: String,
    operation: String,
    payload: Binary<'a>,
) -> Term<'a> {
    let host = resource.host.clone();
    let payload = payload.as_slice().to_vec();
    terms::result(
        env,
        run(async move { host.call_actor(&actor, &operation, payload).await }).map(Bin),
    )
}

/// Benchmark baseline: calls `operation` `n` times through the Rust API (`Host::call_actor`
/// awaited in a loop inside this one NIF call: no NIF crossing per call) and returns each call's
/// duration in nanoseconds, or the first error. Used by bench/call_bench.exs.
#[rustler::nif(schedule = "DirtyIo")]
fn actor_call_loop<'a>(
    env: Env<'a>,
    resource: ResourceArc<HostResource>,
    actor: String,
    operation: String,
    payload: Binary<'a>,
    n: u32,
) -> Term<'a> {
    let host = resource.host.clone();
    let payload = bytes::Bytes::copy_from_slice(payload.as_slice());
    let samples = run(async move {
        let mut samples = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let start = std::time::Instant::now();
            host.call_actor(&actor, &operation, payload.clone()).await?;
            samples.push(start.elapsed().as_nanos() as u64);
        }
        Ok(samples)
    });
    terms::result(env, samples)
}
