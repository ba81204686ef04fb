//! Hot reload: watch an actor's `.wasm` file and hand each settled rebuild over for a live update.
//!
//! Editors and build tools write files in several steps (truncate + write, write a temporary file
//! and rename it over the old one), so the watcher observes the file's directory, waits until the
//! file has been quiet for [`SETTLE`], and skips rebuilds whose bytes did not change.
//!
//! Revisions: a live update needs a higher claims revision than the running one. A rebuild signed
//! with a higher `--rev` is used as it is. One signed with the same (or a lower) revision is
//! re-signed with `running + 1` when the seeds of its account and module keys are in the
//! `--signing-keys` directory (`*.nk` files, e.g. `examples/actors/keys`), keeping every other
//! claim; otherwise the host refuses it and says so, and the old version keeps running.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nkeys::KeyPair;
use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;
use wasmhost::protocol::claims::{embed_claims, extract_actor_claims, ActorClaims};

/// How long a file must stay unchanged before a rebuild is taken.
pub const SETTLE: Duration = Duration::from_millis(300);

/// Watches one file for settled changes.
pub struct FileWatcher {
    path: PathBuf,
    events: mpsc::UnboundedReceiver<()>,
    last: Option<Vec<u8>>,
    _watcher: notify::RecommendedWatcher,
}

impl FileWatcher {
    /// Starts watching `path` (which must exist). Its current bytes count as already applied.
    pub fn new(path: &Path) -> Result<FileWatcher, String> {
        let path = path
            .canonicalize()
            .map_err(|e| format!("cannot watch {}: {e}", path.display()))?;
        let dir = path
            .parent()
            .ok_or_else(|| format!("cannot watch {}: it has no directory", path.display()))?
            .to_path_buf();
        let name = path.file_name().map(|n| n.to_os_string());
        let (tx, events) = mpsc::unbounded_channel();
        // The directory, not the file: a rename over the file replaces the inode a file watch follows.
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                if let Ok(event) = event {
                    if event
                        .paths
                        .iter()
                        .any(|p| p.file_name().map(|n| n.to_os_string()) == name)
                    {
                        let _ = tx.send(());
                    }
                }
            })
            .map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
        watcher
            .watch(&dir, RecursiveMode::NonRecursive)
            .map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
        let last = crate::local_file::read(&path, "actor module").ok();
        Ok(FileWatcher {
            path,
            events,
            last,
            _watcher: watcher,
        })
    }

    /// The watched file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits for the next rebuild: the file changed, stayed quiet for [`SETTLE`], exists, is not
    /// empty and differs from the last bytes returned. `None` when the watcher stopped.
    pub async fn next_rebuild(&mut self) -> Option<Vec<u8>> {
        loop {
            self.events.recv().await?;
            // Quiet period: every further event restarts it.
            loop {
                match tokio::time::timeout(SETTLE, self.events.recv()).await {
                    Ok(Some(())) => continue,
                    Ok(None) => return None,
                    Err(_) => break,
                }
            }
            let Ok(bytes) = crate::local_file::read(&self.path, "actor module") else {
                continue;
            };
            if bytes.is_empty() || self.last.as_deref() == Some(bytes.as_slice()) {
                continue;
            }
            self.last = Some(bytes.clone());
            return Some(bytes);
        }
    }
}

/// Account and module seeds found in a directory of `*.nk` files, by public key.
#[derive(Default)]
pub struct SigningKeys {
    keys: HashMap<String, KeyPair>,
}

impl SigningKeys {
    /// Reads every `*.nk` file of `dir` that holds a valid seed (others are skipped with a warning).
    pub fn load(dir: &Path) -> Result<SigningKeys, String> {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            format!(
                "cannot read the signing keys directory {}: {e}",
                dir.display()
            )
        })?;
        let mut keys = HashMap::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("nk") {
                continue;
            }
            let Ok(seed) = crate::local_file::read_text(&path, "signing key") else {
                continue;
            };
            match KeyPair::from_seed(seed.trim()) {
                Ok(kp) => {
                    keys.insert(kp.public_key(), kp);
                }
                Err(e) => eprintln!(
                    "warning: {} is not an nkeys seed ({e}); skipped",
                    path.display()
                ),
            }
        }
        Ok(SigningKeys { keys })
    }

    fn get(&self, public_key: &str) -> Option<&KeyPair> {
        self.keys.get(public_key)
    }
}

/// What to send for a live update of an actor running `running_revision`: the rebuild itself,
/// or, when its revision is not higher and `keys` hold its account and module seeds, the rebuild
/// re-signed with `running_revision + 1`. A rebuild whose claims do not read is returned as it is,
/// so the host refuses it and reports why (`actor_update_failed`).
pub fn prepare_update(
    rebuild: Vec<u8>,
    running_revision: i32,
    keys: Option<&SigningKeys>,
) -> Prepared {
    let Ok(claims) = extract_actor_claims(&rebuild) else {
        return Prepared {
            module: rebuild,
            resigned_to: None,
        };
    };
    if claims.revision() > running_revision {
        return Prepared {
            module: rebuild,
            resigned_to: None,
        };
    }
    match keys.and_then(|keys| resign(&rebuild, &claims, running_revision + 1, keys).transpose()) {
        Some(Ok(module)) => Prepared {
            module,
            resigned_to: Some(running_revision + 1),
        },
        Some(Err(e)) => {
            eprintln!("warning: could not re-sign the rebuild: {e}");
            Prepared {
                module: rebuild,
                resigned_to: None,
            }
        }
        None => Prepared {
            module: rebuild,
            resigned_to: None,
        },
    }
}

/// A module ready for a live update.
pub struct Prepared {
    /// The module to send.
    pub module: Vec<u8>,
    /// The revision it was re-signed with, if it was.
    pub resigned_to: Option<i32>,
}

/// `Ok(None)` when the keys lack the account or the module seed.
fn resign(
    module: &[u8],
    claims: &ActorClaims,
    revision: i32,
    keys: &SigningKeys,
) -> Result<Option<Vec<u8>>, String> {
    let (Some(issuer), Some(_subject)) = (keys.get(claims.issuer()), keys.get(claims.public_key()))
    else {
        return Ok(None);
    };
    let mut new_claims = claims.claims.clone();
    if let Some(wascap) = new_claims.wascap.as_mut() {
        wascap.rev = Some(revision);
    }
    embed_claims(module, &new_claims, issuer)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// What a refused update means for the developer, with the way out.
pub fn revision_hint(error: &str, keys_given: bool) -> Option<String> {
    if !error.contains("not higher than the running revision") {
        return None;
    }
    Some(if keys_given {
        "the signing keys directory lacks this actor's account or module seed, so the rebuild could not be re-signed; add them or sign with a higher --rev".to_string()
    } else {
        "sign the rebuild with a higher --rev (wasmhost claims sign --rev N), or pass --signing-keys DIR with the account and module seeds so hot reload re-signs it".to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmhost::protocol::claims::{sign_actor, ActorSigning};

    const MODULE: &[u8] = b"\0asm\x01\0\0\0";

    fn signed(rev: i32, account: &KeyPair, module: &KeyPair) -> Vec<u8> {
        sign_actor(
            MODULE,
            &ActorSigning {
                name: Some("T".into()),
                caps: vec!["wasmcloud:httpserver".into()],
                rev: Some(rev),
                ..Default::default()
            },
            account,
            module,
        )
        .unwrap()
    }

    fn keys_dir(keys: &[&KeyPair]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "wasmhost-keys-{}",
            KeyPair::new_user().public_key()[1..9].to_lowercase()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        for (i, kp) in keys.iter().enumerate() {
            std::fs::write(dir.join(format!("k{i}.nk")), kp.seed().unwrap()).unwrap();
        }
        std::fs::write(dir.join("junk.nk"), "not a seed").unwrap();
        dir
    }

    #[test]
    fn a_higher_revision_is_sent_as_it_is() {
        let (account, module) = (KeyPair::new_account(), KeyPair::new_module());
        let rebuild = signed(5, &account, &module);
        let prepared = prepare_update(rebuild.clone(), 4, None);
        assert_eq!((prepared.module, prepared.resigned_to), (rebuild, None));
    }

    #[test]
    fn the_same_revision_is_re_signed_when_the_seeds_are_there() {
        let (account, module) = (KeyPair::new_account(), KeyPair::new_module());
        let dir = keys_dir(&[&account, &module]);
        let keys = SigningKeys::load(&dir).unwrap();
        let prepared = prepare_update(signed(4, &account, &module), 4, Some(&keys));
        assert_eq!(prepared.resigned_to, Some(5));
        let claims = extract_actor_claims(&prepared.module).unwrap();
        assert_eq!(
            (
                claims.revision(),
                claims.public_key(),
                claims.issuer(),
                claims.name()
            ),
            (
                5,
                module.public_key().as_str(),
                account.public_key().as_str(),
                Some("T")
            )
        );
        assert_eq!(claims.caps(), ["wasmcloud:httpserver"]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn without_the_seeds_or_with_broken_claims_the_host_decides() {
        let (account, module) = (KeyPair::new_account(), KeyPair::new_module());
        let dir = keys_dir(&[&account]);
        let keys = SigningKeys::load(&dir).unwrap();
        let rebuild = signed(4, &account, &module);
        assert_eq!(
            prepare_update(rebuild.clone(), 4, Some(&keys)).module,
            rebuild
        );
        let broken = b"not wasm".to_vec();
        assert_eq!(
            prepare_update(broken.clone(), 4, Some(&keys)).module,
            broken
        );
        assert!(revision_hint(
            "new revision 4 is not higher than the running revision 4",
            false
        )
        .unwrap()
        .contains("--signing-keys"));
        assert!(revision_hint("invalid wasm", false).is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }

    async fn next(watcher: &mut FileWatcher) -> Option<Vec<u8>> {
        tokio::time::timeout(Duration::from_secs(10), watcher.next_rebuild())
            .await
            .expect("a rebuild within 10 s")
    }

    #[tokio::test]
    async fn editor_write_patterns_give_one_rebuild_each() {
        let dir = std::env::temp_dir().join(format!(
            "wasmhost-watch-{}",
            KeyPair::new_user().public_key()[1..9].to_lowercase()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("actor.wasm");
        std::fs::write(&file, b"v1").unwrap();
        let mut watcher = FileWatcher::new(&file).unwrap();
        // Truncate, then write in two steps: one rebuild with the final bytes.
        std::fs::write(&file, b"").unwrap();
        std::fs::write(&file, b"v2-part").unwrap();
        std::fs::write(&file, b"v2-complete").unwrap();
        assert_eq!(next(&mut watcher).await.unwrap(), b"v2-complete");
        // Write a temporary file and rename it over the watched one.
        let tmp = dir.join(".actor.wasm.tmp");
        std::fs::write(&tmp, b"v3").unwrap();
        std::fs::rename(&tmp, &file).unwrap();
        assert_eq!(next(&mut watcher).await.unwrap(), b"v3");
        // Rewriting the same bytes is not a rebuild; the next real change is.
        std::fs::write(&file, b"v3").unwrap();
        std::fs::write(dir.join("other.wasm"), b"x").unwrap();
        std::fs::write(&file, b"v4").unwrap();
        assert_eq!(next(&mut watcher).await.unwrap(), b"v4");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
