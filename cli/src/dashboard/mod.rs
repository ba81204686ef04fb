//! `wasmhost dashboard` and `wasmhost up --dashboard`: a web page showing a lattice live (hosts,
//! actors, providers, links, events) with buttons for its operations, served by this binary
//! (assets embedded, no CDN or build step).

mod actions;
mod server;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use wasmhost::observer::{LatticeObserver, ObserverConfig};
use wasmhost::Host;

use crate::ctl::client::CtlClient;
use crate::ctl::options::{GlobalOptions, OutputKind};
use crate::hot_reload::SigningKeys;
pub use actions::Registry;

/// Where and how the dashboard listens: shared by `wasmhost dashboard` and `wasmhost up --dashboard`.
#[derive(Args, Debug, Clone)]
pub struct ServeOptions {
    /// Refuse nothing: listen on a non-loopback address too (protect it: --token, a reverse proxy with auth).
    #[arg(long)]
    pub allow_remote: bool,
    /// A token every request must carry (`Authorization: Bearer T`, or open the page as `/?token=T`).
    #[arg(long, env = "WASMHOST_DASHBOARD_TOKEN")]
    pub token: Option<String>,
    /// OCI registry (`host:port`) the "from file" action pushes modules to, so hosts elsewhere in
    /// the lattice can start them by reference.
    #[arg(long, value_name = "HOST:PORT")]
    pub registry: Option<String>,
    /// Talk plain HTTP to --registry (the hosts then need it in WASMCLOUD_OCI_ALLOWED_INSECURE).
    #[arg(long)]
    pub registry_insecure: bool,
    /// Basic-auth user for --registry (with --registry-password).
    #[arg(long, requires = "registry_password")]
    pub registry_user: Option<String>,
    /// Basic-auth password for --registry.
    #[arg(long, requires = "registry_user")]
    pub registry_password: Option<String>,
    /// A directory of `*.nk` seeds: hot reload re-signs a rebuild whose revision is not higher than the running one.
    #[arg(long, value_name = "DIR")]
    pub signing_keys: Option<PathBuf>,
}

/// `wasmhost dashboard`.
#[derive(Args, Debug)]
pub struct DashboardArgs {
    /// NATS connection of the lattice: servers, credentials, TLS (`WASMCLOUD_CTL_*`).
    #[command(flatten)]
    nats: crate::nats_flags::NatsFlags,
    /// Lattice id.
    #[arg(long, env = "WASMCLOUD_LATTICE_PREFIX", default_value = "default")]
    lattice: String,
    /// Control topic prefix (WASMCLOUD_CTL_TOPIC_PREFIX).
    #[arg(
        long,
        env = "WASMCLOUD_CTL_TOPIC_PREFIX",
        default_value = "wasmbus.ctl"
    )]
    ctl_topic_prefix: String,
    /// Address to serve on (loopback unless --allow-remote).
    #[arg(long, default_value = "127.0.0.1:4000")]
    listen: SocketAddr,
    #[command(flatten)]
    serve: ServeOptions,
}

/// Runs `wasmhost dashboard` until Ctrl-C.
pub fn run(args: DashboardArgs) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let options = GlobalOptions {
            nats: args.nats.clone(),
            lattice: args.lattice.clone(),
            ctl_topic_prefix: args.ctl_topic_prefix.clone(),
            timeout: 2000,
            output: OutputKind::Table,
        };
        let settings = options.nats_connection()?;
        let url = settings.url();
        let dashboard = Dashboard::connect(&settings, &options, None, &args.serve).await?;
        let addr = dashboard.listen(args.listen, &args.serve).await?;
        println!(
            "dashboard: http://{addr}/ (lattice `{}` on {url}); Ctrl-C stops it",
            args.lattice
        );
        tokio::signal::ctrl_c()
            .await
            .map_err(|e| format!("cannot wait for Ctrl-C: {e}"))?;
        Ok(())
    })
}

/// A dashboard ready to listen.
pub struct Dashboard {
    controller: Arc<actions::Controller>,
}

impl Dashboard {
    /// Observes and operates the lattice over `settings`; `local` is a host in this process (its
    /// file starts skip the registry).
    async fn connect(
        settings: &wasmhost::NatsConnection,
        options: &GlobalOptions,
        local: Option<Host>,
        serve: &ServeOptions,
    ) -> Result<Dashboard, String> {
        let config = ObserverConfig {
            lattice: options.lattice.clone(),
            ctl_topic_prefix: options.ctl_topic_prefix.clone(),
            ..Default::default()
        };
        let observer = LatticeObserver::connect_with(settings, config)
            .await
            .map_err(|e| e.to_string())?;
        let ctl = CtlClient::connect_with(settings, options).await?;
        Self::build(observer, Some(ctl), local, serve)
    }

    /// The dashboard of the host this process runs (`wasmhost up --dashboard`): the whole lattice
    /// over the host's own control connection settings (credentials included) when it is in one,
    /// else the host alone.
    pub async fn for_host(host: &Host, serve: &ServeOptions) -> Result<Dashboard, String> {
        match host.config().nats.clone() {
            Some(nats) => {
                let options = GlobalOptions {
                    nats: Default::default(),
                    lattice: host.lattice().to_string(),
                    ctl_topic_prefix: host.config().ctl_topic_prefix.clone(),
                    timeout: 2000,
                    output: OutputKind::Table,
                };
                Self::connect(&nats.ctl, &options, Some(host.clone()), serve).await
            }
            None => {
                let observer = LatticeObserver::from_host(host, ObserverConfig::default())
                    .await
                    .map_err(|e| e.to_string())?;
                Self::build(observer, None, Some(host.clone()), serve)
            }
        }
    }

    fn build(
        observer: LatticeObserver,
        ctl: Option<CtlClient>,
        local: Option<Host>,
        serve: &ServeOptions,
    ) -> Result<Dashboard, String> {
        let registry = serve.registry.clone().map(|address| Registry {
            address,
            insecure: serve.registry_insecure,
            username: serve.registry_user.clone(),
            password: serve.registry_password.clone(),
        });
        let keys = serve
            .signing_keys
            .as_deref()
            .map(SigningKeys::load)
            .transpose()?;
        Ok(Dashboard {
            controller: actions::Controller::new(observer, ctl, local, registry, keys),
        })
    }

    /// Binds `addr` (refusing a non-loopback one without `--allow-remote`) and serves in the
    /// background; the address bound (port 0 picks a free one).
    pub async fn listen(
        &self,
        addr: SocketAddr,
        serve: &ServeOptions,
    ) -> Result<SocketAddr, String> {
        if let (false, Some(refusal)) = (serve.allow_remote, server::remote_refusal(&addr)) {
            return Err(refusal);
        }
        if !addr.ip().is_loopback() && serve.token.is_none() {
            eprintln!("warning: the dashboard listens on {addr} without --token: anyone who reaches it controls the lattice");
        }
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let bound = listener.local_addr().map_err(|e| e.to_string())?;
        let app = Arc::new(server::App {
            controller: self.controller.clone(),
            token: serve.token.clone(),
            loopback_only: !serve.allow_remote,
        });
        tokio::spawn(server::serve(listener, app));
        Ok(bound)
    }
}
