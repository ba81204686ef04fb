//! A small SDK for capability providers of a wasmCloud 0.5x lattice.
//!
//! A provider is a separate process that a host spawns (LATTICE.md §4). It reads the
//! host's [`HostData`] line from stdin, connects to NATS and answers the subjects of §4.2
//! exactly as a wasmbus-rpc 0.11 provider would:
//!
//! * `wasmbus.rpc.{lattice}.{pk}.{link}` (queue group `rpc`): signed [`Invocation`]s from
//!   linked actors, validated, de-chunked and handed to [`ProviderHandler::dispatch`];
//! * `….linkdefs.put` / `….linkdefs.del`: links pushed by the host;
//! * `….health`: a msgpack [`HealthCheckResponse`];
//! * `….shutdown`: stop when the host asks (filtered by host id).
//!
//! A provider implements [`ProviderHandler`] and calls [`provider_main`] (or [`run`] inside
//! its own runtime). The [`Provider`] handle it receives calls actors back
//! ([`Provider::call_actor`]).
//!
//! ```no_run
//! use wasmhost_provider::{async_trait, Context, ProviderError, ProviderHandler};
//!
//! struct Echo;
//!
//! #[async_trait]
//! impl ProviderHandler for Echo {
//!     async fn dispatch(&self, _ctx: &Context, operation: &str, msg: Vec<u8>) -> Result<Vec<u8>, ProviderError> {
//!         match operation {
//!             "Echo.Echo" => Ok(msg),
//!             other => Err(ProviderError::unknown_operation(other)),
//!         }
//!     }
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     wasmhost_provider::provider_main("example:echo", Echo)
//! }
//! ```

#![warn(missing_docs)]

mod error;
mod handler;
mod host_data;
mod links;
mod logging;
mod provider;
mod rpc;
mod serve;
#[cfg(feature = "testing")]
pub mod testing;

pub use async_trait::async_trait;
pub use error::ProviderError;
pub use handler::{Context, HealthCheckResponse, ProviderHandler};
pub use host_data::read_host_data;
pub use logging::init_logging;
pub use provider::Provider;
pub use serve::{provider_main, run, serve, StopReason};
/// The wire types this SDK speaks (re-exported so providers need no second dependency).
pub use wasmhost_protocol as protocol;
pub use wasmhost_protocol::{
    HostData, Invocation, InvocationResponse, LinkDefinition, WasmCloudEntity,
};

/// Payloads larger than this travel through the object store (wasmbus-rpc 0.11).
pub use wasmhost_nats::CHUNK_THRESHOLD;
/// Default timeout of a call to an actor when HostData sets none.
pub const DEFAULT_RPC_TIMEOUT_MS: u64 = 2000;
