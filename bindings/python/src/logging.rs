//! Routes the host's `tracing` output to Python's `logging` (logger `wasmhost.<module>`).
//!
//! The layer never takes the GIL on the thread that logs: a runtime worker may hold a host lock
//! while it logs, and a Python thread may wait for that lock. Records go through a channel to one
//! forwarding thread that calls `logging.getLogger(name).log(level, message)`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc::{self, Sender, SyncSender};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use pyo3::prelude::*;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

use crate::attach::with_python;

/// Lowest Python level number forwarded (20 = INFO until Python says otherwise).
static THRESHOLD: AtomicU8 = AtomicU8::new(20);
/// Records of crates other than ours are forwarded from this level up (WARNING).
const FOREIGN_THRESHOLD: u8 = 30;

enum Message {
    Record {
        logger: String,
        level: u8,
        text: String,
    },
    Flush(SyncSender<()>),
}

fn python_level(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 40,
        Level::WARN => 30,
        Level::INFO => 20,
        Level::DEBUG => 10,
        _ => 5,
    }
}

fn wanted(meta: &Metadata<'_>) -> bool {
    let level = python_level(meta.level());
    let threshold = THRESHOLD.load(Ordering::Relaxed);
    if meta.target().starts_with("wasmhost") {
        level >= threshold
    } else {
        level >= threshold.max(FOREIGN_THRESHOLD)
    }
}

fn logger_name(target: &str) -> String {
    let dotted = target.replace("::", ".");
    if dotted.starts_with("wasmhost") {
        dotted
    } else {
        format!("wasmhost.deps.{dotted}")
    }
}

fn sender() -> &'static Mutex<Sender<Message>> {
    static SENDER: OnceLock<Mutex<Sender<Message>>> = OnceLock::new();
    SENDER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Message>();
        std::thread::Builder::new()
            .name("wasmhost-log".into())
            .spawn(move || {
                for message in rx {
                    match message {
                        Message::Record {
                            logger,
                            level,
                            text,
                        } => {
                            // Records logged while Python exits are dropped.
                            with_python(|py| {
                                let logged = py
                                    .import("logging")
                                    .and_then(|logging| {
                                        logging.call_method1("getLogger", (logger,))
                                    })
                                    .and_then(|log| log.call_method1("log", (level, "%s", text)));
                                if let Err(e) = logged {
                                    e.print(py);
                                }
                            });
                        }
                        Message::Flush(done) => {
                            let _ = done.send(());
                        }
                    }
                }
            })
            .expect("cannot start the log forwarding thread");
        Mutex::new(tx)
    })
}

/// Collects an event's message and fields into one line: `message key=value ...`.
#[derive(Default)]
struct Line(String, String);

impl Visit for Line {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.1, " {}={}", field.name(), value);
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.1, " {}={:?}", field.name(), value);
        }
    }
}

struct PythonLogLayer;

impl<S: Subscriber> Layer<S> for PythonLogLayer {
    fn register_callsite(
        &self,
        _meta: &'static Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        // The threshold changes at run time, so ask `enabled` every time.
        tracing::subscriber::Interest::sometimes()
    }
    fn enabled(&self, meta: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        wanted(meta)
    }
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if !wanted(meta) {
            return;
        }
        let mut line = Line::default();
        event.record(&mut line);
        let message = Message::Record {
            logger: logger_name(meta.target()),
            level: python_level(meta.level()),
            text: line.0 + &line.1,
        };
        if let Ok(tx) = sender().lock() {
            let _ = tx.send(message);
        }
    }
}

/// Installs the layer as the process's tracing subscriber, once. If the process already has one
/// (another extension installed it), that one stays and logs do not reach Python.
pub(crate) fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        if tracing_subscriber::registry().with(PythonLogLayer).try_init().is_err() {
            eprintln!("wasmhost: a tracing subscriber is already installed; host logs will not reach Python's logging");
        }
    });
}

/// Sets the lowest Python level number that is forwarded (`logging.DEBUG` = 10, ...).
#[pyfunction]
pub(crate) fn set_log_level(level: i64) {
    THRESHOLD.store(level.clamp(1, 50) as u8, Ordering::Relaxed);
}

/// Waits (GIL released, at most `timeout` seconds) until every record logged so far has been
/// handed to Python's `logging`. Returns whether it got there in time.
#[pyfunction]
#[pyo3(signature = (timeout=5.0))]
pub(crate) fn flush_logs(py: Python<'_>, timeout: f64) -> bool {
    let (done_tx, done_rx) = mpsc::sync_channel(1);
    let sent = sender()
        .lock()
        .map(|tx| tx.send(Message::Flush(done_tx)).is_ok())
        .unwrap_or(false);
    sent && py.detach(move || {
        done_rx
            .recv_timeout(Duration::from_secs_f64(timeout.clamp(0.0, 3600.0)))
            .is_ok()
    })
}
