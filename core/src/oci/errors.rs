//! Registry failures turned into messages a person can act on.

use oci_client::errors::{OciDistributionError, OciErrorCode};

use crate::{Error, ErrorKind};

/// A failed registry operation, and whether the registry could not be reached at all (then a
/// cached copy may stand in).
pub(crate) struct RegistryFailure {
    pub error: Error,
    pub unreachable: bool,
}

/// What we were doing, for the message.
pub(crate) struct Context<'a> {
    pub reference: &'a str,
    pub registry: &'a str,
    pub insecure: bool,
    pub anonymous: bool,
    /// Pushing (hints name `wasmhost push` flags) rather than fetching for a host.
    pub push: bool,
}

pub(crate) fn describe(e: OciDistributionError, cx: &Context<'_>) -> RegistryFailure {
    let Context {
        reference,
        registry,
        insecure,
        anonymous,
        push,
    } = *cx;
    let reference = crate::quote::quote_input(reference);
    let denied = |detail: String| {
        let hint = if anonymous && push {
            "the registry requires credentials: give --user and --password"
        } else if anonymous {
            "the registry requires credentials: put them with registries.put (Host::put_registry_credentials) or set OCI_REGISTRY, OCI_REGISTRY_USER and OCI_REGISTRY_PASSWORD"
        } else {
            "check the user name and password given for this registry"
        };
        Error::new(
            ErrorKind::Denied,
            format!("registry {registry} refused access to `{reference}` ({detail}); {hint}"),
        )
    };
    let not_found = || {
        Error::not_found(format!("`{reference}` was not found in registry {registry} (404: no such repository, tag or digest)"))
    };
    let other = |kind: ErrorKind, detail: String| {
        Error::new(
            kind,
            format!("fetching `{reference}` from registry {registry} failed: {detail}"),
        )
    };
    let error = match e {
        OciDistributionError::RequestError(err) if err.is_connect() || err.is_timeout() => {
            let scheme = if insecure { "plain HTTP" } else { "HTTPS" };
            let hint = if insecure {
                String::new()
            } else if push {
                "; if it serves plain HTTP, use --insecure".to_string()
            } else {
                "; if it serves plain HTTP, list it in WASMCLOUD_OCI_ALLOWED_INSECURE (HostConfig::oci_allowed_insecure)".to_string()
            };
            return RegistryFailure {
                error: Error::new(ErrorKind::Transport, format!("cannot reach registry {registry} over {scheme} for `{reference}`: {}{hint}", error_chain(&err))),
                unreachable: true,
            };
        }
        OciDistributionError::UnauthorizedError { .. } => denied("401 Unauthorized".into()),
        OciDistributionError::AuthenticationFailure(reason) => {
            denied(format!("authentication failed: {}", reason.trim()))
        }
        OciDistributionError::ImageManifestNotFoundError(_) => not_found(),
        OciDistributionError::RegistryError { envelope, .. } => {
            let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
            let text = envelope
                .errors
                .iter()
                .map(|e| format!("{:?}: {}", e.code, e.message))
                .collect::<Vec<_>>()
                .join("; ");
            if codes.iter().any(|c| {
                matches!(
                    c,
                    OciErrorCode::ManifestUnknown
                        | OciErrorCode::NameUnknown
                        | OciErrorCode::BlobUnknown
                        | OciErrorCode::NotFound
                )
            }) {
                not_found()
            } else if codes
                .iter()
                .any(|c| matches!(c, OciErrorCode::Unauthorized | OciErrorCode::Denied))
            {
                denied(text)
            } else {
                other(ErrorKind::Transport, text)
            }
        }
        OciDistributionError::ServerError { code: 404, .. } => not_found(),
        OciDistributionError::ServerError {
            code: code @ (401 | 403),
            message,
            ..
        } => denied(format!("HTTP {code}{}", body_summary(&message))),
        OciDistributionError::ServerError { code, message, .. } => other(
            ErrorKind::Transport,
            format!("HTTP {code}{}", body_summary(&message)),
        ),
        OciDistributionError::DigestError(err) => {
            other(ErrorKind::Transport, format!("digest mismatch: {err}"))
        }
        OciDistributionError::RequestError(err) => other(ErrorKind::Transport, error_chain(&err)),
        err => other(ErrorKind::Transport, err.to_string()),
    };
    RegistryFailure {
        error,
        unreachable: false,
    }
}

/// `: message` of an OCI error body (`{"errors":[{"code","message"}]}`), or of a short plain body.
fn body_summary(body: &str) -> String {
    let body = body.trim();
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(body) {
        let messages: Vec<String> = value["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["message"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        return if messages.is_empty() {
            String::new()
        } else {
            format!(": {}", messages.join("; "))
        };
    }
    match body.chars().count() {
        0 => String::new(),
        n if n <= 200 => format!(": {body}"),
        _ => format!(": {}...", body.chars().take(200).collect::<String>()),
    }
}

/// An error and its sources on one line: reqwest hides the useful part (connection refused, TLS) in them.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx(anonymous: bool) -> Context<'static> {
        Context {
            reference: "r:1/echo:1",
            registry: "r:1",
            insecure: false,
            anonymous,
            push: false,
        }
    }

    #[test]
    fn statuses_map_to_kinds_with_hints() {
        let server = |code: u16, message: &str| OciDistributionError::ServerError {
            code,
            url: "u".into(),
            message: message.into(),
        };
        let f = describe(
            server(
                401,
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
            ),
            &cx(true),
        );
        assert_eq!(f.error.kind(), ErrorKind::Denied);
        assert!(!f.unreachable);
        assert!(
            f.error
                .message()
                .contains("(HTTP 401: authentication required); the registry requires credentials"),
            "{}",
            f.error
        );
        let f = describe(server(403, "no"), &cx(false));
        assert!(
            f.error
                .message()
                .contains("check the user name and password"),
            "{}",
            f.error
        );
        assert_eq!(
            describe(server(404, ""), &cx(true)).error.kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            describe(server(500, &"x".repeat(1000)), &cx(true))
                .error
                .kind(),
            ErrorKind::Transport
        );
        assert!(
            describe(server(500, &"x".repeat(1000)), &cx(true))
                .error
                .message()
                .len()
                < 400
        );
        let f = describe(
            OciDistributionError::UnauthorizedError { url: "u".into() },
            &cx(true),
        );
        assert_eq!(f.error.kind(), ErrorKind::Denied);
    }
}
