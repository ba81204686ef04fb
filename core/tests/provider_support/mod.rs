//! Capability providers as shell scripts packed into signed archives, so each test decides how
//! its provider behaves; shared by core/tests/providers.rs and cli/tests/lattice_hosts.rs.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use nkeys::KeyPair;
use wasmhost::protocol::host_data::HostData;
use wasmhost::provider_archive::{create_archive, native_target, ProviderArchiveSpec};
use wasmhost::ProviderSource;

/// The contract every script provider claims.
pub const CONTRACT: &str = "wasmcloud:keyvalue";

/// A provider whose behaviour is a shell script. It records the HostData line and its pid under
/// `dir`, and starts a `sleep` child (to prove the host kills the whole group).
pub struct ScriptProvider {
    pub dir: PathBuf,
    pub archive: PathBuf,
    pub public_key: String,
}

impl ScriptProvider {
    /// `body` runs after the HostData line was saved; `$D` is the provider's directory.
    pub fn new(name: &str, body: &str) -> ScriptProvider {
        let dir = std::env::temp_dir().join(format!(
            "wasmhost-prov-{name}-{}",
            KeyPair::new_user().public_key()[1..9].to_lowercase()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let script = format!(
            "#!/bin/sh\nD={dir}\nread line\nprintf '%s\\n' \"$line\" > $D/hostdata.$$\necho $$ >> $D/pids\necho \"script provider $$ up\" >&2\n{body}\n",
            dir = dir.display()
        );
        let subject = KeyPair::new_service();
        let spec = ProviderArchiveSpec {
            capid: CONTRACT.into(),
            name: Some(format!("script {name}")),
            vendor: "wasmhost tests".into(),
            rev: Some(3),
            ver: Some("0.3.0".into()),
            binaries: BTreeMap::from([(native_target(), script.into_bytes())]),
        };
        let bytes = create_archive(&spec, &KeyPair::new_account(), &subject).unwrap();
        let archive = dir.join(format!("{name}.par.gz"));
        std::fs::write(&archive, bytes).unwrap();
        ScriptProvider {
            dir,
            archive,
            public_key: subject.public_key(),
        }
    }

    pub fn source(&self) -> ProviderSource {
        ProviderSource::File(self.archive.clone())
    }

    pub fn pids(&self) -> Vec<u32> {
        std::fs::read_to_string(self.dir.join("pids"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.parse().ok())
            .collect()
    }

    pub fn host_data(&self, pid: u32) -> HostData {
        let line = std::fs::read_to_string(self.dir.join(format!("hostdata.{pid}"))).unwrap();
        HostData::from_stdin_line(&line).unwrap()
    }

    /// Pids of the `sleep` children the script started.
    pub fn children(&self) -> Vec<u32> {
        std::fs::read_to_string(self.dir.join("children"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.parse().ok())
            .collect()
    }
}

impl Drop for ScriptProvider {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs until killed, with a child in its process group.
pub const RUN_FOREVER: &str = "sleep 600 &\necho $! >> $D/children\nwait";

pub fn alive(pid: u32) -> bool {
    // A zombie has exited; only its parent has not looked yet.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}
