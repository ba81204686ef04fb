//! Control-interface JSON bodies (`wasmbus.ctl.*`): every request, reply and ack type.

use super::{assert_error_bounded, assert_round_trip, decode_bounded, ALLOC_SLACK};
use serde::{de::DeserializeOwned, Serialize};
use std::fmt::Debug;
use wasmhost_protocol::ctl::{self, *};
use wasmhost_protocol::LinkDefinition;

/// Decodes `data` as every control-interface body type; each value that decodes must
/// re-encode to JSON that decodes to the same value, each error must be bounded.
pub fn ctl_json(data: &[u8]) {
    check::<CtlOperationAck>(data);
    check::<HostPing>(data);
    check::<HostInventory>(data);
    check::<GetClaimsResponse>(data);
    check::<LinkDefinitionList>(data);
    check::<LinkDefinition>(data);
    check::<RemoveLinkDefinitionRequest>(data);
    check::<StartActorCommand>(data);
    check::<StopActorCommand>(data);
    check::<ScaleActorCommand>(data);
    check::<StartProviderCommand>(data);
    check::<StopProviderCommand>(data);
    check::<UpdateActorCommand>(data);
    check::<StopHostCommand>(data);
    check::<ActorAuctionRequest>(data);
    check::<ActorAuctionAck>(data);
    check::<ProviderAuctionRequest>(data);
    check::<ProviderAuctionAck>(data);
    check::<RegistryCredentialMap>(data);
}

fn check<T: Serialize + DeserializeOwned + PartialEq + Debug>(data: &[u8]) {
    let what = std::any::type_name::<T>();
    match decode_bounded(what, data, ALLOC_SLACK, || ctl::from_json::<T>(data)) {
        Ok(value) => {
            let encoded = ctl::to_json(&value);
            let back = ctl::from_json::<T>(&encoded).unwrap_or_else(|e| {
                panic!(
                    "{what}: its own encoding does not decode: {e}\n{}",
                    String::from_utf8_lossy(&encoded)
                )
            });
            assert_round_trip(what, &value, &back);
        }
        Err(err) => assert_error_bounded(what, &err, &[data]),
    }
}
