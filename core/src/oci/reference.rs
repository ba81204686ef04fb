//! OCI references and the OTP host's rules about them: no `:latest` unless allowed, plain HTTP only
//! for listed registries.

use oci_client::Reference;

use crate::quote::quote_input;
use crate::{Error, ErrorKind, Result};

/// Longest reference accepted: registries limit a repository name to 255 characters, a host name
/// to 253 and a tag to 128; anything much longer is not a reference.
pub(crate) const MAX_REFERENCE_BYTES: usize = 1024;

/// Parses `registry/repo:tag` or `registry/repo@sha256:...`; an optional `oci://` prefix is dropped.
pub(crate) fn parse(reference: &str) -> Result<Reference> {
    if reference.len() > MAX_REFERENCE_BYTES {
        return Err(Error::invalid(format!(
            "`{}` is not a valid OCI reference: {} bytes, more than any registry accepts ({MAX_REFERENCE_BYTES})",
            quote_input(reference),
            reference.len()
        )));
    }
    let text = reference.trim();
    let text = text.strip_prefix("oci://").unwrap_or(text);
    if text.starts_with("bindle://") {
        return Err(Error::invalid(format!(
            "`{}`: bindle references are not supported; use an OCI reference",
            quote_input(reference)
        )));
    }
    text.parse::<Reference>().map_err(|e| {
        Error::invalid(format!(
            "`{}` is not a valid OCI reference: {e}",
            quote_input(reference)
        ))
    })
}

/// True when the reference floats on `latest`: tagged `latest`, or untagged, and not pinned by digest.
pub(crate) fn is_latest(reference: &Reference) -> bool {
    reference.digest().is_none() && reference.tag().is_none_or(|t| t == "latest")
}

/// Refuses floating `latest` references unless the host allows them (`WASMCLOUD_OCI_ALLOW_LATEST`).
pub(crate) fn check_latest(
    reference: &Reference,
    original: &str,
    allow_latest: bool,
) -> Result<()> {
    if is_latest(reference) && !allow_latest {
        return Err(Error::new(
            ErrorKind::Denied,
            format!(
                "refusing to fetch `{original}`: the `latest` tag (or no tag) is not allowed by the host configuration; \
                 pin a version or a digest, or set WASMCLOUD_OCI_ALLOW_LATEST=true (HostConfig::oci_allow_latest)"
            ),
        ));
    }
    Ok(())
}

/// Whether `registry` (`host[:port]`) may be reached over plain HTTP. Entries may carry a scheme.
pub(crate) fn is_insecure_allowed(registry: &str, allowed_insecure: &[String]) -> bool {
    allowed_insecure
        .iter()
        .any(|entry| server_key(entry) == registry)
}

/// The server part of a registry name or reference, as `registries.put` keys are normalised:
/// scheme stripped, text before the first `/`.
pub(crate) fn server_key(name: &str) -> String {
    let name = name.trim();
    let name = name.split_once("://").map(|(_, rest)| rest).unwrap_or(name);
    name.split('/').next().unwrap_or(name).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_rules() {
        for (text, latest) in [
            ("127.0.0.1:5000/echo:0.1.0", false),
            ("127.0.0.1:5000/echo:latest", true),
            ("127.0.0.1:5000/echo", true),
            ("127.0.0.1:5000/echo@sha256:0000000000000000000000000000000000000000000000000000000000000000", false),
            ("oci://wasmcloud.azurecr.io/echo:0.3.4", false),
        ] {
            let r = parse(text).unwrap();
            assert_eq!(is_latest(&r), latest, "{text}");
            assert_eq!(check_latest(&r, text, false).is_err(), latest, "{text}");
            assert!(check_latest(&r, text, true).is_ok());
        }
        let err = check_latest(&parse("r:1/e").unwrap(), "r:1/e", false).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Denied);
        assert!(err.message().contains("WASMCLOUD_OCI_ALLOW_LATEST"));
    }

    #[test]
    fn registry_of_a_reference() {
        let r = parse("127.0.0.1:5000/team/echo:0.1.0").unwrap();
        assert_eq!(
            (r.registry(), r.repository(), r.tag()),
            ("127.0.0.1:5000", "team/echo", Some("0.1.0"))
        );
        assert!(parse("bindle://example.com/x@1").is_err());
        assert!(parse("UPPER/Case:1").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn insecure_list_and_server_keys() {
        let list = vec![
            "localhost:5000".to_string(),
            "http://127.0.0.1:5001/".to_string(),
        ];
        assert!(is_insecure_allowed("localhost:5000", &list));
        assert!(is_insecure_allowed("127.0.0.1:5001", &list));
        assert!(!is_insecure_allowed("127.0.0.1:5000", &list));
        assert_eq!(
            server_key("https://wasmcloud.azurecr.io/echo"),
            "wasmcloud.azurecr.io"
        );
    }
}
