//! Payload encoding for `run` and `ctl call`: JSON in, msgpack on the wire, something readable out.

use std::collections::HashMap;
use wasmhost::protocol::http::{HttpRequest, HttpResponse, HANDLE_REQUEST};

/// The bytes to send for `operation`:
/// * `raw`: the `--data` text itself;
/// * `HttpServer.HandleRequest`: an HttpRequest from friendly JSON (body as text, every
///   field optional; no data = `GET /`);
/// * otherwise the JSON value as msgpack (no data = empty payload), as `wash call` did.
pub fn encode_payload(operation: &str, data: Option<&str>, raw: bool) -> Result<Vec<u8>, String> {
    if raw {
        return Ok(data.unwrap_or_default().as_bytes().to_vec());
    }
    if operation == HANDLE_REQUEST {
        return Ok(wasmhost::protocol::encode(&http_request_from_json(
            data.unwrap_or("{}"),
        )?));
    }
    match data {
        None => Ok(Vec::new()),
        Some(text) => {
            let value: serde_json::Value =
                serde_json::from_str(text).map_err(|e| format!("--data is not JSON: {e}"))?;
            Ok(wasmhost::protocol::encode(&value))
        }
    }
}

/// An HttpRequest from JSON such as `{"method":"POST","path":"/x","body":"text"}`.
fn http_request_from_json(text: &str) -> Result<HttpRequest, String> {
    #[derive(serde::Deserialize)]
    #[serde(default, rename_all = "camelCase", deny_unknown_fields)]
    struct Friendly {
        method: String,
        path: String,
        query_string: String,
        header: HashMap<String, Vec<String>>,
        body: String,
    }
    impl Default for Friendly {
        fn default() -> Self {
            Friendly {
                method: "GET".into(),
                path: "/".into(),
                query_string: String::new(),
                header: HashMap::new(),
                body: String::new(),
            }
        }
    }
    let f: Friendly =
        serde_json::from_str(text).map_err(|e| format!("--data is not an HttpRequest: {e}"))?;
    Ok(HttpRequest {
        method: f.method,
        path: f.path,
        query_string: f.query_string,
        header: f.header,
        body: f.body.into_bytes(),
    })
}

/// A reply as JSON for printing: an HttpResponse with its body as text (and as JSON when
/// it is JSON), any other msgpack value as JSON, else the bytes as (lossy) text.
pub fn describe_reply(operation: &str, reply: &[u8]) -> serde_json::Value {
    if operation == HANDLE_REQUEST {
        if let Ok(response) = wasmhost::protocol::decode::<HttpResponse>(reply) {
            let text = String::from_utf8_lossy(&response.body).into_owned();
            let body_json = serde_json::from_str::<serde_json::Value>(&text).ok();
            return serde_json::json!({
                "statusCode": response.status_code,
                "header": response.header,
                "body": text,
                "body_json": body_json,
            });
        }
    }
    msgpack_value(reply)
        .unwrap_or_else(|| serde_json::Value::String(String::from_utf8_lossy(reply).into_owned()))
}

/// The reply as a msgpack value, only when the whole reply is exactly one value: raw text such as
/// `hi` would otherwise read as the fixint 104 followed by junk.
pub fn msgpack_value(reply: &[u8]) -> Option<serde_json::Value> {
    use serde::Deserialize;
    let mut reader = reply;
    let mut de = rmp_serde::Deserializer::new(&mut reader);
    let value = serde_json::Value::deserialize(&mut de).ok()?;
    reader.is_empty().then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_requests_default_to_get_root() {
        let bytes = encode_payload(HANDLE_REQUEST, None, false).unwrap();
        let request: HttpRequest = wasmhost::protocol::decode(&bytes).unwrap();
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            ("GET", "/")
        );
        let bytes = encode_payload(
            HANDLE_REQUEST,
            Some(r#"{"method":"POST","body":"hi"}"#),
            false,
        )
        .unwrap();
        let request: HttpRequest = wasmhost::protocol::decode(&bytes).unwrap();
        assert_eq!(
            (request.method.as_str(), request.body.as_slice()),
            ("POST", &b"hi"[..])
        );
        let err = encode_payload(HANDLE_REQUEST, Some(r#"{"pth":"/"}"#), false).unwrap_err();
        assert!(err.contains("pth"), "{err}");
    }

    #[test]
    fn other_operations_send_json_as_msgpack_or_raw_text() {
        let bytes = encode_payload("Echo.Echo", Some(r#"{"a":1}"#), false).unwrap();
        assert_eq!(
            wasmhost::protocol::decode::<serde_json::Value>(&bytes).unwrap(),
            serde_json::json!({"a": 1})
        );
        assert_eq!(
            encode_payload("Echo.Echo", Some("not json"), true).unwrap(),
            b"not json"
        );
        assert!(encode_payload("Echo.Echo", Some("not json"), false)
            .unwrap_err()
            .contains("not JSON"));
        assert!(encode_payload("Echo.Echo", None, false).unwrap().is_empty());
    }

    #[test]
    fn replies_are_described_readably() {
        let response = HttpResponse::ok(br#"{"path":"/"}"#.to_vec());
        let described = describe_reply(HANDLE_REQUEST, &wasmhost::protocol::encode(&response));
        assert_eq!(described["statusCode"], 200);
        assert_eq!(described["body_json"]["path"], "/");
        let described = describe_reply(
            "Echo.Echo",
            &wasmhost::protocol::encode(&serde_json::json!({"a": [1, 2]})),
        );
        assert_eq!(described, serde_json::json!({"a": [1, 2]}));
        assert_eq!(
            describe_reply("Echo.Echo", b"\xc1plain"),
            serde_json::json!("\u{fffd}plain")
        );
        assert_eq!(describe_reply("Echo.Echo", b"hi"), serde_json::json!("hi"));
        assert_eq!(describe_reply("Echo.Echo", b""), serde_json::json!(""));
    }
}
