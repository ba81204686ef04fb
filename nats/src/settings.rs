//! What one NATS connection needs: servers (failover in order), auth, TLS, a reconnect policy
//! and a name; and the three connections of a lattice host (LATTICE.md §8.3).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::address::{describe, ServerAddress, DEFAULT_PORT};
use crate::{creds, tls, NatsError, Result};

/// How a connection authenticates. The NATS server accepts one form per user.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum NatsAuth {
    /// No credentials.
    #[default]
    Anonymous,
    /// User name and password (`authorization { users = [...] }`).
    UserPassword {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
    /// A token (`authorization { token = ... }`).
    Token(String),
    /// An nkey user: the seed (SU...) signs the server's nonce.
    Nkey {
        /// User seed (SU...).
        seed: String,
    },
    /// A user JWT (operator mode) and the seed of the user it names.
    Jwt {
        /// The user JWT.
        jwt: String,
        /// The user's seed (SU...), which signs the server's nonce.
        seed: String,
    },
    /// A `.creds` file as `nsc` writes it: a user JWT and its seed.
    CredsFile(PathBuf),
}

impl NatsAuth {
    /// A short name of the form for messages: `user/password`, `token`, `nkey`, `JWT`, `creds file`.
    pub fn describe(&self) -> &'static str {
        match self {
            NatsAuth::Anonymous => "anonymous",
            NatsAuth::UserPassword { .. } => "user/password",
            NatsAuth::Token(_) => "token",
            NatsAuth::Nkey { .. } => "nkey",
            NatsAuth::Jwt { .. } => "JWT",
            NatsAuth::CredsFile(_) => "creds file",
        }
    }

    /// The JWT and seed this auth signs with, reading a creds file: what HostData's
    /// `lattice_rpc_user_jwt`/`_seed` carry. `("", seed)` for an nkey, `("", "")` otherwise.
    pub fn jwt_and_seed(&self) -> Result<(String, String)> {
        Ok(match self {
            NatsAuth::Jwt { jwt, seed } => (jwt.clone(), seed.clone()),
            NatsAuth::Nkey { seed } => (String::new(), seed.clone()),
            NatsAuth::CredsFile(path) => {
                let c = creds::read(path, "creds_file")?;
                (c.jwt, c.seed)
            }
            _ => (String::new(), String::new()),
        })
    }

    fn check(&self) -> Result<()> {
        match self {
            NatsAuth::Anonymous => Ok(()),
            NatsAuth::UserPassword { user, password } => {
                if user.is_empty() {
                    return Err(NatsError::settings(
                        "user",
                        "empty user name (a password needs a user)",
                    ));
                }
                if password.is_empty() {
                    return Err(NatsError::settings(
                        "password",
                        format!("user `{user}` has an empty password"),
                    ));
                }
                Ok(())
            }
            NatsAuth::Token(token) if token.is_empty() => {
                Err(NatsError::settings("token", "empty token"))
            }
            NatsAuth::Token(_) => Ok(()),
            NatsAuth::Nkey { seed } => creds::check_user_seed(seed, "seed").map(|_| ()),
            NatsAuth::Jwt { jwt, seed } => creds::check_jwt_and_seed(jwt, seed, "jwt", "seed"),
            NatsAuth::CredsFile(path) => creds::read(path, "creds_file").map(|_| ()),
        }
    }
}

/// Secrets never reach logs: only the form and the user name (or the creds file path) show.
impl fmt::Debug for NatsAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NatsAuth::UserPassword { user, .. } => {
                write!(f, "UserPassword {{ user: {user:?}, password: <redacted> }}")
            }
            NatsAuth::CredsFile(path) => write!(f, "CredsFile({path:?})"),
            other => write!(f, "{}", other.describe()),
        }
    }
}

/// TLS settings. TLS is used when `required`, when any server is `tls://`, or when a CA or a
/// client certificate is given (the server's own `tls_required` also turns it on).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsSettings {
    /// Refuse to talk without TLS (the OTP host's `WASMCLOUD_*_TLS`).
    pub required: bool,
    /// PEM file of the CA certificates that sign the server's certificate; the system's roots
    /// when absent.
    pub ca_file: Option<PathBuf>,
    /// PEM file of the client certificate (chain), for servers that verify clients.
    pub cert_file: Option<PathBuf>,
    /// PEM file of the client certificate's private key.
    pub key_file: Option<PathBuf>,
}

/// How a connection (re)connects. The default is the OTP host's: start at once while no server
/// answers and join in the background, retry forever, pauses 0, 250 ms, 500 ms, ... capped at 4 s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconnectPolicy {
    /// Stop after this many consecutive failed attempts (each server tried counts one); `None`
    /// retries forever.
    pub max_attempts: Option<usize>,
    /// Added to the pause after every failed attempt.
    pub delay_step: Duration,
    /// Longest pause between attempts.
    pub max_delay: Duration,
    /// `true`: when no server answers at first, connecting succeeds and the client joins in the
    /// background. `false`: connecting fails at once (for command-line tools).
    pub background_first_connect: bool,
    /// How long one attempt on one server may take (TCP, TLS and the NATS handshake).
    pub connect_timeout: Duration,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            max_attempts: None,
            delay_step: Duration::from_millis(250),
            max_delay: Duration::from_secs(4),
            background_first_connect: true,
            connect_timeout: Duration::from_secs(5),
        }
    }
}

impl ReconnectPolicy {
    /// The pause before attempt number `attempt` (1 = the first): 0, then one step more per
    /// attempt, capped.
    pub fn delay(&self, attempt: usize) -> Duration {
        let steps = attempt.saturating_sub(1).min(1 << 16) as u32;
        self.delay_step.saturating_mul(steps).min(self.max_delay)
    }

    /// Fail at once instead of joining in the background (keeps the rest).
    pub fn fail_fast(mut self) -> Self {
        self.background_first_connect = false;
        self
    }
}

/// Settings for one NATS connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsConnection {
    /// Servers, tried in this order; on a disconnect the client fails over to the next one
    /// (and to servers the cluster announces).
    pub servers: Vec<ServerAddress>,
    /// Credentials.
    pub auth: NatsAuth,
    /// TLS.
    pub tls: TlsSettings,
    /// Reconnecting.
    pub reconnect: ReconnectPolicy,
    /// Connection name shown by the server (`nats server report connections`); the caller's
    /// default when `None`.
    pub name: Option<String>,
}

impl Default for NatsConnection {
    /// `nats://127.0.0.1:4222`, anonymous, the default reconnect policy.
    fn default() -> Self {
        NatsConnection {
            servers: vec![ServerAddress::new("127.0.0.1", DEFAULT_PORT)],
            auth: NatsAuth::Anonymous,
            tls: TlsSettings::default(),
            reconnect: ReconnectPolicy::default(),
            name: None,
        }
    }
}

impl NatsConnection {
    /// Anonymous settings for the servers in `url`: one address or a comma list of
    /// `nats://host:port`, `tls://host:port`, `host:port`, `host`.
    pub fn from_url(url: &str) -> Result<Self> {
        Ok(NatsConnection {
            servers: ServerAddress::parse_list(url, "url", DEFAULT_PORT)?,
            ..Default::default()
        })
    }

    /// Replaces the servers with those in `url` (a comma list).
    pub fn with_url(mut self, url: &str) -> Result<Self> {
        self.servers = ServerAddress::parse_list(url, "url", DEFAULT_PORT)?;
        Ok(self)
    }

    /// Sets the credentials.
    pub fn with_auth(mut self, auth: NatsAuth) -> Self {
        self.auth = auth;
        self
    }

    /// The servers as a comma list of URLs (no credentials in them), for messages and logs.
    pub fn url(&self) -> String {
        describe(&self.servers)
    }

    /// The host of the first server (what `ping.hosts` reports as `rpc_host`, `ctl_host`).
    pub fn host(&self) -> &str {
        self.servers.first().map(|s| s.host.as_str()).unwrap_or("")
    }

    /// Whether the connection uses TLS whatever the server says.
    pub fn tls_required(&self) -> bool {
        self.tls.required
            || self.tls.ca_file.is_some()
            || self.tls.cert_file.is_some()
            || self.servers.iter().any(|s| s.tls)
    }

    /// Refuses settings that can never connect: no server, a bad or mismatched seed or JWT, an
    /// unreadable or malformed creds, CA, certificate or key file, a certificate without its key.
    /// Reads the files; opens no connection. The error's setting is the field name (`seed`,
    /// `creds_file`, `tls.ca_file`, ...).
    pub fn check(&self) -> Result<()> {
        if self.servers.is_empty() {
            return Err(NatsError::settings(
                "servers",
                "no NATS server address given",
            ));
        }
        self.auth.check()?;
        tls::check(&self.tls)?;
        if self.reconnect.max_attempts == Some(0) {
            return Err(NatsError::settings(
                "reconnect.max_attempts",
                "must be at least 1 (`None` retries forever)",
            ));
        }
        if self.reconnect.connect_timeout.is_zero() {
            return Err(NatsError::settings(
                "reconnect.connect_timeout",
                "must be greater than zero",
            ));
        }
        Ok(())
    }
}

/// JetStream bucket replicas when nothing says otherwise (one server or a cluster alike).
pub const DEFAULT_REPLICAS: usize = 1;

/// How a host joins a NATS lattice: separate RPC and control connections, the settings handed
/// to providers, the JetStream domain, and the replica count of the buckets it creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsConfig {
    /// Connection for RPC (`wasmbus.rpc.*`) and the chunking object store.
    pub rpc: NatsConnection,
    /// Connection for the control interface, events and lattice state.
    pub ctl: NatsConnection,
    /// Connection settings handed to capability providers in their HostData.
    pub prov_rpc: NatsConnection,
    /// JetStream domain, when the lattice uses one.
    pub js_domain: Option<String>,
    /// Replicas of the KV bucket and object store this host creates (1; 3 in a cluster of
    /// three or more servers). Buckets that exist already keep theirs.
    pub replicas: usize,
}

impl Default for NatsConfig {
    fn default() -> Self {
        NatsConfig {
            rpc: NatsConnection::default(),
            ctl: NatsConnection::default(),
            prov_rpc: NatsConnection::default(),
            js_domain: None,
            replicas: DEFAULT_REPLICAS,
        }
    }
}

impl NatsConfig {
    /// The same servers (one URL or a comma list) for RPC, control and providers, anonymous.
    pub fn single(url: &str) -> Result<Self> {
        let conn = NatsConnection::from_url(url)?;
        Ok(NatsConfig {
            rpc: conn.clone(),
            ctl: conn.clone(),
            prov_rpc: conn,
            ..Default::default()
        })
    }

    /// The same connection settings for RPC, control and providers.
    pub fn uniform(conn: NatsConnection) -> Self {
        NatsConfig {
            rpc: conn.clone(),
            ctl: conn.clone(),
            prov_rpc: conn,
            ..Default::default()
        }
    }

    /// [`NatsConnection::check`] for every connection (the setting is prefixed `rpc.`, `ctl.`
    /// or `prov_rpc.`), and the replica count (1 to 5).
    pub fn check(&self) -> Result<()> {
        for (name, conn) in [
            ("rpc", &self.rpc),
            ("ctl", &self.ctl),
            ("prov_rpc", &self.prov_rpc),
        ] {
            conn.check()
                .map_err(|e| e.rename_setting(|field| Some(format!("{name}.{field}"))))?;
        }
        if !(1..=5).contains(&self.replicas) {
            return Err(NatsError::settings(
                "replicas",
                format!(
                    "{} is out of range: JetStream keeps 1 to 5 replicas",
                    self.replicas
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_otp_hosts() {
        let conn = NatsConnection::default();
        assert_eq!(conn.url(), "nats://127.0.0.1:4222");
        assert_eq!(conn.host(), "127.0.0.1");
        assert!(!conn.tls_required());
        let policy = &conn.reconnect;
        assert_eq!(
            (policy.max_attempts, policy.background_first_connect),
            (None, true)
        );
        assert_eq!(policy.delay(1), Duration::ZERO);
        assert_eq!(policy.delay(2), Duration::from_millis(250));
        assert!(policy.delay(3) > policy.delay(2));
        assert_eq!(policy.delay(usize::MAX), Duration::from_secs(4));
        conn.check().unwrap();
        assert_eq!(NatsConfig::default().replicas, 1);
    }

    #[test]
    fn several_urls_and_tls_schemes() {
        let conn = NatsConnection::from_url("nats://a:1,tls://b:2").unwrap();
        assert_eq!(conn.url(), "nats://a:1, tls://b:2");
        assert!(conn.tls_required());
        let config = NatsConfig::single("a:1, b").unwrap();
        assert_eq!(config.ctl.url(), "nats://a:1, nats://b:4222");
        assert_eq!(config.prov_rpc, config.rpc);
        assert!(NatsConnection::from_url("ws://x").is_err());
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let conn = NatsConnection::default().with_auth(NatsAuth::UserPassword {
            user: "alice".into(),
            password: "hunter2".into(),
        });
        let text = format!("{conn:?}");
        assert!(
            text.contains("alice") && !text.contains("hunter2"),
            "{text}"
        );
        for auth in [
            NatsAuth::Token("t0ken".into()),
            NatsAuth::Nkey {
                seed: "SUSECRET".into(),
            },
            NatsAuth::Jwt {
                jwt: "eyJ".into(),
                seed: "SUSECRET".into(),
            },
        ] {
            let text = format!("{auth:?}");
            assert!(
                !text.contains("t0ken") && !text.contains("SUSECRET") && !text.contains("eyJ"),
                "{text}"
            );
        }
    }

    #[test]
    fn impossible_settings_are_refused_with_their_name() {
        let check = |auth: NatsAuth| {
            NatsConnection::default()
                .with_auth(auth)
                .check()
                .unwrap_err()
                .to_string()
        };
        assert!(check(NatsAuth::UserPassword {
            user: "u".into(),
            password: String::new()
        })
        .contains("setting password"));
        assert!(check(NatsAuth::Token(String::new())).contains("setting token"));
        assert!(check(NatsAuth::Nkey {
            seed: "SUNOTASEED".into()
        })
        .contains("setting seed"));
        let err = check(NatsAuth::CredsFile("/nonexistent/user.creds".into()));
        assert!(
            err.contains("creds_file") && err.contains("/nonexistent/user.creds"),
            "{err}"
        );
        let config = NatsConfig {
            replicas: 7,
            ..Default::default()
        };
        assert!(config.check().unwrap_err().to_string().contains("replicas"));
        let mut config = NatsConfig::default();
        config.ctl.auth = NatsAuth::Token(String::new());
        assert!(config
            .check()
            .unwrap_err()
            .to_string()
            .contains("setting ctl.token"));
        let no_servers = NatsConnection {
            servers: vec![],
            ..Default::default()
        };
        assert!(no_servers
            .check()
            .unwrap_err()
            .to_string()
            .contains("servers"));
    }
}
