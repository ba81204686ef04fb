//! The library's version at run time (the header has the WASMHOST_VERSION macros of build time).

use std::ffi::c_char;

/// The library version, e.g. "0.1.0" (compare with the header's WASMHOST_VERSION). A static
/// string: never NULL, never free it.
#[no_mangle]
pub extern "C" fn wasmhost_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
