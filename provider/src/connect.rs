//! The provider's NATS connection: URL from HostData, optional JWT + seed, reconnect forever.

use crate::ProviderError;
use async_nats::{Client, ConnectOptions, Event};
use std::time::Duration;
use wasmhost_protocol::nkeys::KeyPair;
use wasmhost_protocol::HostData;

/// Where wasmbus-rpc connects when HostData names no server.
const DEFAULT_URL: &str = "nats://127.0.0.1:4222";
/// Longest pause between reconnect attempts.
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(4);

/// `lattice_rpc_url` with `nats://` added when it has no scheme (hosts send `host:port`).
pub(crate) fn nats_url(host_data: &HostData) -> String {
    let url = host_data.lattice_rpc_url.trim();
    if url.is_empty() {
        DEFAULT_URL.to_string()
    } else if url.contains("://") {
        url.to_string()
    } else {
        format!("nats://{url}")
    }
}

/// Connects, waiting for the server if it is not up yet, and reconnects forever after a
/// disconnect. Fails only on a bad seed.
pub(crate) async fn connect(host_data: &HostData) -> Result<Client, ProviderError> {
    let url = nats_url(host_data);
    let mut options = ConnectOptions::new()
        .name(format!("provider {}", host_data.provider_key))
        .retry_on_initial_connect()
        .max_reconnects(None)
        .reconnect_delay_callback(|attempts| {
            Duration::from_millis(250 * attempts.min(16) as u64).min(MAX_RECONNECT_DELAY)
        })
        .event_callback({
            let url = url.clone();
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
    let jwt = host_data.lattice_rpc_user_jwt.trim();
    let seed = host_data.lattice_rpc_user_seed.trim();
    if !jwt.is_empty() && !seed.is_empty() {
        let key =
            std::sync::Arc::new(KeyPair::from_seed(seed).map_err(|e| {
                ProviderError::HostData(format!("invalid lattice_rpc_user_seed: {e}"))
            })?);
        options = options.jwt(jwt.to_string(), move |nonce| {
            let key = key.clone();
            async move { key.sign(&nonce).map_err(async_nats::AuthError::new) }
        });
    }
    options
        .connect(&url)
        .await
        .map_err(|e| ProviderError::Transport(format!("cannot connect to NATS at {url}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_get_a_scheme() {
        let url = |u: &str| {
            nats_url(&HostData {
                lattice_rpc_url: u.into(),
                ..Default::default()
            })
        };
        assert_eq!(url("127.0.0.1:4222"), "nats://127.0.0.1:4222");
        assert_eq!(url("tls://nats.example:4222"), "tls://nats.example:4222");
        assert_eq!(url(""), DEFAULT_URL);
    }
}
