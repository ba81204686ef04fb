//! Link values → where to listen and how much body to accept.
//!
//! Keys are case-insensitive. `ADDRESS`: an IP (default `127.0.0.1`) or a full
//! `ip:port`; `PORT`: the port (default 8080; wins over a port inside `ADDRESS`);
//! `MAX_BODY_BYTES`: the largest request body accepted (default 8 MiB, 413 beyond).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use wasmhost_provider::ProviderError;

/// Port used when the link sets none.
pub(crate) const DEFAULT_PORT: u16 = 8080;
/// Request bodies above this get 413 unless the link sets `MAX_BODY_BYTES`.
pub(crate) const DEFAULT_MAX_BODY: usize = 8 * 1024 * 1024;

/// One linked actor's server settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerConfig {
    pub addr: SocketAddr,
    pub max_body: usize,
}

fn value<'v>(values: &'v HashMap<String, String>, key: &str) -> Option<&'v str> {
    values
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

impl ServerConfig {
    /// Reads the link values; fails with [`ProviderError::Invalid`] on an unparsable value.
    pub(crate) fn from_values(values: &HashMap<String, String>) -> Result<Self, ProviderError> {
        let mut addr = match value(values, "address") {
            None => SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), DEFAULT_PORT),
            Some(a) => match a.parse::<SocketAddr>() {
                Ok(addr) => addr,
                Err(_) => SocketAddr::new(
                    a.parse::<IpAddr>().map_err(|_| {
                        ProviderError::invalid(format!("ADDRESS '{a}' is not an IP address"))
                    })?,
                    DEFAULT_PORT,
                ),
            },
        };
        if let Some(port) = value(values, "port") {
            addr.set_port(port.parse().map_err(|_| {
                ProviderError::invalid(format!("PORT '{port}' is not a port number"))
            })?);
        }
        let max_body = match value(values, "max_body_bytes") {
            None => DEFAULT_MAX_BODY,
            Some(n) => n.parse().map_err(|_| {
                ProviderError::invalid(format!("MAX_BODY_BYTES '{n}' is not a number"))
            })?,
        };
        Ok(ServerConfig { addr, max_body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<ServerConfig, ProviderError> {
        ServerConfig::from_values(
            &pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(config(&[]).unwrap().addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config(&[]).unwrap().max_body, DEFAULT_MAX_BODY);
        assert_eq!(
            config(&[("PORT", "9000")]).unwrap().addr,
            "127.0.0.1:9000".parse().unwrap()
        );
        assert_eq!(
            config(&[("port", "9001"), ("address", "::1")])
                .unwrap()
                .addr,
            "[::1]:9001".parse().unwrap()
        );
        assert_eq!(
            config(&[("ADDRESS", "127.0.0.2:7000")]).unwrap().addr,
            "127.0.0.2:7000".parse().unwrap()
        );
        assert_eq!(
            config(&[("Address", "127.0.0.2:7000"), ("Port", "7001")])
                .unwrap()
                .addr
                .port(),
            7001
        );
        assert_eq!(config(&[("max_body_bytes", "10")]).unwrap().max_body, 10);
        for bad in [
            ("PORT", "x"),
            ("PORT", "70000"),
            ("ADDRESS", "localhost"),
            ("MAX_BODY_BYTES", "-1"),
        ] {
            assert!(config(&[bad]).is_err(), "{bad:?}");
        }
    }
}
