//! Installation access tokens: minted with the App's JWT, cached encrypted in
//! PostgreSQL with their expiry, replaced a few minutes before they expire.
//! One mint at a time per installation, on this instance (a mutex) and across
//! instances (a lease), so a burst of work never stampedes GitHub.

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex},
};

use sqlx::PgPool;

use super::{
    client::{GitHubClient, GitHubError},
    leases, queries,
};
use crate::server::crypto::{CryptoError, TokenCipher};

/// Longer than a mint can take (the client's retries included); a minter that
/// dies lets go after this.
const MINT_LEASE: std::time::Duration = std::time::Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    GitHub(#[from] GitHubError),
    #[error("a cached installation token could not be read: {0}")]
    Crypto(#[from] CryptoError),
    #[error("the database failed: {0}")]
    Database(#[from] sqlx::Error),
}

#[derive(Clone, Debug)]
pub struct InstallationTokens {
    pool: PgPool,
    github: GitHubClient,
    cipher: TokenCipher,
    minting: Arc<Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>>,
}

fn context(installation_github_id: i64) -> String {
    format!("github_installation_tokens.token:{installation_github_id}")
}

impl InstallationTokens {
    pub fn new(pool: PgPool, github: GitHubClient, cipher: TokenCipher) -> Self {
        Self { pool, github, cipher, minting: Default::default() }
    }

    /// A token good for at least a few more minutes.
    pub async fn token(&self, installation_github_id: i64) -> Result<String, TokenError> {
        if let Some(token) = self.cached(installation_github_id).await? {
            return Ok(token);
        }
        let gate = {
            let mut minting = self.minting.lock().unwrap_or_else(|p| p.into_inner());
            minting.entry(installation_github_id).or_default().clone()
        };
        let _held = gate.lock().await;
        let _lease =
            leases::claim(&self.pool, &format!("installation_token:{installation_github_id}"), MINT_LEASE).await?;
        // Whoever held it before us (here or on another instance) may have minted one.
        if let Some(token) = self.cached(installation_github_id).await? {
            return Ok(token);
        }
        // No connection is held while GitHub answers.
        let minted = self.github.create_installation_token(installation_github_id).await?;
        let sealed = self.cipher.encrypt(&minted.token, &context(installation_github_id));
        queries::store_token(&self.pool, installation_github_id, &sealed, minted.expires_at).await?;
        tracing::debug!(installation_github_id, expires_at = %minted.expires_at, "installation token minted");
        Ok(minted.token)
    }

    async fn cached(&self, installation_github_id: i64) -> Result<Option<String>, TokenError> {
        let sealed = queries::token_lasting(&self.pool, installation_github_id, super::REFRESH_MARGIN_SECS).await?;
        Ok(match sealed {
            Some(sealed) => Some(self.cipher.decrypt(&sealed, &context(installation_github_id))?),
            None => None,
        })
    }

    /// Drops the cached token (GitHub refused it, or the installation went away).
    pub async fn forget(&self, installation_github_id: i64) -> Result<(), sqlx::Error> {
        queries::forget_token(&self.pool, installation_github_id).await
    }

    /// Runs `call` with a token; when GitHub answers 401 (the token was revoked
    /// early), mints a new one and tries once more.
    pub async fn with_token<T, F, Fut>(&self, installation_github_id: i64, call: F) -> Result<T, TokenError>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = Result<T, GitHubError>>,
    {
        let token = self.token(installation_github_id).await?;
        match call(token).await {
            Err(GitHubError::Status { status: 401, .. }) => {
                tracing::info!(installation_github_id, "GitHub refused the cached installation token; minting another");
                self.forget(installation_github_id).await?;
                let token = self.token(installation_github_id).await?;
                Ok(call(token).await?)
            }
            other => Ok(other?),
        }
    }
}
