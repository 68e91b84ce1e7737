//! Typed configuration, read once from the environment (and an optional `.env`).
//!
//! Every variable is validated at start-up; an error names the variable and says
//! what is wrong with it, so a newcomer never has to read a stack trace.

use std::{fmt, net::SocketAddr, str::FromStr};

use leptos::config::LeptosOptions;

use super::{crypto::TokenCipher, github::config::GitHubConfig, webhooks::worker::WorkerConfig};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{var} is invalid: {reason}")]
    Invalid { var: &'static str, reason: String },
}

/// A secret that never appears in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// A database URL; never printed whole because it may carry a password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let invalid = |reason: &str| ConfigError::Invalid { var: "DATABASE_URL", reason: reason.to_owned() };
        let rest = raw
            .strip_prefix("postgres://")
            .or_else(|| raw.strip_prefix("postgresql://"))
            .ok_or_else(|| invalid("expected postgres://user@host:port/database"))?;
        if rest.is_empty() || rest.starts_with('/') {
            return Err(invalid("no host given"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DatabaseUrl(..)")
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub db_max_connections: u32,
    /// Where the server listens and where the page's assets live.
    pub leptos: LeptosOptions,
    /// The origin people reach forgelink at (`FORGELINK_PUBLIC_URL`); when unset,
    /// `http://` and the address the server listens on.
    pub public_url: Option<String>,
    /// Encrypts GitHub tokens at rest (`FORGELINK_ENCRYPTION_KEY`, 32 bytes base64).
    pub cipher: TokenCipher,
    pub github: GitHubConfig,
    /// Webhook workers in this process (`FORGELINK_WORKERS`, 0 for none), their
    /// lease (`FORGELINK_WORKER_LEASE_SECS`) and retry budget (`FORGELINK_EVENT_MAX_ATTEMPTS`).
    pub workers: WorkerConfig,
    /// How often to ask GitHub for failed deliveries to redeliver
    /// (`FORGELINK_RECOVERY_INTERVAL_SECS`, default 600; 0 turns it off).
    pub recovery_interval: Option<std::time::Duration>,
    /// How often each followed repository is read again from GitHub, so a
    /// change whose delivery was lost appears (`FORGELINK_RESYNC_INTERVAL_SECS`,
    /// default 900; 0 turns importing and re-reading off).
    pub resync_interval: Option<std::time::Duration>,
    /// Reverse proxies whose `X-Forwarded-For` is believed
    /// (`FORGELINK_TRUSTED_PROXIES`: addresses or CIDR ranges, comma-separated;
    /// none by default, so the TCP peer is the client).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// What a scraper must present to read `/metrics` (`FORGELINK_METRICS_TOKEN`;
    /// unset: anyone who reaches the address may).
    pub metrics_token: Option<Secret>,
    /// Finished events are deleted after this many days
    /// (`FORGELINK_EVENT_RETENTION_DAYS`, default 30; 0 keeps them for ever).
    pub event_retention_days: Option<u32>,
}

impl Config {
    /// Reads `.env` when present, then the process environment (which wins).
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is normal; a malformed one is a mistake worth reporting.
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(error) if error.not_found() => {}
            Err(error) => return Err(ConfigError::Invalid { var: ".env", reason: error.to_string() }),
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any variable source, so tests need not touch
    /// the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let database_url = lookup("DATABASE_URL")
            .filter(|value| !value.trim().is_empty())
            .ok_or(ConfigError::Missing("DATABASE_URL"))?;
        let database_url = DatabaseUrl::parse(database_url.trim())?;

        let db_max_connections = parse_or("FORGELINK_DB_MAX_CONNECTIONS", &lookup, 10u32)?;
        if db_max_connections == 0 {
            return Err(ConfigError::Invalid {
                var: "FORGELINK_DB_MAX_CONNECTIONS",
                reason: "must be at least 1".into(),
            });
        }

        let site_addr: SocketAddr = parse_or("LEPTOS_SITE_ADDR", &lookup, SocketAddr::from(([127, 0, 0, 1], 3000)))?;
        // cargo-leptos names the built files by their hashes (`hash-files`) and
        // lists them in this file beside the binary; without it, plain names.
        let hash_file = lookup("LEPTOS_HASH_FILE_NAME").unwrap_or_else(|| "hash.txt".into());
        let hash_files = parse_or("LEPTOS_HASH_FILES", &lookup, super::assets::hash_file_path(&hash_file).exists())?;
        let leptos = LeptosOptions::builder()
            .output_name(lookup("LEPTOS_OUTPUT_NAME").unwrap_or_else(|| "forgelink".into()))
            .hash_file(hash_file.into())
            .hash_files(hash_files)
            .site_root(lookup("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".into()))
            .site_pkg_dir(lookup("LEPTOS_SITE_PKG_DIR").unwrap_or_else(|| "pkg".into()))
            .site_addr(site_addr)
            .reload_port(parse_or("LEPTOS_RELOAD_PORT", &lookup, 3001u32)?)
            .env(match lookup("LEPTOS_ENV").as_deref() {
                None | Some("DEV") | Some("dev") | Some("development") => leptos::config::Env::DEV,
                Some("PROD") | Some("prod") | Some("production") => leptos::config::Env::PROD,
                Some(other) => {
                    return Err(ConfigError::Invalid {
                        var: "LEPTOS_ENV",
                        reason: format!("expected DEV or PROD, got {other:?}"),
                    })
                }
            })
            .build();

        let public_url = match lookup("FORGELINK_PUBLIC_URL").filter(|v| !v.trim().is_empty()) {
            None => None,
            Some(raw) => {
                let url = url::Url::parse(raw.trim()).map_err(|e| ConfigError::Invalid {
                    var: "FORGELINK_PUBLIC_URL",
                    reason: format!("{raw:?}: {e}"),
                })?;
                if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                    return Err(ConfigError::Invalid {
                        var: "FORGELINK_PUBLIC_URL",
                        reason: "must be an http(s) origin such as https://forgelink.example.com".into(),
                    });
                }
                Some(url.origin().ascii_serialization())
            }
        };
        let key = lookup("FORGELINK_ENCRYPTION_KEY")
            .filter(|v| !v.trim().is_empty())
            .ok_or(ConfigError::Missing("FORGELINK_ENCRYPTION_KEY"))?;
        let cipher = TokenCipher::from_base64("FORGELINK_ENCRYPTION_KEY", &Secret::new(key))?;

        let trusted_proxies = lookup("FORGELINK_TRUSTED_PROXIES")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| ConfigError::Invalid {
                        var: "FORGELINK_TRUSTED_PROXIES",
                        reason: format!("{entry:?} is neither an IP address nor a CIDR range such as 10.0.0.0/8"),
                    })
            })
            .collect::<Result<_, _>>()?;

        let defaults = WorkerConfig::default();
        let workers = WorkerConfig {
            workers: parse_or("FORGELINK_WORKERS", &lookup, defaults.workers)?,
            lease: std::time::Duration::from_secs(
                parse_or("FORGELINK_WORKER_LEASE_SECS", &lookup, defaults.lease.as_secs())?.max(1),
            ),
            max_attempts: parse_or("FORGELINK_EVENT_MAX_ATTEMPTS", &lookup, defaults.max_attempts)?.max(1),
            ..defaults
        };

        Ok(Self {
            database_url,
            db_max_connections,
            leptos,
            public_url,
            cipher,
            github: GitHubConfig::from_lookup(&lookup)?,
            workers,
            trusted_proxies,
            event_retention_days: match parse_or("FORGELINK_EVENT_RETENTION_DAYS", &lookup, 30u32)? {
                0 => None,
                days => Some(days),
            },
            metrics_token: lookup("FORGELINK_METRICS_TOKEN")
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .map(Secret::new),
            recovery_interval: match parse_or("FORGELINK_RECOVERY_INTERVAL_SECS", &lookup, 600u64)? {
                0 => None,
                secs => Some(std::time::Duration::from_secs(secs)),
            },
            resync_interval: match parse_or("FORGELINK_RESYNC_INTERVAL_SECS", &lookup, 900u64)? {
                0 => None,
                secs => Some(std::time::Duration::from_secs(secs)),
            },
        })
    }
}

fn parse_or<T>(var: &'static str, lookup: &impl Fn(&str) -> Option<String>, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    match lookup(var) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|error: T::Err| ConfigError::Invalid { var, reason: format!("{raw:?}: {error}") }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn database_url_is_required() {
        assert_eq!(config(&[]).unwrap_err(), ConfigError::Missing("DATABASE_URL"));
        assert_eq!(config(&[("DATABASE_URL", "  ")]).unwrap_err(), ConfigError::Missing("DATABASE_URL"));
    }

    #[test]
    fn a_bad_variable_is_named() {
        let error = config(&[("DATABASE_URL", "mysql://x/y")]).unwrap_err();
        assert!(error.to_string().starts_with("DATABASE_URL is invalid"), "{error}");

        let error = config(&[("DATABASE_URL", "postgres://localhost/forgelink"), ("LEPTOS_SITE_ADDR", "localhost")])
            .unwrap_err();
        assert!(error.to_string().starts_with("LEPTOS_SITE_ADDR is invalid"), "{error}");

        let error =
            config(&[("DATABASE_URL", "postgres://localhost/forgelink"), ("FORGELINK_DB_MAX_CONNECTIONS", "0")])
                .unwrap_err();
        assert!(error.to_string().contains("FORGELINK_DB_MAX_CONNECTIONS"), "{error}");
    }
}
