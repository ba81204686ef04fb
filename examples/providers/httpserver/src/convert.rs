//! HTTP ↔ `HttpServer.HandleRequest` payloads (LATTICE.md §6.6), and the replies the
//! provider makes up itself when the actor cannot answer.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::{HeaderMap, Response, StatusCode};
use wasmhost_provider::protocol::http::{HttpRequest, HttpResponse};
use wasmhost_provider::ProviderError;

/// The request an actor receives. Header names are lowercase (HTTP/1 is
/// case-insensitive; hyper normalises them); non-UTF-8 header values are read lossily.
pub(crate) fn to_actor_request(parts: &hyper::http::request::Parts, body: Bytes) -> HttpRequest {
    let mut request = HttpRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query_string: parts.uri.query().unwrap_or_default().to_string(),
        body: body.to_vec(),
        ..Default::default()
    };
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        request
            .header
            .entry(name.as_str().to_string())
            .or_default()
            .push(value);
    }
    request
}

/// The HTTP response for the actor's reply; an invalid status or header becomes 500.
pub(crate) fn from_actor_response(reply: HttpResponse) -> Response<Full<Bytes>> {
    let Ok(status) = StatusCode::from_u16(reply.status_code) else {
        return text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("actor replied with invalid status {}", reply.status_code),
        );
    };
    let mut headers = HeaderMap::new();
    for (name, values) in &reply.header {
        let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("actor replied with invalid header name '{name}'"),
            );
        };
        for value in values {
            let Ok(value) = HeaderValue::from_str(value) else {
                return text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("actor replied with an invalid value for '{name}'"),
                );
            };
            headers.append(name.clone(), value);
        }
    }
    let mut response = Response::new(Full::new(Bytes::from(reply.body)));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// The HTTP response when the call to the actor failed: timeout → 504, no actor → 503,
/// an actor error or anything else → 500; the body says why.
pub(crate) fn from_call_error(error: &ProviderError) -> Response<Full<Bytes>> {
    let status = match error {
        ProviderError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
        ProviderError::NoResponders(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    text(status, error.to_string())
}

/// A plain-text response.
pub(crate) fn text(status: StatusCode, body: impl Into<String>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.into())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_responses_convert() {
        let (parts, ()) = hyper::Request::post("/a/b?x=1&y=2")
            .header("X-One", "1")
            .header("x-one", "2")
            .body(())
            .unwrap()
            .into_parts();
        let req = to_actor_request(&parts, Bytes::from_static(b"body"));
        assert_eq!(
            (
                req.method.as_str(),
                req.path.as_str(),
                req.query_string.as_str()
            ),
            ("POST", "/a/b", "x=1&y=2")
        );
        assert_eq!(req.header["x-one"], ["1", "2"]);
        assert_eq!(req.body, b"body");

        let resp = from_actor_response(
            HttpResponse::with_status(201, "made")
                .with_header("x-a", "1")
                .with_header("x-a", "2"),
        );
        assert_eq!(resp.status(), 201);
        assert_eq!(resp.headers().get_all("x-a").iter().count(), 2);
        assert_eq!(
            from_actor_response(HttpResponse::with_status(1000, "")).status(),
            500
        );
        assert_eq!(
            from_actor_response(HttpResponse::ok("").with_header("bad name", "v")).status(),
            500
        );
        assert_eq!(
            from_call_error(&ProviderError::Timeout("t".into())).status(),
            504
        );
        assert_eq!(
            from_call_error(&ProviderError::Remote("boom".into())).status(),
            500
        );
    }
}
