//! One provider OS process: spawned with HostData on stdin, its output in the host's log, killed
//! with its whole process group.
//!
//! No provider may outlive its host: each runs in its own process group (so a kill reaches its
//! children too) and, on Linux, with a parent-death signal. That signal fires when the *thread*
//! that forked the child exits, so every provider is forked by one spawner thread that lives as
//! long as the process; a host killed with SIGKILL still takes its providers with it.

use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::sync::OnceLock;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::runtime::Handle;
use tokio::sync::oneshot;
use wasmhost_protocol::host_data::HostData;

use crate::{Error, ErrorKind, Result};

/// Environment variables the OTP host passes on to providers (LATTICE.md §4.1); the rest of the
/// host's environment is inherited as well.
const PROPAGATED_ENV: [&str; 2] = ["OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT"];

/// A running provider process. Its stdin stays open for the life of the process: our providers
/// take end-of-file as "the host is gone".
pub(crate) struct ProviderProcess {
    pub(crate) child: Child,
    pub(crate) pid: u32,
    _stdin: ChildStdin,
}

impl ProviderProcess {
    /// Spawns `binary` with no arguments and writes the HostData line to its stdin. Its stdout and
    /// stderr lines are logged as `[{public_key}]: {line}`.
    pub(crate) async fn spawn(binary: &Path, host_data: &HostData) -> Result<ProviderProcess> {
        let mut command = Command::new(binary);
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for name in PROPAGATED_ENV {
            if let Ok(value) = std::env::var(name) {
                command.env(name, value);
            }
        }
        isolate(&mut command);
        let mut child = spawn_on_spawner_thread(command).await.map_err(|e| {
            Error::new(
                ErrorKind::Runtime,
                format!("cannot start provider binary {}: {e}", binary.display()),
            )
        })?;
        let pid = child.id().unwrap_or_default();
        let public_key = host_data.provider_key.clone();
        if let Some(out) = child.stdout.take() {
            tokio::spawn(log_lines(out, public_key.clone()));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(log_lines(err, public_key.clone()));
        }
        let mut stdin = child.stdin.take().expect("stdin was piped");
        let line = host_data.to_stdin_line();
        if let Err(e) = stdin
            .write_all(line.as_bytes())
            .await
            .and(stdin.flush().await)
        {
            kill_group(pid);
            let _ = child.wait().await;
            return Err(Error::new(
                ErrorKind::Runtime,
                format!("provider {public_key} did not take its host data on stdin: {e}"),
            ));
        }
        Ok(ProviderProcess {
            child,
            pid,
            _stdin: stdin,
        })
    }
}

/// SIGKILL to the provider's whole process group. Call it only while the leader is not reaped
/// yet (or just after), so the group id cannot belong to anybody else.
pub(crate) fn kill_group(pid: u32) {
    #[cfg(unix)]
    if pid > 0 {
        // SAFETY: killpg has no memory-safety preconditions.
        unsafe {
            libc::killpg(pid as libc::pid_t, libc::SIGKILL);
        }
    }
    #[cfg(not(unix))]
    let _ = pid;
}

/// Own process group, and (Linux) SIGKILL when the spawner thread, i.e. the host process, dies.
fn isolate(command: &mut Command) {
    #[cfg(unix)]
    {
        let host_pid = std::process::id();
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(move || {
                if libc::setpgid(0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                #[cfg(target_os = "linux")]
                {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    // The host died between fork and prctl: nobody would ever signal us.
                    if libc::getppid() as u32 != host_pid {
                        libc::_exit(1);
                    }
                }
                let _ = host_pid;
                Ok(())
            });
        }
    }
}

struct SpawnRequest {
    command: Command,
    runtime: Handle,
    reply: oneshot::Sender<std::io::Result<Child>>,
}

/// Forks on the process-lifetime spawner thread (see the module docs), inside the caller's runtime
/// so tokio reaps the child.
async fn spawn_on_spawner_thread(command: Command) -> std::io::Result<Child> {
    static SPAWNER: OnceLock<mpsc::Sender<SpawnRequest>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("wasmhost-provider-spawner".into())
            .spawn(move || {
                for mut request in rx {
                    let _runtime = request.runtime.enter();
                    let _ = request.reply.send(request.command.spawn());
                }
            })
            .expect("cannot start the provider spawner thread");
        tx
    });
    let (reply, answer) = oneshot::channel();
    spawner
        .send(SpawnRequest {
            command,
            runtime: Handle::current(),
            reply,
        })
        .map_err(|_| std::io::Error::other("the provider spawner thread is gone"))?;
    answer
        .await
        .map_err(|_| std::io::Error::other("the provider spawner thread is gone"))?
}

async fn log_lines(stream: impl tokio::io::AsyncRead + Unpin, public_key: String) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::info!(target: "wasmhost::provider", provider = %public_key, "[{public_key}]: {line}");
    }
}
