//! `echo` example actor (waPC, contract `wasmcloud:httpserver`).
//!
//! * `HttpServer.HandleRequest` (msgpack `HttpRequest`) → msgpack `HttpResponse` 200,
//!   `content-type: application/json`, body
//!   `{"method":..,"path":..,"query_string":..,"body":"<body, UTF-8 lossy>","body_len":N}`.
//! * `Echo.Echo` → the payload bytes unchanged (raw, no msgpack).

use serde::Serialize;
use wapc_guest::prelude::*;
use wire::{HttpRequest, HttpResponse};

#[no_mangle]
pub extern "C" fn wapc_init() {
    register_function("HttpServer.HandleRequest", handle_request);
    register_function("Echo.Echo", echo);
}

#[derive(Serialize)]
struct EchoBody<'a> {
    method: &'a str,
    path: &'a str,
    query_string: &'a str,
    body: String,
    body_len: usize,
}

fn handle_request(msg: &[u8]) -> CallResult {
    let req: HttpRequest = wire::decode(msg)?;
    let body = serde_json::to_vec(&EchoBody {
        method: &req.method,
        path: &req.path,
        query_string: &req.query_string,
        body: String::from_utf8_lossy(&req.body).into_owned(),
        body_len: req.body.len(),
    })?;
    wire::encode(&HttpResponse::json(200, body))
}

fn echo(msg: &[u8]) -> CallResult {
    Ok(msg.to_vec())
}
