//! The simulator's configuration: the same `GITHUB_*` variables forgelink reads
//! (the simulated App's identity and secrets), plus a few of its own.

use std::{net::SocketAddr, path::PathBuf};

use crate::payloads::AppIdentity;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{var} is invalid: {reason}")]
    Invalid { var: &'static str, reason: String },
}

#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Where the simulator listens (`GITHUB_SIM_ADDR`, default 127.0.0.1:3100).
    pub addr: SocketAddr,
    /// Its origin as browsers see it, when not `http://{addr}` (`GITHUB_SIM_PUBLIC_URL`).
    pub public_url: Option<String>,
    pub app: AppIdentity,
    pub client_secret: String,
    /// Deliveries are signed with the first secret of `GITHUB_WEBHOOK_SECRET`.
    pub webhook_secret: String,
    /// The App's public key, PEM; GitHub keeps only this half (`GITHUB_SIM_PUBLIC_KEY_PATH`).
    pub public_key_pem: String,
    /// Where webhooks go (`GITHUB_SIM_WEBHOOK_URL`).
    pub webhook_url: String,
    /// The App's setup URL, where installers are sent back (`GITHUB_SIM_SETUP_URL`).
    pub setup_url: String,
    /// The OAuth callback URL registered for the App (`GITHUB_SIM_CALLBACK_URL`).
    pub callback_url: String,
    /// A JSON snapshot kept across restarts (`GITHUB_SIM_STATE_FILE`); none in tests.
    pub state_file: Option<PathBuf>,
    /// Seeds the organization `mega-corp` with this many repositories (`GITHUB_SIM_LARGE_ORG_REPOS`).
    pub large_org_repos: Option<usize>,
}

impl SimConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let _ = dotenvy::dotenv();
        let var = |name: &'static str| {
            std::env::var(name).ok().filter(|v| !v.trim().is_empty()).ok_or(ConfigError::Missing(name))
        };
        let invalid = |var: &'static str, reason: String| ConfigError::Invalid { var, reason };
        let forgelink = std::env::var("GITHUB_SIM_FORGELINK_URL").unwrap_or_else(|_| "http://127.0.0.1:3000".into());
        let key_path = var("GITHUB_SIM_PUBLIC_KEY_PATH")?;
        Ok(Self {
            addr: std::env::var("GITHUB_SIM_ADDR")
                .unwrap_or_else(|_| "127.0.0.1:3100".into())
                .parse()
                .map_err(|e| invalid("GITHUB_SIM_ADDR", format!("{e}")))?,
            public_url: std::env::var("GITHUB_SIM_PUBLIC_URL").ok(),
            app: AppIdentity {
                id: var("GITHUB_APP_ID")?.parse().map_err(|e| invalid("GITHUB_APP_ID", format!("{e}")))?,
                slug: var("GITHUB_APP_SLUG")?,
                name: std::env::var("GITHUB_SIM_APP_NAME").unwrap_or_else(|_| "forgelink (simulated)".into()),
                client_id: var("GITHUB_CLIENT_ID")?,
            },
            client_secret: var("GITHUB_CLIENT_SECRET")?,
            webhook_secret: var("GITHUB_WEBHOOK_SECRET")?.split(',').next().unwrap_or_default().trim().to_owned(),
            public_key_pem: std::fs::read_to_string(&key_path)
                .map_err(|e| invalid("GITHUB_SIM_PUBLIC_KEY_PATH", format!("{key_path}: {e}")))?,
            webhook_url: std::env::var("GITHUB_SIM_WEBHOOK_URL")
                .unwrap_or_else(|_| format!("{forgelink}/webhooks/github")),
            setup_url: std::env::var("GITHUB_SIM_SETUP_URL")
                .unwrap_or_else(|_| format!("{forgelink}/integrations/github/setup")),
            callback_url: std::env::var("GITHUB_SIM_CALLBACK_URL")
                .unwrap_or_else(|_| format!("{forgelink}/auth/github/callback")),
            state_file: std::env::var("GITHUB_SIM_STATE_FILE").ok().map(PathBuf::from),
            large_org_repos: match std::env::var("GITHUB_SIM_LARGE_ORG_REPOS") {
                Ok(raw) => Some(raw.parse().map_err(|e| invalid("GITHUB_SIM_LARGE_ORG_REPOS", format!("{e}")))?),
                Err(_) => None,
            },
        })
    }
}
