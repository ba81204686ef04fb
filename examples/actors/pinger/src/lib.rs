//! `pinger` example actor: actor-to-actor calls, by public key and by call alias.
//!
//! * `HttpServer.HandleRequest` (msgpack `HttpRequest`, query string `target=M...`):
//!   sends the request body (or `ping` when the body is empty) as the payload of
//!   1. `host_call("", "<target>", "Echo.Echo", payload)`        (by public key)
//!   2. `host_call("", "wasmhost/pong", "Echo.Echo", payload)`   (by call alias)
//!
//!   and answers 200 `{"by_key":"<reply 1, UTF-8 lossy>","by_alias":"<reply 2>"}`;
//!   a failed call gives 500 `{"error":"<host error text>","call":"by_key"|"by_alias"}`;
//!   no `target` gives 400 `{"error":"missing target=<actor public key> in the query string"}`.
//! * `Pinger.Ping`: payload = raw UTF-8 text, either the target public key or a query string
//!   containing `target=<key>`; sends `ping` to both; returns the same JSON object as raw bytes
//!   (no msgpack). A failed call returns a guest error whose text is the host error text.

use serde_json::json;
use wapc_guest::prelude::*;
use wire::{BoxError, HttpRequest, HttpResponse};

/// The call alias the `pong` actor is signed with.
const PONG_ALIAS: &str = "wasmhost/pong";
const OP: &str = "Echo.Echo";

#[no_mangle]
pub extern "C" fn wapc_init() {
    register_function("HttpServer.HandleRequest", handle_request);
    register_function("Pinger.Ping", ping);
}

struct Failure {
    call: &'static str,
    text: String,
}

fn ping_both(target: &str, payload: &[u8]) -> Result<Vec<u8>, Failure> {
    let by_key = host_call("", target, OP, payload)
        .map_err(|e| Failure { call: "by_key", text: wire::host_error_text(&e) })?;
    let by_alias = host_call("", PONG_ALIAS, OP, payload)
        .map_err(|e| Failure { call: "by_alias", text: wire::host_error_text(&e) })?;
    let body = json!({
        "by_key": String::from_utf8_lossy(&by_key),
        "by_alias": String::from_utf8_lossy(&by_alias),
    });
    serde_json::to_vec(&body).map_err(|e| Failure { call: "json", text: e.to_string() })
}

fn handle_request(msg: &[u8]) -> CallResult {
    let req: HttpRequest = wire::decode(msg)?;
    let target = req.query_param("target").unwrap_or("");
    let resp = if target.is_empty() {
        let body = json!({ "error": "missing target=<actor public key> in the query string" });
        HttpResponse::json(400, serde_json::to_vec(&body)?)
    } else {
        let payload: &[u8] = if req.body.is_empty() { b"ping" } else { &req.body };
        match ping_both(target, payload) {
            Ok(body) => HttpResponse::json(200, body),
            Err(f) => HttpResponse::json(
                500,
                serde_json::to_vec(&json!({ "error": f.text, "call": f.call }))?,
            ),
        }
    };
    wire::encode(&resp)
}

fn ping(msg: &[u8]) -> CallResult {
    let text = String::from_utf8_lossy(msg);
    let text = text.trim();
    let target = if text.contains('=') {
        let req = HttpRequest { query_string: text.to_string(), ..Default::default() };
        req.query_param("target").unwrap_or("").to_string()
    } else {
        text.to_string()
    };
    if target.is_empty() {
        return Err("Pinger.Ping: payload must be a target actor public key or target=<key>".into());
    }
    ping_both(&target, b"ping").map_err(|f| -> BoxError { f.text.into() })
}
