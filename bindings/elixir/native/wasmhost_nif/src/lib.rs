//! The wasmhost NIF: the embeddable lattice host (crate `wasmhost`) for Erlang and Elixir.
//!
//! Loaded by `Wasmhost.Native` (bindings/elixir/lib/wasmhost/native.ex) with `:erlang.load_nif`.
//! This crate only converts terms and errors at the edge; the host logic is all in the core.
//!
//! Scheduling: every NIF that can take more than a few microseconds runs on a dirty I/O scheduler,
//! where it drives its future inside one shared tokio runtime ([`runtime`]); the runtime's worker
//! threads run the host's background tasks, event forwarding and the message sends to Elixir
//! processes. Normal schedulers only run the NIFs that read a field or a lock.

mod actors;
mod atoms;
mod capability;
mod config;
mod events;
mod host;
mod links;
mod policy;
mod providers;
mod runtime;
mod terms;

rustler::init!("Elixir.Wasmhost.Native");
