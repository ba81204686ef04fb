//! Options shared by every `ctl` command: where the lattice is and how to print.

use clap::{Args, ValueEnum};
use std::time::Duration;

/// Default NATS host when neither `--nats-url` nor `WASMCLOUD_CTL_HOST` is given.
const DEFAULT_NATS_HOST: &str = "127.0.0.1";
/// Default NATS port when neither `--nats-url` nor `WASMCLOUD_CTL_PORT` is given.
const DEFAULT_NATS_PORT: &str = "4222";

/// Longest wait any option accepts (one hour), so deadlines never overflow.
pub const MAX_WAIT_MS: u64 = 3_600_000;

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputKind {
    /// Aligned tables and short sentences, for people.
    Table,
    /// One JSON document per result on stdout, for scripts.
    Json,
}

/// Connection, lattice and output options of `wasmhost ctl`.
#[derive(Args, Debug, Clone)]
pub struct GlobalOptions {
    /// NATS server of the lattice's control connection. Default: nats://$WASMCLOUD_CTL_HOST:$WASMCLOUD_CTL_PORT
    /// (127.0.0.1:4222 when those are unset), as the 0.5x host reads them.
    #[arg(long, global = true)]
    pub nats_url: Option<String>,
    /// Lattice id (`WASMCLOUD_LATTICE_PREFIX`).
    #[arg(
        long,
        global = true,
        env = "WASMCLOUD_LATTICE_PREFIX",
        default_value = "default"
    )]
    pub lattice: String,
    /// Control topic prefix; only for hosts started with a custom `WASMCLOUD_CTL_TOPIC_PREFIX`.
    #[arg(
        long,
        global = true,
        env = "WASMCLOUD_CTL_TOPIC_PREFIX",
        default_value = "wasmbus.ctl"
    )]
    pub ctl_topic_prefix: String,
    /// Milliseconds to wait for a reply (and, for `get hosts` and auctions, to collect replies).
    #[arg(long, global = true, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=MAX_WAIT_MS))]
    pub timeout: u64,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = OutputKind::Table)]
    pub output: OutputKind,
}

impl GlobalOptions {
    /// The NATS URL to connect to: `--nats-url`, else built from the 0.5x host's variables.
    pub fn resolved_nats_url(&self) -> String {
        self.nats_url.clone().unwrap_or_else(|| {
            nats_url_from(
                std::env::var("WASMCLOUD_CTL_HOST").ok(),
                std::env::var("WASMCLOUD_CTL_PORT").ok(),
            )
        })
    }

    /// `--timeout` as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout)
    }
}

/// `nats://{host}:{port}` with the defaults for unset or empty values.
fn nats_url_from(host: Option<String>, port: Option<String>) -> String {
    let host = host
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| DEFAULT_NATS_HOST.to_string());
    let port = port
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| DEFAULT_NATS_PORT.to_string());
    format!("nats://{host}:{port}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_comes_from_the_host_variables_with_defaults() {
        assert_eq!(nats_url_from(None, None), "nats://127.0.0.1:4222");
        assert_eq!(
            nats_url_from(Some("nats.example".into()), None),
            "nats://nats.example:4222"
        );
        assert_eq!(
            nats_url_from(Some(String::new()), Some("4333".into())),
            "nats://127.0.0.1:4333"
        );
    }
}

/// Parses a `key=value` command-line argument (labels, constraints, annotations, link values).
pub fn parse_key_value(arg: &str) -> Result<(String, String), String> {
    match arg.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("expected key=value, got '{arg}'")),
    }
}

#[cfg(test)]
mod key_value_tests {
    use super::parse_key_value;

    #[test]
    fn splits_at_the_first_equals_sign() {
        assert_eq!(parse_key_value("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert_eq!(parse_key_value("a="), Ok(("a".into(), String::new())));
        assert!(parse_key_value("novalue").is_err());
        assert!(parse_key_value("=x").is_err());
    }
}
