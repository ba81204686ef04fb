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
        .map_err(|e| {
            Error::new(
                ErrorKind::Internal,
                format!("cannot start the wasmhost runtime: {e}"),
            )
        })
}

/// Drives `fut` to completion on the calling dirty-scheduler thread, inside the shared runtime's
/// context (its timers, I/O and worker threads serve the tasks `fut` spawns). Running it here
/// rather than handing it to a worker saves two cross-thread wake-ups per call; the one thing a
/// BEAM thread may not do, sending with `OwnedEnv`, is done on a worker (see `capability.rs`).
/// Only for NIFs scheduled `DirtyIo`: a normal scheduler must never block.
pub(crate) fn run<F, T>(fut: F) -> Result<T, Error>
where
    F: Future<Output = Result<T, Error>>,
{
    runtime()?.block_on(fut)
}

/// Sends a message built by `build` to `pid` from a runtime worker thread (the VM refuses
/// `OwnedEnv` sends from its own threads, and host calls may run on a dirty scheduler).
/// Returns whether the process was alive to receive it.
pub(crate) async fn send_from_worker<F>(pid: rustler::LocalPid, build: F) -> bool
where
    F: for<'a> FnOnce(rustler::Env<'a>) -> rustler::Term<'a> + Send + 'static,
{
    let Ok(rt) = runtime() else { return false };
    let task =
        rt.spawn(async move { rustler::OwnedEnv::new().send_and_clear(&pid, build).is_ok() });
    task.await.unwrap_or(false)
}
