//! Provider archives (`.par.gz`): parsing and verification.

use super::{assert_error_bounded, decode_bounded};
use wasmhost_protocol::nkeys::KeyPair;
use wasmhost_protocol::provider_archive::{create_archive, ProviderArchive, ProviderArchiveSpec};

/// Unpacked bytes a fuzzed archive may hold: the parser's logic is the same at any limit,
/// and a small one keeps a decompression bomb from costing a second per input.
const FUZZ_UNPACKED_LIMIT: u64 = 1 << 20;
/// Decoder state the parser allocates whatever the input: gzip's window and buffers.
const ARCHIVE_SLACK: usize = 512 << 10;
/// The fixed account and service seeds of the test vectors (README "Fixed inputs").
const ACCOUNT_SEED: &str = "SAAAEVJMLL3FL6LOWRCS5FCWYCXK34GWAR24NGPV2RPEJH7OTF3BUURQOE";
const SERVICE_SEED: &str = "SVAC66P3K23CAZ2HN7DE6FJROGCUSP6ZX467MU5QWU4O3Q34DAYMITODUY";

/// Parses the input as an archive: it is refused with a bounded error, or every binary it
/// yields is one its verified claims sign. The input as a provider binary, packed by
/// `create_archive`, parses back to the same bytes.
pub fn provider_archive(data: &[u8]) {
    let parsed = decode_bounded("ProviderArchive", data, ARCHIVE_SLACK, || {
        ProviderArchive::parse_with_limit(data, FUZZ_UNPACKED_LIMIT)
    });
    match parsed {
        Ok(par) => {
            let meta = par
                .claims()
                .wascap
                .as_ref()
                .expect("verified archives have metadata");
            assert!(!par.targets().is_empty());
            for target in par.targets() {
                let binary = par
                    .binary_for(&target)
                    .expect("a listed target has a binary");
                let hash =
                    data_encoding::HEXUPPER.encode(&<sha2::Sha256 as sha2::Digest>::digest(binary));
                assert!(meta.target_hashes[&target].eq_ignore_ascii_case(&hash));
            }
            assert_eq!(par.public_key(), par.claims().sub);
            if let Err(err) = par.binary_for("no-such-target") {
                assert_error_bounded("ProviderArchive::binary_for", &err, &[data]);
            }
        }
        Err(err) => assert_error_bounded("ProviderArchive", &err, &[data]),
    }

    let issuer = KeyPair::from_seed(ACCOUNT_SEED).expect("vector seed");
    let subject = KeyPair::from_seed(SERVICE_SEED).expect("vector seed");
    let spec = ProviderArchiveSpec {
        capid: "wasmcloud:fuzzing".into(),
        vendor: "fuzz".into(),
        binaries: [("x86_64-linux".to_string(), data.to_vec())].into(),
        ..Default::default()
    };
    let packed = create_archive(&spec, &issuer, &subject).expect("a valid spec packs");
    let par = ProviderArchive::parse(&packed).expect("an archive packed here parses");
    assert_eq!(par.binary_for("x86_64-linux").expect("packed target"), data);
    assert_eq!(par.public_key(), subject.public_key());
}
