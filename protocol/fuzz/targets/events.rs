//! CloudEvents on `wasmbus.evt.*`: the envelope and the heartbeat's data.

use super::{assert_error_bounded, assert_round_trip, decode_bounded, ALLOC_SLACK};
use wasmhost_protocol::ctl;
use wasmhost_protocol::events::HeartbeatData;
use wasmhost_protocol::CloudEvent;

/// Decodes the input as a CloudEvent and as heartbeat data: round trip through JSON,
/// bounded errors; a decoded event's data reads as heartbeat data or fails with a
/// bounded error.
pub fn cloud_event(data: &[u8]) {
    match decode_bounded("CloudEvent", data, ALLOC_SLACK, || {
        CloudEvent::from_json_bytes(data)
    }) {
        Ok(event) => {
            let back =
                CloudEvent::from_json_bytes(&event.to_json_bytes()).expect("our own event parses");
            assert_round_trip("CloudEvent", &event, &back);
            let _ = event.short_type();
            if let Err(err) = event.data_as::<HeartbeatData>() {
                assert_error_bounded("CloudEvent::data_as", &err, &[data]);
            }
        }
        Err(err) => assert_error_bounded("CloudEvent", &err, &[data]),
    }
    check_heartbeat(data);
}

fn check_heartbeat(data: &[u8]) {
    match decode_bounded("HeartbeatData", data, ALLOC_SLACK, || {
        ctl::from_json::<HeartbeatData>(data)
    }) {
        Ok(beat) => {
            let back: HeartbeatData =
                ctl::from_json(&ctl::to_json(&beat)).expect("our own JSON parses");
            assert_round_trip("HeartbeatData", &beat, &back);
        }
        Err(err) => assert_error_bounded("HeartbeatData", &err, &[data]),
    }
}
