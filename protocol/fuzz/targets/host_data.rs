//! HostData: the base64 JSON line a host writes to a provider's stdin.

use super::{assert_error_bounded, assert_round_trip, decode_bounded, ALLOC_SLACK};
use data_encoding::BASE64;
use wasmhost_protocol::HostData;

/// Reads the input as a stdin line and as bare JSON: what parses comes back unchanged
/// through `to_stdin_line` / `to_json`; errors are bounded (also against the decoded
/// base64, which is what the JSON error would quote).
pub fn host_data(data: &[u8]) {
    if let Ok(line) = std::str::from_utf8(data) {
        match decode_bounded("HostData line", data, ALLOC_SLACK, || {
            HostData::from_stdin_line(line)
        }) {
            Ok(hd) => {
                let encoded = hd.to_stdin_line();
                assert!(encoded.ends_with('\n') && !encoded.trim_end().contains('\n'));
                let back = HostData::from_stdin_line(&encoded).expect("our own line parses");
                assert_round_trip("HostData line", &hd, &back);
            }
            Err(err) => {
                let decoded = BASE64.decode(line.trim().as_bytes()).unwrap_or_default();
                assert_error_bounded("HostData line", &err, &[data, &decoded]);
            }
        }
    }
    match decode_bounded("HostData JSON", data, ALLOC_SLACK, || {
        HostData::from_json(data)
    }) {
        Ok(hd) => {
            let back = HostData::from_json(&hd.to_json()).expect("our own JSON parses");
            assert_round_trip("HostData JSON", &hd, &back);
        }
        Err(err) => assert_error_bounded("HostData JSON", &err, &[data]),
    }
}
