//! Missed-delivery recovery. GitHub never retries a failed delivery by itself
//! but keeps them for 3 days: this asks for the failed ones forgelink does not
//! have and requests their redelivery. Runs periodically on one instance at a
//! time (a PostgreSQL advisory lock), and on demand (under the same lock).

use std::{collections::HashMap, time::Duration};

use sqlx::PgPool;

use crate::server::{github::client::GitHubError, state::AppState};

/// GitHub keeps deliveries this long.
const WINDOW_DAYS: i64 = 3;
const LOCK_KEY: i64 = 0x666f_7267_656c_696e; // "forgelin"

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Distinct deliveries GitHub listed in the window.
    pub checked: usize,
    /// Failed deliveries forgelink did not have, asked to be delivered again.
    pub redelivered: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    #[error(transparent)]
    GitHub(#[from] GitHubError),
    #[error("the database failed: {0}")]
    Database(#[from] sqlx::Error),
}

async fn recover_missed(state: &AppState) -> Result<Recovery, RecoveryError> {
    let since = chrono::Utc::now() - chrono::Duration::days(WINDOW_DAYS);
    let in_window = |d: &crate::server::github::client::HookDelivery| {
        chrono::DateTime::parse_from_rfc3339(&d.delivered_at).is_ok_and(|at| at >= since)
    };
    let attempts = state.github.hook_deliveries(|page| !page.iter().all(in_window)).await?;
    // Newest attempt first; a delivery is missed when no attempt of it succeeded.
    let mut by_guid: HashMap<&str, (i64, bool)> = HashMap::new();
    for attempt in attempts.iter().filter(|d| in_window(d)) {
        let succeeded = (200..300).contains(&attempt.status_code);
        let entry = by_guid.entry(attempt.guid.as_str()).or_insert((attempt.id, false));
        entry.1 |= succeeded;
    }
    let failed: Vec<String> = by_guid.iter().filter(|(_, (_, ok))| !ok).map(|(guid, _)| guid.to_string()).collect();
    let stored = stored_delivery_ids(&state.pool, &failed).await?;
    let mut recovery = Recovery { checked: by_guid.len(), redelivered: 0 };
    for guid in failed.iter().filter(|guid| !stored.contains(*guid)) {
        let (attempt_id, _) = by_guid[guid.as_str()];
        state.github.redeliver(attempt_id).await?;
        recovery.redelivered += 1;
    }
    if recovery.redelivered > 0 {
        tracing::info!(redelivered = recovery.redelivered, "asked GitHub to redeliver missed webhooks");
    }
    Ok(recovery)
}

async fn stored_delivery_ids(pool: &PgPool, guids: &[String]) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT DISTINCT delivery_id FROM github_events WHERE delivery_id = ANY($1)", guids)
        .fetch_all(pool)
        .await
}

/// Runs recovery every `every`, on whichever instance holds the lock.
pub fn spawn_periodic(state: AppState, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await; // not at start-up: let the server settle first
        loop {
            tick.tick().await;
            // A run of its own, so that a panic in one ends that run, not the schedule.
            let run = tokio::spawn({
                let state = state.clone();
                async move { recover_exclusively(&state).await }
            });
            match run.await {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => tracing::warn!(%error, "missed-delivery recovery failed; will try again"),
                Err(error) => tracing::error!(%error, "missed-delivery recovery panicked; will try again"),
            }
        }
    });
}

/// Recovers unless another run (on any instance) is under way: `None` then.
///
/// The lock is a transaction's, so it goes with the transaction however the
/// run ends: an error, a panic, or a caller that stops waiting (a dropped
/// transaction is rolled back before its connection is used again). A
/// session-level lock would stay with the pooled connection whenever the
/// unlock was skipped, and every later run would find it held.
pub async fn recover_exclusively(state: &AppState) -> Result<Option<Recovery>, RecoveryError> {
    let mut tx = state.pool.begin().await?;
    let locked: bool = sqlx::query_scalar!(r#"SELECT pg_try_advisory_xact_lock($1) AS "locked!""#, LOCK_KEY)
        .fetch_one(&mut *tx)
        .await?;
    if !locked {
        return Ok(None);
    }
    let recovery = recover_missed(state).await?;
    tx.commit().await?;
    Ok(Some(recovery))
}
