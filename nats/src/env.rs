//! The OTP host's environment names for its three connections (LATTICE.md §8.3), plus ours in
//! the same family. `{P}` is `WASMCLOUD_RPC`, `WASMCLOUD_CTL` or `WASMCLOUD_PROV_RPC`:
//!
//! | variable | meaning |
//! |---|---|
//! | `{P}_HOST` | server host, `host:port`, `nats://` / `tls://` URL, or a comma list of those |
//! | `{P}_PORT` | port of the servers in `{P}_HOST` that name none (4222) |
//! | `{P}_SEED`, `{P}_JWT` | nkey seed (SU...) alone = nkey auth; with a user JWT = JWT auth |
//! | `{P}_USER`, `{P}_PASSWORD` | user/password auth |
//! | `{P}_TOKEN` | token auth |
//! | `{P}_CREDS` | path of a `.creds` file (JWT + seed, as `nsc` writes it) |
//! | `{P}_TLS` | truthy (`1`, `true`, `yes`, ...): require TLS |
//! | `{P}_TLS_CA`, `{P}_TLS_CERT`, `{P}_TLS_KEY` | PEM files: CA roots, client certificate and key |
//!
//! Host-wide: `WASMCLOUD_NATS_URL` (the servers of all three when their `_HOST` is unset),
//! `WASMCLOUD_JS_DOMAIN`, `WASMHOST_JS_REPLICAS` (replicas of the buckets the host creates).

use std::collections::HashMap;
use std::path::PathBuf;

use crate::address::{ServerAddress, DEFAULT_PORT};
use crate::settings::{NatsAuth, NatsConfig, NatsConnection};
use crate::{NatsError, Result};

/// The prefixes of the host's three connections, in the order RPC, control, providers.
pub const PREFIXES: [&str; 3] = ["WASMCLOUD_RPC", "WASMCLOUD_CTL", "WASMCLOUD_PROV_RPC"];

/// The variables any of which turns NATS on for a host (otherwise it runs the embedded lattice).
pub const NATS_SWITCHES: [&str; 5] = [
    "WASMCLOUD_NATS_URL",
    "WASMCLOUD_RPC_HOST",
    "WASMCLOUD_RPC_PORT",
    "WASMCLOUD_CTL_HOST",
    "WASMCLOUD_CTL_PORT",
];

/// `1`, `true`, `yes`, `y`, `on`, `enabled` (any case), as the OTP host reads flags.
pub fn truthy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "y" | "on" | "enabled"
    )
}

/// A view of a set of variables where blank values count as unset.
struct Vars<'a>(&'a HashMap<String, String>);

impl Vars<'_> {
    fn get(&self, name: &str) -> Option<String> {
        self.0
            .get(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }
}

/// The host's connections, or `None` when none of [`NATS_SWITCHES`] is set. Every connection
/// is [checked](NatsConnection::check); errors name the variable.
pub fn config_from_vars(vars: &HashMap<String, String>) -> Result<Option<NatsConfig>> {
    let v = Vars(vars);
    if !NATS_SWITCHES.iter().any(|k| v.get(k).is_some()) {
        return Ok(None);
    }
    let base = match v.get("WASMCLOUD_NATS_URL") {
        Some(url) => NatsConnection {
            servers: ServerAddress::parse_list(&url, "WASMCLOUD_NATS_URL", DEFAULT_PORT)?,
            ..Default::default()
        },
        None => NatsConnection::default(),
    };
    let replicas = match v.get("WASMHOST_JS_REPLICAS") {
        None => crate::DEFAULT_REPLICAS,
        Some(r) => r.parse().map_err(|_| {
            NatsError::settings(
                "WASMHOST_JS_REPLICAS",
                format!("`{r}` is not a number (1 to 5)"),
            )
        })?,
    };
    let config = NatsConfig {
        rpc: connection_from_vars(vars, PREFIXES[0], &base)?,
        ctl: connection_from_vars(vars, PREFIXES[1], &base)?,
        prov_rpc: connection_from_vars(vars, PREFIXES[2], &base)?,
        js_domain: v.get("WASMCLOUD_JS_DOMAIN"),
        replicas,
    };
    config.check().map_err(|e| {
        e.rename_setting(|s| (s == "replicas").then(|| "WASMHOST_JS_REPLICAS".to_string()))
    })?;
    Ok(Some(config))
}

/// One connection from `{prefix}_*` over `base` (what is unset stays as in `base`), checked.
pub fn connection_from_vars(
    vars: &HashMap<String, String>,
    prefix: &str,
    base: &NatsConnection,
) -> Result<NatsConnection> {
    let v = Vars(vars);
    let name = |suffix: &str| format!("{prefix}_{suffix}");
    let mut conn = base.clone();
    let port = match v.get(&name("PORT")) {
        None => None,
        Some(p) => Some(match p.parse::<u16>() {
            Ok(port) if port > 0 => port,
            _ => {
                return Err(NatsError::settings(
                    name("PORT"),
                    format!("`{p}` is not a port (1-65535)"),
                ))
            }
        }),
    };
    match (v.get(&name("HOST")), port) {
        (Some(hosts), port) => {
            conn.servers =
                ServerAddress::parse_list(&hosts, &name("HOST"), port.unwrap_or(DEFAULT_PORT))?
        }
        (None, Some(port)) => conn.servers.iter_mut().for_each(|s| s.port = port),
        (None, None) => {}
    }
    if let Some(auth) = auth_from_vars(&v, prefix)? {
        conn.auth = auth;
    }
    if let Some(tls) = v.get(&name("TLS")) {
        conn.tls.required = truthy(&tls);
    }
    for (suffix, file) in [
        ("TLS_CA", &mut conn.tls.ca_file),
        ("TLS_CERT", &mut conn.tls.cert_file),
        ("TLS_KEY", &mut conn.tls.key_file),
    ] {
        if let Some(path) = v.get(&name(suffix)) {
            *file = Some(PathBuf::from(path));
        }
    }
    conn.check()
        .map_err(|e| e.rename_setting(|field| env_name(prefix, field)))?;
    Ok(conn)
}

/// The variable that sets a field of [`NatsConnection::check`]'s errors.
fn env_name(prefix: &str, field: &str) -> Option<String> {
    let suffix = match field {
        "seed" => "SEED",
        "jwt" => "JWT",
        "user" => "USER",
        "password" => "PASSWORD",
        "token" => "TOKEN",
        "tls.ca_file" => "TLS_CA",
        "tls.cert_file" => "TLS_CERT",
        "tls.key_file" => "TLS_KEY",
        other => {
            return other
                .strip_prefix("creds_file")
                .map(|rest| format!("{prefix}_CREDS{rest}"))
        }
    };
    Some(format!("{prefix}_{suffix}"))
}

/// The one auth form the variables give, `None` when they give none; two forms at once, a JWT
/// without its seed, or half of user/password are errors.
fn auth_from_vars(v: &Vars<'_>, prefix: &str) -> Result<Option<NatsAuth>> {
    let name = |suffix: &str| format!("{prefix}_{suffix}");
    let (user, password) = (v.get(&name("USER")), v.get(&name("PASSWORD")));
    let (seed, jwt) = (v.get(&name("SEED")), v.get(&name("JWT")));
    let mut forms: Vec<(String, NatsAuth)> = Vec::new();
    match (user, password) {
        (Some(user), Some(password)) => {
            forms.push((name("USER"), NatsAuth::UserPassword { user, password }))
        }
        (Some(_), None) => {
            return Err(NatsError::settings(
                name("PASSWORD"),
                format!("{} is set: give its password too", name("USER")),
            ))
        }
        (None, Some(_)) => {
            return Err(NatsError::settings(
                name("USER"),
                format!("{} is set: give the user name too", name("PASSWORD")),
            ))
        }
        (None, None) => {}
    }
    if let Some(token) = v.get(&name("TOKEN")) {
        forms.push((name("TOKEN"), NatsAuth::Token(token)));
    }
    match (seed, jwt) {
        (Some(seed), Some(jwt)) => forms.push((name("JWT"), NatsAuth::Jwt { jwt, seed })),
        (Some(seed), None) => forms.push((name("SEED"), NatsAuth::Nkey { seed })),
        (None, Some(_)) => {
            return Err(NatsError::settings(
                name("SEED"),
                format!(
                    "{} is set without the user's seed, which signs the server's challenge",
                    name("JWT")
                ),
            ))
        }
        (None, None) => {}
    }
    if let Some(path) = v.get(&name("CREDS")) {
        forms.push((name("CREDS"), NatsAuth::CredsFile(PathBuf::from(path))));
    }
    match forms.len() {
        0 => Ok(None),
        1 => Ok(forms.pop().map(|(_, auth)| auth)),
        _ => {
            let names: Vec<&str> = forms.iter().map(|(n, _)| n.as_str()).collect();
            Err(NatsError::settings(
                names.join(" and "),
                "several auth forms are set for one connection: choose one (user/password, token, seed, JWT + seed, or creds file)",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nkeys::KeyPair;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn config(pairs: &[(&str, &str)]) -> Result<Option<NatsConfig>> {
        config_from_vars(&vars(pairs))
    }

    #[test]
    fn nothing_set_means_no_nats() {
        assert_eq!(
            config(&[("WASMCLOUD_RPC_SEED", "x"), ("WASMCLOUD_JS_DOMAIN", "d")]).unwrap(),
            None
        );
    }

    #[test]
    fn otp_names_are_read_per_connection() {
        let seed = KeyPair::new_user().seed().unwrap();
        let c = config(&[
            ("WASMCLOUD_RPC_HOST", "127.0.0.5"),
            ("WASMCLOUD_RPC_PORT", "4333"),
            ("WASMCLOUD_RPC_SEED", &seed),
            ("WASMCLOUD_CTL_PORT", "4444"),
            ("WASMCLOUD_CTL_TLS", "true"),
            ("WASMCLOUD_PROV_RPC_TLS", "0"),
            ("WASMCLOUD_JS_DOMAIN", "leaf"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(c.rpc.url(), "nats://127.0.0.5:4333");
        assert_eq!(c.rpc.auth, NatsAuth::Nkey { seed });
        assert_eq!(c.ctl.url(), "nats://127.0.0.1:4444");
        assert!(c.ctl.tls.required && !c.prov_rpc.tls.required);
        assert_eq!(c.prov_rpc.url(), "nats://127.0.0.1:4222");
        assert_eq!((c.js_domain.as_deref(), c.replicas), (Some("leaf"), 1));
    }

    #[test]
    fn host_takes_a_comma_list_and_the_port_fills_the_gaps() {
        let c = config(&[
            ("WASMCLOUD_CTL_HOST", "a, tls://b:4999,[::1]"),
            ("WASMCLOUD_CTL_PORT", "4333"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            c.ctl.url(),
            "nats://a:4333, tls://b:4999, nats://[::1]:4333"
        );
        let c = config(&[
            ("WASMCLOUD_NATS_URL", "x:1,y:2"),
            ("WASMCLOUD_RPC_PORT", "5"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(c.rpc.url(), "nats://x:5, nats://y:5");
        assert_eq!(c.ctl.url(), "nats://x:1, nats://y:2");
    }

    #[test]
    fn every_auth_form_has_its_names() {
        let conn = |pairs: &[(&str, &str)]| {
            connection_from_vars(&vars(pairs), "WASMCLOUD_CTL", &NatsConnection::default())
        };
        assert_eq!(
            conn(&[("WASMCLOUD_CTL_USER", "u"), ("WASMCLOUD_CTL_PASSWORD", "p")])
                .unwrap()
                .auth,
            NatsAuth::UserPassword {
                user: "u".into(),
                password: "p".into()
            }
        );
        assert_eq!(
            conn(&[("WASMCLOUD_CTL_TOKEN", "t")]).unwrap().auth,
            NatsAuth::Token("t".into())
        );
        let c = conn(&[("WASMCLOUD_CTL_CREDS", "/nonexistent.creds")])
            .unwrap_err()
            .to_string();
        assert!(
            c.contains("WASMCLOUD_CTL_CREDS") && c.contains("/nonexistent.creds"),
            "{c}"
        );
        let c = conn(&[("WASMCLOUD_CTL_SEED", "SUbad")])
            .unwrap_err()
            .to_string();
        assert!(c.contains("setting WASMCLOUD_CTL_SEED"), "{c}");
        let c = conn(&[("WASMCLOUD_CTL_JWT", "a.b.c")])
            .unwrap_err()
            .to_string();
        assert!(
            c.contains("WASMCLOUD_CTL_SEED") && c.contains("without the user's seed"),
            "{c}"
        );
        let c = conn(&[("WASMCLOUD_CTL_USER", "u")])
            .unwrap_err()
            .to_string();
        assert!(c.contains("WASMCLOUD_CTL_PASSWORD"), "{c}");
        let c = conn(&[
            ("WASMCLOUD_CTL_TOKEN", "t"),
            ("WASMCLOUD_CTL_USER", "u"),
            ("WASMCLOUD_CTL_PASSWORD", "p"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            c.contains("WASMCLOUD_CTL_USER and WASMCLOUD_CTL_TOKEN") && c.contains("choose one"),
            "{c}"
        );
        let c = conn(&[("WASMCLOUD_CTL_TLS_CA", "/nonexistent/ca.pem")])
            .unwrap_err()
            .to_string();
        assert!(
            c.contains("WASMCLOUD_CTL_TLS_CA") && c.contains("/nonexistent/ca.pem"),
            "{c}"
        );
        let c = conn(&[("WASMCLOUD_CTL_TLS_KEY", "/k.pem")])
            .unwrap_err()
            .to_string();
        assert!(c.contains("WASMCLOUD_CTL_TLS_CERT"), "{c}");
    }

    #[test]
    fn bad_values_name_their_variable() {
        let err = |pairs: &[(&str, &str)]| config(pairs).unwrap_err().to_string();
        assert!(err(&[("WASMCLOUD_RPC_PORT", "many")]).contains("WASMCLOUD_RPC_PORT"));
        assert!(err(&[("WASMCLOUD_CTL_HOST", "http://x")])
            .contains("setting WASMCLOUD_CTL_HOST: unsupported NATS URL scheme"));
        assert!(err(&[("WASMCLOUD_NATS_URL", "x:y")]).contains("WASMCLOUD_NATS_URL"));
        assert!(err(&[
            ("WASMCLOUD_NATS_URL", "x"),
            ("WASMHOST_JS_REPLICAS", "three")
        ])
        .contains("WASMHOST_JS_REPLICAS"));
        assert!(
            err(&[("WASMCLOUD_NATS_URL", "x"), ("WASMHOST_JS_REPLICAS", "9")])
                .contains("setting WASMHOST_JS_REPLICAS")
        );
        let three = config(&[("WASMCLOUD_NATS_URL", "x"), ("WASMHOST_JS_REPLICAS", "3")])
            .unwrap()
            .unwrap();
        assert_eq!(three.replicas, 3);
    }

    #[test]
    fn flags_read_like_the_otp_host() {
        for yes in ["1", "true", "YES", "y", "on", "Enabled"] {
            assert!(truthy(yes), "{yes}");
        }
        for no in ["0", "false", "no", "", "off"] {
            assert!(!truthy(no), "{no}");
        }
    }
}
