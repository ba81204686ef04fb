//! `(fn, user_data, free_user_data)` triples: the user data travels with the callback across
//! threads and is released exactly once, when the library drops it.

use std::ffi::c_void;

/// Releases the `user_data` of a callback. It runs exactly once, on an unspecified thread, when the
/// library no longer needs `user_data`.
#[allow(non_camel_case_types)]
pub type wasmhost_free_fn_t = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// The caller's `user_data` and how to free it.
pub(crate) struct UserData {
    ptr: *mut c_void,
    free: wasmhost_free_fn_t,
}

// SAFETY: the header documents that callbacks and free_user_data run on library threads, so the
// caller gives us data usable from any thread.
unsafe impl Send for UserData {}
unsafe impl Sync for UserData {}

impl UserData {
    pub(crate) fn new(ptr: *mut c_void, free: wasmhost_free_fn_t) -> Self {
        UserData { ptr, free }
    }
    pub(crate) fn ptr(&self) -> *mut c_void {
        self.ptr
    }
}

impl Drop for UserData {
    fn drop(&mut self) {
        if let Some(free) = self.free {
            // SAFETY: the caller's own release function for its own pointer, called once.
            unsafe { free(self.ptr) };
        }
    }
}
