//! The links this provider accepted, keyed by actor id, with wasmbus-rpc 0.11's rules:
//! a second put for a linked actor is ignored, a link is kept only if the handler
//! accepted it.

use crate::{Provider, ProviderHandler};
use wasmhost_protocol::LinkDefinition;

/// Decodes a pushed link: msgpack as hosts send it, JSON as wasmbus-rpc's test mode does.
pub(crate) fn decode_link(payload: &[u8]) -> Option<LinkDefinition> {
    match LinkDefinition::decode(payload) {
        Ok(link) => Some(link),
        Err(msgpack) => match LinkDefinition::from_json(payload) {
            Ok(link) => Some(link),
            Err(_) => {
                tracing::error!(error = %msgpack, "ignoring an undecodable link definition");
                None
            }
        },
    }
}

/// Offers `link` to the handler unless its actor is linked already; remembers it on `Ok(true)`.
pub(crate) async fn put_link(
    provider: &Provider,
    handler: &dyn ProviderHandler,
    link: LinkDefinition,
) {
    if provider.is_linked(&link.actor_id) {
        tracing::info!(actor = %link.actor_id, "Ignoring duplicate link put");
        return;
    }
    match handler.put_link(provider, &link).await {
        Ok(true) => {
            tracing::info!(actor = %link.actor_id, link_name = %link.link_name, "link put");
            provider.remember_link(link);
        }
        Ok(false) => tracing::warn!(actor = %link.actor_id, "put_link refused the link"),
        Err(e) => {
            tracing::error!(actor = %link.actor_id, error = %e, "put_link failed; the actor stays unlinked")
        }
    }
}

/// Forgets the link of `link.actor_id` and tells the handler.
pub(crate) async fn delete_link(
    provider: &Provider,
    handler: &dyn ProviderHandler,
    link: &LinkDefinition,
) {
    provider.forget_link(&link.actor_id);
    handler.delete_link(&link.actor_id).await;
    tracing::info!(actor = %link.actor_id, "link deleted");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msgpack_and_json_links_decode() {
        let link = LinkDefinition {
            actor_id: "MA".into(),
            provider_id: "VP".into(),
            ..Default::default()
        };
        assert_eq!(decode_link(&link.encode()), Some(link.clone()));
        assert_eq!(decode_link(&link.to_json()), Some(link));
        assert_eq!(decode_link(b"\xc1garbage"), None);
    }
}
