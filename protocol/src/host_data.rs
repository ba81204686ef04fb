//! HostData: what a host tells a capability provider at start (LATTICE.md §4.1).
//!
//! The host writes one line to the provider's stdin: standard padded base64 of the JSON
//! below, then `\n`. The 15 wasmbus-rpc fields come first in its order; the OTP host's
//! extras (`enable_structured_logging`, `lattice_rpc_tls`, `js_domain`) follow and are
//! omitted when `None`. Our host sends both logging keys (see
//! [`HostData::set_structured_logging`]): wasmbus-rpc reads `structured_logging`, OTP-era
//! providers read `enable_structured_logging`.

use crate::error::{from_json, to_json, ProtocolError};
use crate::rpc::LinkDefinition;
use crate::serde_util::{null_default, sorted_map};
use data_encoding::BASE64;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Start-up data for a provider process.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HostData {
    /// Host public key (N...).
    #[serde(default, deserialize_with = "null_default")]
    pub host_id: String,
    /// Lattice id.
    #[serde(default, deserialize_with = "null_default")]
    pub lattice_rpc_prefix: String,
    /// Link name the provider serves.
    #[serde(default, deserialize_with = "null_default")]
    pub link_name: String,
    /// NATS user JWT for the provider's connection (`""` if none).
    #[serde(default, deserialize_with = "null_default")]
    pub lattice_rpc_user_jwt: String,
    /// NATS user seed (`""` if none).
    #[serde(default, deserialize_with = "null_default")]
    pub lattice_rpc_user_seed: String,
    /// `host:port`, no scheme.
    #[serde(default, deserialize_with = "null_default")]
    pub lattice_rpc_url: String,
    /// The provider's public key (V...).
    #[serde(default, deserialize_with = "null_default")]
    pub provider_key: String,
    /// Cluster seed the provider signs its invocations with.
    #[serde(default, deserialize_with = "null_default")]
    pub invocation_seed: String,
    /// Always `{}` (kept for compatibility; required by wasmbus-rpc).
    #[serde(
        default,
        deserialize_with = "null_default",
        serialize_with = "sorted_map"
    )]
    pub env_values: HashMap<String, String>,
    /// Instance id (UUID v4).
    #[serde(default, deserialize_with = "null_default")]
    pub instance_id: String,
    /// Links already known for this provider id and link name.
    #[serde(default, deserialize_with = "null_default")]
    pub link_definitions: Vec<LinkDefinition>,
    /// Accepted invocation issuers.
    #[serde(default, deserialize_with = "null_default")]
    pub cluster_issuers: Vec<String>,
    /// The `configuration` string of the start command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_json: Option<String>,
    /// Default RPC timeout in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_rpc_timeout_ms: Option<u64>,
    /// wasmbus-rpc's structured-logging flag.
    #[serde(default, deserialize_with = "null_default")]
    pub structured_logging: bool,
    /// The OTP (≤ v0.60) name of the same flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_structured_logging: Option<bool>,
    /// OTP extra: 1 if the provider connection should use TLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lattice_rpc_tls: Option<u8>,
    /// OTP extra: JetStream domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub js_domain: Option<String>,
    /// wasmhost extra: what the fields above cannot say about the provider's connection
    /// (more servers, user/password, token, TLS files). 2022 providers ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lattice_rpc_options: Option<LatticeRpcOptions>,
}

/// The provider connection settings HostData's 2022 fields cannot carry (a wasmhost extension;
/// each field is omitted when unset).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LatticeRpcOptions {
    /// Every server URL, in failover order; `lattice_rpc_url` is the first (the only one a
    /// 2022 provider reads).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<String>,
    /// User name of user/password auth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Password of user/password auth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Token auth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// PEM file of the CA roots for the server's certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_ca_file: Option<String>,
    /// PEM file of the client certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_cert_file: Option<String>,
    /// PEM file of the client certificate's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_key_file: Option<String>,
}

impl HostData {
    /// Sets both structured-logging keys, so providers of either era see the flag.
    pub fn set_structured_logging(&mut self, enabled: bool) {
        self.structured_logging = enabled;
        self.enable_structured_logging = Some(enabled);
    }

    /// Compact JSON.
    pub fn to_json(&self) -> Vec<u8> {
        to_json(self)
    }

    /// The stdin line: standard padded base64 of [`to_json`](Self::to_json), then `\n`.
    pub fn to_stdin_line(&self) -> String {
        let mut line = BASE64.encode(&self.to_json());
        line.push('\n');
        line
    }

    /// Parses JSON. Fails with [`ProtocolError::Json`].
    pub fn from_json(bytes: &[u8]) -> Result<Self, ProtocolError> {
        from_json(bytes)
    }

    /// Parses a stdin line as a provider does (surrounding whitespace ignored).
    /// Fails with [`ProtocolError::Invalid`] if it is not base64, or
    /// [`ProtocolError::Json`] if the decoded bytes are not HostData JSON.
    pub fn from_stdin_line(line: &str) -> Result<Self, ProtocolError> {
        let json = BASE64
            .decode(line.trim().as_bytes())
            .map_err(|e| ProtocolError::Invalid {
                what: "HostData",
                reason: format!("stdin line is not base64: {e}"),
            })?;
        Self::from_json(&json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vectors;

    fn vector_host_data() -> HostData {
        HostData {
            host_id: vectors::HOST_PK.into(),
            lattice_rpc_prefix: "default".into(),
            link_name: "default".into(),
            lattice_rpc_url: "127.0.0.1:4222".into(),
            provider_key: vectors::PROVIDER_PK.into(),
            invocation_seed: vectors::CLUSTER_SEED.into(),
            instance_id: "0f1e2d3c-4b5a-4968-8778-695a4b3c2d1e".into(),
            link_definitions: vec![
                LinkDefinition::from_json(&vectors::bytes("linkdef.json")).unwrap()
            ],
            cluster_issuers: vec![vectors::CLUSTER_PK.into()],
            config_json: Some(r#"{"vectors":true}"#.into()),
            default_rpc_timeout_ms: Some(2000),
            ..Default::default()
        }
    }

    #[test]
    fn wasmbus_rpc_shape_matches_byte_for_byte() {
        let hd = vector_host_data();
        assert_eq!(
            String::from_utf8(hd.to_json()).unwrap(),
            String::from_utf8(vectors::bytes("host_data.json")).unwrap()
        );
        assert_eq!(
            hd.to_stdin_line().as_bytes(),
            vectors::bytes("host_data.b64")
        );
        assert_eq!(
            HostData::from_json(&vectors::bytes("host_data.json")).unwrap(),
            hd
        );
        let line = String::from_utf8(vectors::bytes("host_data.b64")).unwrap();
        assert_eq!(HostData::from_stdin_line(&line).unwrap(), hd);
    }

    #[test]
    fn otp_shape_parses() {
        let expected = HostData {
            enable_structured_logging: Some(false),
            lattice_rpc_tls: Some(0),
            ..vector_host_data()
        };
        assert_eq!(
            HostData::from_json(&vectors::bytes("host_data_otp059_shape.json")).unwrap(),
            expected
        );
        let line = String::from_utf8(vectors::bytes("host_data_otp059_shape.b64")).unwrap();
        assert_eq!(HostData::from_stdin_line(&line).unwrap(), expected);
    }

    #[test]
    fn both_logging_keys_are_sent() {
        let mut hd = vector_host_data();
        hd.set_structured_logging(true);
        let json: serde_json::Value = serde_json::from_slice(&hd.to_json()).unwrap();
        assert_eq!(json["structured_logging"], true);
        assert_eq!(json["enable_structured_logging"], true);
        // Required-by-wasmbus-rpc keys are present even when empty.
        let empty: serde_json::Value =
            serde_json::from_slice(&HostData::default().to_json()).unwrap();
        for key in ["env_values", "link_definitions", "cluster_issuers"] {
            assert!(empty.get(key).is_some(), "{key}");
        }
    }

    #[test]
    fn bad_lines_are_errors() {
        assert!(matches!(
            HostData::from_stdin_line("%%%"),
            Err(ProtocolError::Invalid {
                what: "HostData",
                ..
            })
        ));
        let not_json = BASE64.encode(b"[1,2]");
        assert!(matches!(
            HostData::from_stdin_line(&not_json),
            Err(ProtocolError::Json {
                what: "HostData",
                ..
            })
        ));
    }
}
