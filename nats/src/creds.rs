//! Seeds, user JWTs and `.creds` files, checked before anything connects.
//!
//! A creds file (what `nsc generate creds` writes) holds a user JWT and that user's seed, each
//! between `-----BEGIN ...-----` / `------END ...------` marker lines, plus a comment.

use std::path::Path;

use data_encoding::BASE64URL_NOPAD;
use nkeys::KeyPair;

use crate::{NatsError, Result};

/// The JWT and seed of a creds file.
pub(crate) struct Creds {
    pub(crate) jwt: String,
    pub(crate) seed: String,
}

/// Secrets stay out of debug output.
impl std::fmt::Debug for Creds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Creds { jwt: <redacted>, seed: <redacted> }")
    }
}

/// The key pair of a user seed (SU...); anything else is refused with the reason.
pub(crate) fn check_user_seed(seed: &str, setting: &str) -> Result<KeyPair> {
    let key = KeyPair::from_seed(seed.trim()).map_err(|e| {
        NatsError::settings(
            setting,
            format!("not a valid nkey seed ({e}); NATS users sign with a user seed (SU...)"),
        )
    })?;
    if !key.public_key().starts_with('U') {
        return Err(NatsError::settings(
            setting,
            format!("is the seed of a {} key, not a user (SU...): NATS accepts only user keys for clients", kind(&key.public_key())),
        ));
    }
    Ok(key)
}

fn kind(public_key: &str) -> &'static str {
    match public_key.chars().next() {
        Some('N') => "server",
        Some('C') => "cluster",
        Some('O') => "operator",
        Some('A') => "account",
        Some('M') => "module",
        Some('V') => "service",
        _ => "non-user",
    }
}

/// The JWT is a NATS user JWT and names the user whose seed signs.
pub(crate) fn check_jwt_and_seed(
    jwt: &str,
    seed: &str,
    jwt_setting: &str,
    seed_setting: &str,
) -> Result<()> {
    let key = check_user_seed(seed, seed_setting)?;
    let subject =
        jwt_subject(jwt.trim()).map_err(|reason| NatsError::settings(jwt_setting, reason))?;
    if subject != key.public_key() {
        return Err(NatsError::settings(
            jwt_setting,
            format!("the JWT is for user {subject}, but the seed is of user {}: they must belong together", key.public_key()),
        ));
    }
    Ok(())
}

/// The `sub` claim of a JWT (not verified: the server does that).
fn jwt_subject(jwt: &str) -> std::result::Result<String, String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [_, claims, _] = parts[..] else {
        return Err("not a JWT (expected three base64url parts separated by dots)".into());
    };
    let bytes = BASE64URL_NOPAD
        .decode(claims.trim_end_matches('=').as_bytes())
        .map_err(|_| "not a JWT (its claims are not base64url)".to_string())?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|_| "not a JWT (its claims are not JSON)".to_string())?;
    claims["sub"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| "the JWT names no user (no `sub` claim)".to_string())
}

/// Reads and checks a creds file; `setting` names it in errors (with the path).
pub(crate) fn read(path: &Path, setting: &str) -> Result<Creds> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        NatsError::settings(
            setting,
            format!("cannot read creds file `{}`: {e}", path.display()),
        )
    })?;
    let creds = parse(&text).ok_or_else(|| {
        NatsError::settings(
            setting,
            format!("`{}` is not a NATS creds file (expected a user JWT and a user seed between BEGIN/END lines, as `nsc` writes)", path.display()),
        )
    })?;
    let in_file = |field: &str| format!("{setting} `{}` ({field})", path.display());
    check_jwt_and_seed(&creds.jwt, &creds.seed, &in_file("JWT"), &in_file("seed"))?;
    Ok(creds)
}

/// The first value after a `BEGIN ... JWT` marker and the first after a `BEGIN ... SEED` marker.
fn parse(text: &str) -> Option<Creds> {
    let mut jwt = None;
    let mut seed = None;
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if !(line.starts_with("---") && line.contains("BEGIN")) {
            continue;
        }
        let value = lines.by_ref().find(|l| !l.is_empty()).map(String::from);
        if line.contains("JWT") && jwt.is_none() {
            jwt = value;
        } else if line.contains("SEED") && seed.is_none() {
            seed = value;
        }
    }
    Some(Creds {
        jwt: jwt?,
        seed: seed?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JWT-shaped token naming `sub` (unsigned: only the shape matters here).
    fn fake_jwt(sub: &str) -> String {
        let encode = |v: serde_json::Value| BASE64URL_NOPAD.encode(v.to_string().as_bytes());
        format!(
            "{}.{}.c2ln",
            encode(serde_json::json!({"typ":"JWT"})),
            encode(serde_json::json!({"sub": sub}))
        )
    }

    #[test]
    fn seeds_must_be_user_seeds() {
        let user = KeyPair::new_user();
        check_user_seed(&user.seed().unwrap(), "seed").unwrap();
        let err = check_user_seed(&KeyPair::new_server().seed().unwrap(), "WASMCLOUD_RPC_SEED")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("WASMCLOUD_RPC_SEED") && err.contains("server key"),
            "{err}"
        );
        let err = check_user_seed("SUgarbage", "seed")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a valid nkey seed"), "{err}");
    }

    #[test]
    fn jwt_and_seed_must_belong_together() {
        let user = KeyPair::new_user();
        let seed = user.seed().unwrap();
        check_jwt_and_seed(&fake_jwt(&user.public_key()), &seed, "jwt", "seed").unwrap();
        let other = KeyPair::new_user().public_key();
        let err = check_jwt_and_seed(&fake_jwt(&other), &seed, "jwt", "seed")
            .unwrap_err()
            .to_string();
        assert!(err.contains("must belong together"), "{err}");
        let err = check_jwt_and_seed("not-a-jwt", &seed, "--nats-jwt", "seed")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--nats-jwt") && err.contains("not a JWT"),
            "{err}"
        );
    }

    #[test]
    fn creds_files_as_nsc_writes_them() {
        let user = KeyPair::new_user();
        let jwt = fake_jwt(&user.public_key());
        let text = format!(
            "-----BEGIN NATS USER JWT-----\n{jwt}\n------END NATS USER JWT------\n\n************************* IMPORTANT *************************\nNKEY Seed printed below can be used to sign and prove identity.\n\n-----BEGIN USER NKEY SEED-----\n{}\n------END USER NKEY SEED------\n",
            user.seed().unwrap()
        );
        let dir = std::env::temp_dir().join(format!("wasmhost-nats-creds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("user.creds");
        std::fs::write(&path, &text).unwrap();
        let creds = read(&path, "creds_file").unwrap();
        assert_eq!(
            (creds.jwt.as_str(), creds.seed),
            (jwt.as_str(), user.seed().unwrap())
        );
        std::fs::write(&path, "just some text\n").unwrap();
        let err = read(&path, "--nats-creds").unwrap_err().to_string();
        assert!(
            err.contains("--nats-creds") && err.contains("not a NATS creds file"),
            "{err}"
        );
        let mismatched = text.replace(&user.seed().unwrap(), &KeyPair::new_user().seed().unwrap());
        std::fs::write(&path, mismatched).unwrap();
        let err = read(&path, "creds_file").unwrap_err().to_string();
        assert!(
            err.contains("user.creds") && err.contains("must belong together"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        let err = read(&dir.join("gone.creds"), "creds_file")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cannot read creds file") && err.contains("gone.creds"),
            "{err}"
        );
    }
}
