//! Capability provider archives (`.par` / `.par.gz`, LATTICE.md §4.6): parse, verify, create.
//!
//! An archive is a (usually gzip-compressed) tar holding `claims.jwt` (a provider claims token
//! signed by an account key) and one `{arch}-{os}.bin` per target. Every binary's SHA-256 must
//! equal the uppercase hex hash signed in the claims' `target_hashes`: that is what makes a
//! tampered binary detectable. Compatible with `provider-archive` 0.6 in both directions.
//!
//! Everything here works on bytes in memory; writing a binary to disk is the host's job.

use crate::claims::{require_key_type, CapabilityProvider, Claims, ClaimsError};
use crate::quote::quote_input;
use data_encoding::HEXUPPER;
use nkeys::{KeyPair, KeyPairType};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;

/// Name of the claims entry inside an archive.
const CLAIMS_ENTRY: &str = "claims.jwt";
/// Largest uncompressed archive [`ProviderArchive::parse`] accepts, in bytes: a bound
/// against decompression bombs.
pub const MAX_UNPACKED_SIZE: u64 = 1 << 30;
/// Gzip magic bytes: an archive starting with them is decompressed first.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Most bytes reserved ahead for one entry: beyond this a buffer grows only as the
/// entry's bytes actually arrive (its header's size field is the sender's word).
const MAX_ENTRY_RESERVATION: u64 = 64 << 10;

/// The target this machine runs: `{ARCH}-{OS}` with Rust's `std::env::consts` names, e.g.
/// `x86_64-linux`.
pub fn native_target() -> String {
    format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS)
}

/// Why an archive was refused, or could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveError {
    /// The bytes are not a readable archive: not a tar (or tar.gz), a corrupt entry, too
    /// large once unpacked, no `claims.jwt`, no binary, a `claims.jwt` that is not text.
    #[error("{0}")]
    Malformed(String),
    /// `claims.jwt` is not a valid provider token (signature, dates, format).
    #[error("provider archive claims are invalid: {0}")]
    Claims(#[from] ClaimsError),
    /// `claims.jwt` carries no provider metadata.
    #[error("claims.jwt carries no provider metadata")]
    MissingMetadata,
    /// A binary's SHA-256 differs from the hash signed for its target.
    #[error("provider binary for {target} does not match its signed hash (claims say {signed}, binary is {actual}): the archive was altered after signing")]
    BinaryHashMismatch {
        /// The target, quoted with [`quote_input`](crate::quote_input).
        target: String,
        /// The signed hash, quoted with [`quote_input`](crate::quote_input).
        signed: String,
        /// The binary's uppercase hex SHA-256.
        actual: String,
    },
    /// A binary has no signed hash in the claims.
    #[error("provider binary for {target} has no signed hash in claims.jwt")]
    UnsignedBinary {
        /// The target, quoted with [`quote_input`](crate::quote_input).
        target: String,
    },
    /// The archive has no binary for the target asked for.
    #[error("provider archive {public_key} has no binary for this platform ({target}); it has: {available}")]
    NoBinaryForTarget {
        /// The provider's public key.
        public_key: String,
        /// The target asked for.
        target: String,
        /// The targets the archive has, comma-separated.
        available: String,
    },
    /// [`create_archive`] was given something it cannot sign (no contract id, a bad
    /// target name, keys of the wrong kind ...).
    #[error("{0}")]
    InvalidSpec(String),
    /// Writing the archive failed (only if the compressor fails; never for valid input).
    #[error("cannot build the provider archive: {0}")]
    Build(String),
}

/// A verified provider archive: its claims and one binary per target.
#[derive(Clone, PartialEq, Eq)]
pub struct ProviderArchive {
    claims: Claims<CapabilityProvider>,
    token: String,
    binaries: BTreeMap<String, Vec<u8>>,
}

impl std::fmt::Debug for ProviderArchive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderArchive")
            .field("public_key", &self.claims.sub)
            .field("contract_id", &self.contract_id())
            .field("targets", &self.targets())
            .finish()
    }
}

impl ProviderArchive {
    /// Reads an archive (gzip-compressed or plain tar), verifies the claims token (signature,
    /// dates) and checks every binary against its signed hash. A binary whose hash differs,
    /// or that has no signed hash at all, is refused: the archive was altered after signing.
    /// At most [`MAX_UNPACKED_SIZE`] bytes are unpacked.
    pub fn parse(bytes: &[u8]) -> Result<ProviderArchive, ArchiveError> {
        Self::parse_with_limit(bytes, MAX_UNPACKED_SIZE)
    }

    /// [`parse`](Self::parse) unpacking at most `max_unpacked` bytes of entries.
    pub fn parse_with_limit(
        bytes: &[u8],
        max_unpacked: u64,
    ) -> Result<ProviderArchive, ArchiveError> {
        let entries = if bytes.starts_with(&GZIP_MAGIC) {
            read_tar(flate2::read::GzDecoder::new(bytes), max_unpacked)?
        } else {
            read_tar(bytes, max_unpacked)?
        };
        let mut token = None;
        let mut binaries = BTreeMap::new();
        for (name, data) in entries {
            // The file name's part before its first dot: `claims` or the target.
            let file_name = name.rsplit('/').next().unwrap_or(&name);
            let stem = file_name.split('.').next().unwrap_or(file_name);
            if stem.is_empty() {
                continue;
            }
            if stem == "claims" {
                let text = String::from_utf8(data)
                    .map_err(|_| malformed("claims.jwt is not UTF-8 text"))?;
                token = Some(text.trim().to_string());
            } else if file_name.ends_with(".bin") {
                binaries.insert(stem.to_string(), data);
            }
        }
        let token = token.ok_or_else(|| malformed("no claims.jwt in the archive"))?;
        let claims = Claims::<CapabilityProvider>::decode_and_verify(&token)?;
        let meta = claims
            .wascap
            .as_ref()
            .ok_or(ArchiveError::MissingMetadata)?;
        if binaries.is_empty() {
            return Err(malformed(
                "the archive holds no provider binary ({target}.bin)",
            ));
        }
        for (target, binary) in &binaries {
            let actual = sha256_upper(binary);
            match meta.target_hashes.get(target) {
                Some(signed) if signed.eq_ignore_ascii_case(&actual) => {}
                Some(signed) => {
                    return Err(ArchiveError::BinaryHashMismatch {
                        target: quote_input(target),
                        signed: quote_input(signed),
                        actual,
                    })
                }
                None => {
                    return Err(ArchiveError::UnsignedBinary {
                        target: quote_input(target),
                    })
                }
            }
        }
        Ok(ProviderArchive {
            claims,
            token,
            binaries,
        })
    }

    /// The verified claims.
    pub fn claims(&self) -> &Claims<CapabilityProvider> {
        &self.claims
    }

    /// The raw claims token (`claims.jwt`, surrounding whitespace removed).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The provider's public key (V..., the claims subject).
    pub fn public_key(&self) -> &str {
        &self.claims.sub
    }

    /// The contract the provider implements (`capid`), e.g. `wasmcloud:httpserver`.
    pub fn contract_id(&self) -> &str {
        self.claims
            .wascap
            .as_ref()
            .map(|m| m.capid.as_str())
            .unwrap_or_default()
    }

    /// Targets with a binary in the archive, sorted.
    pub fn targets(&self) -> Vec<String> {
        self.binaries.keys().cloned().collect()
    }

    /// The binary for `target`, or [`ArchiveError::NoBinaryForTarget`] naming the targets
    /// the archive has.
    pub fn binary_for(&self, target: &str) -> Result<&[u8], ArchiveError> {
        self.binaries.get(target).map(Vec::as_slice).ok_or_else(|| {
            ArchiveError::NoBinaryForTarget {
                public_key: quote_input(self.public_key()),
                target: quote_input(target),
                available: quote_input(&self.targets().join(", ")),
            }
        })
    }

    /// The binary for this machine ([`native_target`]).
    pub fn native_binary(&self) -> Result<&[u8], ArchiveError> {
        self.binary_for(&native_target())
    }
}

/// What [`create_archive`] signs into `claims.jwt`.
#[derive(Debug, Clone, Default)]
pub struct ProviderArchiveSpec {
    /// Contract id, e.g. `wasmcloud:httpserver`.
    pub capid: String,
    /// Descriptive name.
    pub name: Option<String>,
    /// Vendor string.
    pub vendor: String,
    /// Revision.
    pub rev: Option<i32>,
    /// Human version.
    pub ver: Option<String>,
    /// Target (`x86_64-linux` ...) → binary.
    pub binaries: BTreeMap<String, Vec<u8>>,
}

/// Builds a signed `.par.gz`: claims (issuer = `issuer`, an account key; subject =
/// `subject`, a service key) with the SHA-256 of every binary, then a gzip'ed tar of
/// `claims.jwt` and `{target}.bin` entries, as provider-archive 0.6 writes it.
///
/// Fails with [`ArchiveError::InvalidSpec`] for an empty contract id or vendor, no
/// binaries, a target name that is empty or holds `/`, `.` or `\`, or keys of the wrong
/// kind; with [`ArchiveError::Claims`] if `issuer` has no seed.
pub fn create_archive(
    spec: &ProviderArchiveSpec,
    issuer: &KeyPair,
    subject: &KeyPair,
) -> Result<Vec<u8>, ArchiveError> {
    let invalid = |reason: String| ArchiveError::InvalidSpec(reason);
    if spec.capid.is_empty() || spec.vendor.is_empty() {
        return Err(invalid(
            "a provider archive needs a contract id (capid) and a vendor".into(),
        ));
    }
    if spec.binaries.is_empty() {
        return Err(invalid(
            "a provider archive needs at least one binary".into(),
        ));
    }
    for target in spec.binaries.keys() {
        if target.is_empty() || target.contains(['/', '.', '\\']) || target == "claims" {
            return Err(invalid(format!(
                "invalid target name `{}` (expected e.g. x86_64-linux)",
                quote_input(target)
            )));
        }
    }
    let keys = require_key_type(
        "provider archive issuer",
        &issuer.public_key(),
        KeyPairType::Account,
    )
    .and_then(|()| {
        require_key_type(
            "provider archive subject",
            &subject.public_key(),
            KeyPairType::Service,
        )
    });
    keys.map_err(|e| invalid(e.to_string()))?;
    let meta = CapabilityProvider {
        name: spec.name.clone(),
        capid: spec.capid.clone(),
        vendor: spec.vendor.clone(),
        rev: spec.rev,
        ver: spec.ver.clone(),
        target_hashes: spec
            .binaries
            .iter()
            .map(|(t, b)| (t.clone(), sha256_upper(b)))
            .collect(),
    };
    let token = Claims::new(issuer.public_key(), subject.public_key(), meta).encode(issuer)?;

    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut tar = tar::Builder::new(gz);
    append(&mut tar, CLAIMS_ENTRY, token.as_bytes(), 0o644)?;
    for (target, binary) in &spec.binaries {
        append(&mut tar, &format!("{target}.bin"), binary, 0o755)?;
    }
    let gz = tar
        .into_inner()
        .map_err(|e| ArchiveError::Build(e.to_string()))?;
    gz.finish().map_err(|e| ArchiveError::Build(e.to_string()))
}

/// Appends one regular file entry with a fixed mtime (archives are reproducible).
fn append<W: std::io::Write>(
    tar: &mut tar::Builder<W>,
    name: &str,
    data: &[u8],
    mode: u32,
) -> Result<(), ArchiveError> {
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(mode);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, name, data)
        .map_err(|e| ArchiveError::Build(format!("{}: {e}", quote_input(name))))
}

/// Every regular file of the tar with its path, unpacking at most `max_unpacked` bytes.
fn read_tar(reader: impl Read, max_unpacked: u64) -> Result<Vec<(String, Vec<u8>)>, ArchiveError> {
    // The tar reader itself reads headers and padding too: give it a little more than the
    // limit so the check below, not a truncated stream, reports an oversized archive.
    let mut archive = tar::Archive::new(reader.take(max_unpacked.saturating_add(1 << 16)));
    let mut out = Vec::new();
    let mut total = 0u64;
    let entries = archive
        .entries()
        .map_err(|e| library_error("not a provider archive (tar)", &e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| library_error("corrupt provider archive", &e))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let size = entry.size();
        total = total.saturating_add(size);
        if total > max_unpacked {
            return Err(malformed(format!(
                "provider archive unpacks to more than {max_unpacked} bytes"
            )));
        }
        let mut data = Vec::with_capacity(size.min(MAX_ENTRY_RESERVATION) as usize);
        entry
            .read_to_end(&mut data)
            .map_err(|e| library_error("corrupt provider archive", &e))?;
        out.push((name, data));
    }
    if out.is_empty() {
        return Err(malformed(
            "not a provider archive: no files in it (expected a tar or tar.gz with claims.jwt)",
        ));
    }
    Ok(out)
}

/// A tar or gzip error under `context`, described by its kind only: their texts carry entry
/// paths and header fields, i.e. bytes of the file, which an error (and the
/// `provider_start_failed` event it becomes) must never echo, not even in part.
fn library_error(context: &str, e: &std::io::Error) -> ArchiveError {
    let what = match e.kind() {
        std::io::ErrorKind::UnexpectedEof => "it ends in the middle of an entry",
        std::io::ErrorKind::InvalidData
            if e.to_string().contains("corrupt deflate")
                || e.to_string().contains("invalid gzip") =>
        {
            "the gzip stream is corrupt"
        }
        std::io::ErrorKind::InvalidData
        | std::io::ErrorKind::InvalidInput
        | std::io::ErrorKind::Other => {
            "its tar headers are invalid (is it a .par or .par.gz file?)"
        }
        _ => "it cannot be read as tar",
    };
    malformed(format!("{context}: {what}"))
}

/// Uppercase hex SHA-256, the form `target_hashes` uses.
fn sha256_upper(data: &[u8]) -> String {
    HEXUPPER.encode(&Sha256::digest(data))
}

fn malformed(message: impl Into<String>) -> ArchiveError {
    ArchiveError::Malformed(message.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vectors;

    #[test]
    fn reads_the_archive_made_by_provider_archive_0_6() {
        let par = ProviderArchive::parse(&vectors::bytes("provider.par.gz")).unwrap();
        assert_eq!(par.contract_id(), "wasmcloud:testing");
        assert_eq!(par.public_key(), vectors::PROVIDER_PK);
        assert_eq!(par.targets(), vec!["x86_64-linux".to_string()]);
        assert_eq!(
            par.binary_for("x86_64-linux").unwrap(),
            vectors::bytes("provider_dummy_x86_64-linux.bin").as_slice()
        );
        let meta = par.claims().wascap.as_ref().unwrap();
        assert_eq!(
            (meta.vendor.as_str(), meta.rev, meta.ver.as_deref()),
            ("wasmcloud-vectors", Some(1), Some("0.1.0"))
        );
        let sidecar = vectors::json("provider.claims.json");
        assert_eq!(par.token(), sidecar["token"]["jwt"]);
    }

    #[test]
    fn missing_platform_binary_is_a_clear_error() {
        let par = ProviderArchive::parse(&vectors::bytes("provider.par.gz")).unwrap();
        let err = par.binary_for("aarch64-macos").unwrap_err();
        assert!(matches!(err, ArchiveError::NoBinaryForTarget { .. }));
        let text = err.to_string();
        assert!(
            text.contains("no binary for this platform (aarch64-macos)"),
            "{text}"
        );
        assert!(text.contains("x86_64-linux"), "{text}");
    }

    /// The entries of a tar (plain or gzip'ed), for re-packing in tests.
    fn entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
        read_tar(flate2::read::GzDecoder::new(bytes), MAX_UNPACKED_SIZE).unwrap()
    }

    fn tar_of(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
        let mut tar = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            append(&mut tar, name, data, 0).unwrap();
        }
        tar.into_inner().unwrap()
    }

    #[test]
    fn a_tampered_binary_is_refused() {
        let mut entries = entries(&vectors::bytes("provider.par.gz"));
        let bin = entries
            .iter_mut()
            .find(|(n, _)| n.ends_with(".bin"))
            .unwrap();
        bin.1[10] ^= 0x20;
        let err = ProviderArchive::parse(&tar_of(&entries)).unwrap_err();
        assert!(
            matches!(err, ArchiveError::BinaryHashMismatch { .. }),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(text.contains("does not match its signed hash"), "{text}");
        assert!(
            text.contains("4A4FC96F0739259F73166C26ED831EF70F3C00030E175DB3724F89AA36862EA4"),
            "{text}"
        );
    }

    #[test]
    fn an_unsigned_binary_is_refused() {
        let mut entries = entries(&vectors::bytes("provider.par.gz"));
        entries.push(("aarch64-macos.bin".into(), b"smuggled".to_vec()));
        let err = ProviderArchive::parse(&tar_of(&entries)).unwrap_err();
        assert_eq!(
            err,
            ArchiveError::UnsignedBinary {
                target: "aarch64-macos".into()
            }
        );
    }

    #[test]
    fn created_archives_round_trip() {
        let issuer = KeyPair::new_account();
        let subject = KeyPair::new_service();
        let spec = ProviderArchiveSpec {
            capid: "wasmcloud:example".into(),
            name: Some("Example".into()),
            vendor: "tests".into(),
            rev: Some(3),
            ver: Some("1.2.3".into()),
            binaries: [
                (native_target(), b"#!/bin/sh\necho hi\n".to_vec()),
                ("aarch64-macos".to_string(), b"other".to_vec()),
            ]
            .into(),
        };
        let bytes = create_archive(&spec, &issuer, &subject).unwrap();
        assert_eq!(&bytes[..2], &GZIP_MAGIC);
        let par = ProviderArchive::parse(&bytes).unwrap();
        assert_eq!(par.public_key(), subject.public_key());
        assert_eq!(par.claims().iss, issuer.public_key());
        assert_eq!(par.targets().len(), 2);
        assert_eq!(par.native_binary().unwrap(), b"#!/bin/sh\necho hi\n");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [
            &b""[..],
            b"\x1f\x8b garbage",
            b"not a tar at all, just text",
        ] {
            assert!(matches!(
                ProviderArchive::parse(bytes),
                Err(ArchiveError::Malformed(_))
            ));
        }
        let issuer = KeyPair::new_account();
        let spec = ProviderArchiveSpec {
            capid: "c".into(),
            vendor: "v".into(),
            binaries: [("x86_64-linux".to_string(), vec![1])].into(),
            ..Default::default()
        };
        let err = create_archive(&spec, &issuer, &KeyPair::new_module()).unwrap_err();
        assert!(matches!(err, ArchiveError::InvalidSpec(_)), "{err:?}");
        assert!(err.to_string().contains("subject"), "{err}");
    }

    #[test]
    fn the_unpacked_size_is_bounded() {
        let par = vectors::bytes("provider.par.gz");
        let err = ProviderArchive::parse_with_limit(&par, 100).unwrap_err();
        assert!(err.to_string().contains("more than 100 bytes"), "{err}");
    }

    /// Regression: a header announcing a huge entry made the reader reserve that many
    /// bytes before any of them had arrived (the memory bound itself is checked by the
    /// fuzz target on `fuzz/corpus/provider_archive/regress-entry-size-larger-than-input`).
    #[test]
    fn an_entry_size_field_reserves_nothing_the_input_does_not_back() {
        let mut header = tar::Header::new_gnu();
        header.set_path("x86_64-linux.bin").unwrap();
        header.set_size(MAX_UNPACKED_SIZE - 1);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        let err = ProviderArchive::parse(header.as_bytes()).unwrap_err();
        assert!(matches!(err, ArchiveError::Malformed(_)), "{err:?}");
    }

    #[test]
    fn long_entry_names_are_quoted_not_copied() {
        let mut entries = entries(&vectors::bytes("provider.par.gz"));
        let target = "n".repeat(5000);
        entries.push((format!("{target}.bin"), b"x".to_vec()));
        let err = ProviderArchive::parse(&tar_of(&entries)).unwrap_err();
        assert!(
            matches!(err, ArchiveError::UnsignedBinary { .. }),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(text.chars().count() <= crate::MAX_ERROR_CHARS, "{text}");
        assert!(
            !text.contains(&"n".repeat(crate::MAX_QUOTE_CHARS + 1)),
            "{text}"
        );
        assert!(text.contains(crate::TRUNCATION_MARKER), "{text}");
    }
}
