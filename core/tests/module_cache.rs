//! Compiled actors on disk: a second host (a fresh engine, as after a restart) finds the first
//! one's compiled code; the switch turns it off; a damaged file is recompiled, never trusted.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use wasmhost::{ActorSource, Host, HostConfig};

fn cache_dir() -> PathBuf {
    std::env::temp_dir().join(format!("wasmhost-module-cache-{}", uuid()))
}

fn uuid() -> String {
    nkeys::KeyPair::new_user().public_key()[1..13].to_lowercase()
}

fn config(dir: &Path, on: bool) -> HostConfig {
    HostConfig {
        module_cache: on,
        module_cache_dir: Some(dir.to_path_buf()),
        ..Default::default()
    }
}

/// Every compiled module file under `dir`.
fn cached_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for engine_dir in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        for file in std::fs::read_dir(engine_dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if file.path().extension().is_some_and(|e| e == "cwasm") {
                files.push(file.path());
            }
        }
    }
    files
}

async fn start_and_call(config: HostConfig) {
    let host = Host::start(config).await.unwrap();
    let echo = host
        .start_actor(ActorSource::from(example_actor("echo")), 1, none())
        .await
        .unwrap();
    assert_eq!(
        host.call_actor(&echo.public_key, "Echo.Echo", b"hi".to_vec())
            .await
            .unwrap(),
        b"hi"
    );
    host.stop().await.unwrap();
}

#[tokio::test]
async fn a_restarted_host_finds_the_compiled_actor_on_disk() {
    let dir = cache_dir();
    start_and_call(config(&dir, true)).await;
    let files = cached_files(&dir);
    assert_eq!(files.len(), 1, "one compiled module: {files:?}");
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .append(true)
        .open(&files[0])
        .unwrap()
        .set_modified(an_hour_ago)
        .unwrap();
    let inode = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&files[0]).unwrap());
    // A new host (new engine) loads it: the same file is used (its recency refreshed), not rewritten.
    start_and_call(config(&dir, true)).await;
    assert_eq!(cached_files(&dir), files);
    let meta = std::fs::metadata(&files[0]).unwrap();
    assert_eq!(
        std::os::unix::fs::MetadataExt::ino(&meta),
        inode,
        "not replaced"
    );
    assert!(meta.modified().unwrap() > an_hour_ago);
}

#[tokio::test]
async fn the_switch_turns_it_off() {
    let dir = cache_dir();
    start_and_call(config(&dir, false)).await;
    assert!(cached_files(&dir).is_empty());
}

#[tokio::test]
async fn a_damaged_file_is_recompiled_not_trusted() {
    let dir = cache_dir();
    start_and_call(config(&dir, true)).await;
    let file = cached_files(&dir).remove(0);
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&file, bytes).unwrap();
    start_and_call(config(&dir, true)).await;
    // Dropped and written again whole: a serialized module is an ELF image.
    let again = std::fs::read(&file).unwrap();
    assert!(again.starts_with(b"\x7fELF") && again.len() > 4096);
}
