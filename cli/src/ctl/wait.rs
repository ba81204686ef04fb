//! Waiting for the lifecycle events that confirm a command: hosts ack `la`/`lp`/`scale`
//! before the work is done, so success or failure only shows up on `wasmbus.evt`.

use super::client::CtlClient;
use clap::Args;
use futures::StreamExt;
use std::time::Duration;
use wasmhost::protocol::{subjects, CloudEvent};

/// What to do with one event while waiting.
pub enum Verdict {
    /// Not the one (or not the last one): keep waiting.
    Continue,
    /// The wait is over, successfully.
    Done,
    /// The command failed; the message says why.
    Fail(String),
}

/// `--no-wait` / `--wait-ms` of commands that confirm through events.
#[derive(Args, Debug, Clone)]
pub struct WaitOptions {
    /// Return as soon as the host acknowledges, without waiting for the started event.
    #[arg(long)]
    pub no_wait: bool,
    /// Milliseconds to wait for the started (or failed) event.
    #[arg(long, default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..=super::options::MAX_WAIT_MS))]
    pub wait_ms: u64,
}

/// A subscription to the lattice's events, opened before the command is sent so no
/// event is missed.
pub struct EventWaiter {
    events: async_nats::Subscriber,
}

impl EventWaiter {
    /// Subscribes to `wasmbus.evt.{lattice}` (and flushes, so the subscription is live).
    pub async fn subscribe(client: &CtlClient) -> Result<Self, String> {
        let subject = subjects::events(client.lattice());
        let events = client
            .nats()
            .subscribe(subject.clone())
            .await
            .map_err(|e| format!("cannot subscribe to {subject}: {e}"))?;
        client
            .nats()
            .flush()
            .await
            .map_err(|e| format!("cannot flush the subscription to {subject}: {e}"))?;
        Ok(EventWaiter { events })
    }

    /// Feeds events to `judge` until it says `Done` or `Fail`, or `timeout` passes.
    pub async fn until(
        &mut self,
        timeout: Duration,
        what: &str,
        mut judge: impl FnMut(&CloudEvent) -> Verdict,
    ) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let message = match tokio::time::timeout_at(deadline, self.events.next()).await {
                Ok(Some(message)) => message,
                Ok(None) => {
                    return Err(format!(
                        "the event subscription closed while waiting for {what}"
                    ))
                }
                Err(_) => {
                    return Err(format!(
                        "the host acknowledged, but {what} did not arrive within {} ms",
                        timeout.as_millis()
                    ))
                }
            };
            let Ok(event) = CloudEvent::from_json_bytes(&message.payload) else {
                continue;
            };
            match judge(&event) {
                Verdict::Continue => {}
                Verdict::Done => return Ok(()),
                Verdict::Fail(reason) => return Err(reason),
            }
        }
    }
}

/// A string field of an event's data (`""` if absent).
pub fn data_str<'e>(event: &'e CloudEvent, key: &str) -> &'e str {
    event.data.get(key).and_then(|v| v.as_str()).unwrap_or("")
}

/// Whether two image references name the same thing; `file://` is optional on either side.
pub fn same_ref(a: &str, b: &str) -> bool {
    let strip = |r: &str| r.strip_prefix("file://").unwrap_or(r).to_string();
    strip(a) == strip(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_compare_with_or_without_the_file_scheme() {
        assert!(same_ref("file:///a/echo.wasm", "/a/echo.wasm"));
        assert!(same_ref("reg.io/echo:0.1", "reg.io/echo:0.1"));
        assert!(!same_ref("reg.io/echo:0.1", "reg.io/echo:0.2"));
    }

    #[test]
    fn data_fields_read_as_strings() {
        let event = CloudEvent::new(
            "actor_started",
            "N",
            serde_json::json!({"image_ref": "r", "n": 1}),
        );
        assert_eq!(
            (
                data_str(&event, "image_ref"),
                data_str(&event, "n"),
                data_str(&event, "x")
            ),
            ("r", "", "")
        );
    }
}
