//! Registry credentials: `registries.put`-style maps (merged, keyed by server) and the
//! `OCI_REGISTRY` / `OCI_REGISTRY_USER` / `OCI_REGISTRY_PASSWORD` fallback (LATTICE.md §1.9, §4.6).

use std::collections::HashMap;

use oci_client::secrets::RegistryAuth;
use parking_lot::RwLock;
use wasmhost_protocol::ctl::{RegistryCredential, RegistryCredentialMap};

use super::reference::server_key;

/// The credentials a host knows, by registry server (`host[:port]`).
#[derive(Default)]
pub(crate) struct CredentialStore {
    by_server: RwLock<HashMap<String, RegistryCredential>>,
}

/// The env fallback, read once per lookup so a test or an operator can change it.
#[derive(Debug, Clone, Default)]
pub(crate) struct EnvCredentials {
    pub registry: Option<String>,
    pub user: Option<String>,
    pub password: Option<String>,
}

impl EnvCredentials {
    pub(crate) fn from_process_env() -> Self {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        EnvCredentials {
            registry: get("OCI_REGISTRY"),
            user: get("OCI_REGISTRY_USER"),
            password: get("OCI_REGISTRY_PASSWORD"),
        }
    }
}

impl CredentialStore {
    /// Merges `map` into the store as the v0.59 host does: entries without a `registryType` or
    /// without any secret are dropped, keys are normalised to the server name, later puts win.
    /// Returns how many entries were kept.
    pub(crate) fn merge(&self, map: RegistryCredentialMap) -> usize {
        let mut store = self.by_server.write();
        let mut kept = 0;
        for (server, cred) in map {
            if !cred.is_usable() {
                tracing::warn!(%server, "ignoring registry credentials without registryType or secret");
                continue;
            }
            let key = if cred.registry_type == "bindle" {
                server.rsplit('@').next().unwrap_or(&server).to_string()
            } else {
                server_key(&server)
            };
            store.insert(key, cred);
            kept += 1;
        }
        kept
    }

    /// How to authenticate to `registry` for `reference`: stored OCI credentials for that server,
    /// else the env fallback when the reference starts with `OCI_REGISTRY`, else anonymous.
    /// Stored user + password means basic auth; a token alone is sent as a bearer token.
    pub(crate) fn auth_for(
        &self,
        registry: &str,
        reference: &str,
        env: &EnvCredentials,
    ) -> RegistryAuth {
        if let Some(cred) = self
            .by_server
            .read()
            .get(registry)
            .filter(|c| c.registry_type == "oci")
        {
            match (&cred.username, &cred.password, &cred.token) {
                (Some(u), Some(p), _) => return RegistryAuth::Basic(u.clone(), p.clone()),
                (_, _, Some(t)) => return RegistryAuth::Bearer(t.clone()),
                _ => {}
            }
        }
        if let (Some(prefix), Some(u), Some(p)) = (&env.registry, &env.user, &env.password) {
            let reference = reference.strip_prefix("oci://").unwrap_or(reference);
            if reference.starts_with(prefix.as_str()) {
                return RegistryAuth::Basic(u.clone(), p.clone());
            }
        }
        RegistryAuth::Anonymous
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cred(
        kind: &str,
        user: Option<&str>,
        password: Option<&str>,
        token: Option<&str>,
    ) -> RegistryCredential {
        RegistryCredential {
            registry_type: kind.into(),
            username: user.map(String::from),
            password: password.map(String::from),
            token: token.map(String::from),
        }
    }

    fn basic(auth: RegistryAuth) -> Option<(String, String)> {
        match auth {
            RegistryAuth::Basic(u, p) => Some((u, p)),
            _ => None,
        }
    }

    #[test]
    fn merged_by_server_and_filtered() {
        let store = CredentialStore::default();
        let map: RegistryCredentialMap = [
            (
                "https://reg.example.com/some/path".to_string(),
                cred("oci", Some("u"), Some("p"), None),
            ),
            (
                "no-type.example.com".to_string(),
                cred("", Some("u"), Some("p"), None),
            ),
            (
                "empty.example.com".to_string(),
                cred("oci", None, None, None),
            ),
        ]
        .into();
        assert_eq!(store.merge(map), 1);
        let none = EnvCredentials::default();
        assert_eq!(
            basic(store.auth_for("reg.example.com", "reg.example.com/x:1", &none)),
            Some(("u".into(), "p".into()))
        );
        assert!(matches!(
            store.auth_for("no-type.example.com", "no-type.example.com/x:1", &none),
            RegistryAuth::Anonymous
        ));
        // A later put for the same server replaces it; other servers stay.
        store.merge([("other:5000".to_string(), cred("oci", None, None, Some("t")))].into());
        store.merge(
            [(
                "reg.example.com".to_string(),
                cred("oci", Some("u2"), Some("p2"), None),
            )]
            .into(),
        );
        assert_eq!(
            basic(store.auth_for("reg.example.com", "reg.example.com/x:1", &none)),
            Some(("u2".into(), "p2".into()))
        );
        assert!(
            matches!(store.auth_for("other:5000", "other:5000/x:1", &none), RegistryAuth::Bearer(t) if t == "t")
        );
    }

    #[test]
    fn bindle_credentials_are_not_used_for_oci() {
        let store = CredentialStore::default();
        store.merge(
            [(
                "reg.example.com".to_string(),
                cred("bindle", Some("u"), Some("p"), None),
            )]
            .into(),
        );
        assert!(matches!(
            store.auth_for(
                "reg.example.com",
                "reg.example.com/x:1",
                &EnvCredentials::default()
            ),
            RegistryAuth::Anonymous
        ));
    }

    #[test]
    fn env_fallback_applies_to_its_registry_only() {
        let store = CredentialStore::default();
        let env = EnvCredentials {
            registry: Some("127.0.0.1:5000".into()),
            user: Some("eu".into()),
            password: Some("ep".into()),
        };
        assert_eq!(
            basic(store.auth_for("127.0.0.1:5000", "127.0.0.1:5000/echo:1", &env)),
            Some(("eu".into(), "ep".into()))
        );
        assert!(matches!(
            store.auth_for("127.0.0.1:6000", "127.0.0.1:6000/echo:1", &env),
            RegistryAuth::Anonymous
        ));
        // Stored credentials win over the env.
        store.merge(
            [(
                "127.0.0.1:5000".to_string(),
                cred("oci", Some("s"), Some("sp"), None),
            )]
            .into(),
        );
        assert_eq!(
            basic(store.auth_for("127.0.0.1:5000", "127.0.0.1:5000/echo:1", &env)),
            Some(("s".into(), "sp".into()))
        );
    }
}
