//! Options shared by every `ctl` command: where the lattice is and how to print.

use clap::{Args, ValueEnum};
use std::time::Duration;
use wasmhost::NatsConnection;

use crate::nats_flags::NatsFlags;

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
    /// NATS connection: servers, credentials, TLS (`WASMCLOUD_CTL_*`, as the 0.5x host reads them).
    #[command(flatten)]
    pub nats: NatsFlags,
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
    /// The control connection: `WASMCLOUD_CTL_*` from the environment, the flags over them; it
    /// fails at once when no server answers (a tool, not a host), within `--timeout`.
    pub fn nats_connection(&self) -> Result<NatsConnection, String> {
        let mut conn = self.nats.connection("WASMCLOUD_CTL", std::env::vars())?;
        conn.reconnect = conn.reconnect.fail_fast();
        conn.reconnect.connect_timeout = self.timeout();
        conn.name.get_or_insert_with(|| "wasmhost ctl".to_string());
        Ok(conn)
    }

    /// `--timeout` as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout)
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
