//! The accounts domain's SQL.

use sqlx::{PgExecutor, PgPool};

pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub github_id: Option<i64>,
    pub github_login: Option<String>,
    pub github_avatar_url: Option<String>,
    pub github_reconnect_needed: bool,
}

/// Inserts a user, never an operator.
pub async fn insert_user(pool: &PgPool, email: &str, display_name: &str, password_hash: &str) -> Result<UserRow, sqlx::Error> {
    sqlx::query_as!(
        UserRow,
        r#"INSERT INTO users (email, display_name, password_hash)
           VALUES ($1, $2, $3)
           RETURNING id, email, display_name, password_hash, is_admin,
                     github_id, github_login, github_avatar_url, github_reconnect_needed"#,
        email,
        display_name,
        password_hash,
    )
    .fetch_one(pool)
    .await
}

pub async fn user_by_email(pool: &PgPool, email: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as!(
        UserRow,
        r#"SELECT id, email, display_name, password_hash, is_admin,
                  github_id, github_login, github_avatar_url, github_reconnect_needed
           FROM users WHERE email = $1"#,
        email,
    )
    .fetch_optional(pool)
    .await
}

pub async fn set_admin(pool: &PgPool, email: &str, admin: bool) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as!(
        UserRow,
        r#"UPDATE users SET is_admin = $2 WHERE email = $1
           RETURNING id, email, display_name, password_hash, is_admin,
                     github_id, github_login, github_avatar_url, github_reconnect_needed"#,
        email,
        admin,
    )
    .fetch_optional(pool)
    .await
}

pub async fn admins(pool: &PgPool) -> Result<Vec<UserRow>, sqlx::Error> {
    sqlx::query_as!(
        UserRow,
        r#"SELECT id, email, display_name, password_hash, is_admin,
                  github_id, github_login, github_avatar_url, github_reconnect_needed
           FROM users WHERE is_admin ORDER BY email"#,
    )
    .fetch_all(pool)
    .await
}

pub async fn user_by_id(pool: &PgPool, id: i64) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as!(
        UserRow,
        r#"SELECT id, email, display_name, password_hash, is_admin,
                  github_id, github_login, github_avatar_url, github_reconnect_needed
           FROM users WHERE id = $1"#,
        id,
    )
    .fetch_optional(pool)
    .await
}

pub async fn record_sign_in_failure(pool: &PgPool, email: &str, client_ip: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO sign_in_failures (email, client_ip) VALUES ($1, $2)",
        email,
        client_ip
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Failures in the last `minutes` for this email and from this address.
pub async fn recent_sign_in_failures(
    pool: &PgPool,
    email: &str,
    client_ip: &str,
    minutes: i32,
) -> Result<(i64, i64), sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE email = $1) AS "by_email!",
                  count(*) FILTER (WHERE client_ip = $2) AS "by_ip!"
           FROM sign_in_failures
           WHERE failed_at > now() - make_interval(mins => $3) AND (email = $1 OR client_ip = $2)"#,
        email,
        client_ip,
        minutes,
    )
    .fetch_one(pool)
    .await?;
    Ok((row.by_email, row.by_ip))
}

pub async fn clear_sign_in_failures(pool: &PgPool, email: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM sign_in_failures WHERE email = $1", email)
        .execute(pool)
        .await?;
    Ok(())
}

/// The stored GitHub tokens of a user (ciphertexts), judged by the database's clock.
pub struct StoredTokens {
    pub access_token: Option<Vec<u8>>,
    /// Valid for at least the margin asked for (or never expires).
    pub access_fresh: bool,
    pub refresh_token: Option<Vec<u8>>,
    pub refresh_valid: bool,
}

/// The user's tokens (callers that refresh them hold a lease: see `github_link`).
pub async fn tokens(conn: impl PgExecutor<'_>, user_id: i64, margin_secs: f64) -> Result<Option<StoredTokens>, sqlx::Error> {
    sqlx::query_as!(
        StoredTokens,
        r#"SELECT github_access_token AS access_token,
                  (github_access_token_expires_at IS NULL
                   OR github_access_token_expires_at > now() + make_interval(secs => $2)) AS "access_fresh!",
                  github_refresh_token AS refresh_token,
                  (github_refresh_token_expires_at IS NULL
                   OR github_refresh_token_expires_at > now()) AS "refresh_valid!"
           FROM users WHERE id = $1 AND github_id IS NOT NULL"#,
        user_id,
        margin_secs,
    )
    .fetch_optional(conn)
    .await
}

/// Tokens ready to store: encrypted, with their lifetimes in seconds from now.
pub struct NewTokens {
    pub access_token: Vec<u8>,
    pub access_expires_in: Option<f64>,
    pub refresh_token: Option<Vec<u8>>,
    pub refresh_expires_in: Option<f64>,
}

/// Links a GitHub identity and its tokens, in one statement. Fails with a unique
/// violation when another user already has this GitHub account.
pub async fn link_github(
    pool: &PgPool,
    user_id: i64,
    github_id: i64,
    login: &str,
    avatar_url: &str,
    tokens: &NewTokens,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"UPDATE users SET github_id = $2, github_login = $3, github_avatar_url = $4,
                  github_access_token = $5, github_access_token_expires_at = now() + make_interval(secs => $6),
                  github_refresh_token = $7, github_refresh_token_expires_at = now() + make_interval(secs => $8),
                  github_reconnect_needed = false
           WHERE id = $1"#,
        user_id,
        github_id,
        login,
        avatar_url,
        &tokens.access_token,
        tokens.access_expires_in,
        tokens.refresh_token.as_deref(),
        tokens.refresh_expires_in,
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn store_tokens(conn: impl PgExecutor<'_>, user_id: i64, tokens: &NewTokens) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"UPDATE users SET github_access_token = $2, github_access_token_expires_at = now() + make_interval(secs => $3),
                  github_refresh_token = $4, github_refresh_token_expires_at = now() + make_interval(secs => $5),
                  github_reconnect_needed = false
           WHERE id = $1"#,
        user_id,
        &tokens.access_token,
        tokens.access_expires_in,
        tokens.refresh_token.as_deref(),
        tokens.refresh_expires_in,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets the tokens; `reconnect_needed` says whether the person must connect again.
pub async fn forget_tokens(conn: impl PgExecutor<'_>, user_id: i64, reconnect_needed: bool) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"UPDATE users SET github_access_token = NULL, github_access_token_expires_at = NULL,
                  github_refresh_token = NULL, github_refresh_token_expires_at = NULL,
                  github_reconnect_needed = $2
           WHERE id = $1"#,
        user_id,
        reconnect_needed,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The person revoked the App's authorization on GitHub: their tokens are
/// dead. Returns whether a user has this GitHub account.
pub async fn forget_tokens_of_github_user(pool: &PgPool, github_id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"UPDATE users SET github_access_token = NULL, github_access_token_expires_at = NULL,
                  github_refresh_token = NULL, github_refresh_token_expires_at = NULL,
                  github_reconnect_needed = true
           WHERE github_id = $1"#,
        github_id,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Unlinks the GitHub account entirely.
pub async fn unlink_github(pool: &PgPool, user_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"UPDATE users SET github_id = NULL, github_login = NULL, github_avatar_url = NULL,
                  github_access_token = NULL, github_access_token_expires_at = NULL,
                  github_refresh_token = NULL, github_refresh_token_expires_at = NULL,
                  github_reconnect_needed = false
           WHERE id = $1"#,
        user_id,
    )
    .execute(pool)
    .await?;
    Ok(())
}
