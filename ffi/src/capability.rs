//! In-process capability handlers written in C: a callback answers an actor's host calls for one
//! contract id and link name, through a reply object.

use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;

use host::{CapabilityCall, CapabilityHandler};

use crate::callback::{wasmhost_free_fn_t, UserData};
use crate::error::{guard, wasmhost_error_t, wasmhost_result_t, FfiError};
use crate::host::{host_arg, wasmhost_host_t};
use crate::ptr::{bytes_arg, obj_mut, str_arg, Out};
use crate::runtime::run_callback;

/// One host call from an actor, as a capability callback sees it. Every pointer is owned by the
/// library and valid only during the callback.
#[repr(C)]
pub struct wasmhost_capability_call_t {
    /// Public key (`M...`) of the calling actor.
    pub actor_id: *const c_char,
    /// The contract id the actor named, e.g. `wasmcloud:keyvalue`.
    pub contract_id: *const c_char,
    /// The link name the actor named (`default` unless it chose another).
    pub link_name: *const c_char,
    /// The operation, e.g. `KeyValue.Increment`.
    pub operation: *const c_char,
    /// The encoded argument (msgpack for the wasmCloud interfaces); NULL when empty.
    pub payload: *const u8,
    /// Length of `payload` in bytes.
    pub payload_len: usize,
}

/// The answer a capability callback gives: set it with wasmhost_reply_ok() or wasmhost_reply_error().
/// Owned by the library, valid only during the callback.
pub struct wasmhost_reply_t {
    outcome: Option<Result<Vec<u8>, String>>,
}

/// Answers one host call. Call exactly one of wasmhost_reply_ok() / wasmhost_reply_error() on
/// `reply` before returning; without either the actor gets an error. Runs on a library thread
/// outside the async runtime's workers (several calls may run at once on different threads);
/// it may block and may call any wasmhost function, e.g. call another actor (but stopping the host
/// or the calling actor from here waits for this call's invocation timeout).
#[allow(non_camel_case_types)]
pub type wasmhost_capability_callback_t = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        call: *const wasmhost_capability_call_t,
        reply: *mut wasmhost_reply_t,
    ),
>;

struct CCapability {
    callback:
        unsafe extern "C" fn(*mut c_void, *const wasmhost_capability_call_t, *mut wasmhost_reply_t),
    user_data: Arc<UserData>,
}

fn c_string(s: &str, what: &str) -> Result<CString, String> {
    CString::new(s).map_err(|_| format!("{what} contains a NUL byte"))
}

#[async_trait::async_trait]
impl CapabilityHandler for CCapability {
    async fn handle(&self, call: CapabilityCall) -> Result<Vec<u8>, String> {
        let callback = self.callback;
        let user_data = self.user_data.clone();
        let (actor, contract, link, op) = (
            c_string(&call.actor_id, "actor id")?,
            c_string(&call.contract_id, "contract id")?,
            c_string(&call.link_name, "link name")?,
            c_string(&call.operation, "operation")?,
        );
        let operation = call.operation.clone();
        let payload = call.payload;
        run_callback(move || {
            let c_call = wasmhost_capability_call_t {
                actor_id: actor.as_ptr(),
                contract_id: contract.as_ptr(),
                link_name: link.as_ptr(),
                operation: op.as_ptr(),
                payload: if payload.is_empty() {
                    std::ptr::null()
                } else {
                    payload.as_ptr()
                },
                payload_len: payload.len(),
            };
            let mut reply = wasmhost_reply_t { outcome: None };
            // SAFETY: the caller's callback; every pointer lives until it returns.
            unsafe { callback(user_data.ptr(), &c_call, &mut reply) };
            reply.outcome
        })
        .await
        .map_err(|e| e.message)?
        .unwrap_or_else(|| {
            Err(format!(
                "the capability callback gave no reply to {operation}"
            ))
        })
    }
}

/// Registers `callback` to answer host calls from actors to `contract_id` (e.g.
/// `wasmcloud:keyvalue`) with `link_name` (e.g. `default`), replacing a previous handler for that
/// pair (whose `free_user_data` then runs once its last call finishes). The actor's claims must
/// hold the contract id. `free_user_data(user_data)` runs when the handler is replaced or
/// unregistered and its calls have finished, or when the host's last reference goes away.
/// Not blocking. On an error return `user_data` stays yours.
#[no_mangle]
pub extern "C" fn wasmhost_capability_register(
    host: *const wasmhost_host_t,
    contract_id: *const c_char,
    link_name: *const c_char,
    callback: wasmhost_capability_callback_t,
    user_data: *mut c_void,
    free_user_data: wasmhost_free_fn_t,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let host = host_arg(host)?;
        let contract_id = str_arg(contract_id, "contract_id")?;
        let link_name = str_arg(link_name, "link_name")?;
        let callback = callback.ok_or_else(|| FfiError::invalid("callback is NULL"))?;
        if contract_id.is_empty() || link_name.is_empty() {
            return Err(FfiError::invalid(
                "contract id and link name must not be empty",
            ));
        }
        let handler = CCapability {
            callback,
            user_data: Arc::new(UserData::new(user_data, free_user_data)),
        };
        host.register_capability(contract_id, link_name, Arc::new(handler))?;
        Ok(())
    })
}

/// Removes the handler for `contract_id` and `link_name`; `*out_existed` (may be NULL) says whether
/// there was one. Not blocking.
#[no_mangle]
pub extern "C" fn wasmhost_capability_unregister(
    host: *const wasmhost_host_t,
    contract_id: *const c_char,
    link_name: *const c_char,
    out_existed: *mut bool,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let host = host_arg(host)?;
        let contract_id = str_arg(contract_id, "contract_id")?;
        let link_name = str_arg(link_name, "link_name")?;
        let existed = host.unregister_capability(contract_id, link_name);
        Out::optional(out_existed).write(existed);
        Ok(())
    })
}

/// Answers the host call with `data[0..len]` (copied; NULL with length 0 for an empty reply).
/// Only inside a capability callback, on the reply it was given. WASMHOST_ERR_INVALID_INPUT when
/// the reply was already set.
#[no_mangle]
pub extern "C" fn wasmhost_reply_ok(
    reply: *mut wasmhost_reply_t,
    data: *const u8,
    len: usize,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let reply = obj_mut(reply, "reply")?;
        let data = bytes_arg(data, len, "data")?;
        set_once(reply, Ok(data.to_vec()))
    })
}

/// Fails the host call: the actor receives `message` (copied) as its host error. Only inside a
/// capability callback. WASMHOST_ERR_INVALID_INPUT when the reply was already set.
#[no_mangle]
pub extern "C" fn wasmhost_reply_error(
    reply: *mut wasmhost_reply_t,
    message: *const c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let reply = obj_mut(reply, "reply")?;
        let message = str_arg(message, "message")?;
        set_once(reply, Err(message.to_string()))
    })
}

fn set_once(
    reply: &mut wasmhost_reply_t,
    outcome: Result<Vec<u8>, String>,
) -> Result<(), FfiError> {
    if reply.outcome.is_some() {
        return Err(FfiError::invalid("the reply was already set"));
    }
    reply.outcome = Some(outcome);
    Ok(())
}
