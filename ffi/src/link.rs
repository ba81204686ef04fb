//! Link definitions: put, delete, list.

use std::ffi::c_char;

use host::protocol::rpc::LinkDefinition;

use crate::error::{guard, wasmhost_error_t, wasmhost_result_t, FfiError};
use crate::host::{host_arg, wasmhost_host_t};
use crate::ptr::{str_arg, string_map_arg, string_out, Out};
use crate::runtime::block_on;

/// Puts a link definition: the actor's host calls to `contract_id` with `link_name` go to the
/// provider `provider_id`, configured with `values_json` (JSON object of strings, or NULL). A put
/// for the same (actor, contract, link name) replaces the old link. Publishes `linkdef_set`.
/// Blocking. WASMHOST_ERR_INVALID_INPUT when a field is empty.
#[no_mangle]
pub extern "C" fn wasmhost_link_put(
    host: *const wasmhost_host_t,
    actor_id: *const c_char,
    provider_id: *const c_char,
    contract_id: *const c_char,
    link_name: *const c_char,
    values_json: *const c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let host = host_arg(host)?;
        let link = LinkDefinition {
            actor_id: str_arg(actor_id, "actor_id")?.to_string(),
            provider_id: str_arg(provider_id, "provider_id")?.to_string(),
            contract_id: str_arg(contract_id, "contract_id")?.to_string(),
            link_name: str_arg(link_name, "link_name")?.to_string(),
            values: string_map_arg(values_json, "values_json")?,
        };
        block_on(host.put_link(link))??;
        Ok(())
    })
}

/// Deletes the link for (actor, contract, link name). Deleting a link that does not exist is not
/// an error: `*out_existed` (may be NULL) says whether one existed. Publishes `linkdef_deleted`
/// when one did. Blocking.
#[no_mangle]
pub extern "C" fn wasmhost_link_delete(
    host: *const wasmhost_host_t,
    actor_id: *const c_char,
    contract_id: *const c_char,
    link_name: *const c_char,
    out_existed: *mut bool,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let host = host_arg(host)?;
        let actor_id = str_arg(actor_id, "actor_id")?;
        let contract_id = str_arg(contract_id, "contract_id")?;
        let link_name = str_arg(link_name, "link_name")?;
        let existed = block_on(host.delete_link(actor_id, contract_id, link_name))??;
        Out::optional(out_existed).write(existed);
        Ok(())
    })
}

/// Every link definition as a JSON array of objects (`actor_id`, `provider_id`, `link_name`,
/// `contract_id`, `values`), sorted. On success `*out_json` is a string to free with wasmhost_string_free().
#[no_mangle]
pub extern "C" fn wasmhost_links_json(
    host: *const wasmhost_host_t,
    out_json: *mut *mut c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let host = host_arg(host)?;
        let out = Out::new(out_json, "out_json")?;
        let json =
            serde_json::to_string(&host.links()).map_err(|e| FfiError::internal(e.to_string()))?;
        out.write(string_out(json)?);
        Ok(())
    })
}
