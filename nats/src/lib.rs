//! The one place wasmhost opens NATS connections and moves payloads through the JetStream object
//! store. The host (`wasmhost`), the provider SDK (`wasmhost-provider`) and the CLI all go
//! through it; it links async-nats and the wire types, never wasmtime.
//!
//! * [`NatsConnection`]: servers (a comma list, failover in order), auth in every form NATS
//!   knows (user/password, token, nkey seed, JWT + seed, `.creds` file), TLS (required flag, CA,
//!   client certificate and key), a [`ReconnectPolicy`] and a name. Settings that can never work
//!   are refused by [`NatsConnection::check`] before any connection opens.
//! * [`env`]: the OTP host's `WASMCLOUD_{RPC,CTL,PROV_RPC}_*` variables and ours in that family.
//! * [`connect`]: opens a connection; wrong credentials are an error at once, an unreachable
//!   server (by default) a client that joins in the background.
//! * [`ChunkStore`], [`invoke`], [`fetch_request`], [`store_response`]: invocations above
//!   [`CHUNK_THRESHOLD`] through the lattice's object store, in a layout the 2022 clients read
//!   (see [`objects`]).
//! * [`stores`]: the lattice's KV bucket and object store with a configurable replica count.
//! * [`write_host_data`] / [`from_host_data`]: a provider's connection through its HostData.
//!
//! ```no_run
//! # async fn example() -> Result<(), wasmhost_nats::NatsError> {
//! use wasmhost_nats::{NatsAuth, NatsConnection};
//!
//! let settings = NatsConnection::from_url("nats://10.0.0.1:4222,nats://10.0.0.2:4222")?
//!     .with_auth(NatsAuth::CredsFile("/etc/wasmhost/host.creds".into()));
//! let client = wasmhost_nats::connect(&settings, "my tool").await?;
//! # drop(client);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod address;
mod connect;
mod creds;
pub mod env;
mod error;
mod host_data;
pub mod objects;
mod rpc;
mod settings;
pub mod stores;
#[cfg(feature = "testing")]
pub mod testing;
mod tls;

pub use address::{ServerAddress, DEFAULT_PORT};
pub use async_nats;
pub use connect::connect;
pub use error::{NatsError, Result};
pub use host_data::{from_host_data, write_host_data};
pub use objects::{ChunkStore, CHUNKED_RPC_TIMEOUT, CHUNK_THRESHOLD, OBJECT_ARRIVAL_WAIT};
pub use rpc::{fetch_request, invoke, store_response, target_subject};
pub use settings::{
    NatsAuth, NatsConfig, NatsConnection, ReconnectPolicy, TlsSettings, DEFAULT_REPLICAS,
};
