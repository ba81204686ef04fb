//! Who a host is: its host key (N...), cluster key (C...), accepted issuers and labels
//! (LATTICE.md §8.1, §8.2).

use std::collections::HashMap;

use nkeys::KeyPair;

use crate::{Error, HostConfig, Result};

/// The identity a host starts with.
pub(super) struct Identity {
    pub(super) host_key: KeyPair,
    pub(super) cluster_key: KeyPair,
    pub(super) cluster_issuers: Vec<String>,
    pub(super) labels: HashMap<String, String>,
    pub(super) friendly_name: String,
}

impl Identity {
    /// From the configuration: keys from the seeds (generated when absent), our own cluster key
    /// always among the issuers, `hostcore.*` labels over the configured ones.
    pub(super) fn from_config(config: &HostConfig) -> Result<Identity> {
        let host_key = key_from_seed(
            config.host_seed.as_deref(),
            'N',
            KeyPair::new_server,
            "host",
        )?;
        let cluster_key = key_from_seed(
            config.cluster_seed.as_deref(),
            'C',
            KeyPair::new_cluster,
            "cluster",
        )?;
        if config.cluster_seed.is_none() {
            tracing::info!(cluster = %cluster_key.public_key(), "no cluster seed given: generated one; other hosts must trust this key to accept our invocations");
        }
        let mut cluster_issuers = config.cluster_issuers.clone();
        if !cluster_issuers.contains(&cluster_key.public_key()) {
            cluster_issuers.push(cluster_key.public_key());
        }
        let mut labels = config.labels.clone();
        labels.insert("hostcore.arch".into(), std::env::consts::ARCH.into());
        labels.insert("hostcore.os".into(), std::env::consts::OS.into());
        labels.insert("hostcore.osfamily".into(), std::env::consts::FAMILY.into());
        let friendly_name = config
            .friendly_name
            .clone()
            .unwrap_or_else(crate::names::friendly_name);
        Ok(Identity {
            host_key,
            cluster_key,
            cluster_issuers,
            labels,
            friendly_name,
        })
    }
}

fn key_from_seed(
    seed: Option<&str>,
    prefix: char,
    generate: fn() -> KeyPair,
    what: &str,
) -> Result<KeyPair> {
    match seed {
        None => Ok(generate()),
        Some(seed) => {
            let kp = KeyPair::from_seed(seed.trim())
                .map_err(|e| Error::invalid(format!("invalid {what} seed: {e}")))?;
            if !kp.public_key().starts_with(prefix) {
                return Err(Error::invalid(format!("the {what} seed must be an S{prefix}... seed (its public key must start with {prefix})")));
            }
            Ok(kp)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_give_keys_and_builtin_labels_win() {
        let cluster = KeyPair::new_cluster();
        let mut config = HostConfig {
            cluster_seed: Some(cluster.seed().unwrap()),
            cluster_issuers: vec!["COTHER".into()],
            ..Default::default()
        };
        config.labels.insert("hostcore.os".into(), "plan9".into());
        config.labels.insert("region".into(), "eu".into());
        let id = Identity::from_config(&config).unwrap();
        assert_eq!(id.cluster_key.public_key(), cluster.public_key());
        assert_eq!(
            id.cluster_issuers,
            vec!["COTHER".to_string(), cluster.public_key()]
        );
        assert_eq!(id.labels["hostcore.os"], std::env::consts::OS);
        assert_eq!(id.labels["region"], "eu");
        assert!(id.host_key.public_key().starts_with('N'));
        assert!(!id.friendly_name.is_empty());
    }

    #[test]
    fn a_seed_of_the_wrong_kind_is_refused() {
        let mut config = HostConfig {
            host_seed: Some(KeyPair::new_cluster().seed().unwrap()),
            ..Default::default()
        };
        let e = Identity::from_config(&config).err().unwrap();
        assert!(e.message().contains("SN"), "{e}");
        config.host_seed = Some("SNnotaseed".into());
        assert!(Identity::from_config(&config).is_err());
    }
}
