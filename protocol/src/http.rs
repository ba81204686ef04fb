//! `wasmcloud:httpserver` payloads: `HttpServer.HandleRequest` (LATTICE.md §6.6).

use crate::error::ProtocolError;
use crate::serde_util::lenient_bytes;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Contract id of the HTTP server capability.
pub const CONTRACT_ID: &str = "wasmcloud:httpserver";
/// The operation the provider invokes on linked actors.
pub const HANDLE_REQUEST: &str = "HttpServer.HandleRequest";

/// Header map: name → values.
pub type HeaderMap = HashMap<String, Vec<String>>;

/// A request the HTTP server provider sends to an actor.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HttpRequest {
    /// `GET`, `POST`, ...
    #[serde(default)]
    pub method: String,
    /// Path, e.g. `/foo`.
    #[serde(default)]
    pub path: String,
    /// Raw query string without `?`.
    #[serde(rename = "queryString", default)]
    pub query_string: String,
    /// Request headers.
    #[serde(default)]
    pub header: HeaderMap,
    /// Body (msgpack `bin`).
    #[serde(default, with = "lenient_bytes")]
    pub body: Vec<u8>,
}

/// An actor's reply to an [`HttpRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpResponse {
    /// HTTP status code.
    #[serde(rename = "statusCode", default = "ok_status")]
    pub status_code: u16,
    /// Response headers.
    #[serde(default)]
    pub header: HeaderMap,
    /// Body (msgpack `bin`).
    #[serde(default, with = "lenient_bytes")]
    pub body: Vec<u8>,
}

fn ok_status() -> u16 {
    200
}

impl Default for HttpResponse {
    /// `200` with no headers and an empty body.
    fn default() -> Self {
        HttpResponse::ok(Vec::new())
    }
}

impl HttpResponse {
    /// `200 OK` with `body` and no headers.
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Self::with_status(200, body)
    }

    /// A response with `status_code`, `body` and no headers.
    pub fn with_status(status_code: u16, body: impl Into<Vec<u8>>) -> Self {
        HttpResponse {
            status_code,
            header: HeaderMap::new(),
            body: body.into(),
        }
    }

    /// Adds one value to header `name`.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.header
            .entry(name.into())
            .or_default()
            .push(value.into());
        self
    }
}

impl HttpRequest {
    /// Named-field msgpack.
    pub fn encode(&self) -> Vec<u8> {
        crate::msgpack::encode(self)
    }
    /// Decodes msgpack. Fails with [`ProtocolError::Msgpack`].
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        crate::msgpack::decode(bytes)
    }
}

impl HttpResponse {
    /// Named-field msgpack.
    pub fn encode(&self) -> Vec<u8> {
        crate::msgpack::encode(self)
    }
    /// Decodes msgpack. Fails with [`ProtocolError::Msgpack`].
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        crate::msgpack::decode(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vectors;

    #[test]
    fn request_matches_the_vector() {
        let req = HttpRequest {
            method: "GET".into(),
            path: "/vectors".into(),
            query_string: "a=1".into(),
            header: [(
                "accept".to_string(),
                vec!["text/plain".to_string(), "application/json".to_string()],
            )]
            .into(),
            body: b"hello".to_vec(),
        };
        assert_eq!(req.encode(), vectors::bytes("http_request.msgpack"));
        assert_eq!(
            HttpRequest::decode(&vectors::bytes("http_request.msgpack")).unwrap(),
            req
        );
    }

    #[test]
    fn response_matches_the_vector() {
        let resp = HttpResponse::ok("world").with_header("content-type", "text/plain");
        assert_eq!(resp.encode(), vectors::bytes("http_response.msgpack"));
        assert_eq!(
            HttpResponse::decode(&vectors::bytes("http_response.msgpack")).unwrap(),
            resp
        );
    }

    #[test]
    fn helpers_and_defaults() {
        let r = HttpResponse::with_status(404, b"nope".to_vec());
        assert_eq!((r.status_code, r.body.as_slice()), (404, &b"nope"[..]));
        assert_eq!(HttpResponse::default().status_code, 200);
        assert_eq!(
            HttpResponse::decode(&[0x80]).unwrap(),
            HttpResponse::default()
        );
        assert_eq!(
            HttpRequest::decode(&[0x80]).unwrap(),
            HttpRequest::default()
        );
        assert!(HttpRequest::decode(&[0x92]).is_err());
    }
}
