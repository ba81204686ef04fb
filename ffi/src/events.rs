//! Event subscriptions: each one has its own thread that hands every lattice event, as CloudEvent
//! JSON, to a C callback.

use std::ffi::{c_char, c_void, CString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{JoinHandle, ThreadId};

use tokio::sync::Notify;

use crate::callback::{wasmhost_free_fn_t, UserData};
use crate::error::{guard, wasmhost_error_t, wasmhost_result_t, FfiError, FfiResult};
use crate::host::{host_arg, wasmhost_host_t};
use crate::ptr::Out;
use crate::runtime::runtime;

/// Receives one lattice event: `event_json[0..len]` is the CloudEvent (`specversion`, `id`, `type`
/// such as `com.wasmcloud.lattice.actor_started`, `source`, `datacontenttype`, `time`, `data`),
/// NUL-terminated, valid only during the callback. Events arrive in order on the subscription's own
/// thread (one thread per subscription, outside the async runtime); the callback may call any
/// wasmhost function, including blocking ones and wasmhost_subscription_free() of its own
/// subscription. A slow callback delays only its own subscription (events beyond 4096 behind are skipped).
#[allow(non_camel_case_types)]
pub type wasmhost_event_callback_t =
    Option<unsafe extern "C" fn(user_data: *mut c_void, event_json: *const c_char, len: usize)>;

/// An event subscription; wasmhost_subscription_free() ends it.
pub struct wasmhost_subscription_t {
    cancel: Arc<Notify>,
    /// Set when the subscription is freed from inside its own callback: stop right after it.
    stop_now: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    thread_id: ThreadId,
}

/// Subscribes to the host's lattice events (the same CloudEvents as on `wasmbus.evt.{lattice}`),
/// from now on. `callback` runs for each event until the host stops (after `host_stopped`) or the
/// subscription is freed; then `free_user_data(user_data)` runs once, on the subscription thread.
/// On success `*out` owns the subscription (free it even after the host stopped). Not blocking.
/// WASMHOST_ERR_STOPPED when the host is stopped. On an error return the callback never runs and
/// `user_data` stays yours.
#[no_mangle]
pub extern "C" fn wasmhost_events_subscribe(
    host: *const wasmhost_host_t,
    callback: wasmhost_event_callback_t,
    user_data: *mut c_void,
    free_user_data: wasmhost_free_fn_t,
    out: *mut *mut wasmhost_subscription_t,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let host = host_arg(host)?;
        let out = Out::new(out, "out")?;
        let callback = callback.ok_or_else(|| FfiError::invalid("callback is NULL"))?;
        let stream = host.subscribe_events()?;
        let subscription =
            spawn_subscription(stream, callback, UserData::new(user_data, free_user_data))?;
        out.write(Box::into_raw(Box::new(subscription)));
        Ok(())
    })
}

/// Something a subscription thread reads JSON documents from, in order; `None` ends it.
#[async_trait::async_trait]
pub(crate) trait JsonSource: Send + 'static {
    async fn next_json(&mut self) -> Option<String>;
}

#[async_trait::async_trait]
impl JsonSource for host::EventStream {
    async fn next_json(&mut self) -> Option<String> {
        loop {
            let event = self.next().await?;
            if let Ok(json) = serde_json::to_string(&*event) {
                return Some(json);
            }
        }
    }
}

/// A thread that hands every document of `source` to `callback` until the source ends or the
/// subscription is freed, then drops `user` (running free_user_data) on that thread.
pub(crate) fn spawn_subscription(
    mut source: impl JsonSource,
    callback: unsafe extern "C" fn(*mut c_void, *const c_char, usize),
    user: UserData,
) -> FfiResult<wasmhost_subscription_t> {
    let rt = runtime()?;
    let cancel = Arc::new(Notify::new());
    let stop_now = Arc::new(AtomicBool::new(false));
    let thread = {
        let cancel = cancel.clone();
        let stop_now = stop_now.clone();
        std::thread::Builder::new()
            .name("wasmhost-events".into())
            .spawn(move || {
                let user = user;
                loop {
                    // Documents already queued are delivered before a cancellation is noticed.
                    let next = rt.block_on(async {
                        tokio::select! {
                            biased;
                            json = source.next_json() => json,
                            _ = cancel.notified() => None,
                        }
                    });
                    let Some(json) = next else { break };
                    let len = json.len();
                    let Ok(json) = CString::new(json) else {
                        continue;
                    };
                    // SAFETY: the caller's callback, with a string valid for the call.
                    unsafe { callback(user.ptr(), json.as_ptr(), len) };
                    if stop_now.load(Ordering::Acquire) {
                        break;
                    }
                }
                drop(user);
            })
            .map_err(|e| FfiError::internal(format!("cannot start the event thread: {e}")))?
    };
    let thread_id = thread.thread().id();
    Ok(wasmhost_subscription_t {
        cancel,
        stop_now,
        thread: Some(thread),
        thread_id,
    })
}

/// Ends a subscription and frees it. Events already queued for it when this is called are still
/// delivered (so after wasmhost_host_stop() every event up to `host_stopped` arrives), then it
/// blocks until the subscription thread has run `free_user_data`: no callback runs after this
/// returns. Called from inside the subscription's own callback, it returns at once and no further
/// event is delivered after that callback returns. NULL is a no-op. Blocking (see above).
#[no_mangle]
pub extern "C" fn wasmhost_subscription_free(subscription: *mut wasmhost_subscription_t) {
    if subscription.is_null() {
        return;
    }
    // SAFETY: a subscription this library returned, freed once.
    let mut sub = unsafe { Box::from_raw(subscription) };
    let own_thread = std::thread::current().id() == sub.thread_id;
    if own_thread {
        sub.stop_now.store(true, Ordering::Release);
    }
    sub.cancel.notify_one();
    if let Some(thread) = sub.thread.take() {
        if !own_thread {
            let _ = thread.join();
        }
    }
}
