//! Calling an actor from C: blocking, or asynchronously with a completion callback.

use std::ffi::{c_char, c_void};

use bytes::Bytes;

use crate::callback::{wasmhost_free_fn_t, UserData};
use crate::error::{guard, wasmhost_error_t, wasmhost_result_t, FfiError};
use crate::host::{host_arg, wasmhost_host_t};
use crate::ptr::{bytes_arg, str_arg, Out};
use crate::runtime::{block_on, run_callback, runtime};

/// Called once when an async call completes. `result` is WASMHOST_OK with the reply in
/// `reply[0..reply_len]` (NULL when empty), or an error code with `error` describing it (else NULL).
/// `reply` and `error` are owned by the library and valid only during the callback (copy what you
/// keep; do not free them). Runs on a library thread outside the async runtime's workers; it may
/// call any wasmhost function, including blocking ones.
#[allow(non_camel_case_types)]
pub type wasmhost_call_callback_t = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        result: wasmhost_result_t,
        reply: *const u8,
        reply_len: usize,
        error: *const wasmhost_error_t,
    ),
>;

/// Invokes `operation` (e.g. `Echo.Echo`) on the actor `actor` (public key or call alias) with
/// `payload[0..payload_len]` (NULL with length 0 for an empty payload) and waits for the reply. On
/// success `*out_reply` / `*out_reply_len` hold the reply, to free with wasmhost_bytes_free()
/// (an empty reply is NULL / 0). Blocking (up to the invocation timeout). Errors:
/// WASMHOST_ERR_NOT_FOUND (actor not running), WASMHOST_ERR_RUNTIME (trap or guest error),
/// WASMHOST_ERR_TIMEOUT, WASMHOST_ERR_DENIED (policy), WASMHOST_ERR_INVALID_INPUT, WASMHOST_ERR_STOPPED.
#[no_mangle]
pub extern "C" fn wasmhost_actor_call(
    host: *const wasmhost_host_t,
    actor: *const c_char,
    operation: *const c_char,
    payload: *const u8,
    payload_len: usize,
    out_reply: *mut *mut u8,
    out_reply_len: *mut usize,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let host = host_arg(host)?;
        let actor = str_arg(actor, "actor")?;
        let operation = str_arg(operation, "operation")?;
        let payload = bytes_arg(payload, payload_len, "payload")?;
        let out_reply = Out::new(out_reply, "out_reply")?;
        let out_len = Out::new(out_reply_len, "out_reply_len")?;
        let reply = block_on(host.call_actor(actor, operation, Bytes::copy_from_slice(payload)))??;
        let (ptr, len) = crate::ptr::bytes_out(reply);
        out_reply.write(ptr);
        out_len.write(len);
        Ok(())
    })
}

/// Starts the same call as wasmhost_actor_call() and returns at once (not blocking); `callback`
/// runs exactly once with the outcome, then `free_user_data(user_data)` if given. The arguments are
/// copied before this returns. On an error return (NULL or invalid arguments, host stopped) the
/// callback does not run and `free_user_data` is not called: `user_data` stays yours.
#[no_mangle]
pub extern "C" fn wasmhost_actor_call_async(
    host: *const wasmhost_host_t,
    actor: *const c_char,
    operation: *const c_char,
    payload: *const u8,
    payload_len: usize,
    callback: wasmhost_call_callback_t,
    user_data: *mut c_void,
    free_user_data: wasmhost_free_fn_t,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let host = host_arg(host)?.clone();
        let actor = str_arg(actor, "actor")?.to_string();
        let operation = str_arg(operation, "operation")?.to_string();
        let payload = Bytes::copy_from_slice(bytes_arg(payload, payload_len, "payload")?);
        let callback = callback.ok_or_else(|| FfiError::invalid("callback is NULL"))?;
        if host.is_stopped() {
            return Err(FfiError::new(
                wasmhost_result_t::WASMHOST_ERR_STOPPED,
                "the host is stopped",
            ));
        }
        let user_data = UserData::new(user_data, free_user_data);
        runtime()?.spawn(async move {
            let outcome = host
                .call_actor(&actor, &operation, payload)
                .await
                .map_err(FfiError::from);
            let _ = run_callback(move || {
                let user = user_data;
                match outcome {
                    // SAFETY: the caller's callback, with pointers valid for the call.
                    Ok(reply) => unsafe {
                        callback(
                            user.ptr(),
                            wasmhost_result_t::WASMHOST_OK,
                            if reply.is_empty() {
                                std::ptr::null()
                            } else {
                                reply.as_ptr()
                            },
                            reply.len(),
                            std::ptr::null(),
                        )
                    },
                    Err(e) => {
                        let error = wasmhost_error_t::from_ffi(&e);
                        // SAFETY: as above; `error` outlives the call.
                        unsafe { callback(user.ptr(), e.code, std::ptr::null(), 0, &error) }
                    }
                }
                drop(user);
            })
            .await;
        });
        Ok(())
    })
}
