//! `wasmhost up`: run a host until SIGINT/SIGTERM (or a control-interface `stop`), then stop it
//! gracefully. Configured by the OTP host's environment variables, overridden by flags; without
//! NATS settings it runs the embedded lattice.

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use clap::Args;
use wasmhost::{ActorSource, Host, HostConfig, NatsConfig};

use crate::nats_flags::NatsFlags;

#[derive(Args)]
pub struct UpArgs {
    /// NATS servers, credentials and TLS for RPC, control and providers alike; each flag
    /// overrides its WASMCLOUD_{RPC,CTL,PROV_RPC}_* variable. Any of them joins NATS.
    #[command(flatten)]
    nats: NatsFlags,
    /// Lattice id (WASMCLOUD_LATTICE_PREFIX).
    #[arg(long)]
    lattice: Option<String>,
    /// Host label `key=value`, repeatable (like HOST_KEY=value).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    labels: Vec<String>,
    /// Host seed SN... (WASMCLOUD_HOST_SEED).
    #[arg(long)]
    host_seed: Option<String>,
    /// Cluster seed SC... that signs this host's invocations (WASMCLOUD_CLUSTER_SEED).
    #[arg(long)]
    cluster_seed: Option<String>,
    /// Comma-separated cluster keys C... whose invocations are accepted (WASMCLOUD_CLUSTER_ISSUERS).
    #[arg(long)]
    cluster_issuers: Option<String>,
    /// RPC timeout in milliseconds (WASMCLOUD_RPC_TIMEOUT_MS).
    #[arg(long)]
    rpc_timeout_ms: Option<u64>,
    /// Heartbeat interval in milliseconds (WASMCLOUD_HEARTBEAT_INTERVAL_MS).
    #[arg(long)]
    heartbeat_interval_ms: Option<u64>,
    /// Publish invocation_succeeded/failed events on wasmbus.rpcevt.{lattice}.
    #[arg(long)]
    enable_invocation_events: bool,
    /// An actor (.wasm path, file:// or OCI reference) to start once the host is up, repeatable.
    #[arg(long = "actor", value_name = "REF")]
    actors: Vec<String>,
    /// Let control-interface clients start actors and providers from files in DIR (`file://` or
    /// path references in `la`, `scale`, `upd`, `lp`), repeatable; WASMCLOUD_ALLOW_FILE_LOAD.
    /// Without it, clients on the lattice can only name OCI references: any process that can
    /// publish on the lattice could otherwise make this host read its files.
    #[arg(long = "allow-file-load", value_name = "DIR")]
    allow_file_load: Vec<std::path::PathBuf>,
    /// Serve the web dashboard on this address (e.g. 127.0.0.1:4000): the whole lattice when the
    /// host is in one, else this host; files started from it go straight to this host.
    #[arg(long, value_name = "ADDR")]
    dashboard: Option<std::net::SocketAddr>,
    #[command(flatten)]
    dashboard_options: crate::dashboard::ServeOptions,
}

pub fn run(args: UpArgs) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(run_async(args))
}

/// The environment's configuration with the flags applied over it.
fn config(args: &UpArgs) -> Result<HostConfig, String> {
    let mut config = HostConfig::from_env().map_err(|e| e.to_string())?;
    if args.nats.any() {
        let nats = config.nats.get_or_insert_with(NatsConfig::default);
        for (prefix, conn) in [
            ("WASMCLOUD_RPC", &mut nats.rpc),
            ("WASMCLOUD_CTL", &mut nats.ctl),
            ("WASMCLOUD_PROV_RPC", &mut nats.prov_rpc),
        ] {
            *conn = args.nats.apply(prefix, conn)?;
        }
    }
    if let Some(lattice) = &args.lattice {
        config.lattice = lattice.clone();
    }
    for label in &args.labels {
        let (k, v) = label
            .split_once('=')
            .ok_or_else(|| format!("--label `{label}` is not KEY=VALUE"))?;
        config
            .labels
            .insert(k.trim().to_string(), v.trim().to_string());
    }
    if let Some(seed) = &args.host_seed {
        config.host_seed = Some(seed.clone());
    }
    if let Some(seed) = &args.cluster_seed {
        config.cluster_seed = Some(seed.clone());
    }
    if let Some(issuers) = &args.cluster_issuers {
        config.cluster_issuers = issuers
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
    }
    if let Some(ms) = args.rpc_timeout_ms {
        config.rpc_timeout = Duration::from_millis(ms);
    }
    if let Some(ms) = args.heartbeat_interval_ms {
        config.heartbeat_interval = Duration::from_millis(ms.max(1));
    }
    if args.enable_invocation_events {
        config.enable_invocation_events = true;
    }
    for dir in &args.allow_file_load {
        let dir = dir
            .canonicalize()
            .map_err(|e| format!("--allow-file-load {}: {e}", dir.display()))?;
        if !dir.is_dir() {
            return Err(format!(
                "--allow-file-load {}: not a directory",
                dir.display()
            ));
        }
        config.allow_file_load.push(dir);
    }
    Ok(config)
}

async fn run_async(args: UpArgs) -> Result<(), String> {
    let config = config(&args)?;
    let mode = match &config.nats {
        Some(nats) => format!(
            "NATS lattice `{}` (rpc {}, ctl {})",
            config.lattice,
            nats.rpc.url(),
            nats.ctl.url()
        ),
        None => "embedded lattice".to_string(),
    };
    let host = Host::start(config).await.map_err(|e| e.to_string())?;
    // First line of stdout, read by scripts and tests: `host_id: N...`. Write errors (a closed
    // pipe) must not take the host down, hence `say` instead of println!.
    say(&format!("host_id: {}", host.id()));
    say(&format!("friendly_name: {}", host.friendly_name()));
    say(&format!("cluster_key: {}", host.cluster_key()));
    say(&format!("lattice: {}", host.lattice()));
    let _ = writeln!(
        std::io::stderr(),
        "wasmhost up: host {} running in the {mode}; Ctrl-C stops it",
        host.id()
    );
    for reference in &args.actors {
        let source = ActorSource::parse(reference);
        match host.start_actor(source, 1, HashMap::new()).await {
            Ok(info) => say(&format!("actor: {} {}", info.public_key, reference)),
            Err(e) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "wasmhost up: cannot start {reference}: {e}"
                );
            }
        }
    }
    let _dashboard = match &args.dashboard {
        Some(addr) => match serve_dashboard(&host, *addr, &args.dashboard_options).await {
            Ok(dashboard) => Some(dashboard),
            Err(e) => {
                let _ = host.stop().await;
                return Err(e);
            }
        },
        None => None,
    };
    wait_for_stop(&host).await;
    match host.stop().await {
        Ok(()) => {}
        // A control-interface `stop` began first: let it finish (providers, host_stopped, flush).
        Err(e) if e.kind() == wasmhost::ErrorKind::Stopped => host.wait_stopped().await,
        Err(e) => return Err(e.to_string()),
    }
    let _ = writeln!(std::io::stderr(), "wasmhost up: host {} stopped", host.id());
    Ok(())
}

/// Starts the dashboard and prints `dashboard: http://ADDR/`.
async fn serve_dashboard(
    host: &Host,
    addr: std::net::SocketAddr,
    options: &crate::dashboard::ServeOptions,
) -> Result<crate::dashboard::Dashboard, String> {
    let dashboard = crate::dashboard::Dashboard::for_host(host, options).await?;
    let bound = dashboard.listen(addr, options).await?;
    say(&format!("dashboard: http://{bound}/"));
    Ok(dashboard)
}

/// Prints a line to stdout and flushes; ignores a stdout nobody reads any more.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Returns on SIGINT, SIGTERM, or when a control-interface `stop` has stopped the host.
async fn wait_for_stop(host: &Host) {
    let terminate = async {
        #[cfg(unix)]
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
        #[cfg(not(unix))]
        std::future::pending::<()>().await
    };
    let stopped_remotely = host.wait_stopped();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
        _ = stopped_remotely => {}
    }
}
