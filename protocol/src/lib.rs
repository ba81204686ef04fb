//! Wire types of the wasmCloud 0.5x lattice protocol and wascap-compatible claims.
//!
//! This crate describes bytes; it never sends them. It has no I/O, no async and no
//! WebAssembly runtime, so every type can be tested byte for byte against payloads
//! recorded from the real 2022 crates (`tests/vectors/`).
//!
//! * [`subjects`]: every NATS subject string, and the control-subject parser.
//! * [`ctl`]: control-interface JSON requests and replies (`wasmbus.ctl.*`).
//! * [`rpc`]: msgpack `Invocation` / `InvocationResponse` / `LinkDefinition`.
//! * [`events`]: CloudEvents published on `wasmbus.evt.*` / `wasmbus.rpcevt.*`;
//!   [`event_data`]: their `data`, typed, for every event type.
//! * [`http`], [`keyvalue`]: payloads of the two standard capability contracts.
//! * [`host_data`]: the line a host writes to a capability provider's stdin.
//! * [`claims`]: JWTs signed with nkeys: actor modules, invocations, providers.
//! * [`msgpack`]: the named-field msgpack encoding every RPC payload uses.
//! * [`provider_archive`]: capability provider archives (`.par.gz`): parse, verify, create.
//!
//! Wire details and their sources are in `LATTICE.md` of the shared docs.
//!
//! ```
//! use wasmhost_protocol::{Invocation, InvocationResponse, WasmCloudEntity};
//! use wasmhost_protocol::nkeys::KeyPair;
//!
//! // A provider calls an actor: sign, encode, decode on the other side, validate.
//! let cluster = KeyPair::new_cluster();
//! let inv = Invocation::new_signed(
//!     &cluster,
//!     WasmCloudEntity::provider("VAG3QITQQ2ODAOWB5TTQSDJ53XK3SHBEIFNK4AYJ5RKAX2UNSCAPHA5M", "wasmcloud:httpserver", "default"),
//!     WasmCloudEntity::actor("MBCFOPM6JW2APJLXJD3Z5O4CN7CPYJ2B4FTKLJUR5YR5MITIU7HD3WD5"),
//!     "HttpServer.HandleRequest",
//!     b"payload".to_vec(),
//!     "NCE7YHGI42RWEKBRDJZWXBEJJCFNE5YLUJ7VE4AYHDJ5ZMDDPPKUQ6UC",
//! )?;
//! let received = Invocation::decode(&inv.encode())?;
//! received.validate(&[cluster.public_key()])?;
//! let reply = InvocationResponse::success(&received.id, b"ok".to_vec());
//! assert_eq!(InvocationResponse::decode(&reply.encode())?.msg, b"ok");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod claims;
pub mod ctl;
mod error;
pub mod event_data;
pub mod events;
pub mod host_data;
pub mod http;
mod humanize;
pub mod keyvalue;
pub mod msgpack;
pub mod provider_archive;
mod quote;
pub mod rpc;
mod serde_util;
pub mod subjects;

pub use claims::{
    extract_actor_claims, generate_nuid, module_hash_without_claims, sign_actor, sign_invocation,
    verify_invocation, Actor, ActorClaims, ActorSigning, CapabilityProvider, Claims, ClaimsError,
    InvocationClaims, InvocationRejection,
};
pub use ctl::{CtlOperationAck, HostInventory, HostPing};
pub use error::ProtocolError;
pub use event_data::EventData;
pub use events::{CloudEvent, HeartbeatData};
pub use host_data::{HostData, LatticeRpcOptions};
pub use http::{HttpRequest, HttpResponse};
pub use msgpack::{decode, encode};
/// The nkeys crate our signing and verifying APIs take keys from.
pub use nkeys;
pub use provider_archive::{ArchiveError, ProviderArchive};
pub use quote::{quote_bytes, quote_input, MAX_ERROR_CHARS, MAX_QUOTE_CHARS, TRUNCATION_MARKER};
pub use rpc::{invocation_hash, Invocation, InvocationResponse, LinkDefinition, WasmCloudEntity};
pub use subjects::{parse_ctl_subject, CommandVerb, CtlRequestKind};

/// Reads the test vectors recorded from the 2022 crates (`protocol/tests/vectors`).
#[cfg(test)]
pub(crate) mod vectors {
    /// Folder of the byte-exact fixtures produced by the 2022 crates.
    pub const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/");

    /// The bytes of one vector file; panics with the path if it is missing.
    pub fn bytes(name: &str) -> Vec<u8> {
        let path = format!("{DIR}{name}");
        std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read vector {path}: {e}"))
    }

    /// One vector file parsed as JSON.
    pub fn json(name: &str) -> serde_json::Value {
        serde_json::from_slice(&bytes(name)).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
    }

    /// Decodes a lowercase hex string from a sidecar.
    pub fn unhex(hex: &str) -> Vec<u8> {
        data_encoding::HEXLOWER_PERMISSIVE
            .decode(hex.as_bytes())
            .expect("hex in sidecar")
    }

    /// Seeds of the fixed keys (README "Fixed inputs").
    pub const ACCOUNT_SEED: &str = "SAAAEVJMLL3FL6LOWRCS5FCWYCXK34GWAR24NGPV2RPEJH7OTF3BUURQOE";
    pub const MODULE_SEED: &str = "SMANYW4KW55RQDL2T6ZBR6WCJTMZU5KN2R3RP5S677D4KW5LDTAZZR7GM4";
    pub const CLUSTER_SEED: &str = "SCAKUNN72IFVVHIEKSS76LBAJOWFE4FRIDNSCVHFUASRG3FZSGWE6WVUJU";
    pub const ACCOUNT_PK: &str = "ABS4EFVVIQRUH6WCJNTCAHFGZRXZ42UOOLZN35ZHBVNMW6GSQLKBMFPP";
    pub const MODULE_PK: &str = "MB3YFG3MKA2INWK3R7UZ5J4VKRCLQREI42ASDYNV3JAVJPKZGQYXJJBJ";
    pub const CLUSTER_PK: &str = "CC4PEB6LR6S7SCYQIWPVD2SKHPXSRDYG7FQSUC5HXIQ6RCMI7VQG52G6";
    pub const HOST_PK: &str = "NDRXEHLF3QKEWHCGCO7MKGA3ZIPEUTDMJ2E5R3GPJDVCDX3UXD2XSHBH";
    pub const PROVIDER_PK: &str = "VD4JAQI6QCBMSDPBDHVMBCURPGK6CSYMXIQVTQ32UGJ3FAG4S2OOP6UI";
    pub const INVOCATION_ID: &str = "5c8e8b0d2f1b4a0e9d8c7b6a5f4e3d2c";
    pub const FIXED_IAT: u64 = 1_669_852_800;
}
