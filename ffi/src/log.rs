//! Log routing: a `tracing` layer, installed once as the process's global subscriber, forwards the
//! library's log events to a C callback.

use std::ffi::{c_char, c_void, CString};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::OnceLock;

use parking_lot::RwLock;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

use crate::callback::{wasmhost_free_fn_t, UserData};
use crate::error::{guard, wasmhost_error_t, wasmhost_result_t, FfiError};
use crate::runtime::{in_log_callback, is_in_log_callback};

/// Severity of a log record (lower is more severe).
#[repr(C)]
#[allow(non_camel_case_types)]
pub enum wasmhost_log_level_t {
    /// Errors.
    WASMHOST_LOG_ERROR = 1,
    /// Warnings.
    WASMHOST_LOG_WARN = 2,
    /// Informational messages (host started, actor failures, ...).
    WASMHOST_LOG_INFO = 3,
    /// Debugging detail (every event published, ...).
    WASMHOST_LOG_DEBUG = 4,
    /// Very verbose tracing.
    WASMHOST_LOG_TRACE = 5,
}

/// Receives one log record: its level (a wasmhost_log_level_t value), `target` (the Rust module,
/// e.g. `wasmhost::host`, or `wasmhost::actor` for actors' own logs) and `message` (the text
/// followed by ` key=value` fields); both strings are valid only during the callback. Runs
/// synchronously on the thread that logged, which may be one of the async runtime's threads: it
/// must return quickly, must not block, and must not call wasmhost functions other than the
/// _free functions (blocking ones fail with WASMHOST_ERR_WOULD_DEADLOCK). Logs emitted while it
/// runs are dropped.
#[allow(non_camel_case_types)]
pub type wasmhost_log_callback_t = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        level: i32,
        target: *const c_char,
        message: *const c_char,
    ),
>;

struct Sink {
    callback: unsafe extern "C" fn(*mut c_void, i32, *const c_char, *const c_char),
    user_data: UserData,
}

static SINK: RwLock<Option<Sink>> = RwLock::new(None);
static MAX_LEVEL: AtomicI32 = AtomicI32::new(0);
static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();

fn level_number(level: &Level) -> i32 {
    match *level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

/// Formats `message` first, then ` key=value` for the other fields.
#[derive(Default)]
struct MessageVisitor {
    message: String,
    fields: String,
}

impl Visit for MessageVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={}", field.name(), value);
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={:?}", field.name(), value);
        }
    }
}

struct ForwardLayer;

impl<S: Subscriber> Layer<S> for ForwardLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let level = level_number(event.metadata().level());
        if level > MAX_LEVEL.load(Ordering::Relaxed) || is_in_log_callback() {
            return;
        }
        let sink = SINK.read();
        let Some(sink) = sink.as_ref() else { return };
        let mut visitor = MessageVisitor::default();
        event.record(&mut visitor);
        let text = format!("{}{}", visitor.message, visitor.fields).replace('\0', "\u{FFFD}");
        let (Ok(target), Ok(message)) =
            (CString::new(event.metadata().target()), CString::new(text))
        else {
            return;
        };
        // SAFETY: the caller's callback, with strings valid for the call.
        in_log_callback(|| unsafe {
            (sink.callback)(
                sink.user_data.ptr(),
                level,
                target.as_ptr(),
                message.as_ptr(),
            )
        });
    }
}

fn install() -> Result<(), FfiError> {
    INSTALLED
        .get_or_init(|| {
            let subscriber = tracing_subscriber::registry().with(ForwardLayer);
            tracing::subscriber::set_global_default(subscriber)
                .map_err(|_| "another tracing subscriber is already installed in this process: wasmhost cannot route its logs".to_string())
        })
        .clone()
        .map_err(FfiError::invalid)
}

/// Routes the library's logs at `max_level` (a wasmhost_log_level_t value) and more severe to
/// `callback`. The first call installs the library's log layer as the process-wide `tracing`
/// subscriber (once; it fails with WASMHOST_ERR_INVALID_INPUT if another one is installed); later
/// calls replace the callback (the previous `free_user_data` runs after its last record) or, with
/// `callback` NULL, stop forwarding (then `free_user_data`, if given, runs at once). Not blocking;
/// must not be called from inside a log callback (WASMHOST_ERR_WOULD_DEADLOCK).
#[no_mangle]
pub extern "C" fn wasmhost_log_set_callback(
    callback: wasmhost_log_callback_t,
    max_level: i32,
    user_data: *mut c_void,
    free_user_data: wasmhost_free_fn_t,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        if is_in_log_callback() {
            return Err(FfiError::new(
                wasmhost_result_t::WASMHOST_ERR_WOULD_DEADLOCK,
                "wasmhost_log_set_callback must not be called from a log callback",
            ));
        }
        if callback.is_some() && !(1..=5).contains(&max_level) {
            return Err(FfiError::invalid(format!(
                "max_level {max_level} is not a wasmhost_log_level_t (1 = error ... 5 = trace)"
            )));
        }
        if callback.is_some() {
            install()?;
        }
        let user_data = UserData::new(user_data, free_user_data);
        let new_sink = callback.map(|callback| Sink {
            callback,
            user_data,
        });
        let level = if new_sink.is_some() { max_level } else { 0 };
        let old = std::mem::replace(&mut *SINK.write(), new_sink);
        MAX_LEVEL.store(level, Ordering::Relaxed);
        tracing::callsite::rebuild_interest_cache();
        drop(old);
        Ok(())
    })
}
