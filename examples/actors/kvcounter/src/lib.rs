//! `kvcounter` example actor (contracts `wasmcloud:httpserver`, `wasmcloud:keyvalue`).
//!
//! `HttpServer.HandleRequest`: key = `"counter"` + the path with every `/` replaced by `:`
//! (`/` → `counter`, `/a/b` → `counter:a:b`); calls
//! `host_call("default", "wasmcloud:keyvalue", "KeyValue.Increment", IncrementRequest{key, value: 1})`
//! and answers 200 `{"counter":N}`, or 500 `{"error":"<host error text>"}` if the call fails.

use serde_json::json;
use wapc_guest::prelude::*;
use wire::{HttpRequest, HttpResponse, IncrementRequest};

#[no_mangle]
pub extern "C" fn wapc_init() {
    register_function("HttpServer.HandleRequest", handle_request);
}

/// `counter` + path with `/` → `:`; a bare `/` (or empty path) gives `counter`.
fn key_for(path: &str) -> String {
    if path.is_empty() || path == "/" {
        return "counter".to_string();
    }
    format!("counter{}", path.replace('/', ":"))
}

fn handle_request(msg: &[u8]) -> CallResult {
    let req: HttpRequest = wire::decode(msg)?;
    let inc = IncrementRequest { key: key_for(&req.path), value: 1 };
    let payload = wire::encode(&inc)?;
    let resp = match host_call("default", "wasmcloud:keyvalue", "KeyValue.Increment", &payload) {
        Ok(reply) => match wire::decode::<i32>(&reply) {
            Ok(n) => HttpResponse::json(200, serde_json::to_vec(&json!({ "counter": n }))?),
            Err(e) => HttpResponse::json(
                500,
                serde_json::to_vec(&json!({ "error": format!("KeyValue.Increment reply: {}", e) }))?,
            ),
        },
        Err(e) => HttpResponse::json(
            500,
            serde_json::to_vec(&json!({ "error": wire::host_error_text(&e) }))?,
        ),
    };
    wire::encode(&resp)
}
