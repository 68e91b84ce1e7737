//! The PostgreSQL pool and the schema migrations.

use std::time::Duration;

use sqlx::{
    migrate::{MigrateError, Migrator},
    postgres::{PgListener, PgNotification, PgPoolOptions},
    PgPool,
};

use super::config::Config;

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// A pool that connects on first use, so the server starts (and `/readyz`
/// explains what is wrong) even while the database is down.
pub fn connect_lazy(config: &Config) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(config.db_max_connections)
        // Short, so a request fails with a clear reason rather than hanging.
        .acquire_timeout(Duration::from_secs(3))
        .connect_lazy(config.database_url.expose())
}

/// Applies pending migrations. If the database cannot be reached yet, keeps
/// trying in the background (readiness says so meanwhile); any other migration
/// failure is returned, because serving on a half-migrated schema is worse than
/// not starting.
pub async fn migrate_at_startup(pool: &PgPool) -> Result<(), MigrateError> {
    match MIGRATOR.run(pool).await {
        Ok(()) => Ok(()),
        Err(error) if is_unreachable(&error) => {
            tracing::warn!(%error, "database unreachable; migrations will run once it answers");
            let pool = pool.clone();
            tokio::spawn(async move { retry_migrations(pool).await });
            Ok(())
        }
        Err(error) => Err(error),
    }
}

async fn retry_migrations(pool: PgPool) {
    let mut delay = Duration::from_millis(500);
    loop {
        tokio::time::sleep(delay).await;
        match MIGRATOR.run(&pool).await {
            Ok(()) => {
                tracing::info!("database reachable; migrations applied");
                return;
            }
            Err(error) if is_unreachable(&error) => {
                tracing::debug!(%error, "database still unreachable");
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            Err(error) => {
                tracing::error!(%error, "migrations failed; the server stays not ready");
                return;
            }
        }
    }
}

fn is_unreachable(error: &MigrateError) -> bool {
    matches!(error, MigrateError::Execute(error) if is_transient(error))
}

/// Whether an error says the database cannot be reached right now (down,
/// restarting, starting up, out of connections), so the same statement may
/// succeed later; not a fault of the statement itself.
pub fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_) => true,
        // Class 08: connection exception; 57P01–57P03: shut down, crashed,
        // cannot connect now (starting up); 53300: too many connections.
        sqlx::Error::Database(error) => {
            error.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57P") || code == "53300")
        }
        _ => false,
    }
}

/// LISTENs on `channels` for as long as the process runs, connecting again
/// whenever the connection is lost. `heard` gets each notification, and `None`
/// each time listening (re)starts: whatever was notified before went unheard.
pub async fn listen_forever(
    pool: PgPool,
    channels: &'static [&'static str],
    mut heard: impl FnMut(Option<PgNotification>) + Send,
) {
    loop {
        match PgListener::connect_with(&pool).await {
            Ok(mut listener) => match listener.listen_all(channels.iter().copied()).await {
                Ok(()) => {
                    heard(None);
                    // `Ok(None)`: the connection was lost, and is listening again.
                    while let Ok(notification) = listener.try_recv().await {
                        heard(notification);
                    }
                }
                Err(error) => tracing::warn!(%error, ?channels, "cannot LISTEN; trying again"),
            },
            Err(error) => tracing::debug!(%error, "cannot connect to LISTEN yet"),
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
