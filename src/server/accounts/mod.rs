//! Accounts: people who sign in with an email and password, their sessions,
//! and the GitHub account each may link (OAuth, tokens encrypted at rest).

pub mod current_user;
pub mod github_link;
pub mod passwords;
mod queries;
pub mod routes;
pub mod service;
pub mod session;
pub mod throttle;

pub use current_user::{CurrentUser, NoUser};
pub use service::{AccountError, User};

/// Every hour, on every instance (each DELETE is idempotent): expired sessions,
/// throttles quiet for a day, devices long unused.
pub fn spawn_sweeps(pool: sqlx::PgPool) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Err(error) = session::delete_expired(&pool).await {
                tracing::warn!(%error, "cannot delete expired sessions");
            }
            if let Err(error) = throttle::sweep(&pool).await {
                tracing::warn!(%error, "cannot sweep sign-in throttles");
            }
        }
    });
}
