//! The provider's life: read HostData, connect, offer the initial links, subscribe the
//! §4.2 subjects, serve until asked to stop, then shut down cleanly.

use crate::{
    links, read_host_data, rpc, HealthCheckResponse, Provider, ProviderError, ProviderHandler,
};
use async_nats::{Client, Message, Subscriber};
use futures::StreamExt;
use serde::Deserialize;
use std::future::Future;
use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;
use tokio::sync::oneshot;
use wasmhost_protocol::subjects::{
    provider_health, provider_linkdefs_del, provider_linkdefs_put, provider_rpc, provider_shutdown,
    PROVIDER_RPC_QUEUE_GROUP,
};
use wasmhost_protocol::HostData;

/// Why [`serve`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The host sent a shutdown request for this host id (or none).
    ShutdownRequest,
    /// The `stop` future completed (stdin closed or SIGTERM under [`run`]).
    Stopped,
}

/// The shutdown request body (host ≥ 0.59); anything unparsable reads as empty.
#[derive(Default, Deserialize)]
struct ShutdownMessage {
    #[serde(default)]
    host_id: String,
}

/// Runs a provider process: [`provider_main`]'s runtime around [`run`]. On failure prints
/// the error to stderr and returns a failing exit code.
pub fn provider_main<H: ProviderHandler>(contract_id: &str, handler: H) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("{contract_id} provider: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(contract_id, handler));
    // Don't wait for stray blocking work: the provider is done.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{contract_id} provider: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Reads HostData from stdin, sets up logging, and [`serve`]s until the host asks the
/// provider to stop, stdin reaches end of file (the host is gone), or SIGTERM.
/// Fails with [`ProviderError::HostData`] on a missing or garbled HostData line.
pub async fn run<H: ProviderHandler>(contract_id: &str, handler: H) -> Result<(), ProviderError> {
    let (host_data, stdin_closed) = watch_stdin();
    let host_data = host_data
        .await
        .unwrap_or_else(|_| Err(ProviderError::HostData("stdin reader stopped".into())))?;
    crate::init_logging(&host_data);
    let stop = async move {
        tokio::select! {
            _ = stdin_closed => tracing::info!("stdin closed: the host is gone; stopping"),
            _ = sigterm() => tracing::info!("SIGTERM received; stopping"),
        }
    };
    serve(host_data, contract_id, handler, stop)
        .await
        .map(|_| ())
}

/// Reads the HostData line, then waits for end of file, on a plain thread: a blocked tokio
/// stdin read would hold up runtime shutdown.
fn watch_stdin() -> (
    oneshot::Receiver<Result<HostData, ProviderError>>,
    oneshot::Receiver<()>,
) {
    let (data_tx, data_rx) = oneshot::channel();
    let (eof_tx, eof_rx) = oneshot::channel();
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        let mut lock = stdin.lock();
        let result = read_host_data(&mut lock);
        let ok = result.is_ok();
        let _ = data_tx.send(result);
        if ok {
            let mut buf = [0u8; 512];
            while matches!(lock.read(&mut buf), Ok(n) if n > 0) {}
        }
        let _ = eof_tx.send(());
    });
    (data_rx, eof_rx)
}

#[cfg(unix)]
async fn sigterm() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            term.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn sigterm() {
    std::future::pending().await
}

/// Serves as the provider described by `host_data` until the host sends a shutdown for
/// it or `stop` completes; either way the handler's `shutdown` runs and every
/// subscription is dropped. Fails only if NATS settings are unusable (a bad seed).
pub async fn serve<H: ProviderHandler>(
    host_data: HostData,
    contract_id: &str,
    handler: H,
    stop: impl Future<Output = ()> + Send,
) -> Result<StopReason, ProviderError> {
    let settings = wasmhost_nats::from_host_data(&host_data)?;
    let client =
        wasmhost_nats::connect(&settings, &format!("provider {}", host_data.provider_key)).await?;
    let handler: Arc<dyn ProviderHandler> = Arc::new(handler);
    let provider = Provider::new(client.clone(), host_data.clone(), contract_id);
    for link in host_data.link_definitions.iter().cloned() {
        links::put_link(&provider, handler.as_ref(), link).await;
    }
    let (lattice, pk, link_name) = (
        &host_data.lattice_rpc_prefix,
        &host_data.provider_key,
        &host_data.link_name,
    );
    let subscribe = |subject: String| {
        let client = client.clone();
        async move {
            client
                .subscribe(subject.clone())
                .await
                .map_err(|e| ProviderError::Transport(format!("cannot subscribe {subject}: {e}")))
        }
    };
    let rpc_subject = provider_rpc(lattice, pk, link_name);
    let mut rpc_sub = client
        .queue_subscribe(rpc_subject.clone(), PROVIDER_RPC_QUEUE_GROUP.to_string())
        .await
        .map_err(|e| ProviderError::Transport(format!("cannot subscribe {rpc_subject}: {e}")))?;
    let put_sub = subscribe(provider_linkdefs_put(lattice, pk, link_name)).await?;
    let del_sub = subscribe(provider_linkdefs_del(lattice, pk, link_name)).await?;
    let mut health_sub = subscribe(provider_health(lattice, pk, link_name)).await?;
    let mut shutdown_sub = subscribe(provider_shutdown(lattice, pk, link_name)).await?;
    client
        .flush()
        .await
        .map_err(|e| ProviderError::Transport(format!("cannot flush subscriptions: {e}")))?;
    tracing::info!(provider = %pk, %link_name, lattice = %lattice, contract = contract_id, "provider ready");

    // Link changes are applied one at a time, in the order they arrive.
    let link_task = tokio::spawn(apply_links(
        provider.clone(),
        handler.clone(),
        put_sub,
        del_sub,
    ));
    tokio::pin!(stop);
    let reason = loop {
        tokio::select! {
            _ = &mut stop => break StopReason::Stopped,
            Some(msg) = rpc_sub.next() => {
                let (provider, handler) = (provider.clone(), handler.clone());
                tokio::spawn(async move {
                    let response = rpc::handle(&provider, handler.as_ref(), &msg.payload).await;
                    respond(provider.nats(), &msg, response.encode()).await;
                });
            }
            Some(msg) = health_sub.next() => {
                let (provider, handler) = (provider.clone(), handler.clone());
                tokio::spawn(async move {
                    let health: HealthCheckResponse = handler.health().await;
                    respond(provider.nats(), &msg, wasmhost_protocol::encode(&health)).await;
                });
            }
            Some(msg) = shutdown_sub.next() => {
                if shutdown_requested(&msg, &host_data.host_id) {
                    handler.shutdown().await;
                    respond(&client, &msg, b"shutting down".to_vec()).await;
                    break StopReason::ShutdownRequest;
                }
            }
            else => break StopReason::Stopped,
        }
    };
    if reason == StopReason::Stopped {
        handler.shutdown().await;
    }
    link_task.abort();
    for sub in [&mut rpc_sub, &mut health_sub, &mut shutdown_sub] {
        let _ = sub.unsubscribe().await;
    }
    let _ = client.flush().await;
    tracing::info!(?reason, "provider stopped");
    Ok(reason)
}

async fn apply_links(
    provider: Provider,
    handler: Arc<dyn ProviderHandler>,
    mut puts: Subscriber,
    mut dels: Subscriber,
) {
    loop {
        tokio::select! {
            Some(msg) = puts.next() => {
                if let Some(link) = links::decode_link(&msg.payload) {
                    links::put_link(&provider, handler.as_ref(), link).await;
                }
            }
            Some(msg) = dels.next() => {
                if let Some(link) = links::decode_link(&msg.payload) {
                    links::delete_link(&provider, handler.as_ref(), &link).await;
                }
            }
            else => return,
        }
    }
}

/// Whether a shutdown request is for us: no host id (hosts before 0.59) or ours.
fn shutdown_requested(msg: &Message, our_host_id: &str) -> bool {
    let request: ShutdownMessage = serde_json::from_slice(&msg.payload).unwrap_or_default();
    if request.host_id.is_empty() {
        tracing::warn!("shutdown request without a host id: stopping (hosts >= 0.59.0 send one; needed with several hosts)");
        true
    } else if request.host_id == our_host_id {
        true
    } else {
        tracing::debug!(host = %request.host_id, "ignoring a shutdown request for another host");
        false
    }
}

async fn respond(client: &Client, msg: &Message, payload: Vec<u8>) {
    let Some(reply) = msg.reply.clone() else {
        tracing::debug!(subject = %msg.subject, "request without a reply subject");
        return;
    };
    if let Err(e) = client.publish(reply, payload.into()).await {
        tracing::error!(subject = %msg.subject, error = %e, "cannot send reply");
    }
}
