//! Keeps one provider running: detects an exit at once, restarts with backoff, checks health, and
//! stops it gracefully (shutdown request, grace period, kill) when asked.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use wasmhost_protocol::event_data::{EventData, HealthCheck, ProviderStopped};

use super::process::{kill_group, ProviderProcess};
use super::{launch, RunningProvider};
use crate::host::{Host, HostInner};
use crate::Result;

/// First pause before a restart; doubles on every quick crash up to [`RESTART_MAX`].
const RESTART_MIN: Duration = Duration::from_secs(1);
const RESTART_MAX: Duration = Duration::from_secs(30);
/// A process that ran this long was healthy enough: its next crash restarts after [`RESTART_MIN`].
const STABLE_RUN: Duration = Duration::from_secs(30);
/// How long the shutdown request waits for the provider's `shutting down` (as the OTP host).
const SHUTDOWN_REPLY_WAIT: Duration = Duration::from_secs(2);
/// Health probe cadence while a new process has not answered yet.
const STARTUP_PROBE: Duration = Duration::from_millis(250);
/// A killed process is normally reaped within milliseconds; never hang a stop on it.
const REAP_WAIT: Duration = Duration::from_secs(5);

/// Runs until `stop` fires (graceful stop) or the host is gone.
pub(crate) async fn supervise(
    host: Weak<HostInner>,
    provider: Arc<RunningProvider>,
    mut process: ProviderProcess,
    mut stop: oneshot::Receiver<()>,
) {
    let mut backoff = RESTART_MIN;
    loop {
        let started = Instant::now();
        let health = tokio::spawn(check_health(host.clone(), provider.clone()));
        let exit = tokio::select! {
            status = process.child.wait() => Some(status),
            _ = &mut stop => None,
        };
        health.abort();
        let Some(status) = exit else {
            stop_gracefully(&host, &provider, process).await;
            provider.publish_stopped(&host, "normal");
            return;
        };
        // Whatever the provider left behind in its group goes with it.
        kill_group(process.pid);
        let reason = match status {
            Ok(status) => format!("process exited unexpectedly ({status})"),
            Err(e) => format!("process lost: {e}"),
        };
        tracing::warn!(provider = %provider.public_key, link_name = %provider.link_name, %reason, "provider stopped; restarting it");
        provider.set_stopped();
        provider.publish_stopped(&host, &reason);
        if started.elapsed() >= STABLE_RUN {
            backoff = RESTART_MIN;
        }
        loop {
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = &mut stop => return,
            }
            backoff = (backoff * 2).min(RESTART_MAX);
            match respawn(&host, &provider).await {
                Ok(Some(next)) => {
                    process = next;
                    break;
                }
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(provider = %provider.public_key, error = %e, "provider restart failed; retrying");
                    if let Some(inner) = host.upgrade() {
                        Host { inner }.publish_provider_start_failed(
                            &provider.image_ref,
                            &provider.link_name,
                            &e.to_string(),
                        );
                    }
                }
            }
        }
    }
}

/// A new process with the links known now. `None` when the host is gone or stopping.
async fn respawn(
    host: &Weak<HostInner>,
    provider: &Arc<RunningProvider>,
) -> Result<Option<ProviderProcess>> {
    let Some(inner) = host.upgrade().filter(|i| !i.is_stopped()) else {
        return Ok(None);
    };
    let instance_id = uuid::Uuid::new_v4().to_string();
    let data = launch::host_data(&inner, provider, &instance_id)?;
    let process = ProviderProcess::spawn(&provider.binary, &data).await?;
    provider.set_running(instance_id, process.pid);
    provider.publish_started(&inner);
    Ok(Some(process))
}

/// Shutdown request for this host's instance, a grace period to exit, then SIGKILL to the group.
async fn stop_gracefully(
    host: &Weak<HostInner>,
    provider: &RunningProvider,
    mut process: ProviderProcess,
) {
    let (transport, grace) = match host.upgrade() {
        Some(inner) => (inner.transport(), inner.config.provider_shutdown_delay),
        None => (None, Duration::ZERO),
    };
    let host_id = host.upgrade().map(|i| i.id.clone()).unwrap_or_default();
    if let Some(transport) = transport {
        if let Err(e) = transport
            .provider_shutdown(
                &provider.public_key,
                &provider.link_name,
                &host_id,
                SHUTDOWN_REPLY_WAIT,
            )
            .await
        {
            tracing::info!(provider = %provider.public_key, error = %e, "provider did not acknowledge its shutdown request; killing it");
        }
    }
    let exited = tokio::time::timeout(grace, process.child.wait())
        .await
        .is_ok();
    kill_group(process.pid);
    if !exited {
        // Also the leader itself, in case it left its group.
        let _ = process.child.start_kill();
        if tokio::time::timeout(REAP_WAIT, process.child.wait())
            .await
            .is_err()
        {
            tracing::error!(provider = %provider.public_key, pid = process.pid, "provider process did not die after SIGKILL");
        }
    }
    provider.set_stopped();
}

/// Probes every [`STARTUP_PROBE`] until the provider first answers (for at most the configured
/// delay), then checks every interval. Events on a change of state: a new process starts
/// unhealthy, so its first answer publishes `health_check_passed`; one that has not answered by
/// the end of its start-up window gets one `health_check_failed`.
///
/// A provider subscribes its link subjects when it subscribes its health subject, so its first
/// answer is also when links put since its spawn can be sure to reach it: the 0.5x protocol
/// pushes links fire-and-forget, and a link put while the process was still connecting would be
/// lost. They are sent again then (providers ignore a duplicate put).
async fn check_health(host: Weak<HostInner>, provider: Arc<RunningProvider>) {
    let Some((startup, interval)) = host.upgrade().map(|i| {
        (
            i.config.provider_health_check_delay,
            i.config.provider_health_check_interval,
        )
    }) else {
        return;
    };
    let started = Instant::now();
    let mut answered = false;
    let mut reported_silence = false;
    tokio::time::sleep(STARTUP_PROBE.min(startup)).await;
    loop {
        let Some(inner) = host.upgrade() else { return };
        let transport = inner.transport();
        let timeout = inner.config.rpc_timeout;
        drop(inner);
        let healthy = match &transport {
            Some(transport) => transport
                .provider_health(&provider.public_key, &provider.link_name, timeout)
                .await
                .is_ok(),
            None => false,
        };
        if provider.set_healthy(healthy) != healthy {
            let Some(inner) = host.upgrade() else { return };
            inner.events.publish(provider.health_event(healthy));
            if let (true, Some(transport)) = (healthy, &transport) {
                for link in inner
                    .links
                    .for_provider(&provider.public_key, &provider.link_name)
                {
                    transport.deliver_link(&link).await;
                }
            }
        }
        answered |= healthy;
        let probing = !answered && started.elapsed() < startup;
        // Silent through its whole start-up window: say so once (the state was unhealthy all
        // along, so no change would ever be reported).
        if !answered && !probing && !reported_silence {
            reported_silence = true;
            tracing::warn!(provider = %provider.public_key, link_name = %provider.link_name, "provider has not answered a health check since it started");
            if let Some(inner) = host.upgrade() {
                inner.events.publish(provider.health_event(false));
            }
        }
        tokio::time::sleep(if probing { STARTUP_PROBE } else { interval }).await;
    }
}

impl RunningProvider {
    fn publish_stopped(&self, host: &Weak<HostInner>, reason: &str) {
        if let Some(inner) = host.upgrade() {
            inner
                .events
                .publish(EventData::ProviderStopped(ProviderStopped {
                    public_key: self.public_key.clone(),
                    link_name: self.link_name.clone(),
                    contract_id: self.contract_id.clone(),
                    instance_id: self.status.lock().instance_id.clone(),
                    reason: reason.to_string(),
                }));
        }
    }

    /// `health_check_passed` or `health_check_failed`.
    fn health_event(&self, healthy: bool) -> EventData {
        let data = HealthCheck {
            public_key: self.public_key.clone(),
            link_name: self.link_name.clone(),
        };
        if healthy {
            EventData::HealthCheckPassed(data)
        } else {
            EventData::HealthCheckFailed(data)
        }
    }
}
