//! Actors and provider archives by OCI reference, against a real registry (Debian's docker-registry
//! on a loopback port, started and stopped by the fixture in `registry/`).

mod common;
mod registry;

use std::collections::BTreeMap;
use std::io::Read;
use std::time::Duration;

use common::{drain, example_actor, none, vector};
use registry::{free_port, Registry, TempDir};
use wasmhost::oci::{push, ArtifactKind, PushOptions};
use wasmhost::protocol::ctl::{RegistryCredential, RegistryCredentialMap};
use wasmhost::provider_archive::{create_archive, native_target, ProviderArchiveSpec};
use wasmhost::{ActorSource, ErrorKind, Host, HostConfig};

/// A host that may talk plain HTTP to `registry` and caches in `cache`.
fn config(registry: &Registry, cache: &TempDir) -> HostConfig {
    HostConfig {
        oci_allowed_insecure: vec![registry.addr.clone()],
        oci_cache_dir: Some(cache.path().to_path_buf()),
        ..Default::default()
    }
}

fn insecure() -> PushOptions {
    PushOptions {
        insecure: true,
        ..Default::default()
    }
}

async fn push_actor(registry: &Registry, repo_and_tag: &str) -> String {
    let reference = registry.reference(repo_and_tag);
    push(
        &reference,
        example_actor("echo"),
        ArtifactKind::Actor,
        &insecure(),
    )
    .await
    .expect("push echo");
    reference
}

fn cached_blobs(cache: &TempDir) -> usize {
    std::fs::read_dir(cache.path().join("blobs/sha256"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_by_reference_then_again_from_the_cache_with_the_registry_down() {
    let mut registry = Registry::start();
    let cache = TempDir::new("oci-cache");
    let reference = push_actor(&registry, "examples/echo:0.1.0").await;

    let (host, mut events) = Host::start_with_events(config(&registry, &cache))
        .await
        .unwrap();
    let actor = host
        .start_actor(ActorSource::parse(&reference), 1, none())
        .await
        .expect("start by reference");
    assert_eq!(actor.image_ref, reference);
    assert_eq!(
        host.call_actor(&actor.public_key, "Echo.Echo", b"from a registry".to_vec())
            .await
            .unwrap(),
        b"from a registry"
    );
    assert_eq!(host.refmaps().get(&reference), Some(&actor.public_key));
    let seen = drain(&mut events, Duration::from_millis(300)).await;
    let refmap = seen
        .iter()
        .find(|(k, _)| k == "refmap_set")
        .expect("refmap_set published");
    assert_eq!(refmap.1["oci_url"], reference.as_str());
    assert_eq!(refmap.1["public_key"], actor.public_key.as_str());
    let started = seen.iter().find(|(k, _)| k == "actor_started").unwrap();
    assert_eq!(started.1["image_ref"], reference.as_str());
    assert_eq!(cached_blobs(&cache), 1, "the module is in the shared cache");
    host.stop().await.unwrap();

    // Registry down: a second host sharing the cache starts the same reference from it.
    registry.stop();
    let second = Host::start(config(&registry, &cache)).await.unwrap();
    let again = second
        .start_actor(ActorSource::parse(&reference), 1, none())
        .await
        .expect("start from the cache");
    assert_eq!(again.public_key, actor.public_key);
    assert_eq!(
        second
            .call_actor(&again.public_key, "Echo.Echo", b"offline".to_vec())
            .await
            .unwrap(),
        b"offline"
    );
    // A reference never fetched before cannot be served: the error says the registry is unreachable.
    let err = second
        .start_actor(
            ActorSource::parse(&registry.reference("examples/echo:0.2.0")),
            1,
            none(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert!(err.message().contains("cannot reach registry"), "{err}");
    second.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_host_reuses_the_cached_blob_instead_of_downloading() {
    let registry = Registry::start();
    let cache = TempDir::new("oci-cache");
    let reference = push_actor(&registry, "examples/echo:0.3.0").await;
    let first = Host::start(config(&registry, &cache)).await.unwrap();
    first
        .start_actor(ActorSource::parse(&reference), 1, none())
        .await
        .unwrap();
    let blob_dir = cache.path().join("blobs/sha256");
    let blob = std::fs::read_dir(&blob_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let inode_before = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&blob).unwrap());
    // The second host (registry still up) resolves the tag, finds the layer digest cached, and
    // does not rewrite the blob: same file, same inode.
    let second = Host::start(config(&registry, &cache)).await.unwrap();
    second
        .start_actor(ActorSource::parse(&reference), 1, none())
        .await
        .unwrap();
    let inode_after = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&blob).unwrap());
    assert_eq!(inode_before, inode_after);
    assert_eq!(cached_blobs(&cache), 1);
    assert_eq!(second.oci_cache_dir(), cache.path());
    first.stop().await.unwrap();
    second.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_and_untagged_references_are_refused_unless_allowed() {
    let registry = Registry::start();
    let cache = TempDir::new("oci-cache");
    let latest = push_actor(&registry, "examples/echo:latest").await;
    let untagged = registry.reference("examples/echo");

    let (host, mut events) = Host::start_with_events(config(&registry, &cache))
        .await
        .unwrap();
    for reference in [&latest, &untagged] {
        let err = host
            .start_actor(ActorSource::parse(reference), 1, none())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Denied, "{err}");
        assert!(err.message().contains("`latest` tag"), "{err}");
        assert!(
            err.message().contains("WASMCLOUD_OCI_ALLOW_LATEST"),
            "{err}"
        );
    }
    let failed: Vec<_> = drain(&mut events, Duration::from_millis(300))
        .await
        .into_iter()
        .filter(|(k, _)| k == "actor_start_failed")
        .collect();
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[0].1["actor_ref"], latest.as_str());
    assert!(failed[0].1["error"]
        .as_str()
        .unwrap()
        .contains("`latest` tag"));
    host.stop().await.unwrap();

    let allowing = Host::start(HostConfig {
        oci_allow_latest: true,
        ..config(&registry, &cache)
    })
    .await
    .unwrap();
    allowing
        .start_actor(ActorSource::parse(&latest), 1, none())
        .await
        .expect("latest allowed");
    allowing.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_only_for_registries_listed_as_insecure() {
    let registry = Registry::start();
    let cache = TempDir::new("oci-cache");
    let reference = push_actor(&registry, "examples/echo:0.1.0").await;
    let strict = Host::start(HostConfig {
        oci_allowed_insecure: Vec::new(),
        ..config(&registry, &cache)
    })
    .await
    .unwrap();
    let err = strict
        .start_actor(ActorSource::parse(&reference), 1, none())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(err.message().contains("over HTTPS"), "{err}");
    assert!(
        err.message().contains("WASMCLOUD_OCI_ALLOWED_INSECURE"),
        "{err}"
    );
    strict.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_with_registry_credentials_and_the_env_fallback() {
    let registry = Registry::start_with_auth("alice", "s3cret");
    let cache = TempDir::new("oci-cache");
    let reference = registry.reference("private/echo:1.0.0");
    let anonymous_push = push(
        &reference,
        example_actor("echo"),
        ArtifactKind::Actor,
        &insecure(),
    )
    .await
    .unwrap_err();
    assert_eq!(anonymous_push.kind(), ErrorKind::Denied, "{anonymous_push}");
    let creds = PushOptions {
        insecure: true,
        username: Some("alice".into()),
        password: Some("s3cret".into()),
    };
    push(
        &reference,
        example_actor("echo"),
        ArtifactKind::Actor,
        &creds,
    )
    .await
    .expect("push with credentials");

    let host = Host::start(config(&registry, &cache)).await.unwrap();
    let err = host
        .start_actor(ActorSource::parse(&reference), 1, none())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Denied, "{err}");
    assert!(err.message().contains("401"), "{err}");
    assert!(err.message().contains("requires credentials"), "{err}");

    let cred = |password: &str| RegistryCredential {
        registry_type: "oci".into(),
        username: Some("alice".into()),
        password: Some(password.into()),
        token: None,
    };
    let wrong: RegistryCredentialMap = [(registry.addr.clone(), cred("wrong"))].into();
    assert_eq!(host.put_registry_credentials(wrong), 1);
    let err = host
        .start_actor(ActorSource::parse(&reference), 1, none())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Denied, "{err}");
    assert!(
        err.message().contains("401") && err.message().contains("check the user name and password"),
        "{err}"
    );

    // registries.put keys may carry a scheme; the later put replaces the earlier one.
    let right: RegistryCredentialMap =
        [(format!("http://{}", registry.addr), cred("s3cret"))].into();
    host.put_registry_credentials(right);
    let actor = host
        .start_actor(ActorSource::parse(&reference), 1, none())
        .await
        .expect("start with credentials");
    host.stop().await.unwrap();

    // The env fallback, for a fresh cache and a host without stored credentials. Only references
    // starting with OCI_REGISTRY use it, so other tests running meanwhile are unaffected.
    let fresh_cache = TempDir::new("oci-cache");
    std::env::set_var("OCI_REGISTRY", &registry.addr);
    std::env::set_var("OCI_REGISTRY_USER", "alice");
    std::env::set_var("OCI_REGISTRY_PASSWORD", "s3cret");
    let env_host = Host::start(config(&registry, &fresh_cache)).await.unwrap();
    let from_env = env_host
        .start_actor(ActorSource::parse(&reference), 1, none())
        .await;
    std::env::remove_var("OCI_REGISTRY");
    assert_eq!(
        from_env.expect("start with env credentials").public_key,
        actor.public_key
    );
    env_host.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_unreachable_oversized_and_malformed_references_fail_clearly() {
    let registry = Registry::start();
    let cache = TempDir::new("oci-cache");
    let reference = push_actor(&registry, "examples/echo:0.1.0").await;
    let host = Host::start(config(&registry, &cache)).await.unwrap();

    let err = host
        .start_actor(
            ActorSource::parse(&registry.reference("nothing/here:1.0.0")),
            1,
            none(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(err.message().contains("was not found in registry"), "{err}");
    let err = host
        .start_actor(
            ActorSource::parse(&registry.reference("examples/echo:9.9.9")),
            1,
            none(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");

    let closed = format!("127.0.0.1:{}", free_port());
    let err = host
        .start_actor(
            ActorSource::Reference(format!("{closed}/echo:0.1.0")),
            1,
            none(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(
        err.message()
            .contains(&format!("cannot reach registry {closed}")),
        "{err}"
    );
    let err = host
        .start_actor(
            ActorSource::Reference("no-such-registry.invalid/echo:0.1.0".into()),
            1,
            none(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");

    let err = host
        .start_actor(ActorSource::Reference("Not A Reference!".into()), 1, none())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    host.stop().await.unwrap();

    let small = Host::start(HostConfig {
        oci_max_artifact_bytes: 1000,
        ..config(&registry, &TempDir::new("oci-cache"))
    })
    .await
    .unwrap();
    let err = small
        .start_actor(ActorSource::parse(&reference), 1, none())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(
        err.message().contains("larger than the 1000 bytes"),
        "{err}"
    );
    small.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_media_types_are_refused_both_ways() {
    let registry = Registry::start();
    let cache = TempDir::new("oci-cache");
    let actor_ref = push_actor(&registry, "examples/echo:0.1.0").await;
    let par_ref = registry.reference("providers/vectors:0.1.0");
    push(
        &par_ref,
        vector("provider.par.gz"),
        ArtifactKind::ProviderArchive,
        &insecure(),
    )
    .await
    .unwrap();

    let host = Host::start(config(&registry, &cache)).await.unwrap();
    let err = host
        .start_actor(ActorSource::parse(&par_ref), 1, none())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.message().contains("wrong media type"), "{err}");
    assert!(
        err.message()
            .contains("application/vnd.wasmcloud.provider.archive.layer.v1+par"),
        "{err}"
    );
    let err = host.fetch_provider_archive(&actor_ref).await.unwrap_err();
    assert!(
        err.message().contains("is not a provider archive")
            && err.message().contains("wrong media type"),
        "{err}"
    );
    host.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_archives_by_reference_are_verified() {
    let registry = Registry::start();
    let cache = TempDir::new("oci-cache");
    let host = Host::start(config(&registry, &cache)).await.unwrap();

    // The archive made by provider-archive 0.6.
    let good = registry.reference("providers/vectors:0.1.0");
    push(
        &good,
        vector("provider.par.gz"),
        ArtifactKind::ProviderArchive,
        &insecure(),
    )
    .await
    .unwrap();
    let par = host
        .fetch_provider_archive(&good)
        .await
        .expect("verified archive");
    assert_eq!(par.contract_id(), "wasmcloud:testing");
    assert_eq!(
        par.native_binary().unwrap(),
        vector("provider_dummy_x86_64-linux.bin").as_slice()
    );

    // The same claims with one byte of the binary changed.
    let tampered = registry.reference("providers/tampered:0.1.0");
    push(
        &tampered,
        tamper(&vector("provider.par.gz")),
        ArtifactKind::ProviderArchive,
        &insecure(),
    )
    .await
    .unwrap();
    let err = host.fetch_provider_archive(&tampered).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Claims, "{err}");
    assert!(
        err.message().contains("does not match its signed hash"),
        "{err}"
    );

    // An archive made by `par create` with no binary for this machine.
    let issuer = wasmhost::protocol::nkeys::KeyPair::new_account();
    let subject = wasmhost::protocol::nkeys::KeyPair::new_service();
    let other_target = if native_target() == "aarch64-macos" {
        "x86_64-windows"
    } else {
        "aarch64-macos"
    };
    let spec = ProviderArchiveSpec {
        capid: "wasmcloud:example".into(),
        vendor: "tests".into(),
        binaries: BTreeMap::from([(other_target.to_string(), b"not for us".to_vec())]),
        ..Default::default()
    };
    let foreign = registry.reference("providers/foreign:0.1.0");
    push(
        &foreign,
        create_archive(&spec, &issuer, &subject).unwrap(),
        ArtifactKind::ProviderArchive,
        &insecure(),
    )
    .await
    .unwrap();
    let par = host.fetch_provider_archive(&foreign).await.unwrap();
    let err = par.native_binary().unwrap_err();
    assert!(
        err.to_string().contains("no binary for this platform"),
        "{err}"
    );
    host.stop().await.unwrap();
}

/// The archive with one byte of its binary flipped, claims untouched (re-packed as plain tar).
fn tamper(par_gz: &[u8]) -> Vec<u8> {
    let mut tar_bytes = Vec::new();
    flate2::read::GzDecoder::new(par_gz)
        .read_to_end(&mut tar_bytes)
        .unwrap();
    let mut archive = tar::Archive::new(tar_bytes.as_slice());
    let mut builder = tar::Builder::new(Vec::new());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        if name.ends_with(".bin") {
            data[0] ^= 0x01;
        }
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        builder
            .append_data(&mut header, &name, data.as_slice())
            .unwrap();
    }
    builder.into_inner().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_pinned_references_start_without_the_registry_once_cached() {
    let mut registry = Registry::start();
    let cache = TempDir::new("oci-cache");
    let url = push(
        &registry.reference("examples/echo:0.4.0"),
        example_actor("echo"),
        ArtifactKind::Actor,
        &insecure(),
    )
    .await
    .unwrap();
    let digest = url.rsplit('/').next().unwrap().to_string();
    assert!(digest.starts_with("sha256:"), "{url}");
    let pinned = registry.reference(&format!("examples/echo@{digest}"));
    let host = Host::start(config(&registry, &cache)).await.unwrap();
    let actor = host
        .start_actor(ActorSource::parse(&pinned), 1, none())
        .await
        .expect("start by digest");
    host.stop().await.unwrap();
    registry.stop();
    let again = Host::start(config(&registry, &cache)).await.unwrap();
    assert_eq!(
        again
            .start_actor(ActorSource::parse(&pinned), 1, none())
            .await
            .unwrap()
            .public_key,
        actor.public_key
    );
    again.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_altered_inside_the_registry_fail_the_digest_check() {
    let registry = Registry::start();
    let cache = TempDir::new("oci-cache");
    let module = example_actor("echo");
    let reference = registry.reference("examples/echo:0.5.0");
    push(&reference, module.clone(), ArtifactKind::Actor, &insecure())
        .await
        .unwrap();
    // Flip one byte of the stored layer (same size), as a corrupted or malicious registry would.
    let hex = {
        use sha2::Digest;
        data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(&module))
    };
    let stored = registry.blob_data_path(&hex);
    let mut bytes = std::fs::read(&stored).expect("layer in the registry's storage");
    bytes[100] ^= 0xff;
    std::fs::write(&stored, bytes).unwrap();

    let (host, mut events) = Host::start_with_events(config(&registry, &cache))
        .await
        .unwrap();
    let err = host
        .start_actor(ActorSource::parse(&reference), 1, none())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(err.message().contains("digest mismatch"), "{err}");
    let failed = drain(&mut events, Duration::from_millis(300))
        .await
        .into_iter()
        .find(|(k, _)| k == "actor_start_failed")
        .unwrap();
    assert!(failed.1["error"]
        .as_str()
        .unwrap()
        .contains("digest mismatch"));
    assert_eq!(cached_blobs(&cache), 0, "nothing unverified is cached");
    host.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hosts_fetching_into_one_cache_at_once_both_start() {
    let registry = Registry::start();
    let cache = TempDir::new("oci-cache");
    let reference = push_actor(&registry, "examples/echo:0.6.0").await;
    let (a, b) = tokio::join!(
        Host::start(config(&registry, &cache)),
        Host::start(config(&registry, &cache))
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let (ra, rb) = tokio::join!(
        a.start_actor(ActorSource::parse(&reference), 1, none()),
        b.start_actor(ActorSource::parse(&reference), 1, none())
    );
    assert_eq!(ra.unwrap().public_key, rb.unwrap().public_key);
    assert_eq!(cached_blobs(&cache), 1);
    assert_eq!(
        std::fs::read_dir(cache.path().join("tmp")).unwrap().count(),
        0,
        "no temporary files left"
    );
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_stays_within_its_bound() {
    let registry = Registry::start();
    let cache = TempDir::new("oci-cache");
    let echo = push_actor(&registry, "examples/echo:0.7.0").await;
    let pong = registry.reference("examples/pong:0.7.0");
    push(
        &pong,
        example_actor("pong"),
        ArtifactKind::Actor,
        &insecure(),
    )
    .await
    .unwrap();
    let bound = example_actor("echo").len() as u64 + 1000;
    let host = Host::start(HostConfig {
        oci_cache_max_bytes: bound,
        ..config(&registry, &cache)
    })
    .await
    .unwrap();
    host.start_actor(ActorSource::parse(&echo), 1, none())
        .await
        .unwrap();
    host.start_actor(ActorSource::parse(&pong), 1, none())
        .await
        .unwrap();
    let total: u64 = std::fs::read_dir(cache.path().join("blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(total <= bound, "{total} > {bound}");
    assert_eq!(cached_blobs(&cache), 1, "the older module was evicted");
    host.stop().await.unwrap();
}
