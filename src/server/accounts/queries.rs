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
pub async fn insert_user(
    pool: &PgPool,
    email: &str,
    display_name: &str,
    password_hash: &str,
) -> Result<UserRow, sqlx::Error> {
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

/// Counts an attempt against `key` and says whether it may go ahead, in one
/// statement (the row is locked while it decides, so parallel attempts queue).
/// Allowed: the key has been quiet for `quiet_secs` (counting starts again), or
/// it has had fewer than `free` attempts, or `least(cap, base · 2^(attempts -
/// free))` seconds have passed since the last one let through. Refused attempts
/// are not counted: waiting is what lets the next one through. `None`: allowed.
/// `Some(seconds)`: refused, for that much longer.
pub async fn claim_attempt(
    pool: &PgPool,
    key: &str,
    free: i32,
    base_secs: f64,
    cap_secs: f64,
    quiet_secs: f64,
) -> Result<Option<f64>, sqlx::Error> {
    let wait = sqlx::query_scalar!(
        r#"WITH counted AS (
               INSERT INTO auth_throttles AS t (key, attempts) VALUES ($1, 1)
               ON CONFLICT (key) DO UPDATE
               SET attempts = CASE WHEN t.last_at < now() - make_interval(secs => $5) THEN 1 ELSE t.attempts + 1 END,
                   last_at = now()
               WHERE t.last_at < now() - make_interval(secs => $5)
                  OR t.attempts < $2
                  OR t.last_at + make_interval(secs => least($4, $3 * power(2, t.attempts - $2))) <= now()
               RETURNING 1 AS counted
           )
           SELECT greatest(0.5, extract(epoch FROM t.last_at
                  + make_interval(secs => least($4, $3 * power(2, t.attempts - $2))) - now()))::float8 AS "wait!"
           FROM auth_throttles t
           WHERE t.key = $1 AND NOT EXISTS (SELECT 1 FROM counted)"#,
        key,
        free,
        base_secs,
        cap_secs,
        quiet_secs,
    )
    .fetch_optional(pool)
    .await?;
    Ok(wait)
}

/// Takes back one counted attempt (it turned out not to be a failure).
pub async fn uncount_attempt(pool: &PgPool, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE auth_throttles SET attempts = greatest(attempts - 1, 0) WHERE key = $1", key)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn forget_attempts(pool: &PgPool, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM auth_throttles WHERE key = $1", key).execute(pool).await?;
    Ok(())
}

/// Whether this browser has signed in to this account before.
pub async fn known_device(pool: &PgPool, token_hash: &[u8], email: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM sign_in_devices WHERE token_hash = $1 AND email = $2) AS "known!""#,
        token_hash,
        email
    )
    .fetch_one(pool)
    .await
}

pub async fn remember_device(pool: &PgPool, token_hash: &[u8], email: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO sign_in_devices (token_hash, email) VALUES ($1, $2)
         ON CONFLICT (token_hash) DO UPDATE SET email = $2, last_used_at = now()",
        token_hash,
        email
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Deletes throttles quiet for `quiet_secs` and devices unused for `device_secs`.
pub async fn sweep_throttles(pool: &PgPool, quiet_secs: f64, device_secs: f64) -> Result<u64, sqlx::Error> {
    let throttles =
        sqlx::query!("DELETE FROM auth_throttles WHERE last_at < now() - make_interval(secs => $1)", quiet_secs)
            .execute(pool)
            .await?;
    let devices =
        sqlx::query!("DELETE FROM sign_in_devices WHERE last_used_at < now() - make_interval(secs => $1)", device_secs)
            .execute(pool)
            .await?;
    Ok(throttles.rows_affected() + devices.rows_affected())
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
pub async fn tokens(
    conn: impl PgExecutor<'_>,
    user_id: i64,
    margin_secs: f64,
) -> Result<Option<StoredTokens>, sqlx::Error> {
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

/// Sessions past their expiry (tower-sessions' table).
pub async fn delete_expired_sessions(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let deleted = sqlx::query!("DELETE FROM tower_sessions.session WHERE expiry_date < now()").execute(pool).await?;
    Ok(deleted.rows_affected())
}
