//! The fuzz targets (`fuzz/targets/`) as plain tests: each runs over its committed corpus
//! (`fuzz/corpus/<target>/`, seeded from the test vectors) and then over a bounded number
//! of random mutations of it, so every invariant is exercised without the fuzz toolchain.
//!
//! `WASMHOST_FUZZ_MUTATIONS` sets the mutations per target (default 300); the random
//! seed is fixed per target, so a failure reproduces. A failing input is written to
//! `target/fuzz-failures/<target>-<hash>` and its path printed: run it under libFuzzer
//! with `cargo fuzz run <target> <path>`.

mod targets;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use targets::{Target, TARGETS};

const DEFAULT_MUTATIONS: usize = 300;
/// Longest input a mutation produces (libFuzzer's default `-max_len` is 4096).
const MAX_MUTATED_LEN: usize = 8192;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The corpus of `target`: every file of `fuzz/corpus/<target>/`, sorted by name.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = fuzz_dir().join("corpus").join(target);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("no corpus for {target} at {}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                bytes,
            )
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "the corpus of {target} is empty");
    files
}

fn mutations() -> usize {
    std::env::var("WASMHOST_FUZZ_MUTATIONS")
        .ok()
        .map(|v| v.parse().expect("WASMHOST_FUZZ_MUTATIONS must be a number"))
        .unwrap_or(DEFAULT_MUTATIONS)
}

/// Runs `target` on `input`; on a panic, saves the input and fails naming it.
fn run_one(target: &Target, input: &[u8], origin: &str) {
    if catch_unwind(AssertUnwindSafe(|| (target.run)(input))).is_ok() {
        return;
    }
    let digest = data_encoding::HEXLOWER.encode(&<sha2::Sha256 as sha2::Digest>::digest(input));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fuzz-failures");
    let path = dir.join(format!("{}-{}", target.name, &digest[..16]));
    let saved = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, input));
    panic!(
        "{} failed on {origin} ({} bytes){}",
        target.name,
        input.len(),
        match saved {
            Ok(()) => format!(", saved as {}", path.display()),
            Err(e) => format!(" (could not save it: {e})"),
        }
    );
}

/// Bytes a mutation likes to write: boundaries of lengths and markers of both encodings.
const INTERESTING: [u8; 16] = [
    0x00, 0x01, 0x7f, 0x80, 0xff, 0xc0, 0xc1, 0xcc, 0xd9, 0xdc, 0xdd, 0xdf, b'"', b'{', b'.', b'\\',
];

/// One random edit of `data`: flip a bit, overwrite, insert, delete, duplicate, splice in
/// a piece of `other`, or truncate.
fn mutate_once(rng: &mut StdRng, data: &mut Vec<u8>, other: &[u8]) {
    let pos = |rng: &mut StdRng, len: usize| if len == 0 { 0 } else { rng.gen_range(0..len) };
    match rng.gen_range(0..8) {
        0 if !data.is_empty() => {
            let i = pos(rng, data.len());
            data[i] ^= 1 << rng.gen_range(0..8);
        }
        1 if !data.is_empty() => {
            let i = pos(rng, data.len());
            data[i] = INTERESTING[rng.gen_range(0..INTERESTING.len())];
        }
        2 => {
            let i = pos(rng, data.len() + 1);
            let n = rng.gen_range(1..=8);
            let bytes: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
            data.splice(i..i, bytes);
        }
        3 if !data.is_empty() => {
            let i = pos(rng, data.len());
            let n = rng.gen_range(1..=(data.len() - i).min(16));
            data.drain(i..i + n);
        }
        4 if !data.is_empty() => {
            let i = pos(rng, data.len());
            let n = rng.gen_range(1..=(data.len() - i).min(64));
            let copy = data[i..i + n].to_vec();
            let at = pos(rng, data.len() + 1);
            data.splice(at..at, copy);
        }
        5 if !other.is_empty() => {
            let i = pos(rng, other.len());
            let n = rng.gen_range(1..=(other.len() - i).min(128));
            let at = pos(rng, data.len() + 1);
            data.splice(at..at, other[i..i + n].iter().copied());
        }
        6 if !data.is_empty() => {
            let len = pos(rng, data.len());
            data.truncate(len);
        }
        _ => {
            // A 4-byte big-endian length at a random spot: msgpack's favourite lie.
            let i = pos(rng, data.len() + 1);
            let value: u32 = if rng.gen() { u32::MAX } else { rng.gen() };
            data.splice(i..i, value.to_be_bytes());
        }
    }
    data.truncate(MAX_MUTATED_LEN);
}

/// The corpus of `name`, then `mutations()` random mutations of it.
fn run_target(name: &str) {
    let target = TARGETS
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no target {name}"));
    let corpus = corpus(name);
    for (file, bytes) in &corpus {
        run_one(target, bytes, &format!("corpus file {file}"));
    }
    let seed = name
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let mut rng = StdRng::seed_from_u64(seed);
    for round in 0..mutations() {
        let (file, base) = &corpus[rng.gen_range(0..corpus.len())];
        let (_, other) = &corpus[rng.gen_range(0..corpus.len())];
        let mut input = base.clone();
        for _ in 0..rng.gen_range(1..=4) {
            mutate_once(&mut rng, &mut input, other);
        }
        run_one(target, &input, &format!("mutation {round} of {file}"));
    }
}

#[test]
fn every_target_has_a_libfuzzer_binary_and_a_corpus() {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    for target in TARGETS {
        let bin = fuzz_dir().join(format!("fuzz_targets/{}.rs", target.name));
        let source =
            std::fs::read_to_string(&bin).unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
        assert!(
            source.contains(&format!("wasmhost_protocol_fuzz::{}(data)", target.name)),
            "{} does not call its target",
            bin.display()
        );
        assert!(
            manifest.contains(&format!("name = \"{}\"", target.name)),
            "fuzz/Cargo.toml has no [[bin]] {}",
            target.name
        );
        assert!(!corpus(target.name).is_empty());
    }
    let bins = std::fs::read_dir(fuzz_dir().join("fuzz_targets"))
        .unwrap()
        .count();
    assert_eq!(
        bins,
        TARGETS.len(),
        "a fuzz_targets/ file is not in TARGETS"
    );
}

/// One test per target, so a failure names its target.
macro_rules! fuzz_tests {
    ($($name:ident),* $(,)?) => {
        $(#[test] fn $name() { run_target(stringify!($name)); })*
    };
}

targets::every_target!(fuzz_tests);
