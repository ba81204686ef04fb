//! Capability provider archives (`.par` / `.par.gz`, LATTICE.md §4.6): read, verify, extract, create.
//!
//! An archive is a (usually gzip-compressed) tar holding `claims.jwt` (a provider claims token signed
//! by an account key) and one `{arch}-{os}.bin` per target. Every binary's SHA-256 must equal the
//! uppercase hex hash signed in the claims' `target_hashes`: that is what makes a tampered binary
//! detectable. Compatible with `provider-archive` 0.6 in both directions.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use nkeys::KeyPair;
use sha2::{Digest, Sha256};
use wasmhost_protocol::claims::{CapabilityProvider, Claims};

use crate::{Error, ErrorKind, Result};

/// Name of the claims entry inside an archive.
const CLAIMS_ENTRY: &str = "claims.jwt";
/// Largest uncompressed archive accepted, in bytes: a bound against decompression bombs.
pub const MAX_UNPACKED_SIZE: u64 = 1 << 30;
/// Gzip magic bytes: an archive starting with them is decompressed first.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The target this machine runs: `{ARCH}-{OS}` with Rust's `std::env::consts` names, e.g. `x86_64-linux`.
pub fn native_target() -> String {
    format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS)
}

/// A verified provider archive: its claims and one binary per target.
#[derive(Clone)]
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
    /// Reads an archive (gzip-compressed or plain tar), verifies the claims token (signature, dates)
    /// and checks every binary against its signed hash. A binary whose hash differs, or that has
    /// no signed hash at all, is refused: the archive was altered after signing.
    pub fn parse(bytes: &[u8]) -> Result<ProviderArchive> {
        let entries = if bytes.starts_with(&GZIP_MAGIC) {
            read_tar(flate2::read::GzDecoder::new(bytes))?
        } else {
            read_tar(bytes)?
        };
        let mut token = None;
        let mut binaries = BTreeMap::new();
        for (name, data) in entries {
            let Some(stem) = Path::new(&name).file_name().and_then(|n| n.to_str()).map(|n| n.split('.').next().unwrap_or(n).to_string()) else {
                continue;
            };
            if stem == "claims" {
                token = Some(String::from_utf8(data).map_err(|_| invalid("claims.jwt is not UTF-8 text"))?);
            } else if name.ends_with(".bin") {
                binaries.insert(stem, data);
            }
        }
        let token = token.ok_or_else(|| invalid("no claims.jwt in the archive"))?;
        let claims = Claims::<CapabilityProvider>::decode_and_verify(token.trim())?;
        let meta = claims.wascap.as_ref().ok_or_else(|| Error::new(ErrorKind::Claims, "claims.jwt carries no provider metadata"))?;
        if binaries.is_empty() {
            return Err(invalid("the archive holds no provider binary ({target}.bin)"));
        }
        for (target, binary) in &binaries {
            let actual = sha256_upper(binary);
            match meta.target_hashes.get(target) {
                Some(expected) if expected.eq_ignore_ascii_case(&actual) => {}
                Some(expected) => {
                    return Err(Error::new(
                        ErrorKind::Claims,
                        format!("provider binary for {target} does not match its signed hash (claims say {expected}, binary is {actual}): the archive was altered after signing"),
                    ))
                }
                None => {
                    return Err(Error::new(ErrorKind::Claims, format!("provider binary for {target} has no signed hash in claims.jwt")));
                }
            }
        }
        Ok(ProviderArchive { claims, token: token.trim().to_string(), binaries })
    }

    /// The verified claims.
    pub fn claims(&self) -> &Claims<CapabilityProvider> {
        &self.claims
    }
    /// The raw claims token (`claims.jwt`).
    pub fn token(&self) -> &str {
        &self.token
    }
    /// The provider's public key (V..., the claims subject).
    pub fn public_key(&self) -> &str {
        &self.claims.sub
    }
    /// The contract the provider implements (`capid`), e.g. `wasmcloud:httpserver`.
    pub fn contract_id(&self) -> &str {
        self.claims.wascap.as_ref().map(|m| m.capid.as_str()).unwrap_or_default()
    }
    /// Targets with a binary in the archive.
    pub fn targets(&self) -> Vec<String> {
        self.binaries.keys().cloned().collect()
    }

    /// The binary for `target`, or an error naming the targets the archive has.
    pub fn binary_for(&self, target: &str) -> Result<&[u8]> {
        self.binaries.get(target).map(Vec::as_slice).ok_or_else(|| {
            Error::not_found(format!(
                "provider archive {} has no binary for this platform ({target}); it has: {}",
                self.public_key(),
                self.targets().join(", ")
            ))
        })
    }

    /// The binary for this machine ([`native_target`]).
    pub fn native_binary(&self) -> Result<&[u8]> {
        self.binary_for(&native_target())
    }

    /// Writes this machine's binary to `dir/{public_key}-{target}.bin` (see [`write_executable`])
    /// and returns its path.
    pub fn extract_native(&self, dir: &Path) -> Result<PathBuf> {
        let path = dir.join(format!("{}-{}.bin", self.public_key(), native_target()));
        write_executable(&path, self.native_binary()?)?;
        Ok(path)
    }
}

/// Writes `binary` to `path` with mode 0755 (archives store mode 0) through a temporary file and
/// a rename, so a process never runs a half-written file; a file already holding the same bytes
/// is left alone (a running provider keeps its binary).
pub fn write_executable(path: &Path, binary: &[u8]) -> Result<()> {
    if std::fs::read(path).is_ok_and(|existing| existing == binary) {
        return Ok(());
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| io_error("create", dir, e))?;
    let tmp = dir.join(format!(".{}.tmp", uuid::Uuid::new_v4().simple()));
    std::fs::write(&tmp, binary).map_err(|e| io_error("write", &tmp, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).map_err(|e| io_error("chmod", &tmp, e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| io_error("rename", path, e))?;
    Ok(())
}

/// What `wasmhost par create` signs into `claims.jwt`.
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

/// Builds a signed `.par.gz`: claims (issuer = `issuer`, an account key; subject = `subject`, a
/// service key) with the SHA-256 of every binary, then a gzip'ed tar of `claims.jwt` and
/// `{target}.bin` entries, as provider-archive 0.6 writes it.
pub fn create_archive(spec: &ProviderArchiveSpec, issuer: &KeyPair, subject: &KeyPair) -> Result<Vec<u8>> {
    if spec.capid.is_empty() || spec.vendor.is_empty() {
        return Err(invalid("a provider archive needs a contract id (capid) and a vendor"));
    }
    if spec.binaries.is_empty() {
        return Err(invalid("a provider archive needs at least one binary"));
    }
    for target in spec.binaries.keys() {
        if target.is_empty() || target.contains(['/', '.', '\\']) || target == "claims" {
            return Err(invalid(format!("invalid target name `{target}` (expected e.g. x86_64-linux)")));
        }
    }
    if !issuer.public_key().starts_with('A') || !subject.public_key().starts_with('V') {
        return Err(invalid("the issuer must be an account key (SA...) and the subject a service key (SV...)"));
    }
    let meta = CapabilityProvider {
        name: spec.name.clone(),
        capid: spec.capid.clone(),
        vendor: spec.vendor.clone(),
        rev: spec.rev,
        ver: spec.ver.clone(),
        target_hashes: spec.binaries.iter().map(|(t, b)| (t.clone(), sha256_upper(b))).collect(),
    };
    let token = Claims::new(issuer.public_key(), subject.public_key(), meta).encode(issuer)?;

    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut tar = tar::Builder::new(gz);
    append(&mut tar, CLAIMS_ENTRY, token.as_bytes(), 0o644)?;
    for (target, binary) in &spec.binaries {
        append(&mut tar, &format!("{target}.bin"), binary, 0o755)?;
    }
    let gz = tar.into_inner().map_err(|e| Error::internal(format!("cannot finish the archive: {e}")))?;
    gz.finish().map_err(|e| Error::internal(format!("cannot compress the archive: {e}")))
}

fn append<W: std::io::Write>(tar: &mut tar::Builder<W>, name: &str, data: &[u8], mode: u32) -> Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(mode);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, name, data).map_err(|e| Error::internal(format!("cannot add {name} to the archive: {e}")))
}

/// Every regular file of the tar, with a bound on the total unpacked size.
fn read_tar(reader: impl Read) -> Result<Vec<(String, Vec<u8>)>> {
    let mut archive = tar::Archive::new(reader.take(MAX_UNPACKED_SIZE + 1));
    let mut out = Vec::new();
    let mut total = 0u64;
    let entries = archive.entries().map_err(|e| invalid(format!("not a provider archive (tar): {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| invalid(format!("corrupt provider archive: {e}")))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry.path().map_err(|e| invalid(format!("bad entry name in provider archive: {e}")))?.to_string_lossy().into_owned();
        total += entry.size();
        if total > MAX_UNPACKED_SIZE {
            return Err(invalid(format!("provider archive unpacks to more than {MAX_UNPACKED_SIZE} bytes")));
        }
        let mut data = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut data).map_err(|e| invalid(format!("corrupt provider archive entry {name}: {e}")))?;
        out.push((name, data));
    }
    if out.is_empty() {
        return Err(invalid("not a provider archive: no files in it (expected a tar or tar.gz with claims.jwt)"));
    }
    Ok(out)
}

/// Uppercase hex SHA-256, the form `target_hashes` uses.
pub(crate) fn sha256_upper(data: &[u8]) -> String {
    data_encoding::HEXUPPER.encode(&Sha256::digest(data))
}

fn invalid(message: impl Into<String>) -> Error {
    Error::invalid(message)
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::internal(format!("cannot {what} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(name: &str) -> Vec<u8> {
        let path = format!("{}/../protocol/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
    }

    #[test]
    fn reads_the_archive_made_by_provider_archive_0_6() {
        let par = ProviderArchive::parse(&vector("provider.par.gz")).unwrap();
        assert_eq!(par.contract_id(), "wasmcloud:testing");
        assert!(par.public_key().starts_with('V'));
        assert_eq!(par.targets(), vec!["x86_64-linux".to_string()]);
        assert_eq!(par.binary_for("x86_64-linux").unwrap(), vector("provider_dummy_x86_64-linux.bin").as_slice());
        let meta = par.claims().wascap.as_ref().unwrap();
        assert_eq!((meta.vendor.as_str(), meta.rev, meta.ver.as_deref()), ("wasmcloud-vectors", Some(1), Some("0.1.0")));
    }

    #[test]
    fn missing_platform_binary_is_a_clear_error() {
        let par = ProviderArchive::parse(&vector("provider.par.gz")).unwrap();
        let err = par.binary_for("aarch64-macos").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.message().contains("no binary for this platform (aarch64-macos)"), "{err}");
        assert!(err.message().contains("x86_64-linux"), "{err}");
    }

    /// Rebuilds the vector's tar with one byte of the binary changed, keeping the signed claims.
    fn tampered_vector() -> Vec<u8> {
        let mut entries = read_tar(flate2::read::GzDecoder::new(vector("provider.par.gz").as_slice())).unwrap();
        let bin = entries.iter_mut().find(|(n, _)| n.ends_with(".bin")).unwrap();
        bin.1[10] ^= 0x20;
        let mut tar = tar::Builder::new(Vec::new());
        for (name, data) in &entries {
            append(&mut tar, name, data, 0).unwrap();
        }
        tar.into_inner().unwrap()
    }

    #[test]
    fn a_tampered_binary_is_refused() {
        let err = ProviderArchive::parse(&tampered_vector()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Claims);
        assert!(err.message().contains("does not match its signed hash"), "{err}");
        assert!(err.message().contains("4A4FC96F0739259F73166C26ED831EF70F3C00030E175DB3724F89AA36862EA4"), "{err}");
    }

    #[test]
    fn created_archives_round_trip_and_extract() {
        let issuer = KeyPair::new_account();
        let subject = KeyPair::new_service();
        let spec = ProviderArchiveSpec {
            capid: "wasmcloud:example".into(),
            name: Some("Example".into()),
            vendor: "tests".into(),
            rev: Some(3),
            ver: Some("1.2.3".into()),
            binaries: [(native_target(), b"#!/bin/sh\necho hi\n".to_vec()), ("aarch64-macos".to_string(), b"other".to_vec())].into(),
        };
        let bytes = create_archive(&spec, &issuer, &subject).unwrap();
        assert_eq!(&bytes[..2], &GZIP_MAGIC);
        let par = ProviderArchive::parse(&bytes).unwrap();
        assert_eq!(par.public_key(), subject.public_key());
        assert_eq!(par.claims().iss, issuer.public_key());
        assert_eq!(par.targets().len(), 2);
        let dir = std::env::temp_dir().join(format!("wasmhost-par-{}", uuid::Uuid::new_v4().simple()));
        let path = par.extract_native(&dir).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"#!/bin/sh\necho hi\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o755);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [&b""[..], b"\x1f\x8b garbage", b"not a tar at all, just text"] {
            assert!(ProviderArchive::parse(bytes).is_err());
        }
        let issuer = KeyPair::new_account();
        let wrong_subject = KeyPair::new_module();
        let spec = ProviderArchiveSpec { capid: "c".into(), vendor: "v".into(), binaries: [("x86_64-linux".to_string(), vec![1])].into(), ..Default::default() };
        assert!(create_archive(&spec, &issuer, &wrong_subject).is_err());
    }
}
