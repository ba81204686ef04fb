//! `ctl watch events`: the lattice's CloudEvents as they happen.

use super::client::CtlClient;
use super::output::{json_line, Output};
use clap::{Args, Subcommand};
use futures::StreamExt;
use wasmhost::protocol::{subjects, CloudEvent};

#[derive(Subcommand)]
pub enum WatchCommand {
    /// Print lifecycle events (`wasmbus.evt.{lattice}`) until interrupted.
    Events(WatchEventsArgs),
}

#[derive(Args)]
pub struct WatchEventsArgs {
    /// Also print invocation events (`wasmbus.rpcevt.{lattice}`).
    #[arg(long)]
    rpc: bool,
    /// Only events of these types (short form, e.g. actor_started; repeatable).
    #[arg(long = "type")]
    types: Vec<String>,
    /// Exit after this many printed events.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    count: Option<u64>,
    /// Leave out host_heartbeat events.
    #[arg(long)]
    no_heartbeats: bool,
}

pub async fn run(client: &CtlClient, out: &Output, cmd: WatchCommand) -> Result<(), String> {
    let WatchCommand::Events(args) = cmd;
    let mut streams = vec![subjects::events(client.lattice())];
    if args.rpc {
        streams.push(subjects::rpc_events(client.lattice()));
    }
    let mut subscriptions = Vec::new();
    for subject in &streams {
        subscriptions.push(
            client
                .nats()
                .subscribe(subject.clone())
                .await
                .map_err(|e| format!("cannot subscribe to {subject}: {e}"))?,
        );
    }
    client
        .nats()
        .flush()
        .await
        .map_err(|e| format!("cannot flush the subscriptions: {e}"))?;
    // On stderr in every output mode: says the subscription is live (scripts may wait for it).
    eprintln!("Watching {} (Ctrl-C to stop)", streams.join(" and "));
    let mut events = futures::stream::select_all(subscriptions);
    let mut printed = 0u64;
    loop {
        let message = tokio::select! {
            message = events.next() => match message {
                Some(message) => message,
                None => return Err("the NATS connection closed".to_string()),
            },
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let event = match CloudEvent::from_json_bytes(&message.payload) {
            Ok(event) => event,
            Err(e) => {
                eprintln!("warning: not a CloudEvent on {}: {e}", message.subject);
                continue;
            }
        };
        if !wanted(&event, &args) {
            continue;
        }
        if out.is_json() {
            println!("{}", json_line(&event));
        } else {
            println!("{}", pretty(&event));
        }
        printed += 1;
        if args.count.is_some_and(|limit| printed >= limit) {
            return Ok(());
        }
    }
}

fn wanted(event: &CloudEvent, args: &WatchEventsArgs) -> bool {
    let kind = event.short_type();
    if args.no_heartbeats && kind == wasmhost::protocol::events::HOST_HEARTBEAT {
        return false;
    }
    args.types.is_empty() || args.types.iter().any(|t| t == kind)
}

/// `time  type  from source` and the data, indented, one `key: value` per line.
fn pretty(event: &CloudEvent) -> String {
    let mut text = format!(
        "{}  {}  from {}",
        event.time,
        event.short_type(),
        event.source
    );
    if let Some(data) = event.data.as_object() {
        let mut keys: Vec<&String> = data.keys().collect();
        keys.sort();
        for key in keys {
            let value = match &data[key] {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            text.push_str(&format!("\n    {key}: {value}"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_lists_data_fields_sorted() {
        let mut event = CloudEvent::new(
            "actor_started",
            "NHOST",
            serde_json::json!({"public_key": "M1", "annotations": {}}),
        );
        event.time = "2022-12-01T00:00:00.000000Z".into();
        assert_eq!(
            pretty(&event),
            "2022-12-01T00:00:00.000000Z  actor_started  from NHOST\n    annotations: {}\n    public_key: M1"
        );
    }

    #[test]
    fn filters_by_type_and_heartbeat() {
        let args = |types: Vec<&str>, no_heartbeats| WatchEventsArgs {
            rpc: false,
            types: types.into_iter().map(String::from).collect(),
            count: None,
            no_heartbeats,
        };
        let heartbeat = CloudEvent::new("host_heartbeat", "N", serde_json::json!({}));
        let started = CloudEvent::new("actor_started", "N", serde_json::json!({}));
        assert!(wanted(&heartbeat, &args(vec![], false)));
        assert!(!wanted(&heartbeat, &args(vec![], true)));
        assert!(wanted(&started, &args(vec!["actor_started"], false)));
        assert!(!wanted(&heartbeat, &args(vec!["actor_started"], false)));
    }
}
