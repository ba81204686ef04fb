//! Opening a connection from [`NatsConnection`] settings: the one place the workspace calls
//! async-nats' `connect`.
//!
//! The first attempt is made in the foreground, so that a server that answers and refuses (wrong
//! credentials, a TLS handshake that cannot succeed) is a clear error at once instead of a client
//! retrying forever. When no server answers at all and the policy allows it, the client joins in
//! the background and the call returns (the OTP host's behaviour: a host starts before NATS).

use std::str::FromStr;
use std::sync::Arc;

use async_nats::{Client, ConnectErrorKind, ConnectOptions, Event, ServerAddr};
use nkeys::KeyPair;

use crate::settings::{NatsAuth, NatsConnection};
use crate::{creds, NatsError, Result};

/// Connects with `settings`, after [checking](NatsConnection::check) them. `default_name` is the
/// connection name when the settings set none.
///
/// Fails with [`NatsError::Settings`] (before any connection opens), [`NatsError::Refused`] (a
/// server refused the credentials or the TLS handshake), or [`NatsError::Transport`] (no server
/// answered and the policy is [`fail_fast`](crate::ReconnectPolicy::fail_fast)). After a
/// disconnect the client reconnects by the policy, failing over in the order of the servers.
pub async fn connect(settings: &NatsConnection, default_name: &str) -> Result<Client> {
    // On the heap: async-nats' connect futures are large, and callers may poll on small stacks
    // (an Erlang dirty scheduler thread blocking on a host start).
    Box::pin(connect_now(settings, default_name)).await
}

async fn connect_now(settings: &NatsConnection, default_name: &str) -> Result<Client> {
    settings.check()?;
    let servers = server_addrs(settings)?;
    let name = settings
        .name
        .clone()
        .unwrap_or_else(|| default_name.to_string());
    match options(settings, &name)?.connect(servers.clone()).await {
        Ok(client) => Ok(client),
        Err(e) => match e.kind() {
            ConnectErrorKind::AuthorizationViolation | ConnectErrorKind::Authentication => Err(NatsError::Refused(format!(
                "NATS at {} refused the {} credentials of connection `{name}` ({e}): check them",
                settings.url(),
                settings.auth.describe()
            ))),
            _ if e.kind() == ConnectErrorKind::Tls || is_tls_failure(&e) => Err(NatsError::Refused(format!(
                "TLS with NATS at {} failed for connection `{name}`: {e} (check the CA, client certificate and key)",
                settings.url()
            ))),
            _ if settings.reconnect.background_first_connect => {
                tracing::warn!(url = %settings.url(), connection = %name, error = %e, "no NATS server answers yet; joining in the background");
                options(settings, &name)?
                    .retry_on_initial_connect()
                    .connect(servers)
                    .await
                    .map_err(|e| NatsError::transport(format!("cannot start connecting to NATS at {}: {e}", settings.url())))
            }
            _ => Err(NatsError::transport(format!("cannot connect to NATS at {}: {e}", settings.url()))),
        },
    }
}

/// Whether a connect error is a TLS handshake the server or we rejected (rustls reports those
/// as I/O errors wrapping a `rustls::Error`): retrying cannot fix it.
fn is_tls_failure(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(error);
    while let Some(e) = source {
        if e.is::<async_nats::rustls::Error>() {
            return true;
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            if inner.is::<async_nats::rustls::Error>() {
                return true;
            }
        }
        source = e.source();
    }
    false
}

fn server_addrs(settings: &NatsConnection) -> Result<Vec<ServerAddr>> {
    settings
        .servers
        .iter()
        .map(|s| {
            ServerAddr::from_str(&s.to_string())
                .map_err(|e| NatsError::settings("servers", format!("`{s}`: {e}")))
        })
        .collect()
}

fn options(settings: &NatsConnection, name: &str) -> Result<ConnectOptions> {
    let policy = settings.reconnect.clone();
    let connect_timeout = policy.connect_timeout;
    let mut options = ConnectOptions::new()
        .name(name)
        .retain_servers_order()
        .max_reconnects(policy.max_attempts)
        .connection_timeout(connect_timeout)
        .reconnect_delay_callback(move |attempt| policy.delay(attempt))
        .require_tls(settings.tls_required())
        .event_callback(log_events(settings.url(), name.to_string()));
    if let Some(ca) = &settings.tls.ca_file {
        options = options.add_root_certificates(ca.clone());
    }
    if let (Some(cert), Some(key)) = (&settings.tls.cert_file, &settings.tls.key_file) {
        options = options.add_client_certificate(cert.clone(), key.clone());
    }
    Ok(match &settings.auth {
        NatsAuth::Anonymous => options,
        NatsAuth::UserPassword { user, password } => {
            options.user_and_password(user.clone(), password.clone())
        }
        NatsAuth::Token(token) => options.token(token.clone()),
        NatsAuth::Nkey { seed } => options.nkey(seed.trim().to_string()),
        NatsAuth::Jwt { jwt, seed } => {
            with_jwt(options, jwt, creds::check_user_seed(seed, "seed")?)
        }
        NatsAuth::CredsFile(path) => {
            let c = creds::read(path, "creds_file")?;
            with_jwt(
                options,
                &c.jwt,
                creds::check_user_seed(&c.seed, "creds_file")?,
            )
        }
    })
}

fn with_jwt(options: ConnectOptions, jwt: &str, key: KeyPair) -> ConnectOptions {
    let key = Arc::new(key);
    options.jwt(jwt.trim().to_string(), move |nonce| {
        let key = key.clone();
        async move { key.sign(&nonce).map_err(async_nats::AuthError::new) }
    })
}

fn log_events(
    url: String,
    name: String,
) -> impl Fn(Event) -> futures::future::Ready<()> + Send + Sync + 'static {
    move |event| {
        match &event {
            Event::Connected => tracing::info!(%url, connection = %name, "connected to NATS"),
            Event::Disconnected => {
                tracing::warn!(%url, connection = %name, "disconnected from NATS; reconnecting")
            }
            Event::ServerError(e) => {
                tracing::warn!(%url, connection = %name, error = %e, "NATS server error")
            }
            Event::ClientError(e) => {
                tracing::warn!(%url, connection = %name, error = %e, "NATS connection error")
            }
            other => {
                tracing::debug!(%url, connection = %name, event = %other, "NATS connection event")
            }
        }
        futures::future::ready(())
    }
}
