//! One HTTP listener for one linked actor: accept connections, turn each request into a
//! `HttpServer.HandleRequest` call, write the actor's reply. Dropping the [`Server`]
//! closes the listener and every open connection.

use crate::config::ServerConfig;
use crate::convert::{from_actor_response, from_call_error, text, to_actor_request};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use wasmhost_provider::protocol::http::{HttpResponse, HANDLE_REQUEST};
use wasmhost_provider::{Provider, ProviderError};

/// A running listener; its accept task (and with it every connection) ends on drop.
pub(crate) struct Server {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Target {
    provider: Provider,
    actor: String,
    max_body: usize,
}

impl Server {
    /// Binds `config.addr` now (so a port in use fails the link) and serves in the background.
    pub(crate) async fn start(
        provider: Provider,
        actor: &str,
        config: &ServerConfig,
    ) -> Result<Server, ProviderError> {
        let listener = TcpListener::bind(config.addr).await.map_err(|e| {
            ProviderError::other(format!(
                "cannot listen on {} for actor {actor}: {e}",
                config.addr
            ))
        })?;
        let target = Arc::new(Target {
            provider,
            actor: actor.to_string(),
            max_body: config.max_body,
        });
        Ok(Server {
            task: tokio::spawn(accept(listener, target)),
        })
    }
}

async fn accept(listener: TcpListener, target: Arc<Target>) {
    // Owning the connections here means aborting this task closes them all.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let target = target.clone();
                    connections.spawn(async move {
                        let service = service_fn(move |req| handle(target.clone(), req));
                        if let Err(e) = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
                            tracing::debug!(error = %e, "HTTP connection ended with an error");
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            // Reap finished connections so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn handle(
    target: Arc<Target>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, target.max_body).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return Ok(text(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body is larger than {} bytes", target.max_body),
            ))
        }
        Err(e) => {
            return Ok(text(
                StatusCode::BAD_REQUEST,
                format!("cannot read request body: {e}"),
            ))
        }
    };
    let request = to_actor_request(&parts, body);
    let reply = match target
        .provider
        .call_actor(&target.actor, HANDLE_REQUEST, request.encode())
        .await
    {
        Ok(bytes) => match HttpResponse::decode(&bytes) {
            Ok(response) => from_actor_response(response),
            Err(e) => text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("undecodable reply from actor: {e}"),
            ),
        },
        Err(e) => {
            tracing::warn!(actor = %target.actor, method = %parts.method, path = parts.uri.path(), error = %e, "request failed");
            from_call_error(&e)
        }
    };
    Ok(reply)
}
