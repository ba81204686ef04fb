//! TLS files checked before connecting, with the parser async-nats uses to load them, so a file
//! accepted here is one the connection can load.

use std::path::Path;
use std::sync::Arc;

use async_nats::rustls::pki_types::pem::PemObject;
use async_nats::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use async_nats::rustls::{crypto, ClientConfig, RootCertStore};

use crate::settings::TlsSettings;
use crate::{NatsError, Result};

fn certificates(path: &Path, setting: &str) -> Result<Vec<CertificateDer<'static>>> {
    readable(path, setting)?;
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| {
            NatsError::settings(
                setting,
                format!("`{}` is not a PEM certificate file: {e}", path.display()),
            )
        })?;
    if certs.is_empty() {
        return Err(NatsError::settings(
            setting,
            format!(
                "`{}` holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                path.display()
            ),
        ));
    }
    Ok(certs)
}

fn readable(path: &Path, setting: &str) -> Result<()> {
    std::fs::File::open(path)
        .map(|_| ())
        .map_err(|e| NatsError::settings(setting, format!("cannot read `{}`: {e}", path.display())))
}

/// Every file named exists and parses; a client certificate comes with its key, and the two
/// make a usable client identity.
pub(crate) fn check(tls: &TlsSettings) -> Result<()> {
    if let Some(ca) = &tls.ca_file {
        certificates(ca, "tls.ca_file")?;
    }
    match (&tls.cert_file, &tls.key_file) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(NatsError::settings(
            "tls.key_file",
            "a client certificate is set but not its private key",
        )),
        (None, Some(_)) => Err(NatsError::settings(
            "tls.cert_file",
            "a client key is set but not its certificate",
        )),
        (Some(cert), Some(key)) => {
            let chain = certificates(cert, "tls.cert_file")?;
            readable(key, "tls.key_file")?;
            let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                NatsError::settings(
                    "tls.key_file",
                    format!("`{}` holds no PEM private key: {e}", key.display()),
                )
            })?;
            ClientConfig::builder_with_provider(Arc::new(crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| NatsError::transport(format!("TLS is not available: {e}")))?
                .with_root_certificates(RootCertStore::empty())
                .with_client_auth_cert(chain, key_der)
                .map_err(|e| {
                    NatsError::settings(
                        "tls.key_file",
                        format!(
                            "the key `{}` cannot be used with the certificate `{}`: {e}",
                            key.display(),
                            cert.display()
                        ),
                    )
                })?;
            Ok(())
        }
    }
}
