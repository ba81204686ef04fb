//! The crate's one error type: kinds the host and the provider SDK map onto their own.

/// Why a NATS operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NatsError {
    /// A setting can never work (a bad seed, an unreadable creds or certificate file, an unknown
    /// URL scheme, two auth forms at once). Found before any connection opens.
    #[error("invalid NATS setting {setting}: {reason}")]
    Settings {
        /// The setting, named as the user gave it (`WASMCLOUD_RPC_SEED`, `--nats-creds`, `seed`).
        setting: String,
        /// What is wrong with it and, where it helps, what to do.
        reason: String,
    },
    /// A server answered but refused the connection: wrong credentials, or a TLS handshake that
    /// can never succeed (an untrusted certificate, a client certificate it rejects).
    #[error("{0}")]
    Refused(String),
    /// No reply in time.
    #[error("{0}")]
    Timeout(String),
    /// Nothing in the lattice listens on the subject.
    #[error("{0}")]
    NoResponders(String),
    /// The connection or JetStream failed, or a reply could not be decoded.
    #[error("{0}")]
    Transport(String),
}

impl NatsError {
    /// A [`NatsError::Settings`] for `setting`.
    pub fn settings(setting: impl Into<String>, reason: impl Into<String>) -> Self {
        NatsError::Settings {
            setting: setting.into(),
            reason: reason.into(),
        }
    }

    /// A [`NatsError::Transport`] with `message`.
    pub fn transport(message: impl Into<String>) -> Self {
        NatsError::Transport(message.into())
    }

    /// The same error with its setting renamed (e.g. the field `seed` reported as the
    /// environment variable that set it).
    pub(crate) fn rename_setting(self, rename: impl Fn(&str) -> Option<String>) -> Self {
        match self {
            NatsError::Settings { setting, reason } => NatsError::Settings {
                setting: rename(&setting).unwrap_or(setting),
                reason,
            },
            other => other,
        }
    }
}

/// Results of this crate.
pub type Result<T, E = NatsError> = std::result::Result<T, E>;
