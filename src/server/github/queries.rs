//! `github_installation_tokens`: installation tokens cached encrypted, with
//! their expiry (sealing and opening them is the caller's).

use chrono::{DateTime, Utc};
use sqlx::PgPool;

pub async fn store_token(
    pool: &PgPool,
    installation_github_id: i64,
    sealed: &[u8],
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"INSERT INTO github_installation_tokens (installation_github_id, token, expires_at)
               VALUES ($1, $2, $3)
               ON CONFLICT (installation_github_id) DO UPDATE
               SET token = EXCLUDED.token, expires_at = EXCLUDED.expires_at, created_at = now()"#,
        installation_github_id,
        sealed,
        expires_at as _, // chrono's; with time's feature on (tower-sessions), the macro expects time's
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The sealed token, if it has more than `margin_secs` left.
pub async fn token_lasting(
    pool: &PgPool,
    installation_github_id: i64,
    margin_secs: f64,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT token FROM github_installation_tokens
               WHERE installation_github_id = $1 AND expires_at > now() + make_interval(secs => $2)"#,
        installation_github_id,
        margin_secs,
    )
    .fetch_optional(pool)
    .await
}

pub async fn forget_token(pool: &PgPool, installation_github_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM github_installation_tokens WHERE installation_github_id = $1", installation_github_id)
        .execute(pool)
        .await?;
    Ok(())
}
