//! Our signing is byte-compatible with the real wascap 0.8 (what 0.5x hosts verify with):
//! every signed example actor (signed by `wasmhost claims sign`) extracts, hash-checks and
//! validates with the crate.

use wasmhost_interop::repo_root;

const ISSUER: &str = "ADPZQSRBGHTXNVZQKVVULWLERC7YL65B3WMG6BJXY3DEUPZF2KGYMBC5";

/// Why wascap 0.8 would compute another hash: it hashes the module as parity-wasm
/// re-serializes it (minimal LEB128s etc.), not the bytes in the file.
fn reencoding_report(bytes: &[u8]) -> String {
    let mut module: parity_wasm::elements::Module = match parity_wasm::deserialize_buffer(bytes) {
        Ok(m) => m,
        Err(e) => return format!("parity-wasm cannot parse the module: {e}"),
    };
    module.clear_custom_section("jwt");
    let reencoded = parity_wasm::serialize(module).unwrap_or_default();
    format!(
        "the file is {} bytes; parity-wasm re-encodes it (jwt section removed) to {} bytes, and wascap 0.8 hashes those; \
         a module whose encoding is not canonical (e.g. padded LEB128s left by wasm-ld) must be signed over its re-encoded form",
        bytes.len(),
        reencoded.len()
    )
}

#[test]
fn wascap_08_extracts_and_validates_our_signed_actors() {
    let expected = [
        (
            "echo",
            "MAWRVJG6CAWBKNCQHRGGQAA3WC2JKG5QXLPXPDUB7XISKAMN5KNWYJ75",
            "Echo",
            None,
        ),
        (
            "kvcounter",
            "MABWSXVV2I2WPASLBEHAE74QWHZIMUKFFBAOJWJEXOYVGLAHFXLXK4M6",
            "KVCounter",
            None,
        ),
        (
            "pinger",
            "MAUJCX4BIOUCE5BGKCLKNRIT7FXES2W7WIYLTPW6LZNZHNVPL4RY4XTY",
            "Pinger",
            None,
        ),
        (
            "pong",
            "MCE5UWMI34OWVSPGTA5D6QHG2W67RNDPRK6XYJ54S67OYNIWHOKVK3ZO",
            "Pong",
            Some("wasmhost/pong"),
        ),
    ];
    let mut failures = Vec::new();
    for (name, subject, display_name, alias) in expected {
        let path = repo_root().join(format!("examples/actors/{name}.wasm"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // extract_claims recomputes the module hash and fails on a mismatch.
        let token = match wascap::wasm::extract_claims(&bytes) {
            Ok(Some(token)) => token,
            Ok(None) => {
                failures.push(format!("{name}: wascap 0.8 finds no jwt section"));
                continue;
            }
            Err(e) => {
                failures.push(format!(
                    "{name}: wascap 0.8 rejects the module ({e}): {}",
                    reencoding_report(&bytes)
                ));
                continue;
            }
        };
        let validation = wascap::jwt::validate_token::<wascap::jwt::Actor>(&token.jwt)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            validation.signature_valid && !validation.expired && !validation.cannot_use_yet,
            "{name}: {validation:?}"
        );
        let claims = token.claims;
        assert_eq!(
            (claims.subject.as_str(), claims.issuer.as_str()),
            (subject, ISSUER),
            "{name}"
        );
        let actor = claims.metadata.expect("actor metadata");
        assert_eq!(actor.name.as_deref(), Some(display_name), "{name}");
        assert_eq!(
            (actor.rev, actor.ver.as_deref()),
            (Some(1), Some("0.1.0")),
            "{name}"
        );
        assert_eq!(actor.call_alias.as_deref(), alias, "{name}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn wascap_08_validates_the_token_signature_of_our_signed_actors() {
    // Independent of the module hash: the JWT itself (header, claims, Ed25519 signature)
    // must be one wascap 0.8 accepts.
    for name in ["echo", "kvcounter", "pinger", "pong"] {
        let bytes =
            std::fs::read(repo_root().join(format!("examples/actors/{name}.wasm"))).expect("actor");
        let module: parity_wasm::elements::Module =
            parity_wasm::deserialize_buffer(&bytes).expect("parity-wasm parses it");
        let section = module
            .custom_sections()
            .find(|s| s.name() == "jwt")
            .unwrap_or_else(|| panic!("{name}: no jwt section"));
        let jwt = std::str::from_utf8(section.payload()).expect("utf-8 token");
        let validation = wascap::jwt::validate_token::<wascap::jwt::Actor>(jwt)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(validation.signature_valid, "{name}: {validation:?}");
        let claims = wascap::jwt::Claims::<wascap::jwt::Actor>::decode(jwt)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(claims.issuer, ISSUER, "{name}");
    }
}
