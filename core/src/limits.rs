//! Bounds on what a caller can store in the host: annotations, link definitions.
//!
//! Everything stored comes back in inventories, `get.links` replies, heartbeats and events, each
//! of which must fit one NATS message (1 MiB by default). Refusing oversized input when it is put
//! (with a message that says which bound) beats a reply that silently never arrives later.

use std::collections::HashMap;

use wasmhost_protocol::rpc::LinkDefinition;

use crate::quote::quote_input;
use crate::{Error, Result};

/// Annotations per actor or provider instance.
pub const MAX_ANNOTATIONS: usize = 32;
/// Bytes of one annotation key or a link value's key.
pub const MAX_KEY_BYTES: usize = 256;
/// Bytes of one annotation value.
pub const MAX_ANNOTATION_VALUE_BYTES: usize = 1024;
/// Values of one link definition.
pub const MAX_LINK_VALUES: usize = 64;
/// Bytes of one link value (room for a URL, a certificate or a small JSON document).
pub const MAX_LINK_VALUE_BYTES: usize = 16 * 1024;
/// Bytes of all values of one link definition together.
pub const MAX_LINK_VALUES_TOTAL_BYTES: usize = 64 * 1024;
/// Bytes of an id-like field: public keys, contract ids, link names.
pub const MAX_ID_BYTES: usize = 256;
/// Bytes of an operation name (`HttpServer.HandleRequest` is 24).
pub const MAX_OPERATION_BYTES: usize = 1024;
/// Link definitions one host keeps for the lattice.
pub const MAX_LINKS: usize = 10_000;

/// Checks the annotations given for an actor or provider start.
pub fn check_annotations(annotations: &HashMap<String, String>) -> Result<()> {
    if annotations.len() > MAX_ANNOTATIONS {
        return Err(Error::invalid(format!(
            "{} annotations given; at most {MAX_ANNOTATIONS} are accepted",
            annotations.len()
        )));
    }
    for (key, value) in annotations {
        if key.len() > MAX_KEY_BYTES {
            return Err(Error::invalid(format!(
                "annotation key {} is longer than {MAX_KEY_BYTES} bytes",
                quote_input(key)
            )));
        }
        if value.len() > MAX_ANNOTATION_VALUE_BYTES {
            return Err(Error::invalid(format!(
                "annotation {} has a value of {} bytes; at most {MAX_ANNOTATION_VALUE_BYTES} are accepted",
                quote_input(key),
                value.len()
            )));
        }
    }
    Ok(())
}

/// Checks an id-like field (`what` names it in the error).
pub fn check_id(what: &str, value: &str) -> Result<()> {
    if value.len() > MAX_ID_BYTES {
        return Err(Error::invalid(format!(
            "{what} {} is longer than {MAX_ID_BYTES} bytes",
            quote_input(value)
        )));
    }
    Ok(())
}

/// Checks an operation name: present and at most [`MAX_OPERATION_BYTES`].
pub fn check_operation(operation: &str) -> Result<()> {
    if operation.is_empty() {
        return Err(Error::invalid("operation must not be empty"));
    }
    if operation.len() > MAX_OPERATION_BYTES {
        return Err(Error::invalid(format!(
            "operation {} is longer than {MAX_OPERATION_BYTES} bytes",
            quote_input(operation)
        )));
    }
    Ok(())
}

/// Checks a link definition: every id present and short, values within bounds.
pub fn check_link(link: &LinkDefinition) -> Result<()> {
    for (field, value) in [
        ("actor_id", &link.actor_id),
        ("provider_id", &link.provider_id),
        ("contract_id", &link.contract_id),
        ("link_name", &link.link_name),
    ] {
        if value.is_empty() {
            return Err(Error::invalid(format!("link definition without {field}")));
        }
        check_id(field, value)?;
    }
    if link.values.len() > MAX_LINK_VALUES {
        return Err(Error::invalid(format!(
            "link definition with {} values; at most {MAX_LINK_VALUES} are accepted",
            link.values.len()
        )));
    }
    let mut total = 0;
    for (key, value) in &link.values {
        if key.len() > MAX_KEY_BYTES {
            return Err(Error::invalid(format!(
                "link value key {} is longer than {MAX_KEY_BYTES} bytes",
                quote_input(key)
            )));
        }
        if value.len() > MAX_LINK_VALUE_BYTES {
            return Err(Error::invalid(format!(
                "link value {} has {} bytes; at most {MAX_LINK_VALUE_BYTES} are accepted",
                quote_input(key),
                value.len()
            )));
        }
        total += key.len() + value.len();
    }
    if total > MAX_LINK_VALUES_TOTAL_BYTES {
        return Err(Error::invalid(format!(
            "link definition values total {total} bytes; at most {MAX_LINK_VALUES_TOTAL_BYTES} are accepted"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link() -> LinkDefinition {
        LinkDefinition {
            actor_id: "M".into(),
            provider_id: "V".into(),
            contract_id: "wasmcloud:keyvalue".into(),
            link_name: "default".into(),
            values: HashMap::new(),
        }
    }

    #[test]
    fn links_within_bounds_pass_and_each_bound_is_enforced() {
        assert!(check_link(&link()).is_ok());
        let mut l = link();
        l.provider_id.clear();
        assert!(check_link(&l)
            .unwrap_err()
            .message()
            .contains("provider_id"));
        let mut l = link();
        l.link_name = "x".repeat(MAX_ID_BYTES + 1);
        assert!(check_link(&l).unwrap_err().message().contains("link_name"));
        let mut l = link();
        l.values = (0..=MAX_LINK_VALUES)
            .map(|i| (i.to_string(), String::new()))
            .collect();
        assert!(check_link(&l).unwrap_err().message().contains("values"));
        let mut l = link();
        l.values
            .insert("URL".into(), "x".repeat(MAX_LINK_VALUE_BYTES + 1));
        assert!(check_link(&l).unwrap_err().message().contains("URL"));
        let mut l = link();
        l.values = (0..8)
            .map(|i| (i.to_string(), "x".repeat(MAX_LINK_VALUE_BYTES)))
            .collect();
        assert!(check_link(&l).unwrap_err().message().contains("total"));
    }

    #[test]
    fn annotations_are_bounded_and_errors_stay_short() {
        let ok: HashMap<_, _> = [("wasmcloud.dev/appspec".to_string(), "echo".to_string())].into();
        assert!(check_annotations(&ok).is_ok());
        let many: HashMap<_, _> = (0..=MAX_ANNOTATIONS)
            .map(|i| (i.to_string(), String::new()))
            .collect();
        assert!(check_annotations(&many).is_err());
        let long_key: HashMap<_, _> = [("k".repeat(1 << 20), String::new())].into();
        let e = check_annotations(&long_key).unwrap_err();
        assert!(e.message().len() < 600, "{}", e.message().len());
        let long_value: HashMap<_, _> =
            [("k".to_string(), "v".repeat(MAX_ANNOTATION_VALUE_BYTES + 1))].into();
        assert!(check_annotations(&long_value).is_err());
    }
}
