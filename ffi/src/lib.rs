//! # libwasmhost: the C ABI of the wasmhost lattice host
//!
//! Builds `libwasmhost.so` (soname `libwasmhost.so.<major>`) and `libwasmhost.a`; the header
//! `include/wasmhost.h` is generated from these sources by cbindgen in `build.rs`. One module per C
//! type family; pointer conversions live in [`ptr`], the error style in [`error`], the shared async
//! runtime and its thread rules in [`runtime`]. Every export runs its body under
//! [`error::guard`], so panics never cross into C.
//!
//! The bindings stay thin: every function converts arguments, calls the `wasmhost` core crate and
//! converts the result back.

#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)]
// Every export is called from C, where `unsafe` does not exist: the header states each pointer's
// contract (NULL is an error, `_free(NULL)` a no-op), and the bodies check before dereferencing.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

mod actor;
mod call;
mod callback;
mod capability;
mod config;
mod error;
mod events;
mod host;
mod link;
mod log;
mod observer;
mod policy;
mod provider;
mod ptr;
mod runtime;
mod version;

pub use actor::*;
pub use call::*;
pub use callback::wasmhost_free_fn_t;
pub use capability::*;
pub use config::*;
pub use error::{
    wasmhost_error_free, wasmhost_error_kind, wasmhost_error_message, wasmhost_error_t,
    wasmhost_result_name, wasmhost_result_t,
};
pub use events::*;
pub use host::{
    wasmhost_host_free, wasmhost_host_id, wasmhost_host_inventory_json, wasmhost_host_labels_json,
    wasmhost_host_start, wasmhost_host_stop, wasmhost_host_t,
};
pub use link::*;
pub use log::*;
pub use observer::*;
pub use policy::*;
pub use provider::*;
pub use ptr::{wasmhost_bytes_free, wasmhost_string_free};
pub use version::*;
