//! Configuration: every variable validated at start, errors that name the variable,
//! secrets never printed.
#![cfg(feature = "ssr")]

mod support;

use std::collections::HashMap;

use forgelink::server::config::{Config, ConfigError};
use support::github_env;

fn config(overrides: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let mut vars: HashMap<String, String> = github_env().into_iter().collect();
    vars.insert("DATABASE_URL".into(), "postgres://u:hunter2@db/forgelink".into());
    for (k, v) in overrides {
        vars.insert(k.to_string(), v.to_string());
    }
    vars.retain(|_, v| !v.is_empty());
    Config::from_lookup(|name| vars.get(name).cloned())
}

#[test]
fn defaults_point_at_github_com_and_port_3000() {
    let config = config(&[("GITHUB_API_URL", ""), ("GITHUB_WEB_URL", "")]).expect("valid configuration");
    assert_eq!(config.leptos.site_addr.port(), 3000);
    assert_eq!(config.db_max_connections, 10);
    assert_eq!(config.github.api_url, "https://api.github.com");
    assert_eq!(config.github.web_url, "https://github.com");
}

#[test]
fn several_webhook_secrets_are_accepted_for_rotation() {
    let config = config(&[("GITHUB_WEBHOOK_SECRET", "new-secret, old-secret")]).unwrap();
    let secrets: Vec<_> = config.github.webhook_secrets.iter().map(|s| s.expose().to_owned()).collect();
    assert_eq!(secrets, ["new-secret", "old-secret"]);
}

#[test]
fn secrets_are_never_printed() {
    let config = config(&[]).unwrap();
    let printed = format!("{config:?}");
    let key = github_env().into_iter().find(|(k, _)| k == "FORGELINK_ENCRYPTION_KEY").unwrap().1;
    for secret in ["hunter2", support::github::CLIENT_SECRET, support::github::WEBHOOK_SECRET, "PRIVATE KEY", &key] {
        assert!(!printed.contains(secret), "{secret} printed");
    }
}

#[test]
fn each_bad_variable_is_named() {
    let cases = [
        ("GITHUB_APP_ID", "", "GITHUB_APP_ID is not set"),
        ("GITHUB_APP_ID", "forty-two", "GITHUB_APP_ID is invalid"),
        ("GITHUB_CLIENT_SECRET", "", "GITHUB_CLIENT_SECRET is not set"),
        ("GITHUB_WEBHOOK_SECRET", " , ", "GITHUB_WEBHOOK_SECRET is invalid"),
        ("GITHUB_API_URL", "ftp://example.com", "GITHUB_API_URL is invalid"),
        ("GITHUB_PRIVATE_KEY_PATH", "/no/such/key.pem", "GITHUB_PRIVATE_KEY_PATH is invalid"),
        ("GITHUB_PRIVATE_KEY_PATH", "Cargo.toml", "GITHUB_PRIVATE_KEY_PATH is invalid"),
        ("FORGELINK_ENCRYPTION_KEY", "", "FORGELINK_ENCRYPTION_KEY is not set"),
        ("FORGELINK_ENCRYPTION_KEY", "c2hvcnQ=", "FORGELINK_ENCRYPTION_KEY is invalid"),
        ("FORGELINK_PUBLIC_URL", "forgelink.example.com", "FORGELINK_PUBLIC_URL is invalid"),
    ];
    for (var, value, expected) in cases {
        let error = config(&[(var, value)]).unwrap_err().to_string();
        assert!(error.starts_with(expected), "{var}={value:?}: {error}");
    }
}

/// `.env` in the working directory is read, and a variable the environment
/// sets wins over the file's (the binary, started in a folder of its own).
#[test]
fn dot_env_is_read_and_the_environment_wins() {
    let dir = std::env::temp_dir().join(format!("forgelink-dotenv-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    // A configuration error ends the process at once (status 2), naming the variable.
    let refused = |file: &str, env: &[(&str, &str)]| -> String {
        std::fs::write(dir.join(".env"), file).unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_forgelink"))
            .current_dir(&dir)
            .env_clear()
            .envs(github_env())
            .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/nothing")
            .envs(env.iter().copied())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        for _ in 0..200 {
            if let Some(status) = child.try_wait().unwrap() {
                assert_eq!(status.code(), Some(2), "{file}");
                let mut err = String::new();
                std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
                return err;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = child.kill();
        panic!("started with .env {file:?}: the configuration was not refused");
    };
    let err = refused("FORGELINK_WORKERS=lots\n", &[]);
    assert!(err.contains("FORGELINK_WORKERS is invalid"), "the file is read: {err}");
    let err = refused(
        "FORGELINK_DB_MAX_CONNECTIONS=lots\n",
        &[("FORGELINK_DB_MAX_CONNECTIONS", "5"), ("FORGELINK_WORKERS", "lots")],
    );
    // (FORGELINK_DB_MAX_CONNECTIONS is read first: the file's value would have been refused.)
    assert!(!err.contains("FORGELINK_DB_MAX_CONNECTIONS"), "the environment's value is used, not the file's: {err}");
    assert!(err.contains("FORGELINK_WORKERS is invalid"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
