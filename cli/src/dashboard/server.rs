//! The dashboard's HTTP side: one embedded page, a JSON API for the actions, and a Server-Sent
//! Events stream (`/api/events`) with the lattice picture, its changes and the dashboard's log.
//!
//! Protection: an optional bearer token on every request (`Authorization: Bearer T`, or `?token=T`
//! for the page and the event stream, which browsers open without headers); actions only as POST
//! with a JSON body (a cross-site form cannot send one); on a loopback address only requests whose
//! `Host` names loopback are served (no DNS rebinding).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{HeaderValue, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, HOST};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::actions::Controller;

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const STYLE_CSS: &str = include_str!("assets/style.css");

/// Largest request body (the actions are small JSON documents).
const MAX_BODY: usize = 1 << 20;
/// Changes within this window go out as one picture.
const COALESCE: Duration = Duration::from_millis(150);
/// A comment line this often keeps proxies from closing an idle stream.
const KEEPALIVE: Duration = Duration::from_secs(15);

type Body = BoxBody<Bytes, Infallible>;

/// What every request handler shares.
pub struct App {
    /// The actions and the picture.
    pub controller: Arc<Controller>,
    /// The token every request must carry, if set.
    pub token: Option<String>,
    /// Whether only `Host: localhost / 127.0.0.1 / [::1]` requests are served.
    pub loopback_only: bool,
}

/// Serves until the listener fails.
pub async fn serve(listener: TcpListener, app: Arc<App>) {
    loop {
        let (stream, _peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "dashboard: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let app = app.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let app = app.clone();
                async move { Ok::<_, Infallible>(handle(&app, request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Why an address may not be served without `--allow-remote`; `None` for loopback.
pub fn remote_refusal(addr: &SocketAddr) -> Option<String> {
    (!addr.ip().is_loopback()).then(|| {
        format!(
            "refusing to listen on {addr}: the dashboard can start, stop and replace actors anywhere in the lattice, so anyone who reaches it controls the lattice. \
             Listen on 127.0.0.1 and put a reverse proxy with authentication (and TLS) in front, or pass --allow-remote (with --token) if you mean it"
        )
    })
}

async fn handle(app: &App, request: Request<Incoming>) -> Response<Body> {
    if app.loopback_only && !host_is_loopback(&request) {
        return error(
            StatusCode::FORBIDDEN,
            "this dashboard only answers requests addressed to localhost",
        );
    }
    if let Some(token) = &app.token {
        if !carries_token(&request, token) {
            return error(StatusCode::UNAUTHORIZED, "missing or wrong token: send Authorization: Bearer TOKEN, or open the page as /?token=TOKEN");
        }
    }
    let path = request.uri().path().to_string();
    match (request.method().clone(), path.as_str()) {
        (Method::GET, "/") => asset("text/html; charset=utf-8", INDEX_HTML),
        (Method::GET, "/app.js") => asset("text/javascript; charset=utf-8", APP_JS),
        (Method::GET, "/style.css") => asset("text/css; charset=utf-8", STYLE_CSS),
        (Method::GET, "/api/snapshot") => {
            json_response(StatusCode::OK, &state_json(&app.controller))
        }
        (Method::GET, "/api/events") => events(app.controller.clone()),
        (Method::POST, _) if path.starts_with("/api/") => action(app, request, &path).await,
        (_, _) if path.starts_with("/api/") => error(
            StatusCode::NOT_FOUND,
            &format!("no API {} {path}", request.method()),
        ),
        _ => error(StatusCode::NOT_FOUND, "not found"),
    }
}

async fn action(app: &App, request: Request<Incoming>, path: &str) -> Response<Body> {
    let controller = &app.controller;
    let is_json = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "actions take a JSON body (Content-Type: application/json)",
        );
    }
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(body) => body.to_bytes(),
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("cannot read the request body: {e}"),
            )
        }
    };
    let outcome = match path {
        "/api/actors/start" => run(&body, |r| controller.start_actor(r)).await,
        "/api/actors/scale" => run(&body, |r| controller.scale_actor(r)).await,
        "/api/actors/stop" => run(&body, |r| controller.stop_actor(r)).await,
        "/api/providers/start" => run(&body, |r| controller.start_provider(r)).await,
        "/api/providers/stop" => run(&body, |r| controller.stop_provider(r)).await,
        "/api/links/put" => run(&body, |r| controller.put_link(r)).await,
        "/api/links/delete" => run(&body, |r| controller.delete_link(r)).await,
        "/api/watches/stop" => {
            run(&body, |r: serde_json::Value| async move {
                controller.stop_watch(
                    r.get("id")
                        .and_then(|v| v.as_u64())
                        .ok_or("give the watch id")?,
                )
            })
            .await
        }
        _ => return error(StatusCode::NOT_FOUND, &format!("no action {path}")),
    };
    match outcome {
        Ok(message) => {
            controller.say("info", &message);
            json_response(StatusCode::OK, &json!({"ok": true, "message": message}))
        }
        Err(message) => {
            controller.say("error", &message);
            json_response(
                StatusCode::BAD_REQUEST,
                &json!({"ok": false, "error": message}),
            )
        }
    }
}

/// Decodes the body as `T` and runs the action with it.
async fn run<T: DeserializeOwned, F: std::future::Future<Output = Result<String, String>>>(
    body: &[u8],
    action: impl FnOnce(T) -> F,
) -> Result<String, String> {
    let request =
        serde_json::from_slice::<T>(body).map_err(|e| format!("malformed request: {e}"))?;
    action(request).await
}

/// `{"lattice": snapshot, "watches": [...]}`: what the page renders.
fn state_json(controller: &Controller) -> serde_json::Value {
    json!({"lattice": controller.observer.snapshot(), "watches": controller.watches()})
}

/// The event stream: `state` at once and after changes (coalesced), every `change`, every `log` line.
fn events(controller: Arc<Controller>) -> Response<Body> {
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    tokio::spawn(async move {
        let (_, mut changes) = controller.observer.watch();
        let (recent, mut log) = controller.log_lines();
        let mut frames = vec![sse("state", &state_json(&controller).to_string())];
        frames.extend(recent.iter().map(|line| sse("log", line)));
        for frame in frames {
            if tx.send(frame).await.is_err() {
                return;
            }
        }
        let mut dirty = false;
        let mut flush = tokio::time::interval(COALESCE);
        let mut keepalive = tokio::time::interval(KEEPALIVE);
        loop {
            let frame = tokio::select! {
                change = changes.next() => match change {
                    Some(change) => {
                        dirty = true;
                        sse("change", &change.to_json())
                    }
                    None => return,
                },
                line = log.recv() => match line {
                    Ok(line) => {
                        dirty = true;
                        sse("log", &line)
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => return,
                },
                _ = flush.tick(), if dirty => {
                    dirty = false;
                    sse("state", &state_json(&controller).to_string())
                }
                _ = keepalive.tick() => Bytes::from_static(b": keepalive\n\n"),
            };
            // The page went away.
            if tx.send(frame).await.is_err() {
                return;
            }
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|bytes| (Ok::<_, Infallible>(Frame::data(bytes)), rx))
    });
    let mut response = Response::new(StreamBody::new(stream).boxed());
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn sse(event: &str, data: &str) -> Bytes {
    // JSON has no raw newlines, so each message is one data line.
    Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}

fn host_is_loopback(request: &Request<Incoming>) -> bool {
    let Some(host) = request.headers().get(HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn carries_token(request: &Request<Incoming>, token: &str) -> bool {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let query = request
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="));
    [header, query]
        .into_iter()
        .flatten()
        .any(|given| constant_time_eq(given.as_bytes(), token.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn asset(content_type: &'static str, body: &'static str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())).boxed());
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn json_response(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())).boxed());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn error(status: StatusCode, message: &str) -> Response<Body> {
    json_response(status, &json!({"ok": false, "error": message}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_are_served_without_allow_remote() {
        assert!(remote_refusal(&"127.0.0.1:4000".parse().unwrap()).is_none());
        assert!(remote_refusal(&"[::1]:4000".parse().unwrap()).is_none());
        let refusal = remote_refusal(&"0.0.0.0:4000".parse().unwrap()).unwrap();
        assert!(
            refusal.contains("--allow-remote") && refusal.contains("reverse proxy"),
            "{refusal}"
        );
    }

    #[test]
    fn tokens_compare_in_full() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }

    #[test]
    fn event_stream_messages_are_single_lines() {
        assert_eq!(
            sse("state", r#"{"a":1}"#),
            Bytes::from("event: state\ndata: {\"a\":1}\n\n")
        );
    }
}
