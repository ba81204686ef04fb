//! The wasmhost NIF: the embeddable lattice host (crate `wasmhost`) for Erlang and Elixir.
//!
//! Loaded by `Wasmhost.Native` (bindings/elixir/lib/wasmhost/native.ex) with `:erlang.load_nif`.
//! This crate only converts terms and errors at the edge; the host logic is all in the core.
//!
//! Scheduling: every NIF that can take more than a few microseconds runs on a dirty I/O scheduler
//! and waits there for a task on one shared tokio runtime ([`runtime`]); actors, capability calls
//! into Elixir and event forwarding all run on that runtime's threads, never on a BEAM scheduler.

mod actors;
mod atoms;
mod capability;
mod config;
mod events;
mod host;
mod links;
mod runtime;
mod terms;

rustler::init!("Elixir.Wasmhost.Native");
