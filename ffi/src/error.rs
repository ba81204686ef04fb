//! Result codes and error objects: the one error style of the C API, and the panic guard every
//! export runs its body in.

use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use host::ErrorKind;

/// What a function returns: `WASMHOST_OK` or the kind of failure. The codes mirror the host's
/// error kinds, so a caller can act on them (retry on timeout, report denied, ...).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum wasmhost_result_t {
    /// Success.
    WASMHOST_OK = 0,
    /// Something named does not exist: an actor, a file, an OCI reference.
    WASMHOST_ERR_NOT_FOUND = 1,
    /// A NULL, malformed or out-of-range argument, or a request the host refuses as invalid.
    WASMHOST_ERR_INVALID_INPUT = 2,
    /// An actor's claims are missing, forged, expired or do not match the module.
    WASMHOST_ERR_CLAIMS = 3,
    /// Refused by the policy callback or by claims-based authorization.
    WASMHOST_ERR_DENIED = 4,
    /// An operation ran out of time (an invocation, an RPC request).
    WASMHOST_ERR_TIMEOUT = 5,
    /// The lattice connection failed.
    WASMHOST_ERR_TRANSPORT = 6,
    /// The actor trapped or returned a guest error.
    WASMHOST_ERR_RUNTIME = 7,
    /// The host is stopped (or stopping): e.g. a second wasmhost_host_stop().
    WASMHOST_ERR_STOPPED = 8,
    /// A bug inside the library (including a caught Rust panic).
    WASMHOST_ERR_INTERNAL = 9,
    /// A blocking function was called where waiting would deadlock: inside a log callback.
    WASMHOST_ERR_WOULD_DEADLOCK = 10,
}

use wasmhost_result_t::*;

impl wasmhost_result_t {
    /// Stable lower-case name, the same strings as the other bindings' error kinds.
    pub(crate) fn name(self) -> &'static std::ffi::CStr {
        match self {
            WASMHOST_OK => c"ok",
            WASMHOST_ERR_NOT_FOUND => c"not_found",
            WASMHOST_ERR_INVALID_INPUT => c"invalid_input",
            WASMHOST_ERR_CLAIMS => c"claims",
            WASMHOST_ERR_DENIED => c"denied",
            WASMHOST_ERR_TIMEOUT => c"timeout",
            WASMHOST_ERR_TRANSPORT => c"transport",
            WASMHOST_ERR_RUNTIME => c"runtime",
            WASMHOST_ERR_STOPPED => c"stopped",
            WASMHOST_ERR_INTERNAL => c"internal",
            WASMHOST_ERR_WOULD_DEADLOCK => c"would_deadlock",
        }
    }

    fn from_code(code: i32) -> Option<Self> {
        const ALL: [wasmhost_result_t; 11] = [
            WASMHOST_OK,
            WASMHOST_ERR_NOT_FOUND,
            WASMHOST_ERR_INVALID_INPUT,
            WASMHOST_ERR_CLAIMS,
            WASMHOST_ERR_DENIED,
            WASMHOST_ERR_TIMEOUT,
            WASMHOST_ERR_TRANSPORT,
            WASMHOST_ERR_RUNTIME,
            WASMHOST_ERR_STOPPED,
            WASMHOST_ERR_INTERNAL,
            WASMHOST_ERR_WOULD_DEADLOCK,
        ];
        ALL.into_iter().find(|r| *r as i32 == code)
    }
}

/// An error inside the library, before it becomes a code and an error object.
#[derive(Debug, Clone)]
pub(crate) struct FfiError {
    pub(crate) code: wasmhost_result_t,
    pub(crate) message: String,
}

impl FfiError {
    pub(crate) fn new(code: wasmhost_result_t, message: impl Into<String>) -> Self {
        FfiError {
            code,
            message: message.into(),
        }
    }
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(WASMHOST_ERR_INVALID_INPUT, message)
    }
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(WASMHOST_ERR_INTERNAL, message)
    }
}

impl From<host::Error> for FfiError {
    fn from(e: host::Error) -> Self {
        let code = match e.kind() {
            ErrorKind::NotFound => WASMHOST_ERR_NOT_FOUND,
            ErrorKind::InvalidInput => WASMHOST_ERR_INVALID_INPUT,
            ErrorKind::Claims => WASMHOST_ERR_CLAIMS,
            ErrorKind::Denied => WASMHOST_ERR_DENIED,
            ErrorKind::Timeout => WASMHOST_ERR_TIMEOUT,
            ErrorKind::Transport => WASMHOST_ERR_TRANSPORT,
            ErrorKind::Runtime => WASMHOST_ERR_RUNTIME,
            ErrorKind::Stopped => WASMHOST_ERR_STOPPED,
            _ => WASMHOST_ERR_INTERNAL,
        };
        FfiError::new(code, e.message())
    }
}

pub(crate) type FfiResult<T> = Result<T, FfiError>;

/// The error object handed to C: a result code and a message.
pub struct wasmhost_error_t {
    code: wasmhost_result_t,
    message: CString,
}

impl wasmhost_error_t {
    pub(crate) fn from_ffi(e: &FfiError) -> Self {
        // Messages come from Rust strings; a NUL inside one would truncate it, so replace it.
        let message = CString::new(e.message.replace('\0', "\u{FFFD}")).unwrap_or_default();
        wasmhost_error_t {
            code: e.code,
            message,
        }
    }
}

/// Runs `body` with panics caught; returns its code and, on failure, stores an error object in `*err`.
pub(crate) fn guard(
    err: *mut *mut wasmhost_error_t,
    body: impl FnOnce() -> FfiResult<()>,
) -> wasmhost_result_t {
    match catch_panic(body) {
        Ok(()) => WASMHOST_OK,
        Err(e) => {
            if !err.is_null() {
                // SAFETY: the caller passes NULL or a writable `wasmhost_error_t *` slot.
                unsafe { *err = Box::into_raw(Box::new(wasmhost_error_t::from_ffi(&e))) };
            }
            e.code
        }
    }
}

/// `body()`, with a panic turned into an internal error.
pub(crate) fn catch_panic<T>(body: impl FnOnce() -> FfiResult<T>) -> FfiResult<T> {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(result) => result,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(FfiError::internal(format!(
                "internal error (panic caught at the C boundary): {what}"
            )))
        }
    }
}

/// The message of an error: human-readable UTF-8, owned by `error` (valid until
/// wasmhost_error_free()). Returns "" when `error` is NULL.
#[no_mangle]
pub extern "C" fn wasmhost_error_message(error: *const wasmhost_error_t) -> *const c_char {
    // SAFETY: NULL or a pointer returned by this library and not yet freed.
    match unsafe { error.as_ref() } {
        Some(e) => e.message.as_ptr(),
        None => c"".as_ptr(),
    }
}

/// The result code of an error (never WASMHOST_OK for a real error). Returns
/// WASMHOST_ERR_INVALID_INPUT when `error` is NULL.
#[no_mangle]
pub extern "C" fn wasmhost_error_kind(error: *const wasmhost_error_t) -> wasmhost_result_t {
    // SAFETY: NULL or a pointer returned by this library and not yet freed.
    match unsafe { error.as_ref() } {
        Some(e) => e.code,
        None => WASMHOST_ERR_INVALID_INPUT,
    }
}

/// Frees an error object. NULL is a no-op.
#[no_mangle]
pub extern "C" fn wasmhost_error_free(error: *mut wasmhost_error_t) {
    if !error.is_null() {
        // SAFETY: a pointer returned by this library, freed once.
        drop(unsafe { Box::from_raw(error) });
    }
}

/// A static, stable name for a result code: "ok", "not_found", "invalid_input", "claims", "denied",
/// "timeout", "transport", "runtime", "stopped", "internal", "would_deadlock"; "unknown" for any
/// other value. Never NULL; never free it.
#[no_mangle]
pub extern "C" fn wasmhost_result_name(code: i32) -> *const c_char {
    match wasmhost_result_t::from_code(code) {
        Some(r) => r.name().as_ptr(),
        None => c"unknown".as_ptr(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_internal_errors_with_their_message() {
        let mut err: *mut wasmhost_error_t = std::ptr::null_mut();
        let code = guard(&mut err, || panic!("boom"));
        assert_eq!(code, WASMHOST_ERR_INTERNAL);
        let message = unsafe { std::ffi::CStr::from_ptr(wasmhost_error_message(err)) }
            .to_str()
            .unwrap()
            .to_string();
        assert!(message.contains("boom"), "{message}");
        wasmhost_error_free(err);
    }

    #[test]
    fn every_code_has_a_name_and_unknown_codes_do_not_crash() {
        for code in 0..=10 {
            let name = unsafe { std::ffi::CStr::from_ptr(wasmhost_result_name(code)) };
            assert_ne!(name.to_str().unwrap(), "unknown", "code {code}");
        }
        let name = unsafe { std::ffi::CStr::from_ptr(wasmhost_result_name(-7)) };
        assert_eq!(name.to_str().unwrap(), "unknown");
    }

    #[test]
    fn every_core_error_kind_has_its_own_code_named_like_the_kind() {
        let mut codes = std::collections::BTreeSet::new();
        for kind in ErrorKind::ALL {
            let code = FfiError::from(host::Error::new(kind, "x")).code;
            assert!(codes.insert(code as i32), "{kind} shares code {code:?}");
            assert_eq!(code.name().to_str().unwrap(), kind.as_str());
        }
    }
}
