//! The one tokio runtime shared by every host in the VM, and the bridge from dirty schedulers to it.

use std::future::Future;
use std::sync::OnceLock;

use wasmhost::{Error, ErrorKind};

static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();

/// The shared runtime, built on first use; an error if the OS refused to start its threads.
pub(crate) fn runtime() -> Result<&'static tokio::runtime::Runtime, Error> {
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .thread_name("wasmhost-nif")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::new(ErrorKind::Internal, format!("cannot start the wasmhost runtime: {e}")))
}

/// Runs `fut` on the runtime's worker threads and blocks the calling (dirty scheduler) thread until
/// it finishes. The future must not run on the BEAM thread itself: capability calls send messages
/// with `OwnedEnv`, which the VM forbids on its own threads.
pub(crate) fn run<F, T>(fut: F) -> Result<T, Error>
where
    F: Future<Output = Result<T, Error>> + Send + 'static,
    T: Send + 'static,
{
    let rt = runtime()?;
    match rt.block_on(rt.spawn(fut)) {
        Ok(result) => result,
        Err(join) => Err(Error::new(ErrorKind::Internal, format!("host task failed: {join}"))),
    }
}
