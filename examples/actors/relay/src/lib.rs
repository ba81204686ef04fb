//! `relay` example actor (contracts `wasmcloud:httpserver`, `wasmcloud:keyvalue`): hands a
//! request body to the linked keyvalue provider unchanged and answers with the provider's reply
//! bytes unchanged, so a test can send and receive payloads of any size through an actor.
//!
//! `HttpServer.HandleRequest` with query string `op=<operation>` (e.g. `op=KeyValue.Set`):
//! `host_call("default", "wasmcloud:keyvalue", <operation>, <request body>)`, then 200 with
//! `content-type: application/octet-stream` and the reply as body, or 500 with the host error
//! text (`text/plain`). No `op`: 400.

use std::collections::HashMap;

use wapc_guest::prelude::*;
use wire::{HttpRequest, HttpResponse};

#[no_mangle]
pub extern "C" fn wapc_init() {
    register_function("HttpServer.HandleRequest", handle_request);
}

fn response(status_code: u16, content_type: &str, body: Vec<u8>) -> HttpResponse {
    let mut header = HashMap::new();
    header.insert("content-type".to_string(), vec![content_type.to_string()]);
    HttpResponse { status_code, header, body }
}

fn handle_request(msg: &[u8]) -> CallResult {
    let req: HttpRequest = wire::decode(msg)?;
    let resp = match req.query_param("op") {
        None | Some("") => response(400, "text/plain", b"query string needs op=<operation>".to_vec()),
        Some(op) => match host_call("default", "wasmcloud:keyvalue", op, &req.body) {
            Ok(reply) => response(200, "application/octet-stream", reply),
            Err(e) => response(500, "text/plain", wire::host_error_text(&e).into_bytes()),
        },
    };
    wire::encode(&resp)
}
