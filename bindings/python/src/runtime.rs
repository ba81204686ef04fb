//! The one tokio runtime every host of this process runs on.

use std::sync::OnceLock;

use tokio::runtime::Runtime;

/// The process-wide runtime, created on first use. It lives until the process exits: hosts,
/// capability handlers and pending `call_async` futures may outlive any one Python object.
pub(crate) fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .thread_name("wasmhost-rt")
            .enable_all()
            .build()
            .expect("cannot start the tokio runtime (out of threads or memory)")
    })
}
