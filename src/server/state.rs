//! What every handler and server function can reach.

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::PgPool;

use std::sync::Arc;

use super::{
    config::Secret,
    crypto::TokenCipher,
    github::{client::GitHubClient, installation_tokens::InstallationTokens},
    live::Live,
    metrics::Metrics,
    shutdown::Stopping,
    webhooks::{intake::LargeBodies, writer::DeliveryWriter},
};

/// Handlers take the parts they need through `State<T>` (via `FromRef`);
/// server functions get the whole state from Leptos' context.
#[derive(Clone, Debug, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    pub github: GitHubClient,
    /// Installation access tokens, cached and minted one at a time.
    pub installation_tokens: InstallationTokens,
    pub cipher: TokenCipher,
    /// The origin people reach forgelink at, e.g. `http://127.0.0.1:3000`.
    pub public_url: String,
    /// Whether `FORGELINK_PUBLIC_URL` set it (else it is the address listened on).
    pub public_url_configured: bool,
    pub metrics: Arc<Metrics>,
    /// Stores webhook deliveries, many to a commit under load.
    pub deliveries: DeliveryWriter,
    /// Changes heard from PostgreSQL, for pages that follow them live.
    pub live: Live,
    /// Set when the server begins to stop (see `shutdown`).
    pub stopping: Stopping,
    /// What a scraper must present to read `/metrics`, if anything.
    pub metrics_token: Option<Secret>,
    /// Turns for reading large webhook bodies (see `webhooks::intake`).
    pub large_bodies: LargeBodies,
    /// Proxies whose `X-Forwarded-For` names the client (see `security::client_ip`).
    pub trusted_proxies: Arc<[ipnet::IpNet]>,
}

impl AppState {
    /// Reached over https: cookies are `Secure` and browsers are told to stay (HSTS).
    pub fn over_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// Where GitHub sends people back after authorizing (must be the App's callback URL).
    pub fn oauth_callback_url(&self) -> String {
        format!("{}/auth/github/callback", self.public_url)
    }
}
