//! `wasmhost run --watch`: a good rebuild live-updates the actor (revision up, instance count
//! kept, the invocation repeated); a rebuild with a revision that is not higher, or a broken one,
//! keeps the running version and says why; with --signing-keys an old revision is re-signed.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use crate::up_support::*;
use nkeys::KeyPair;

/// A `wasmhost run --watch` child with its stderr lines; interrupted and reaped on drop.
struct Watching {
    child: Child,
    stderr: Receiver<String>,
    stdout: Receiver<String>,
}

fn lines(reader: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(reader).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

impl Watching {
    fn start(file: &std::path::Path, extra: &[&str]) -> Watching {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wasmhost"))
            .arg("run")
            .arg(file)
            .args([
                "--watch",
                "--count",
                "2",
                "--op",
                "Echo.Echo",
                "--raw",
                "--data",
                "hi",
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("wasmhost run starts");
        let stdout = lines(child.stdout.take().unwrap());
        let stderr = lines(child.stderr.take().unwrap());
        let watching = Watching {
            child,
            stderr,
            stdout,
        };
        watching.expect("with 2 instance(s)");
        watching.expect("watching ");
        watching
    }

    /// Waits (up to 60 s) for a stderr line containing `needle`; that line.
    fn expect(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match self
                .stderr
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(e) => panic!("no stderr line with {needle:?}: {e}"),
            }
        }
    }

    fn replies(&self) -> usize {
        self.stdout.try_iter().filter(|l| l == "hi").count()
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn work_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "wasmhost-watch-{}",
        KeyPair::new_user().public_key()[1..9].to_lowercase()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn rebuilds_update_the_running_actor_and_broken_ones_are_refused() {
    let dir = work_dir();
    let file = dir.join("echo.wasm");
    std::fs::write(&file, echo_build(1, "v1")).unwrap();
    let run = Watching::start(&file, &[]);

    rebuild(&file, &echo_build(3, "v3"));
    let updated = run.expect("updated to revision");
    assert!(updated.contains("revision 3 (2 instance(s))"), "{updated}");
    // Same revision, no signing keys: refused with the way out.
    rebuild(&file, &echo_build(3, "v3-again"));
    let refused = run.expect("rebuild refused");
    assert!(
        refused.contains("revision 3 keeps running") && refused.contains("not higher"),
        "{refused}"
    );
    assert!(run.expect("hot reload: ").contains("--signing-keys"));
    // Not wasm at all.
    rebuild(&file, b"not a module");
    let broken = run.expect("rebuild refused");
    assert!(broken.contains("revision 3 keeps running"), "{broken}");
    // The running version still answers: a good rebuild after the broken one works.
    rebuild(&file, &echo_build(4, "v4"));
    assert!(run
        .expect("updated to revision")
        .contains("revision 4 (2 instance(s))"));
    // The invocation runs at start and after each of the two updates (polled with a bound).
    let (mut replies, deadline) = (0, Instant::now() + Duration::from_secs(30));
    while replies < 3 {
        assert!(Instant::now() < deadline, "only {replies} replies printed");
        replies += run.replies();
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(run);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_old_revision_is_re_signed_with_the_signing_keys() {
    let dir = work_dir();
    let file = dir.join("echo.wasm");
    std::fs::write(&file, echo_build(2, "v2")).unwrap();
    let keys = examples().join("keys").display().to_string();
    let run = Watching::start(&file, &["--signing-keys", &keys]);
    rebuild(&file, &echo_build(1, "older"));
    run.expect("re-signed the rebuild with revision 3");
    assert!(run
        .expect("updated to revision")
        .contains("revision 3 (2 instance(s))"));
    drop(run);
    std::fs::remove_dir_all(dir).unwrap();
}
