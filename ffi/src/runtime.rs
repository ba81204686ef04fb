//! The one async runtime the library owns (created on first use, shared by every host, never torn
//! down), blocking waits on it, and the thread rules that keep those waits from deadlocking.

use std::cell::Cell;
use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::Runtime;

use crate::error::{wasmhost_result_t, FfiError, FfiResult};

static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

thread_local! {
    /// Set on the runtime's own threads (workers and blocking pool).
    static ON_RUNTIME_THREAD: Cell<bool> = const { Cell::new(false) };
    /// Set while a C callback runs on a blocking-pool thread, where waiting is allowed.
    static IN_BLOCKING_CALLBACK: Cell<bool> = const { Cell::new(false) };
    /// Set while a log callback runs; it may be on any thread, even inside a blocking wait.
    static IN_LOG_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

/// The shared runtime.
pub(crate) fn runtime() -> FfiResult<&'static Runtime> {
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("wasmhost-rt")
                .on_thread_start(|| ON_RUNTIME_THREAD.with(|f| f.set(true)))
                .build()
                .map_err(|e| format!("cannot create the async runtime: {e}"))
        })
        .as_ref()
        .map_err(|e| FfiError::internal(e.clone()))
}

/// Whether a blocking wait would deadlock on this thread (see [`block_on`]).
fn wait_forbidden() -> Option<&'static str> {
    if IN_LOG_CALLBACK.with(Cell::get) {
        return Some("blocking wasmhost functions must not be called from inside a log callback");
    }
    if ON_RUNTIME_THREAD.with(Cell::get) && !IN_BLOCKING_CALLBACK.with(Cell::get) {
        return Some("blocking wasmhost functions must not be called from the library's async runtime threads");
    }
    if tokio::runtime::Handle::try_current().is_ok() && !ON_RUNTIME_THREAD.with(Cell::get) {
        return Some(
            "blocking wasmhost functions must not be called from inside another tokio runtime",
        );
    }
    None
}

/// Runs `future` to completion on the shared runtime and waits for it. Refuses (instead of
/// deadlocking or panicking) on threads where waiting is not allowed.
pub(crate) fn block_on<F: Future>(future: F) -> FfiResult<F::Output> {
    if let Some(why) = wait_forbidden() {
        return Err(FfiError::new(
            wasmhost_result_t::WASMHOST_ERR_WOULD_DEADLOCK,
            why,
        ));
    }
    let rt = runtime()?;
    if ON_RUNTIME_THREAD.with(Cell::get) {
        // A callback on the blocking pool: not an async context, so the handle may block here.
        Ok(rt.handle().block_on(future))
    } else {
        Ok(rt.block_on(future))
    }
}

/// True when a blocking wait is allowed on this thread.
pub(crate) fn can_block() -> bool {
    wait_forbidden().is_none()
}

/// Runs a C callback on the runtime's blocking pool, where it may call blocking functions, and
/// returns its result.
pub(crate) async fn run_callback<R: Send + 'static>(
    f: impl FnOnce() -> R + Send + 'static,
) -> FfiResult<R> {
    tokio::task::spawn_blocking(move || {
        IN_BLOCKING_CALLBACK.with(|c| c.set(true));
        let out = f();
        IN_BLOCKING_CALLBACK.with(|c| c.set(false));
        out
    })
    .await
    .map_err(|e| FfiError::internal(format!("callback task failed: {e}")))
}

/// Marks the current thread as running a log callback for the duration of `f`.
pub(crate) fn in_log_callback<R>(f: impl FnOnce() -> R) -> R {
    IN_LOG_CALLBACK.with(|c| c.set(true));
    let out = f();
    IN_LOG_CALLBACK.with(|c| c.set(false));
    out
}

/// Whether this thread is inside a log callback (logs emitted there are dropped).
pub(crate) fn is_in_log_callback() -> bool {
    IN_LOG_CALLBACK.with(Cell::get)
}
