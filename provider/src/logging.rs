//! Logs go to stderr (the host logs every line a provider writes), as JSON lines when the
//! host asks for structured logging.

use wasmhost_protocol::HostData;

/// Installs a `tracing` subscriber writing to stderr, filtered by `RUST_LOG` (default
/// `info`). JSON lines when either HostData flag (`structured_logging`, or the OTP
/// host's `enable_structured_logging`) is set. Does nothing if a subscriber is already
/// installed.
pub fn init_logging(host_data: &HostData) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let structured =
        host_data.structured_logging || host_data.enable_structured_logging == Some(true);
    // A second init (tests, embedders) keeps the first subscriber.
    let _ = if structured {
        builder.json().try_init()
    } else {
        builder.with_ansi(false).try_init()
    };
}
