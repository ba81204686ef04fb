//! The NATS connection flags of `wasmhost ctl` and `wasmhost up`: servers, every auth form and
//! TLS files. Each has a `WASMCLOUD_{CTL,RPC,PROV_RPC}_*` variable (read by wasmhost-nats);
//! a flag wins over its variable, and any auth flag replaces the auth the variables give.

use std::collections::HashMap;
use std::path::PathBuf;

use clap::Args;
use wasmhost::NatsConnection;
use wasmhost_nats::NatsError;

/// Servers, credentials and TLS of a NATS connection.
#[derive(Args, Debug, Clone, Default)]
pub struct NatsFlags {
    /// NATS server: nats://host:port, tls://host:port, host:port or host; repeatable or a comma
    /// list, tried in order (failover). Default: `_HOST`/`_PORT` variables, else 127.0.0.1:4222.
    #[arg(long = "nats-url", value_name = "URL", global = true)]
    pub urls: Vec<String>,
    /// Credentials file (.creds, as nsc writes it: a user JWT and its seed) [`_CREDS`].
    #[arg(long, value_name = "FILE", global = true)]
    pub nats_creds: Option<PathBuf>,
    /// User JWT, with --nats-seed [`_JWT`].
    #[arg(long, value_name = "JWT", global = true)]
    pub nats_jwt: Option<String>,
    /// User nkey seed SU...: nkey auth alone, JWT auth with --nats-jwt [`_SEED`].
    #[arg(long, value_name = "SEED", global = true)]
    pub nats_seed: Option<String>,
    /// User name, with --nats-password [`_USER`].
    #[arg(long, value_name = "USER", global = true)]
    pub nats_user: Option<String>,
    /// Password, with --nats-user [`_PASSWORD`].
    #[arg(long, value_name = "PASSWORD", global = true)]
    pub nats_password: Option<String>,
    /// Auth token [`_TOKEN`].
    #[arg(long, value_name = "TOKEN", global = true)]
    pub nats_token: Option<String>,
    /// PEM file of the CA that signs the server's certificate; turns TLS on [`_TLS_CA`].
    #[arg(long, value_name = "FILE", global = true)]
    pub tls_ca: Option<PathBuf>,
    /// PEM file of the client certificate, with --tls-key [`_TLS_CERT`].
    #[arg(long, value_name = "FILE", global = true)]
    pub tls_cert: Option<PathBuf>,
    /// PEM file of the client certificate's key [`_TLS_KEY`].
    #[arg(long, value_name = "FILE", global = true)]
    pub tls_key: Option<PathBuf>,
}

fn path(p: &Option<PathBuf>) -> Option<String> {
    p.as_ref().map(|p| p.display().to_string())
}

impl NatsFlags {
    /// Whether any flag is given.
    pub fn any(&self) -> bool {
        !self.given().is_empty()
    }

    /// (variable suffix, flag, value) of every flag given.
    fn given(&self) -> Vec<(&'static str, &'static str, String)> {
        let urls = (!self.urls.is_empty()).then(|| self.urls.join(","));
        [
            ("TLS_CERT", "--tls-cert", path(&self.tls_cert)),
            ("PASSWORD", "--nats-password", self.nats_password.clone()),
            ("TLS_KEY", "--tls-key", path(&self.tls_key)),
            ("TLS_CA", "--tls-ca", path(&self.tls_ca)),
            ("CREDS", "--nats-creds", path(&self.nats_creds)),
            ("TOKEN", "--nats-token", self.nats_token.clone()),
            ("HOST", "--nats-url", urls),
            ("SEED", "--nats-seed", self.nats_seed.clone()),
            ("USER", "--nats-user", self.nats_user.clone()),
            ("JWT", "--nats-jwt", self.nats_jwt.clone()),
        ]
        .into_iter()
        .filter_map(|(suffix, flag, value)| value.map(|v| (suffix, flag, v)))
        .collect()
    }

    /// `base` (the connection the `{prefix}_*` variables describe) with the flags over it,
    /// checked. Errors name the flag when a flag set the value.
    pub fn apply(&self, prefix: &str, base: &NatsConnection) -> Result<NatsConnection, String> {
        let given = self.given();
        let vars: HashMap<String, String> = given
            .iter()
            .map(|(suffix, _, v)| (format!("{prefix}_{suffix}"), v.clone()))
            .collect();
        wasmhost_nats::env::connection_from_vars(&vars, prefix, base).map_err(|e| match e {
            NatsError::Settings { setting, reason } => {
                let mut text = format!("invalid NATS setting {setting}: {reason}");
                for (suffix, flag, _) in &given {
                    text = text.replace(&format!("{prefix}_{suffix}"), flag);
                }
                text
            }
            other => other.to_string(),
        })
    }

    /// The connection of the `{prefix}_*` variables in `env` (defaults when unset) with the
    /// flags over it.
    pub fn connection(
        &self,
        prefix: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<NatsConnection, String> {
        let env: HashMap<String, String> = env.into_iter().collect();
        let base =
            wasmhost_nats::env::connection_from_vars(&env, prefix, &NatsConnection::default())
                .map_err(|e| e.to_string())?;
        self.apply(prefix, &base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmhost::NatsAuth;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn flags_win_over_the_variables() {
        let flags = NatsFlags {
            urls: vec!["a:1,b:2".into(), "tls://c".into()],
            nats_token: Some("t".into()),
            ..Default::default()
        };
        let conn = flags
            .connection(
                "WASMCLOUD_CTL",
                env(&[
                    ("WASMCLOUD_CTL_HOST", "x"),
                    ("WASMCLOUD_CTL_PORT", "9"),
                    ("WASMCLOUD_CTL_USER", "u"),
                    ("WASMCLOUD_CTL_PASSWORD", "p"),
                ]),
            )
            .unwrap();
        assert_eq!(conn.url(), "nats://a:1, nats://b:2, tls://c:4222");
        assert_eq!(conn.auth, NatsAuth::Token("t".into()));
        let from_env = NatsFlags::default()
            .connection(
                "WASMCLOUD_CTL",
                env(&[("WASMCLOUD_CTL_HOST", "x"), ("WASMCLOUD_CTL_PORT", "9")]),
            )
            .unwrap();
        assert_eq!(from_env.url(), "nats://x:9");
        assert_eq!(
            NatsFlags::default()
                .connection("WASMCLOUD_CTL", env(&[]))
                .unwrap()
                .url(),
            "nats://127.0.0.1:4222"
        );
    }

    #[test]
    fn errors_name_the_flag_that_set_the_value() {
        let flags = NatsFlags {
            nats_seed: Some("SUnope".into()),
            ..Default::default()
        };
        let err = flags.connection("WASMCLOUD_CTL", env(&[])).unwrap_err();
        assert!(
            err.contains("--nats-seed") && !err.contains("WASMCLOUD_CTL_SEED"),
            "{err}"
        );
        let flags = NatsFlags {
            nats_user: Some("u".into()),
            ..Default::default()
        };
        assert!(flags
            .connection("WASMCLOUD_CTL", env(&[]))
            .unwrap_err()
            .contains("PASSWORD"));
        let flags = NatsFlags {
            tls_key: Some("/k.pem".into()),
            ..Default::default()
        };
        let err = flags.connection("WASMCLOUD_CTL", env(&[])).unwrap_err();
        assert!(err.contains("WASMCLOUD_CTL_TLS_CERT"), "{err}");
        let flags = NatsFlags {
            nats_token: Some("t".into()),
            nats_creds: Some("/x.creds".into()),
            ..Default::default()
        };
        let err = flags.connection("WASMCLOUD_CTL", env(&[])).unwrap_err();
        assert!(
            err.contains("--nats-creds and --nats-token")
                || err.contains("--nats-token and --nats-creds"),
            "{err}"
        );
        let flags = NatsFlags {
            urls: vec!["http://x".into()],
            ..Default::default()
        };
        assert!(flags
            .connection("WASMCLOUD_CTL", env(&[]))
            .unwrap_err()
            .contains("--nats-url"));
        let err = NatsFlags::default()
            .connection("WASMCLOUD_CTL", env(&[("WASMCLOUD_CTL_PORT", "x")]))
            .unwrap_err();
        assert!(err.contains("WASMCLOUD_CTL_PORT"), "{err}");
    }
}
