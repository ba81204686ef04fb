//! Capability providers: start from bytes, a file or a reference, stop, list.

use std::collections::BTreeMap;
use std::ffi::c_char;
use std::path::PathBuf;

use bytes::Bytes;
use host::{ProviderInfo, ProviderSource};

use crate::error::{guard, wasmhost_error_t, wasmhost_result_t, FfiError, FfiResult};
use crate::host::{host_arg, wasmhost_host_t};
use crate::ptr::{bytes_arg, opt_str_arg, str_arg, string_map_arg, string_out, Out};
use crate::runtime::block_on;

fn start(
    host: *const wasmhost_host_t,
    source: impl FnOnce() -> FfiResult<ProviderSource>,
    link_name: *const c_char,
    config_json: *const c_char,
    annotations_json: *const c_char,
    out_public_key: *mut *mut c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let host = host_arg(host)?;
        let out = Out::new(out_public_key, "out_public_key")?;
        let link_name = str_arg(link_name, "link_name")?;
        let config = opt_str_arg(config_json, "config_json")?.map(str::to_string);
        let annotations = string_map_arg(annotations_json, "annotations_json")?;
        let source = source()?;
        let info = block_on(host.start_provider(source, link_name, config, annotations))??;
        out.write(string_out(info.public_key)?);
        Ok(())
    })
}

/// Starts the capability provider in the provider archive (`.par.gz`) `archive[0..len]` (copied),
/// serving `link_name` (usually "default"). `config_json` (NULL for none) reaches the provider
/// unchanged as its HostData config; `annotations_json` is a JSON object of strings or NULL. The
/// archive's claims and binary hashes are verified and this machine's binary runs as a child
/// process. Returns once the process runs; health is reported later (`health_check_passed`). On
/// success `*out_public_key` is the provider's public key (`V...`), to free with
/// wasmhost_string_free(). Blocking. Providers join the lattice over NATS, so the host needs a
/// NATS lattice: an embedded host fails with WASMHOST_ERR_INVALID_INPUT. Other errors:
/// WASMHOST_ERR_CLAIMS (unsigned, forged, hash mismatch), WASMHOST_ERR_INVALID_INPUT (not an
/// archive, no binary for this machine, already running with that link name), WASMHOST_ERR_DENIED
/// (policy), WASMHOST_ERR_STOPPED.
#[no_mangle]
pub extern "C" fn wasmhost_provider_start_bytes(
    host: *const wasmhost_host_t,
    archive: *const u8,
    len: usize,
    link_name: *const c_char,
    config_json: *const c_char,
    annotations_json: *const c_char,
    out_public_key: *mut *mut c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    let source = || {
        Ok(ProviderSource::Bytes(Bytes::copy_from_slice(bytes_arg(
            archive, len, "archive",
        )?)))
    };
    start(
        host,
        source,
        link_name,
        config_json,
        annotations_json,
        out_public_key,
        err,
    )
}

/// Like wasmhost_provider_start_bytes(), reading the archive from the file at `path`
/// (WASMHOST_ERR_NOT_FOUND when it cannot be read).
#[no_mangle]
pub extern "C" fn wasmhost_provider_start_file(
    host: *const wasmhost_host_t,
    path: *const c_char,
    link_name: *const c_char,
    config_json: *const c_char,
    annotations_json: *const c_char,
    out_public_key: *mut *mut c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    let source = || Ok(ProviderSource::File(PathBuf::from(str_arg(path, "path")?)));
    start(
        host,
        source,
        link_name,
        config_json,
        annotations_json,
        out_public_key,
        err,
    )
}

/// Like wasmhost_provider_start_bytes(), from a reference: `file:///abs/path.par.gz`, an existing
/// `.par`/`.par.gz` path, or an OCI reference (fetched and cached by the host;
/// WASMHOST_ERR_TRANSPORT when the registry cannot be reached, WASMHOST_ERR_NOT_FOUND when it has
/// no such image). Blocking, including the download.
#[no_mangle]
pub extern "C" fn wasmhost_provider_start_ref(
    host: *const wasmhost_host_t,
    reference: *const c_char,
    link_name: *const c_char,
    config_json: *const c_char,
    annotations_json: *const c_char,
    out_public_key: *mut *mut c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    let source = || Ok(ProviderSource::parse(str_arg(reference, "reference")?));
    start(
        host,
        source,
        link_name,
        config_json,
        annotations_json,
        out_public_key,
        err,
    )
}

/// Stops the provider `provider` (public key) serving `link_name`: asks it to shut down, then
/// kills its process group if it does not exit in time. Blocking. WASMHOST_ERR_NOT_FOUND when it
/// does not run on this host with that link name.
#[no_mangle]
pub extern "C" fn wasmhost_provider_stop(
    host: *const wasmhost_host_t,
    provider: *const c_char,
    link_name: *const c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let host = host_arg(host)?;
        let provider = str_arg(provider, "provider")?;
        let link_name = str_arg(link_name, "link_name")?;
        block_on(host.stop_provider(provider, link_name))??;
        Ok(())
    })
}

fn provider_json(p: &ProviderInfo) -> serde_json::Value {
    let wascap = p.claims.wascap.as_ref();
    serde_json::json!({
        "public_key": p.public_key,
        "link_name": p.link_name,
        "contract_id": p.contract_id,
        "image_ref": p.image_ref,
        "annotations": p.annotations.iter().collect::<BTreeMap<_, _>>(),
        "name": wascap.and_then(|w| w.name.clone()),
        "vendor": wascap.map(|w| w.vendor.clone()),
        "revision": wascap.and_then(|w| w.rev),
        "version": wascap.and_then(|w| w.ver.clone()),
        "issuer": p.claims.iss,
        "instance_id": p.instance_id,
        "pid": p.pid,
        "healthy": p.healthy,
        "restarts": p.restarts,
    })
}

/// The providers running on this host as a JSON array of objects (`public_key`, `link_name`,
/// `contract_id`, `image_ref`, `annotations`, `name`, `vendor`, `revision`, `version`, `issuer`,
/// `instance_id`, `pid` (null while it is being restarted), `healthy`, `restarts`), sorted by
/// public key and link name. On success `*out_json` is a string to free with wasmhost_string_free().
#[no_mangle]
pub extern "C" fn wasmhost_providers_json(
    host: *const wasmhost_host_t,
    out_json: *mut *mut c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let host = host_arg(host)?;
        let out = Out::new(out_json, "out_json")?;
        let all: Vec<_> = host.providers().iter().map(provider_json).collect();
        let json = serde_json::to_string(&all).map_err(|e| FfiError::internal(e.to_string()))?;
        out.write(string_out(json)?);
        Ok(())
    })
}
