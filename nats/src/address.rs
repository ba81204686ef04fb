//! Server addresses: `nats://host:port`, `tls://host:port`, `host:port` or a bare host (port
//! 4222), IPv6 in brackets; a comma list wherever one address is accepted.

use std::fmt;

use crate::{NatsError, Result};

/// The port of a NATS server when an address names none.
pub const DEFAULT_PORT: u16 = 4222;

/// One NATS server.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerAddress {
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// `tls://`: this server must be reached over TLS.
    pub tls: bool,
}

impl ServerAddress {
    /// `nats://{host}:{port}` (or `tls://`).
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        ServerAddress {
            host: host.into(),
            port,
            tls: false,
        }
    }

    /// Parses one address; `setting` names it in the error (e.g. `WASMCLOUD_RPC_HOST`).
    /// A missing port is `default_port`.
    pub fn parse(text: &str, setting: &str, default_port: u16) -> Result<Self> {
        let bad = |reason: String| NatsError::settings(setting, reason);
        let trimmed = text.trim();
        let (tls, rest) = match trimmed.split_once("://") {
            Some((scheme, rest)) => match scheme.to_ascii_lowercase().as_str() {
                "nats" => (false, rest),
                "tls" => (true, rest),
                other => {
                    return Err(bad(format!(
                        "unsupported NATS URL scheme `{other}` in `{trimmed}`: use nats://, tls://, host:port or a bare host"
                    )))
                }
            },
            None => (false, trimmed),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('@') {
            return Err(bad(format!(
                "`{trimmed}` carries credentials in the URL: give them as the user/password, token, seed or creds settings instead (they are never logged there)"
            )));
        }
        if rest.contains('/') || rest.contains('?') {
            return Err(bad(format!("`{trimmed}` is not a NATS server address: expected host, host:port or nats://host:port")));
        }
        let (host, port) = if let Some(bracketed) = rest.strip_prefix('[') {
            let (host, after) = bracketed
                .split_once(']')
                .ok_or_else(|| bad(format!("unclosed `[` in `{trimmed}`")))?;
            let port = match after {
                "" => None,
                p => Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| bad(format!("unexpected `{p}` after `]` in `{trimmed}`")))?,
                ),
            };
            (host, port)
        } else {
            match rest.rsplit_once(':') {
                Some((host, port)) if !host.contains(':') => (host, Some(port)),
                // Several colons without brackets: an IPv6 address, no port.
                Some(_) => (rest, None),
                None => (rest, None),
            }
        };
        if host.is_empty() {
            return Err(bad(format!("no host in `{trimmed}`")));
        }
        let port = match port {
            None => default_port,
            Some(p) => match p.parse::<u16>() {
                Ok(port) if port > 0 => port,
                _ => {
                    return Err(bad(format!(
                        "invalid port `{p}` in `{trimmed}`: expected 1-65535"
                    )))
                }
            },
        };
        Ok(ServerAddress {
            host: host.to_string(),
            port,
            tls,
        })
    }

    /// Parses a comma list (`a:4222, tls://b:4223`); empty entries are skipped, and an empty
    /// list is an error.
    pub fn parse_list(text: &str, setting: &str, default_port: u16) -> Result<Vec<Self>> {
        let servers = text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| Self::parse(s, setting, default_port))
            .collect::<Result<Vec<_>>>()?;
        if servers.is_empty() {
            return Err(NatsError::settings(setting, "no NATS server address given"));
        }
        Ok(servers)
    }

    /// `host:port` without a scheme (IPv6 in brackets), as HostData's `lattice_rpc_url`.
    pub fn host_port(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for ServerAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "tls" } else { "nats" };
        write!(f, "{scheme}://{}", self.host_port())
    }
}

/// `nats://a:4222, nats://b:4222` for messages.
pub(crate) fn describe(servers: &[ServerAddress]) -> String {
    servers
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Result<ServerAddress> {
        ServerAddress::parse(text, "url", DEFAULT_PORT)
    }

    #[test]
    fn every_accepted_form_parses() {
        assert_eq!(
            one("nats://127.0.0.1:4567").unwrap(),
            ServerAddress::new("127.0.0.1", 4567)
        );
        assert_eq!(
            one("127.0.0.1:4567").unwrap(),
            ServerAddress::new("127.0.0.1", 4567)
        );
        assert_eq!(
            one(" example ").unwrap(),
            ServerAddress::new("example", 4222)
        );
        assert_eq!(
            one("NATS://example/").unwrap(),
            ServerAddress::new("example", 4222)
        );
        let tls = one("tls://nats.example:4443").unwrap();
        assert!(tls.tls);
        assert_eq!(tls.to_string(), "tls://nats.example:4443");
        assert_eq!(one("[::1]:4333").unwrap(), ServerAddress::new("::1", 4333));
        assert_eq!(
            one("nats://[::1]").unwrap().to_string(),
            "nats://[::1]:4222"
        );
        assert_eq!(one("::1").unwrap(), ServerAddress::new("::1", 4222));
        assert_eq!(one("[::1]:4333").unwrap().host_port(), "[::1]:4333");
    }

    #[test]
    fn bad_addresses_say_what_is_wrong() {
        let message = |text: &str| one(text).unwrap_err().to_string();
        assert!(
            message("http://x:1").contains("unsupported NATS URL scheme `http`"),
            "{}",
            message("http://x:1")
        );
        assert!(message("x:notaport").contains("invalid port `notaport`"));
        assert!(message("x:0").contains("invalid port `0`"));
        assert!(message("x:70000").contains("invalid port `70000`"));
        assert!(message("nats://:4222").contains("no host"));
        assert!(message("nats://user:secret@x:4222").contains("credentials in the URL"));
        assert!(message("nats://x:4222/path").contains("not a NATS server address"));
        assert!(message("[::1").contains("unclosed"));
        assert!(message("http://x:1").starts_with("invalid NATS setting url:"));
    }

    #[test]
    fn comma_lists_parse_in_order() {
        let list =
            ServerAddress::parse_list("a:1, tls://b:2,,c", "WASMCLOUD_CTL_HOST", 4333).unwrap();
        assert_eq!(describe(&list), "nats://a:1, tls://b:2, nats://c:4333");
        let err = ServerAddress::parse_list(" , ", "WASMCLOUD_CTL_HOST", 4222).unwrap_err();
        assert!(err.to_string().contains("WASMCLOUD_CTL_HOST"), "{err}");
        let err = ServerAddress::parse_list("a:1,b:x", "--nats-url", 4222).unwrap_err();
        assert!(
            err.to_string().contains("--nats-url") && err.to_string().contains("`x`"),
            "{err}"
        );
    }
}
