//! # wasmhost
//!
//! An embeddable host for WebAssembly actors that speaks the wasmCloud 0.5x lattice protocol.
//!
//! A [`Host`] runs signed waPC actors on wasmtime (pooling allocator, pre-instantiated, warm
//! instances), routes their host calls to in-process capability handlers, other actors and
//! providers, keeps link definitions and publishes the lattice's CloudEvents. With no NATS
//! settings it runs an embedded lattice of one host in-process.
//!
//! ```no_run
//! # async fn demo() -> wasmhost::Result<()> {
//! use wasmhost::{Host, HostConfig, ActorSource};
//! let host = Host::start(HostConfig::default()).await?;
//! let echo = host.start_actor(ActorSource::parse("examples/actors/echo.wasm"), 1, Default::default()).await?;
//! let reply = host.call_actor(&echo.public_key, "Echo.Echo", b"hello".to_vec()).await?;
//! assert_eq!(reply, b"hello");
//! host.stop().await?;
//! # Ok(()) }
//! ```

mod actor;
pub mod builtins;
mod capability;
mod config;
mod control;
mod error;
mod events;
pub mod files;
mod host;
pub mod keyvalue;
pub mod lattice;
pub mod limits;
mod names;
pub mod observer;
pub mod oci;
mod policy;
pub mod provider_archive;
pub mod quote;

pub use actor::InstanceInfo;
pub use capability::{capability_fn, CapabilityCall, CapabilityHandler};
pub use config::HostConfig;
pub use error::{Error, ErrorKind, Result};
pub use events::EventStream;
pub use host::ProviderInfo;
pub use host::{ActorInfo, ActorSource, ArtifactSource, Host, ProviderSource, VERSION};
pub use policy::{Policy, PolicyDecision, PolicyRequest};
pub use provider_archive::ProviderArchive;
/// NATS connection settings (servers, auth, TLS, reconnect policy), from `wasmhost-nats`.
pub use wasmhost_nats::{
    NatsAuth, NatsConfig, NatsConnection, ReconnectPolicy, ServerAddress, TlsSettings,
};
/// The wire types and claims code (re-exported from `wasmhost-protocol`).
pub use wasmhost_protocol as protocol;
