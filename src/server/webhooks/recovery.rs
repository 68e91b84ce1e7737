//! Missed-delivery recovery. GitHub never retries a failed delivery by itself
//! but keeps them for 3 days: this asks for the failed ones forgelink does not
//! have and requests their redelivery. Each run reads only attempts newer than
//! what the last one dealt with, and goes on past a redelivery GitHub refuses
//! (that delivery is asked for again next time). Runs periodically on one
//! instance at a time (a lease, not a lock held across GitHub's answers), and
//! on demand (under the same lease).

use std::{collections::HashMap, time::Duration};

use super::queries;
use crate::server::{
    github::{
        client::{GitHubError, HookDelivery},
        leases,
    },
    state::AppState,
};

/// GitHub keeps deliveries this long.
const WINDOW_DAYS: i64 = 3;
/// The lease a run holds (public for the tests that watch it).
pub const LEASE_KEY: &str = "webhook_recovery";
/// Longer than a run takes; if its holder dies, the next run may start after it.
const LEASE: Duration = Duration::from_secs(600);

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Distinct deliveries GitHub listed in the window.
    pub checked: usize,
    /// Failed deliveries forgelink did not have, asked to be delivered again.
    pub redelivered: usize,
    /// Of those, how many GitHub refused to redeliver (asked again next run).
    pub failed: usize,
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
    let seen_through = queries::recovery_seen_through(&state.pool).await?;
    let fresh = |d: &HookDelivery| seen_through.is_none_or(|mark| d.id > mark) && d.delivered_at >= since;
    // Newest first: stop at the first page that reaches what was dealt with.
    let attempts = state.github.hook_deliveries(|page| !page.iter().all(fresh)).await?;
    let attempts: Vec<&HookDelivery> = attempts.iter().filter(|d| fresh(d)).collect();
    // A delivery is missed when no attempt of it succeeded; its newest attempt is redelivered.
    let mut by_guid: HashMap<&str, (i64, bool)> = HashMap::new();
    for attempt in &attempts {
        let succeeded = (200..300).contains(&attempt.status_code);
        let entry = by_guid.entry(attempt.guid.as_str()).or_insert((attempt.id, false));
        entry.1 |= succeeded;
    }
    let failed: Vec<String> = by_guid.iter().filter(|(_, (_, ok))| !ok).map(|(guid, _)| guid.to_string()).collect();
    let stored = queries::stored_delivery_ids(&state.pool, &failed).await?;
    let mut missed: Vec<i64> =
        failed.iter().filter(|guid| !stored.contains(*guid)).map(|guid| by_guid[guid.as_str()].0).collect();
    missed.sort_unstable();
    let mut recovery = Recovery { checked: by_guid.len(), ..Recovery::default() };
    // The oldest attempt not dealt with: the next run must see it again.
    let mut unresolved: Option<i64> = None;
    for (n, &attempt_id) in missed.iter().enumerate() {
        match state.github.redeliver(attempt_id).await {
            Ok(()) => recovery.redelivered += 1,
            Err(GitHubError::RateLimited { .. }) => {
                // Asking again now only fails again: the rest wait for the next run.
                unresolved = Some(unresolved.map_or(attempt_id, |u| u.min(attempt_id)));
                recovery.failed += missed.len() - n;
                break;
            }
            Err(error) => {
                tracing::warn!(%error, attempt_id, "GitHub refused a redelivery; asking for the others, and for this one next run");
                unresolved = Some(unresolved.map_or(attempt_id, |u| u.min(attempt_id)));
                recovery.failed += 1;
            }
        }
    }
    let newest = attempts.iter().map(|d| d.id).max();
    if let Some(mark) = unresolved.map(|id| id - 1).or(newest) {
        queries::set_recovery_seen_through(&state.pool, mark).await?;
    }
    if recovery.redelivered > 0 || recovery.failed > 0 {
        tracing::info!(
            redelivered = recovery.redelivered,
            failed = recovery.failed,
            "asked GitHub to redeliver missed webhooks"
        );
    }
    Ok(recovery)
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
/// The lease goes however the run ends (an error, a panic, a caller that stops
/// waiting): dropping it releases it, and it expires if this process dies.
pub async fn recover_exclusively(state: &AppState) -> Result<Option<Recovery>, RecoveryError> {
    let Some(lease) = leases::try_claim(&state.pool, LEASE_KEY, LEASE).await? else {
        return Ok(None);
    };
    let recovered = recover_missed(state).await;
    lease.release().await;
    Ok(Some(recovered?))
}
