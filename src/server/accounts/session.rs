//! Sessions: rows in PostgreSQL (tower-sessions' store), so they survive a
//! restart and work across instances. The cookie is HttpOnly, SameSite=Lax (so
//! GitHub's redirects back keep it), Secure over https, and expires after a week
//! without use.

use sqlx::PgPool;
use tower_sessions::{cookie::SameSite, Expiry, Session, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;

pub const COOKIE_NAME: &str = "forgelink_session";
const USER_ID: &str = "user_id";
const IDLE_DAYS: i64 = 7;

pub fn layer(pool: PgPool, secure: bool) -> SessionManagerLayer<PostgresStore> {
    SessionManagerLayer::new(PostgresStore::new(pool))
        .with_name(COOKIE_NAME)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_expiry(Expiry::OnInactivity(tower_sessions::cookie::time::Duration::days(IDLE_DAYS)))
}

#[derive(Debug, thiserror::Error)]
#[error("the session store failed: {0}")]
pub struct SessionError(#[from] tower_sessions::session::Error);

/// Starts a signed-in session under a new id, so an id set before sign-in
/// (session fixation) is worthless.
pub async fn begin(session: &Session, user_id: i64) -> Result<(), SessionError> {
    session.cycle_id().await?;
    session.insert(USER_ID, user_id).await?;
    Ok(())
}

pub async fn end(session: &Session) -> Result<(), SessionError> {
    session.flush().await?;
    Ok(())
}

pub async fn user_id(session: &Session) -> Result<Option<i64>, SessionError> {
    Ok(session.get::<i64>(USER_ID).await?)
}

/// Deletes expired sessions (idempotent, so every instance may run it).
pub async fn delete_expired(pool: &PgPool) -> Result<u64, sqlx::Error> {
    super::queries::delete_expired_sessions(pool).await
}
