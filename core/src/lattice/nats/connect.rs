//! Opening one NATS connection from [`NatsConnection`] settings: auth (JWT + seed, seed only, or
//! anonymous, as the OTP host decides), TLS, and reconnecting forever with a capped backoff.

use std::time::Duration;

use async_nats::{Client, ConnectOptions, Event};
use nkeys::KeyPair;

use super::transport_error;
use crate::config::NatsConnection;
use crate::{Error, Result};

/// Longest pause between reconnect attempts (the OTP host's fixed delay).
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(4);

/// Refuses settings that can never connect (a bad seed), so a host checks every connection before
/// opening any and a failed start leaves no connection retrying in the background.
pub(crate) fn check(settings: &NatsConnection) -> Result<()> {
    let seed = settings.seed.trim();
    if !seed.is_empty() {
        KeyPair::from_seed(seed).map_err(|e| Error::invalid(format!("invalid NATS seed: {e}")))?;
    }
    Ok(())
}

/// Connects in the background: returns at once even when the server is not reachable yet; the
/// client joins when it is, and after a disconnect reconnects (and resubscribes) forever.
/// Fails only on invalid settings (a bad seed).
pub(crate) async fn connect(settings: &NatsConnection, name: &str) -> Result<Client> {
    let mut options = ConnectOptions::new()
        .name(name)
        .retry_on_initial_connect()
        .max_reconnects(None)
        .reconnect_delay_callback(backoff)
        .require_tls(settings.tls)
        .event_callback({
            let url = settings.url();
            move |event| {
                let url = url.clone();
                async move {
                    match event {
                        Event::Connected => tracing::info!(%url, "connected to NATS"),
                        Event::Disconnected => {
                            tracing::warn!(%url, "disconnected from NATS; reconnecting")
                        }
                        other => tracing::debug!(%url, event = %other, "NATS connection event"),
                    }
                }
            }
        });
    let seed = settings.seed.trim();
    let jwt = settings.jwt.trim();
    if !seed.is_empty() && !jwt.is_empty() {
        let key = std::sync::Arc::new(
            KeyPair::from_seed(seed)
                .map_err(|e| Error::invalid(format!("invalid NATS seed: {e}")))?,
        );
        options = options.jwt(jwt.to_string(), move |nonce| {
            let key = key.clone();
            async move { key.sign(&nonce).map_err(async_nats::AuthError::new) }
        });
    } else if !seed.is_empty() {
        KeyPair::from_seed(seed).map_err(|e| Error::invalid(format!("invalid NATS seed: {e}")))?;
        options = options.nkey(seed.to_string());
    }
    options
        .connect(settings.url())
        .await
        .map_err(|e| transport_error(format!("cannot connect to NATS at {}: {e}", settings.url())))
}

/// 0 ms, 250 ms, 500 ms, ... up to [`MAX_RECONNECT_DELAY`].
fn backoff(attempts: usize) -> Duration {
    Duration::from_millis(250 * attempts.min(16) as u64).min(MAX_RECONNECT_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(0), Duration::ZERO);
        assert!(backoff(2) < backoff(3));
        assert_eq!(backoff(1000), MAX_RECONNECT_DELAY);
    }
}
