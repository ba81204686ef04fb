//! The NATS side of `ctl`: one connection, request/reply and scatter/gather with
//! errors that say what did not answer.

use super::options::GlobalOptions;
use super::requests::{CtlRequest, RequestBuilder};
use async_nats::RequestErrorKind;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use std::time::Duration;
use wasmhost::protocol::ctl::{self, CtlOperationAck};

/// A connected control client for one lattice.
pub struct CtlClient {
    nats: async_nats::Client,
    url: String,
    lattice: String,
    timeout: Duration,
    /// Builds the requests for this lattice.
    pub requests: RequestBuilder,
}

impl CtlClient {
    /// Connects to the NATS server named by the options; fails at once if it is not reachable.
    pub async fn connect(options: &GlobalOptions) -> Result<Self, String> {
        Self::connect_with(&options.nats_connection()?, options).await
    }

    /// Like [`CtlClient::connect`] over given connection settings (lattice, prefix and timeout
    /// from `options`).
    pub async fn connect_with(
        settings: &wasmhost::NatsConnection,
        options: &GlobalOptions,
    ) -> Result<Self, String> {
        let url = settings.url();
        let nats = wasmhost_nats::connect(settings, "wasmhost ctl")
            .await
            .map_err(|e| e.to_string())?;
        Ok(CtlClient {
            nats,
            url,
            lattice: options.lattice.clone(),
            timeout: options.timeout(),
            requests: RequestBuilder::new(&options.ctl_topic_prefix, &options.lattice),
        })
    }

    /// The raw NATS client (events, RPC).
    pub fn nats(&self) -> &async_nats::Client {
        &self.nats
    }

    /// The lattice id.
    pub fn lattice(&self) -> &str {
        &self.lattice
    }

    /// The reply timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends `payload` to `subject` and returns the first reply's bytes (within the timeout).
    pub async fn request_bytes(&self, subject: &str, payload: Vec<u8>) -> Result<Vec<u8>, String> {
        let request = async_nats::Request::new()
            .payload(payload.into())
            .timeout(Some(self.timeout));
        match self.nats.send_request(subject.to_string(), request).await {
            Ok(message) => Ok(message.payload.to_vec()),
            Err(e) => Err(match e.kind() {
                RequestErrorKind::NoResponders => format!(
                    "no host answered {subject}: nothing in lattice '{}' on {} listens there (no responders)",
                    self.lattice, self.url
                ),
                RequestErrorKind::TimedOut => {
                    format!("no reply to {subject} within {} ms (timed out)", self.timeout.as_millis())
                }
                _ => format!("request on {subject} failed: {e}"),
            }),
        }
    }

    /// Sends a control request and decodes the first reply as `T`.
    pub async fn request<T: DeserializeOwned>(&self, request: CtlRequest) -> Result<T, String> {
        let reply = self.request_bytes(&request.subject, request.body).await?;
        ctl::from_json(&reply).map_err(|e| format!("unexpected reply on {}: {e}", request.subject))
    }

    /// Sends a command and turns a refusal (`accepted: false`) into an error.
    pub async fn command(&self, request: CtlRequest) -> Result<CtlOperationAck, String> {
        let subject = request.subject.clone();
        let ack: CtlOperationAck = self.request(request).await?;
        if ack.accepted {
            Ok(ack)
        } else {
            Err(format!("the host refused {subject}: {}", ack.error))
        }
    }

    /// Publishes with a fresh inbox as reply subject and collects every reply that
    /// arrives within the timeout (ping, auctions). Replies that do not decode as `T`
    /// are reported on stderr and skipped.
    pub async fn gather<T: DeserializeOwned>(&self, request: CtlRequest) -> Result<Vec<T>, String> {
        let inbox = self.nats.new_inbox();
        let mut replies = self
            .nats
            .subscribe(inbox.clone())
            .await
            .map_err(|e| format!("cannot subscribe to {inbox}: {e}"))?;
        self.nats
            .publish_with_reply(request.subject.clone(), inbox, request.body.into())
            .await
            .map_err(|e| format!("cannot publish on {}: {e}", request.subject))?;
        self.nats
            .flush()
            .await
            .map_err(|e| format!("cannot flush to {}: {e}", self.url))?;
        let mut gathered = Vec::new();
        let deadline = tokio::time::Instant::now() + self.timeout;
        while let Ok(Some(message)) = tokio::time::timeout_at(deadline, replies.next()).await {
            // The server answers a publish nobody subscribes to with a 503 status message:
            // no host will answer, so stop waiting. Other status messages carry no reply.
            match message.status {
                Some(status) if status == async_nats::StatusCode::NO_RESPONDERS => break,
                Some(_) => continue,
                None => {}
            }
            match ctl::from_json::<T>(&message.payload) {
                Ok(value) => gathered.push(value),
                Err(e) => eprintln!("warning: ignoring a reply on {}: {e}", request.subject),
            }
        }
        Ok(gathered)
    }
}
