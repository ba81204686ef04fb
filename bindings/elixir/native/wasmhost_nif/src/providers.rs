//! Capability provider NIFs: start, stop, list.

use std::collections::HashMap;
use std::path::PathBuf;

use rustler::types::atom::Atom;
use rustler::{Binary, Env, ResourceArc, Term};
use wasmhost::{Error, ErrorKind, ProviderSource};

use crate::atoms;
use crate::host::HostResource;
use crate::runtime::run;
use crate::terms::{self, ProviderTerm};

/// `{:bytes, archive}`, `{:file, path}` or `{:reference, text}` (a `file://` URL, a path or an OCI reference).
fn provider_source(kind: Atom, data: Binary<'_>) -> Result<ProviderSource, Error> {
    let text = || {
        std::str::from_utf8(data.as_slice())
            .map(String::from)
            .map_err(|_| {
                Error::new(
                    ErrorKind::InvalidInput,
                    "a provider path or reference must be UTF-8",
                )
            })
    };
    if kind == atoms::bytes() {
        Ok(ProviderSource::from(data.as_slice()))
    } else if kind == atoms::file() {
        Ok(ProviderSource::File(PathBuf::from(text()?)))
    } else if kind == atoms::reference() {
        Ok(ProviderSource::parse(&text()?))
    } else {
        Err(Error::new(
            ErrorKind::InvalidInput,
            "the provider source kind must be :bytes, :file or :reference",
        ))
    }
}

/// Starts a provider serving `link_name`: `{:ok, provider}` or `{:error, {kind, message}}`
/// (`invalid_input` on a host without a NATS lattice).
#[rustler::nif(schedule = "DirtyIo")]
fn provider_start<'a>(
    env: Env<'a>,
    resource: ResourceArc<HostResource>,
    kind: Atom,
    data: Binary<'a>,
    link_name: String,
    config: Option<String>,
    annotations: HashMap<String, String>,
) -> Term<'a> {
    let host = resource.host.clone();
    let started = provider_source(kind, data).and_then(|source| {
        run(async move {
            host.start_provider(source, &link_name, config, annotations)
                .await
        })
    });
    terms::result(env, started.map(ProviderTerm::from))
}

/// Stops the provider `public_key` serving `link_name` (shutdown request, grace period, kill).
#[rustler::nif(schedule = "DirtyIo")]
fn provider_stop(
    env: Env<'_>,
    resource: ResourceArc<HostResource>,
    public_key: String,
    link_name: String,
) -> Term<'_> {
    let host = resource.host.clone();
    terms::unit(
        env,
        run(async move { host.stop_provider(&public_key, &link_name).await }),
    )
}

/// The running providers.
#[rustler::nif]
fn provider_list(resource: ResourceArc<HostResource>) -> Vec<ProviderTerm> {
    resource
        .host
        .providers()
        .into_iter()
        .map(ProviderTerm::from)
        .collect()
}
