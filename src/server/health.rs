//! Liveness (`/healthz`) and readiness (`/readyz`) for operators and load balancers.

use std::{collections::HashSet, time::Instant};

use axum::{extract::State, http::StatusCode, response::IntoResponse, Json};
use serde_json::json;
use sqlx::{migrate::Migrate, PgPool};

use super::db::MIGRATOR;
use crate::domain::system::DatabaseStatus;

/// The process is alive and serving; says nothing about its dependencies.
pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// Ready when the database answers and every embedded migration is applied.
/// Anyone may ask, so the answer names what is wrong, never a version, an
/// address or the database's own words (those go to the log).
pub async fn readyz(State(pool): State<PgPool>) -> impl IntoResponse {
    match readiness(&pool).await {
        Ok(_) => (StatusCode::OK, Json(json!({ "status": "ready", "database": "ok" }))),
        Err(not_ready) => {
            tracing::warn!(reason = %not_ready, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "reason": not_ready.public_reason() })),
            )
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    #[error("database unreachable: {0}")]
    Database(sqlx::Error),
    #[error("migrations not readable: {0}")]
    Migrations(sqlx::migrate::MigrateError),
    #[error("migration {0} failed part-way; the schema needs an operator")]
    DirtyMigration(i64),
    #[error("{0} migration(s) not applied yet")]
    Pending(usize),
}

impl NotReady {
    /// What outsiders are told.
    pub fn public_reason(&self) -> &'static str {
        match self {
            NotReady::Database(_) => "database unreachable",
            NotReady::Migrations(_) => "migrations not readable",
            NotReady::DirtyMigration(_) => "a migration failed part-way; the schema needs an operator",
            NotReady::Pending(_) => "migrations not applied yet",
        }
    }
}

/// Returns how many migrations are applied, or why the server is not ready.
pub async fn readiness(pool: &PgPool) -> Result<usize, NotReady> {
    let mut conn = pool.acquire().await.map_err(NotReady::Database)?;
    match conn.dirty_version().await {
        Ok(Some(version)) => return Err(NotReady::DirtyMigration(version)),
        Ok(None) => {}
        Err(error) if is_undefined_table(&error) => {}
        Err(error) => return Err(NotReady::Migrations(error)),
    }
    let applied = match conn.list_applied_migrations().await {
        Ok(applied) => applied,
        Err(error) if is_undefined_table(&error) => Vec::new(), // nothing migrated yet
        Err(error) => return Err(NotReady::Migrations(error)),
    };
    let applied: HashSet<i64> = applied.into_iter().map(|migration| migration.version).collect();
    let pending = MIGRATOR
        .iter()
        .filter(|migration| migration.migration_type.is_up_migration())
        .filter(|migration| !applied.contains(&migration.version))
        .count();
    match pending {
        0 => Ok(applied.len()),
        n => Err(NotReady::Pending(n)),
    }
}

fn is_undefined_table(error: &sqlx::migrate::MigrateError) -> bool {
    const UNDEFINED_TABLE: &str = "42P01";
    matches!(error, sqlx::migrate::MigrateError::Execute(sqlx::Error::Database(db))
        if db.code().as_deref() == Some(UNDEFINED_TABLE))
}

/// What the home page shows anyone who asks to check the database: that it
/// answered, how fast, and whether the schema is current (no version).
pub async fn database_status(pool: &PgPool) -> Result<DatabaseStatus, NotReady> {
    let started = Instant::now();
    sqlx::query("SELECT 1").execute(pool).await.map_err(NotReady::Database)?;
    let round_trip_ms = started.elapsed().as_millis().try_into().unwrap_or(u64::MAX);
    let schema_current = match readiness(pool).await {
        Ok(_) => true,
        Err(NotReady::Pending(_) | NotReady::DirtyMigration(_)) => false,
        Err(error) => return Err(error),
    };
    Ok(DatabaseStatus { schema_current, round_trip_ms })
}
