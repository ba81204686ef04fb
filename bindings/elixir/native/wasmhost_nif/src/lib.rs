//! The wasmhost NIF: the embeddable lattice host (crate `wasmhost`) for Erlang and Elixir.
//!
//! Loaded by `Wasmhost.Native` (bindings/elixir/lib/wasmhost/native.ex) with `:erlang.load_nif`.
//! This crate only converts terms and errors at the edge; the host logic is all in the core.
//!
//! Scheduling: every NIF that can take more than a few microseconds runs on a dirty I/O scheduler,
//! which hands its future to one shared tokio runtime ([`runtime`]) and waits: the work itself
//! (compiling, guest code, host calls) runs on the runtime's big-stack workers, never on the VM's
//! small dirty-scheduler stacks. The workers also run the host's background tasks, event
//! forwarding and the message sends to Elixir processes. Normal schedulers only run the NIFs that
//! read a field or a lock.

mod actors;
mod atoms;
mod capability;
mod config;
mod events;
mod host;
mod links;
mod observer;
mod policy;
mod providers;
mod runtime;
mod terms;

rustler::init!("Elixir.Wasmhost.Native");
