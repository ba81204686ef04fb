//! RPC msgpack: `Invocation`, `InvocationResponse`, `LinkDefinition`.

use super::{assert_error_bounded, assert_round_trip, decode_bounded, ALLOC_SLACK};
use wasmhost_protocol::claims::{ClaimsError, InvocationRejection};
use wasmhost_protocol::nkeys::KeyPair;
use wasmhost_protocol::{Invocation, InvocationResponse, LinkDefinition};

/// The fixed cluster seed of the test vectors (README "Fixed inputs").
const CLUSTER_SEED: &str = "SCAKUNN72IFVVHIEKSS76LBAJOWFE4FRIDNSCVHFUASRG3FZSGWE6WVUJU";

/// A fixed "now" for token dates, so a run is reproducible (2023-11-14).
pub(super) const NOW: u64 = 1_700_000_000;

/// Decodes an invocation: round trip; its anti-forgery check answers with a bounded
/// error (or passes); and the same entities, operation and payload signed afresh by the
/// cluster key always pass that check after a trip through msgpack (unless the host id is
/// implausible, which must be the reason given).
pub fn invocation(data: &[u8]) {
    let inv = match decode_bounded("Invocation", data, ALLOC_SLACK, || Invocation::decode(data)) {
        Ok(inv) => inv,
        Err(err) => return assert_error_bounded("Invocation", &err, &[data]),
    };
    let back = Invocation::decode(&inv.encode()).expect("an encoded invocation decodes");
    assert_round_trip("Invocation", &inv, &back);
    let cluster = KeyPair::from_seed(CLUSTER_SEED).expect("vector seed");
    let issuers = [cluster.public_key()];
    if let Err(err) = inv.validate_at(&issuers, NOW) {
        assert_error_bounded("Invocation::validate", &err, &[data]);
    }

    let resigned = Invocation::new_signed(
        &cluster,
        inv.origin.clone(),
        inv.target.clone(),
        &inv.operation,
        inv.msg.clone(),
        &inv.host_id,
    )
    .expect("the cluster key has a seed");
    let received = Invocation::decode(&resigned.encode()).expect("an encoded invocation decodes");
    assert_round_trip("signed Invocation", &resigned, &received);
    let plausible_host = inv.host_id.starts_with('N') || inv.host_id.len() == 56;
    match received.validate(&issuers) {
        Ok(()) => assert!(plausible_host, "host id {:?} was accepted", inv.host_id),
        Err(ClaimsError::Invocation(InvocationRejection::InvalidHostId(_))) if !plausible_host => {}
        Err(err) => panic!("a freshly signed invocation fails its check: {err}\n{received:?}"),
    }
}

/// Decodes an invocation response: round trip, bounded errors.
pub fn invocation_response(data: &[u8]) {
    match decode_bounded("InvocationResponse", data, ALLOC_SLACK, || {
        InvocationResponse::decode(data)
    }) {
        Ok(resp) => {
            let back =
                InvocationResponse::decode(&resp.encode()).expect("an encoded response decodes");
            assert_round_trip("InvocationResponse", &resp, &back);
            let _ = resp.is_chunked();
        }
        Err(err) => assert_error_bounded("InvocationResponse", &err, &[data]),
    }
}

/// Decodes a link definition from msgpack: round trip through msgpack and through JSON
/// (the two encodings the host moves links in), bounded errors.
pub fn link_definition(data: &[u8]) {
    match decode_bounded("LinkDefinition", data, ALLOC_SLACK, || {
        LinkDefinition::decode(data)
    }) {
        Ok(link) => {
            let back = LinkDefinition::decode(&link.encode()).expect("an encoded link decodes");
            assert_round_trip("LinkDefinition (msgpack)", &link, &back);
            let json = LinkDefinition::from_json(&link.to_json()).expect("a link as JSON decodes");
            assert_round_trip("LinkDefinition (JSON)", &link, &json);
            assert_eq!(link.hash_id().len(), 64);
        }
        Err(err) => assert_error_bounded("LinkDefinition", &err, &[data]),
    }
}
