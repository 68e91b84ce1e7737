//! Retention: processed, ignored and unhandled events older than
//! `FORGELINK_EVENT_RETENTION_DAYS` (default 30) are deleted in batches, by
//! one instance at a time; errored ones stay until someone handles them.

use std::time::Duration;

use sqlx::PgPool;

use super::queries;

/// Rows deleted per transaction: short locks, and the intake never waits long.
pub const BATCH: i64 = 1_000;

/// Deletes finished events received more than `days` ago, a batch per
/// transaction, until none is left. `None`: another instance is at it.
pub async fn sweep(pool: &PgPool, days: u32, batch: i64) -> Result<Option<u64>, sqlx::Error> {
    let mut deleted = 0;
    loop {
        let mut tx = pool.begin().await?;
        if !queries::try_lock_retention(&mut *tx).await? {
            return Ok((deleted > 0).then_some(deleted));
        }
        let n = queries::delete_finished_before(&mut *tx, days, batch).await?;
        tx.commit().await?;
        deleted += n;
        if n < batch as u64 {
            return Ok(Some(deleted));
        }
    }
}

/// Sweeps every hour (from start-up) on every instance; one at a time does it.
pub fn spawn(pool: PgPool, days: u32) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match sweep(&pool, days, BATCH).await {
                Ok(Some(deleted)) if deleted > 0 => tracing::info!(deleted, days, "old finished events deleted"),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "the retention sweep failed; it runs again in an hour"),
            }
        }
    });
}
