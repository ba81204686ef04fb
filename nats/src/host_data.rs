//! A provider's connection travels in its HostData (LATTICE.md §4.1): the 2022 fields
//! (`lattice_rpc_url` = the first server as `host:port`, `lattice_rpc_user_jwt`/`_seed`,
//! `lattice_rpc_tls`) say what a wasmbus-rpc 0.11 provider can use; the rest goes in
//! `lattice_rpc_options`, which our provider SDK reads. A creds file is sent as its JWT and
//! seed, so 2022 providers can use it and no provider needs the host's file system.

use std::path::PathBuf;

use wasmhost_protocol::{HostData, LatticeRpcOptions};

use crate::address::{ServerAddress, DEFAULT_PORT};
use crate::settings::{NatsAuth, NatsConnection};
use crate::Result;

/// Writes `conn` into the connection fields of `data`. Fails only if a creds file cannot be read.
pub fn write_host_data(conn: &NatsConnection, data: &mut HostData) -> Result<()> {
    let (jwt, seed) = conn.auth.jwt_and_seed()?;
    data.lattice_rpc_user_jwt = jwt;
    data.lattice_rpc_user_seed = seed;
    data.lattice_rpc_url = conn
        .servers
        .first()
        .map(ServerAddress::host_port)
        .unwrap_or_default();
    data.lattice_rpc_tls = Some(u8::from(conn.tls_required()));
    let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
    let mut options = LatticeRpcOptions {
        tls_ca_file: path(&conn.tls.ca_file),
        tls_cert_file: path(&conn.tls.cert_file),
        tls_key_file: path(&conn.tls.key_file),
        ..Default::default()
    };
    if conn.servers.len() > 1 || conn.servers.iter().any(|s| s.tls) {
        options.servers = conn.servers.iter().map(ToString::to_string).collect();
    }
    match &conn.auth {
        NatsAuth::UserPassword { user, password } => {
            options.user = Some(user.clone());
            options.password = Some(password.clone());
        }
        NatsAuth::Token(token) => options.token = Some(token.clone()),
        _ => {}
    }
    data.lattice_rpc_options = (options != LatticeRpcOptions::default()).then_some(options);
    Ok(())
}

/// The connection a provider opens from its HostData: `lattice_rpc_options.servers`, else
/// `lattice_rpc_url` (`host:port` or a URL; 127.0.0.1:4222 when empty). Settings are not
/// checked here: [`crate::connect`] does.
pub fn from_host_data(data: &HostData) -> Result<NatsConnection> {
    let options = data.lattice_rpc_options.clone().unwrap_or_default();
    let mut conn = NatsConnection::default();
    if !options.servers.is_empty() {
        conn.servers = ServerAddress::parse_list(
            &options.servers.join(","),
            "lattice_rpc_options.servers",
            DEFAULT_PORT,
        )?;
    } else if !data.lattice_rpc_url.trim().is_empty() {
        conn.servers =
            ServerAddress::parse_list(&data.lattice_rpc_url, "lattice_rpc_url", DEFAULT_PORT)?;
    }
    let (jwt, seed) = (
        data.lattice_rpc_user_jwt.trim(),
        data.lattice_rpc_user_seed.trim(),
    );
    conn.auth = match (jwt, seed, options.user, options.password, options.token) {
        (jwt, seed, ..) if !jwt.is_empty() => NatsAuth::Jwt {
            jwt: jwt.to_string(),
            seed: seed.to_string(),
        },
        (_, seed, ..) if !seed.is_empty() => NatsAuth::Nkey {
            seed: seed.to_string(),
        },
        (_, _, Some(user), password, _) => NatsAuth::UserPassword {
            user,
            password: password.unwrap_or_default(),
        },
        (_, _, _, _, Some(token)) => NatsAuth::Token(token),
        _ => NatsAuth::Anonymous,
    };
    conn.tls.required = data.lattice_rpc_tls == Some(1);
    conn.tls.ca_file = options.tls_ca_file.map(PathBuf::from);
    conn.tls.cert_file = options.tls_cert_file.map(PathBuf::from);
    conn.tls.key_file = options.tls_key_file.map(PathBuf::from);
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(conn: &NatsConnection) -> (HostData, NatsConnection) {
        let mut data = HostData::default();
        write_host_data(conn, &mut data).unwrap();
        let parsed = HostData::from_json(&data.to_json()).unwrap();
        assert_eq!(parsed, data);
        let back = from_host_data(&parsed).unwrap();
        (data, back)
    }

    #[test]
    fn a_plain_connection_uses_only_the_2022_fields() {
        let conn = NatsConnection::from_url("nats://10.0.0.1:4333").unwrap();
        let (data, back) = round_trip(&conn);
        assert_eq!(
            (data.lattice_rpc_url.as_str(), data.lattice_rpc_tls),
            ("10.0.0.1:4333", Some(0))
        );
        assert_eq!(data.lattice_rpc_options, None);
        assert!(!String::from_utf8(data.to_json())
            .unwrap()
            .contains("lattice_rpc_options"));
        assert_eq!(back, conn);
    }

    #[test]
    fn every_setting_survives_the_trip() {
        let seed = nkeys::KeyPair::new_user().seed().unwrap();
        for auth in [
            NatsAuth::UserPassword {
                user: "u".into(),
                password: "p".into(),
            },
            NatsAuth::Token("t".into()),
            NatsAuth::Nkey { seed: seed.clone() },
            NatsAuth::Jwt {
                jwt: "a.b.c".into(),
                seed: seed.clone(),
            },
        ] {
            let mut conn = NatsConnection::from_url("a:1,tls://b:2")
                .unwrap()
                .with_auth(auth);
            conn.tls.ca_file = Some("/etc/ca.pem".into());
            conn.tls.cert_file = Some("/etc/c.pem".into());
            conn.tls.key_file = Some("/etc/k.pem".into());
            let (data, back) = round_trip(&conn);
            assert_eq!(
                (data.lattice_rpc_url.as_str(), data.lattice_rpc_tls),
                ("a:1", Some(1))
            );
            assert_eq!(back.servers, conn.servers);
            assert_eq!(back.auth, conn.auth);
            assert_eq!(back.tls.ca_file, conn.tls.ca_file);
            assert_eq!(
                (back.tls.cert_file, back.tls.key_file),
                (conn.tls.cert_file.clone(), conn.tls.key_file.clone())
            );
        }
    }

    #[test]
    fn hostdata_from_a_2022_host_still_reads() {
        let data = HostData {
            lattice_rpc_url: "127.0.0.1:4999".into(),
            ..Default::default()
        };
        assert_eq!(
            from_host_data(&data).unwrap().url(),
            "nats://127.0.0.1:4999"
        );
        assert_eq!(
            from_host_data(&HostData::default()).unwrap().url(),
            "nats://127.0.0.1:4222"
        );
        let tls = HostData {
            lattice_rpc_url: "tls://nats.example:4222".into(),
            ..Default::default()
        };
        assert!(from_host_data(&tls).unwrap().tls_required());
    }
}
