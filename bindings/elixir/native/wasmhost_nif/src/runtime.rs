//! The one tokio runtime shared by every host in the VM, and the bridge from dirty schedulers to it.

use std::future::Future;
use std::sync::OnceLock;

use wasmhost::{Error, ErrorKind};

/// Stack of each runtime worker: room for wasmtime's compiler and guest stacks (`max_wasm_stack`
/// is 512 KiB) and the host's deepest futures.
const WORKER_STACK_BYTES: usize = 8 << 20;

static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();

/// The shared runtime, built on first use; an error if the OS refused to start its threads.
pub(crate) fn runtime() -> Result<&'static tokio::runtime::Runtime, Error> {
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .thread_name("wasmhost-nif")
                .thread_stack_size(WORKER_STACK_BYTES)
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

/// Runs `fut` on a runtime worker and blocks the calling dirty-scheduler thread until it is done.
/// Not driven here: a dirty scheduler's stack is the VM's `+sssdio` (320 KiB by default), too
/// small for compiling a module or running a guest (the VM died with SIGSEGV), and its size is a
/// boot flag an embedding application may not control. A worker panic comes back as an error.
/// Only for NIFs scheduled `DirtyIo`: a normal scheduler must never block.
pub(crate) fn run<F, T>(fut: F) -> Result<T, Error>
where
    F: Future<Output = Result<T, Error>> + Send + 'static,
    T: Send + 'static,
{
    let (done, outcome) = tokio::sync::oneshot::channel();
    runtime()?.spawn(async move {
        let _ = done.send(fut.await);
    });
    outcome.blocking_recv().unwrap_or_else(|_| {
        Err(Error::new(
            ErrorKind::Internal,
            "a wasmhost call failed inside the runtime (it panicked); the host keeps running",
        ))
    })
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
