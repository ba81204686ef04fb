//! Actors: start from bytes, a file or a reference, scale, update, stop.

use std::ffi::c_char;
use std::path::PathBuf;

use bytes::Bytes;
use host::ActorSource;

use crate::error::{guard, wasmhost_error_t, wasmhost_result_t, FfiResult};
use crate::host::{host_arg, wasmhost_host_t};
use crate::ptr::{bytes_arg, count_arg, str_arg, string_map_arg, string_out, Out};
use crate::runtime::block_on;

fn start(
    host: *const wasmhost_host_t,
    source: impl FnOnce() -> FfiResult<ActorSource>,
    count: u32,
    annotations_json: *const c_char,
    out_public_key: *mut *mut c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let host = host_arg(host)?;
        let out = Out::new(out_public_key, "out_public_key")?;
        let count = count_arg(count, "count")?;
        let annotations = string_map_arg(annotations_json, "annotations_json")?;
        let source = source()?;
        let info = block_on(host.start_actor(source, count, annotations))??;
        out.write(string_out(info.public_key)?);
        Ok(())
    })
}

/// Starts `count` (>= 1) instances of the signed actor module in `module[0..len]` (copied), each
/// with the annotations in `annotations_json` (a JSON object of strings, or NULL for none). Starting
/// an actor that already runs from the same module adds instances. On success `*out_public_key` is
/// the actor's public key (`M...`), to free with wasmhost_string_free(). Blocking (compiles the
/// module). Errors: WASMHOST_ERR_CLAIMS (unsigned, forged, expired), WASMHOST_ERR_INVALID_INPUT (not a
/// waPC actor, bad count or annotations), WASMHOST_ERR_DENIED (policy), WASMHOST_ERR_RUNTIME (its init
/// trapped), WASMHOST_ERR_STOPPED.
#[no_mangle]
pub extern "C" fn wasmhost_actor_start_bytes(
    host: *const wasmhost_host_t,
    module: *const u8,
    len: usize,
    count: u32,
    annotations_json: *const c_char,
    out_public_key: *mut *mut c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    let source = || {
        Ok(ActorSource::Bytes(Bytes::copy_from_slice(bytes_arg(
            module, len, "module",
        )?)))
    };
    start(host, source, count, annotations_json, out_public_key, err)
}

/// Like wasmhost_actor_start_bytes(), reading the module from the file at `path`
/// (WASMHOST_ERR_NOT_FOUND when it cannot be read).
#[no_mangle]
pub extern "C" fn wasmhost_actor_start_file(
    host: *const wasmhost_host_t,
    path: *const c_char,
    count: u32,
    annotations_json: *const c_char,
    out_public_key: *mut *mut c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    let source = || Ok(ActorSource::File(PathBuf::from(str_arg(path, "path")?)));
    start(host, source, count, annotations_json, out_public_key, err)
}

/// Like wasmhost_actor_start_bytes(), from a reference: `file:///abs/path.wasm`, an existing
/// `.wasm` path, or an OCI reference (`registry:5000/echo:0.1.0`, fetched and cached by the host;
/// WASMHOST_ERR_TRANSPORT when the registry cannot be reached, WASMHOST_ERR_NOT_FOUND when it has no
/// such image). Blocking, including the download.
#[no_mangle]
pub extern "C" fn wasmhost_actor_start_ref(
    host: *const wasmhost_host_t,
    reference: *const c_char,
    count: u32,
    annotations_json: *const c_char,
    out_public_key: *mut *mut c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    let source = || Ok(ActorSource::parse(str_arg(reference, "reference")?));
    start(host, source, count, annotations_json, out_public_key, err)
}

/// Changes the number of instances of the running actor `actor` (public key) to `count`; 0 stops
/// it. New instances get the annotations in `annotations_json` (JSON object of strings, or NULL).
/// Blocking. Errors: WASMHOST_ERR_NOT_FOUND (not running), WASMHOST_ERR_INVALID_INPUT, WASMHOST_ERR_STOPPED.
#[no_mangle]
pub extern "C" fn wasmhost_actor_scale(
    host: *const wasmhost_host_t,
    actor: *const c_char,
    count: u32,
    annotations_json: *const c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let host = host_arg(host)?;
        let actor = str_arg(actor, "actor")?;
        let count = count_arg(count, "count")?;
        let annotations = string_map_arg(annotations_json, "annotations_json")?;
        block_on(host.scale_actor(actor, count, annotations))??;
        Ok(())
    })
}

fn update(
    host: *const wasmhost_host_t,
    actor: *const c_char,
    source: impl FnOnce() -> FfiResult<ActorSource>,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let host = host_arg(host)?;
        let actor = str_arg(actor, "actor")?;
        let source = source()?;
        block_on(host.update_actor(actor, source))??;
        Ok(())
    })
}

/// Replaces the module of the running actor `actor` with `module[0..len]` (copied), instance by
/// instance. The new claims must have the same public key and a higher revision
/// (WASMHOST_ERR_INVALID_INPUT otherwise). Blocking.
#[no_mangle]
pub extern "C" fn wasmhost_actor_update_bytes(
    host: *const wasmhost_host_t,
    actor: *const c_char,
    module: *const u8,
    len: usize,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    update(
        host,
        actor,
        || {
            Ok(ActorSource::Bytes(Bytes::copy_from_slice(bytes_arg(
                module, len, "module",
            )?)))
        },
        err,
    )
}

/// Like wasmhost_actor_update_bytes(), reading the new module from the file at `path`.
#[no_mangle]
pub extern "C" fn wasmhost_actor_update_file(
    host: *const wasmhost_host_t,
    actor: *const c_char,
    path: *const c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    update(
        host,
        actor,
        || Ok(ActorSource::File(PathBuf::from(str_arg(path, "path")?))),
        err,
    )
}

/// Like wasmhost_actor_update_bytes(), from a reference (see wasmhost_actor_start_ref()).
#[no_mangle]
pub extern "C" fn wasmhost_actor_update_ref(
    host: *const wasmhost_host_t,
    actor: *const c_char,
    reference: *const c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    update(
        host,
        actor,
        || Ok(ActorSource::parse(str_arg(reference, "reference")?)),
        err,
    )
}

/// Stops `count` instances (0 = all) of the actor `actor` whose annotations contain every pair in
/// `annotations_json` (JSON object of strings, or NULL to match all). The actor leaves the host
/// with its last instance. Running calls finish first. Blocking. WASMHOST_ERR_NOT_FOUND when it is not running.
#[no_mangle]
pub extern "C" fn wasmhost_actor_stop(
    host: *const wasmhost_host_t,
    actor: *const c_char,
    count: u32,
    annotations_json: *const c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let host = host_arg(host)?;
        let actor = str_arg(actor, "actor")?;
        let count = count_arg(count, "count")?;
        let annotations = string_map_arg(annotations_json, "annotations_json")?;
        block_on(host.stop_actor(actor, count, annotations))??;
        Ok(())
    })
}
