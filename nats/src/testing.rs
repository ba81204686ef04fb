//! Test fixtures (feature `testing`): real `nats-server -js` processes on free loopback ports
//! (plain, with a config such as an `authorization` block or TLS, or clustered by routes), a
//! test PKI made with `openssl`, and operator/account/user JWTs for operator mode with a memory
//! resolver. Processes are killed by PID and their files removed on drop.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use data_encoding::{BASE32_NOPAD, BASE64URL_NOPAD};
use nkeys::KeyPair;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind loopback")
        .local_addr()
        .expect("local addr")
        .port()
}

/// Waits up to 15 s until something accepts connections on `127.0.0.1:port`.
pub fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on port {port}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// The nats-server binary: the repository's `.venv/bin/nats-server` (scripts/setup.sh installs
/// 2.15 there), else `nats-server` on PATH.
pub fn nats_server_binary() -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/nats-server");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("nats-server")
    }
}

/// A fresh directory under the system temp dir, removed by [`TempDir`]'s drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `{tmp}/wasmhost-{label}-{pid}-{n}`.
    pub fn new(label: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "wasmhost-{label}-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&path).expect("temp dir");
        TempDir(path)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A `nats-server -js` on a loopback port with its store in a fresh directory.
pub struct NatsServer {
    child: Option<Child>,
    /// The client port.
    pub port: u16,
    /// The HTTP monitoring port (`/healthz` says when JetStream is ready).
    pub monitor_port: u16,
    dir: TempDir,
    config: Option<PathBuf>,
}

impl NatsServer {
    /// A server on a free port.
    pub fn start() -> NatsServer {
        Self::launch(free_port(), None)
    }

    /// A server on a port chosen earlier (a client may already be waiting for it there).
    pub fn start_on(port: u16) -> NatsServer {
        Self::launch(port, None)
    }

    /// A server that also reads `config` (nats-server config syntax: an `authorization` block,
    /// `tls { ... }`, operator mode, ...).
    pub fn start_with_config(config: &str) -> NatsServer {
        Self::start_on_with_config(free_port(), config)
    }

    /// [`start_with_config`](Self::start_with_config) on a chosen port.
    pub fn start_on_with_config(port: u16, config: &str) -> NatsServer {
        Self::launch(port, Some(config))
    }

    /// `n` servers joined by routes into one cluster (JetStream clustered over them), each ready.
    pub fn start_cluster(n: usize) -> Vec<NatsServer> {
        let name = format!("c{}", free_port());
        let ports: Vec<(u16, u16)> = (0..n).map(|_| (free_port(), free_port())).collect();
        let routes: Vec<String> = ports
            .iter()
            .map(|(_, route)| format!("\"nats-route://127.0.0.1:{route}\""))
            .collect();
        let servers: Vec<NatsServer> = ports
            .iter()
            .enumerate()
            .map(|(i, (port, route))| {
                let config = format!(
                    "server_name: {name}-n{i}\ncluster {{\n  name: {name}\n  listen: \"127.0.0.1:{route}\"\n  routes: [{}]\n}}\n",
                    routes.join(", ")
                );
                Self::spawn_new(*port, Some(&config))
            })
            .collect();
        for server in &servers {
            server.wait_ready();
        }
        servers
    }

    fn launch(port: u16, config: Option<&str>) -> NatsServer {
        let server = Self::spawn_new(port, config);
        server.wait_ready();
        server
    }

    fn spawn_new(port: u16, config: Option<&str>) -> NatsServer {
        let dir = TempDir::new("nats");
        let config = config.map(|text| {
            let path = dir.path().join("server.conf");
            std::fs::write(&path, text).expect("config file");
            path
        });
        let mut server = NatsServer {
            child: None,
            port,
            monitor_port: free_port(),
            dir,
            config,
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let mut command = Command::new(nats_server_binary());
        if let Some(config) = &self.config {
            command.arg("-c").arg(config);
        }
        let log = std::fs::File::create(self.dir.path().join("server.log")).expect("log file");
        let child = command
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-m",
                &self.monitor_port.to_string(),
                "-sd",
            ])
            .arg(self.dir.path().join("store"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("nats-server must be installed (scripts/setup.sh puts it in .venv/bin)");
        self.child = Some(child);
    }

    /// Waits up to 30 s for the client port and for `/healthz` to report JetStream ready.
    pub fn wait_ready(&self) {
        wait_for_port(self.port);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.healthy() {
            assert!(
                Instant::now() < deadline,
                "nats-server on {} not healthy; log:\n{}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn healthy(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.monitor_port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        if stream
            .write_all(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .is_err()
        {
            return false;
        }
        let mut reply = String::new();
        let _ = stream.read_to_string(&mut reply);
        reply.starts_with("HTTP/1.0 200") || reply.starts_with("HTTP/1.1 200")
    }

    /// What the server wrote to stderr so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// `nats://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server (its store stays).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the server and starts it again on the same port with the same store and config.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
        self.wait_ready();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `openssl req` arguments for a new unencrypted EC P-256 key.
const NEW_EC_KEY: &[&str] = &[
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
];

/// A CA, a server certificate for 127.0.0.1/localhost and a client certificate signed by it,
/// plus a second CA that signed nothing (to show an untrusted server), made with `openssl`.
pub struct TestPki {
    dir: TempDir,
}

impl TestPki {
    /// Generates the files (EC P-256 keys, valid for two days).
    pub fn generate() -> TestPki {
        let dir = TempDir::new("pki");
        let pki = TestPki { dir };
        pki.ca("ca");
        pki.ca("other-ca");
        pki.leaf(
            "server",
            "127.0.0.1",
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
        );
        pki.leaf(
            "client",
            "wasmhost-test-client",
            "extendedKeyUsage=clientAuth\n",
        );
        pki
    }

    fn openssl(&self, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("openssl must be installed (scripts/setup.sh)");
        assert!(
            out.status.success(),
            "openssl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn ca(&self, name: &str) {
        let (key, cert, subject) = (
            format!("{name}.key"),
            format!("{name}.pem"),
            format!("/CN=wasmhost test {name}"),
        );
        self.openssl(
            &[
                &["req", "-x509"],
                NEW_EC_KEY,
                &[
                    "-keyout", &key, "-out", &cert, "-days", "2", "-subj", &subject,
                ],
            ]
            .concat(),
        );
    }

    fn leaf(&self, name: &str, cn: &str, extensions: &str) {
        let ext = format!("{name}.ext");
        std::fs::write(self.dir.path().join(&ext), extensions).expect("extension file");
        let (key, csr, cert, subject) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
            format!("/CN={cn}"),
        );
        self.openssl(
            &[
                &["req"],
                NEW_EC_KEY,
                &["-keyout", &key, "-out", &csr, "-subj", &subject],
            ]
            .concat(),
        );
        self.openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &cert,
            "-days",
            "2",
            "-extfile",
            &ext,
        ]);
    }

    /// A file of the PKI: `ca.pem`, `other-ca.pem`, `server.pem`, `server.key`, `client.pem`, `client.key`.
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    /// A `tls { }` block for nats-server with the server certificate; `verify` asks clients
    /// for a certificate signed by the CA.
    pub fn server_config(&self, verify: bool) -> String {
        format!(
            "tls {{\n  cert_file: \"{}\"\n  key_file: \"{}\"\n  ca_file: \"{}\"\n  verify: {verify}\n  timeout: 5\n}}\n",
            self.path("server.pem").display(),
            self.path("server.key").display(),
            self.path("ca.pem").display()
        )
    }
}

/// An operator, a JetStream-enabled account and the system account, for a nats-server in
/// operator mode with a memory resolver; issues user JWTs signed by the account.
pub struct TestOperator {
    operator: KeyPair,
    account: KeyPair,
    system: KeyPair,
    dir: TempDir,
}

impl TestOperator {
    /// Fresh keys.
    pub fn new() -> TestOperator {
        TestOperator {
            operator: KeyPair::new_operator(),
            account: KeyPair::new_account(),
            system: KeyPair::new_account(),
            dir: TempDir::new("operator"),
        }
    }

    /// The server configuration: `operator`, `system_account`, `resolver: MEMORY` with both
    /// accounts preloaded.
    pub fn server_config(&self) -> String {
        let operator_jwt = encode_jwt(
            &self.operator,
            &self.operator.public_key(),
            "test operator",
            json!({"type": "operator", "version": 2}),
        );
        let operator_file = self.dir.path().join("operator.jwt");
        std::fs::write(&operator_file, operator_jwt).expect("operator jwt");
        let limits = json!({"subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1, "wildcards": true, "conn": -1, "leaf": -1,
            "mem_storage": -1, "disk_storage": -1, "streams": -1, "consumer": -1, "max_ack_pending": -1});
        let account = encode_jwt(
            &self.operator,
            &self.account.public_key(),
            "lattice",
            json!({"limits": limits, "default_permissions": {"pub": {}, "sub": {}}, "type": "account", "version": 2}),
        );
        let system = encode_jwt(
            &self.operator,
            &self.system.public_key(),
            "system",
            json!({"limits": {"subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1, "wildcards": true, "conn": -1, "leaf": -1},
                   "default_permissions": {"pub": {}, "sub": {}}, "type": "account", "version": 2}),
        );
        format!(
            "operator: \"{}\"\nsystem_account: {}\nresolver: MEMORY\nresolver_preload: {{\n  {}: \"{account}\"\n  {}: \"{system}\"\n}}\n",
            operator_file.display(),
            self.system.public_key(),
            self.account.public_key(),
            self.system.public_key()
        )
    }

    /// A new user of the account: its JWT and seed.
    pub fn user(&self, name: &str) -> (String, String) {
        let user = KeyPair::new_user();
        let jwt = encode_jwt(
            &self.account,
            &user.public_key(),
            name,
            json!({"pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1, "type": "user", "version": 2}),
        );
        (jwt, user.seed().expect("user seed"))
    }

    /// A `.creds` file for a new user, as `nsc generate creds` writes it.
    pub fn creds_file(&self, name: &str) -> PathBuf {
        let (jwt, seed) = self.user(name);
        let path = self.dir.path().join(format!("{name}.creds"));
        let text = format!(
            "-----BEGIN NATS USER JWT-----\n{jwt}\n------END NATS USER JWT------\n\n************************* IMPORTANT *************************\nNKEY Seed printed below can be used to sign and prove identity.\nNKEYs are sensitive and should be treated as secrets.\n\n-----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n\n*************************************************************\n"
        );
        std::fs::write(&path, text).expect("creds file");
        path
    }
}

impl Default for TestOperator {
    fn default() -> Self {
        Self::new()
    }
}

/// A NATS JWT (`alg: ed25519-nkey`) for `subject`, signed by `issuer`; `jti` is the base32
/// SHA-256 of the claims, as the nats jwt library makes it.
fn encode_jwt(issuer: &KeyPair, subject: &str, name: &str, nats: Value) -> String {
    let iat = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let mut claims =
        json!({"iat": iat, "iss": issuer.public_key(), "name": name, "sub": subject, "nats": nats});
    let jti = BASE32_NOPAD.encode(&Sha256::digest(claims.to_string().as_bytes()));
    claims["jti"] = jti.into();
    let header = BASE64URL_NOPAD.encode(
        json!({"typ": "JWT", "alg": "ed25519-nkey"})
            .to_string()
            .as_bytes(),
    );
    let body = BASE64URL_NOPAD.encode(claims.to_string().as_bytes());
    let signed = format!("{header}.{body}");
    let signature = issuer.sign(signed.as_bytes()).expect("sign JWT");
    format!("{signed}.{}", BASE64URL_NOPAD.encode(&signature))
}
