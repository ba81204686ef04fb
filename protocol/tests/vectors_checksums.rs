//! The recorded test vectors are intact: every file matches `tests/vectors/SHA256SUMS`,
//! and every file of the folder is listed there (nothing was added without a checksum).

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// Files of the folder that describe the vectors rather than being one.
const NOT_VECTORS: [&str; 3] = ["SHA256SUMS", "README.md", ".gitattributes"];

fn vectors_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors"))
}

/// `sha256sum` format: `<64 hex>  <name>`, one per line.
fn listed_checksums() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(vectors_dir().join("SHA256SUMS")).expect("SHA256SUMS");
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let (hash, name) = line
                .split_once("  ")
                .unwrap_or_else(|| panic!("not a sha256sum line: {line:?}"));
            assert_eq!(hash.len(), 64, "bad hash on line {line:?}");
            (name.to_string(), hash.to_ascii_lowercase())
        })
        .collect()
}

#[test]
fn every_vector_matches_its_checksum() {
    let listed = listed_checksums();
    assert!(listed.len() >= 50, "only {} checksums listed", listed.len());
    for (name, expected) in &listed {
        let bytes = std::fs::read(vectors_dir().join(name))
            .unwrap_or_else(|e| panic!("{name} is listed in SHA256SUMS but unreadable: {e}"));
        let actual = data_encoding::HEXLOWER.encode(&Sha256::digest(&bytes));
        assert_eq!(
            &actual, expected,
            "{name} was changed after it was recorded"
        );
    }
}

#[test]
fn every_vector_is_listed() {
    let listed = listed_checksums();
    for entry in std::fs::read_dir(vectors_dir()).expect("vectors folder") {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if NOT_VECTORS.contains(&name.as_str()) {
            continue;
        }
        assert!(
            listed.contains_key(&name),
            "{name} has no checksum in SHA256SUMS"
        );
    }
}
