//! The lattice observer, the web dashboard and hot reload, end to end against real processes (one
//! test binary: each links the whole host, so fewer binaries build faster).
//!
//! - `lattice`: the observer follows three `wasmhost up` processes on a real nats-server.
//! - `api`: `wasmhost dashboard` drives a host in another process through its JSON API.
//! - `browser`: the dashboard page in headless chromium over WebDriver.
//! - `watch`: `wasmhost run --watch`.

#[path = "../../../core/tests/lattice_support/mod.rs"]
mod lattice_support;
#[path = "../../../core/tests/provider_support/mod.rs"]
mod provider_support;
#[path = "../../../core/tests/registry/mod.rs"]
mod registry;
#[path = "../up_support/mod.rs"]
mod up_support;
mod webdriver;

mod api;
mod browser;
mod lattice;
mod watch;
