//! Linking a person's GitHub account (the OAuth web flow) and keeping their
//! user access token fresh. Tokens are stored encrypted; the 8-hour access token
//! is refreshed shortly before it expires; a refresh that fails marks the account
//! "reconnect needed" rather than leaving a dead token behind.

use sqlx::PgPool;

use super::queries::{self, NewTokens};
use crate::server::{
    crypto::TokenCipher,
    github::{
        client::{GitHubClient, GitHubError, GitHubUser, UserTokens},
        leases,
    },
};

/// Longer than a refresh can take (the client's retries included).
const REFRESH_LEASE: std::time::Duration = std::time::Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("GitHub did not answer. Nothing was changed; try again in a moment.")]
    GitHubDown(#[source] GitHubError),
    #[error("GitHub refused: {0}")]
    GitHubRefused(#[source] GitHubError),
    #[error("This GitHub account is already connected to another forgelink account.")]
    AlreadyLinked,
    #[error("No GitHub account is connected.")]
    NotConnected,
    #[error("GitHub no longer accepts this connection. Connect your GitHub account again.")]
    ReconnectNeeded,
    #[error("a stored token could not be read: {0}")]
    Crypto(#[from] crate::server::crypto::CryptoError),
    #[error("the database failed: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<GitHubError> for LinkError {
    fn from(error: GitHubError) -> Self {
        if error.is_transient() {
            Self::GitHubDown(error)
        } else {
            Self::GitHubRefused(error)
        }
    }
}

fn access_context(user_id: i64) -> String {
    format!("users.github_access_token:{user_id}")
}

fn refresh_context(user_id: i64) -> String {
    format!("users.github_refresh_token:{user_id}")
}

fn lifetime(seconds: Option<i64>) -> Option<f64> {
    seconds.map(|s| s as f64)
}

/// Exchanges the OAuth code, reads who the user is on GitHub, and links the
/// account with its tokens in one write: on any failure nothing is stored.
pub async fn complete_link(
    pool: &PgPool,
    github: &GitHubClient,
    cipher: &TokenCipher,
    user_id: i64,
    code: &str,
    redirect_uri: &str,
) -> Result<GitHubUser, LinkError> {
    let tokens = github.exchange_code(code, redirect_uri).await?;
    let identity = github.current_user(&tokens.access_token).await?;
    let sealed = seal(cipher, user_id, &tokens);
    match queries::link_github(pool, user_id, identity.id, &identity.login, &identity.avatar_url, &sealed).await {
        Ok(()) => Ok(identity),
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Err(LinkError::AlreadyLinked),
        Err(error) => Err(error.into()),
    }
}

/// A user access token good for at least a few more minutes, refreshing it
/// first when needed. Refresh tokens are single-use (two refreshes would lose
/// the link), so one caller at a time refreshes, under a lease: no connection
/// is held while GitHub answers.
pub async fn user_access_token(
    pool: &PgPool,
    github: &GitHubClient,
    cipher: &TokenCipher,
    user_id: i64,
) -> Result<String, LinkError> {
    if let Access::Fresh(token) = access(pool, cipher, user_id).await? {
        return Ok(token);
    }
    let _lease = leases::claim(pool, &format!("user_token:{user_id}"), REFRESH_LEASE).await?;
    // The last holder may just have refreshed it.
    let stored = match access(pool, cipher, user_id).await? {
        Access::Fresh(token) => return Ok(token),
        Access::Stale(stored) => stored,
    };
    let refresh = match stored.refresh_token {
        Some(token) if stored.refresh_valid => cipher.decrypt(&token, &refresh_context(user_id))?,
        _ => {
            queries::forget_tokens(pool, user_id, true).await?;
            return Err(LinkError::ReconnectNeeded);
        }
    };
    match github.refresh_user_token(&refresh).await {
        Ok(tokens) => {
            queries::store_tokens(pool, user_id, &seal(cipher, user_id, &tokens)).await?;
            Ok(tokens.access_token)
        }
        Err(error) if error.is_transient() => Err(LinkError::GitHubDown(error)),
        Err(error) => {
            tracing::info!(user_id, %error, "GitHub refused the refresh token; reconnect needed");
            queries::forget_tokens(pool, user_id, true).await?;
            Err(LinkError::ReconnectNeeded)
        }
    }
}

enum Access {
    /// Good for a few more minutes.
    Fresh(String),
    /// To be refreshed: what is stored.
    Stale(queries::StoredTokens),
}

async fn access(pool: &PgPool, cipher: &TokenCipher, user_id: i64) -> Result<Access, LinkError> {
    let stored = queries::tokens(pool, user_id, crate::server::github::REFRESH_MARGIN_SECS)
        .await?
        .ok_or(LinkError::NotConnected)?;
    match &stored.access_token {
        None => Err(LinkError::ReconnectNeeded),
        Some(access) if stored.access_fresh => Ok(Access::Fresh(cipher.decrypt(access, &access_context(user_id))?)),
        Some(_) => Ok(Access::Stale(stored)),
    }
}

/// Encrypts a token pair for this user's row.
fn seal(cipher: &TokenCipher, user_id: i64, tokens: &UserTokens) -> NewTokens {
    NewTokens {
        access_token: cipher.encrypt(&tokens.access_token, &access_context(user_id)),
        access_expires_in: lifetime(tokens.expires_in),
        refresh_token: tokens.refresh_token.as_deref().map(|t| cipher.encrypt(t, &refresh_context(user_id))),
        refresh_expires_in: lifetime(tokens.refresh_token_expires_in),
    }
}

/// Forgets the link and its tokens (the person's choice).
pub async fn disconnect(pool: &PgPool, user_id: i64) -> Result<(), sqlx::Error> {
    queries::unlink_github(pool, user_id).await
}

/// `github_app_authorization.revoked`: forget the tokens of whoever has this
/// GitHub account (they must connect again). Whether someone had it.
pub async fn authorization_revoked(pool: &PgPool, github_id: i64) -> Result<bool, sqlx::Error> {
    queries::forget_tokens_of_github_user(pool, github_id).await
}
