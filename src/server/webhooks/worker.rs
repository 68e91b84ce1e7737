//! Workers that claim and process stored events. Woken when a delivery is
//! stored (by this instance's writer at once, by PostgreSQL `LISTEN/NOTIFY` for
//! other instances'), and by a periodic sweep (retries coming due, leases of
//! crashed workers running out, notifications missed).

use std::{future::Future, sync::Arc, time::Duration};

use rand::Rng;
use tokio::sync::Notify;
use tracing::Instrument;

use super::{queries, Dispatcher, EventRecord, Outcome};
use crate::server::{db, shutdown, state::AppState};

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    pub workers: usize,
    /// Events claimed at once by one worker.
    pub batch: i64,
    /// How long a claim holds before another worker may take the event over.
    pub lease: Duration,
    pub sweep: Duration,
    /// After this many attempts an errored event waits for an operator.
    pub max_attempts: i32,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self { workers: 2, batch: 10, lease: Duration::from_secs(60), sweep: Duration::from_secs(5), max_attempts: 8 }
    }
}

/// Exponential backoff with jitter: about 2^(attempt) seconds, at most an hour,
/// each wait drawn from its upper half so retries of a burst spread out.
pub fn backoff(attempt: i32) -> Duration {
    let ceiling = 2f64.powi(attempt.clamp(1, 12)).min(3600.0);
    Duration::from_secs_f64(rand::rng().random_range(ceiling / 2.0..=ceiling))
}

/// Starts the listener and the workers; they run until the process ends.
/// Starts the workers; the set ends once they have stopped (see `shutdown`).
pub fn spawn(state: AppState, dispatcher: Arc<Dispatcher>, config: WorkerConfig) -> tokio::task::JoinSet<()> {
    // This instance's deliveries wake its workers at once; other instances' by NOTIFY.
    let wake = state.deliveries.stored();
    // Also when listening (again): deliveries stored meanwhile went unannounced.
    let woken = wake.clone();
    tokio::spawn(db::listen_forever(state.pool.clone(), &[queries::CHANNEL], move |_| woken.notify_waiters()));
    let mut workers = tokio::task::JoinSet::new();
    for n in 0..config.workers {
        let (state, dispatcher, config, wake) = (state.clone(), dispatcher.clone(), config.clone(), wake.clone());
        workers.spawn(async move {
            tracing::debug!(worker = n, "webhook worker started");
            run(state, dispatcher, config, wake).await;
            tracing::debug!(worker = n, "webhook worker stopped");
        });
    }
    workers
}

/// The pause between claims while the intake is busy: processing an event
/// costs PostgreSQL about what storing it does, so processing slows down
/// (never stops) and acknowledgements, which GitHub waits for, come first.
/// Shorter pauses cost the intake measurably (the README's Benchmarks).
const YIELD_TO_INTAKE: Duration = Duration::from_millis(200);

async fn run(state: AppState, dispatcher: Arc<Dispatcher>, config: WorkerConfig, wake: Arc<Notify>) {
    let with_payload = dispatcher.events_handled();
    // Where the next claim's walk over the ordering keys starts ("": the first key).
    let mut after_key = String::new();
    while !state.stopping.is_stopping() {
        if state.deliveries.busy() {
            tokio::time::sleep(YIELD_TO_INTAKE).await;
        }
        // Register interest before claiming, so a notification in between is not lost.
        let notified = wake.notified();
        let claimed = match queries::claim(
            &state.pool,
            config.batch,
            config.lease.as_secs_f64(),
            &with_payload,
            &after_key,
        )
        .await
        {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::debug!(%error, "cannot claim events");
                Vec::new()
            }
        };
        let walked_from = std::mem::take(&mut after_key);
        if claimed.len() as i64 == config.batch {
            // A full claim: the walk may not have reached the last key; go on from here next time.
            after_key =
                claimed.iter().filter_map(|e| e.ordering_key.as_deref()).max().unwrap_or(&walked_from).to_owned();
        } else if claimed.is_empty() && !walked_from.is_empty() {
            continue; // the keys before the walk's start were not looked at
        }
        if claimed.is_empty() {
            tokio::select! {
                () = notified => {},
                () = tokio::time::sleep(config.sweep) => {},
                () = state.stopping.begun() => {},
            }
            continue;
        }
        // Outcomes are recorded together, one commit for the batch (a failure at once).
        let work = async {
            let mut finished = Vec::with_capacity(claimed.len());
            for event in &claimed {
                let span = tracing::info_span!("event", id = event.id, event = %event.event, action = event.action.as_deref().unwrap_or(""));
                if let Some(outcome) = process(&state, &dispatcher, &config, event).instrument(span).await {
                    finished.push((event, outcome));
                }
            }
            finished
        };
        // The claims are renewed while the batch is worked on, so a slow
        // GitHub never lets another worker run the same event meanwhile.
        let finished = tokio::select! {
            finished = work => finished,
            never = renew(&state, &config, &claimed) => match never {},
            // Stopping, and the batch still not done: let its events go to
            // another worker now rather than when the lease runs out.
            () = state.stopping.begun_for(shutdown::DRAIN) => {
                release(&state, &claimed).await;
                return;
            }
        };
        // Recorded with the claims still renewed: the database may be down a while (a restart).
        tokio::select! {
            () = record(&state, &finished) => {},
            never = renew(&state, &config, &claimed) => match never {},
            () = state.stopping.begun_for(shutdown::DRAIN) => return,
        }
    }
}

/// Runs `write` again for as long as the database cannot be reached: an
/// outcome not recorded would have its event claimed, and processed, a second
/// time once the claim ran out.
async fn until_recorded<T, F: Future<Output = Result<T, sqlx::Error>>>(
    mut write: impl FnMut() -> F,
) -> Result<T, sqlx::Error> {
    let mut wait = Duration::from_millis(100);
    loop {
        match write().await {
            Err(error) if db::is_transient(&error) => {
                tracing::warn!(%error, ?wait, "cannot record an outcome yet; trying again");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
            result => return result,
        }
    }
}

/// Gives up the batch's claims (those not recorded yet) for anyone to take.
async fn release(state: &AppState, claimed: &[EventRecord]) {
    let ids: Vec<i64> = claimed.iter().map(|e| e.id).collect();
    let tokens: Vec<Option<uuid::Uuid>> = claimed.iter().map(|e| e.claim_token).collect();
    match queries::renew(&state.pool, &ids, &tokens, 0.0).await {
        Ok(()) => tracing::info!(events = ids.len(), "stopping: released the claims of events still in progress"),
        Err(error) => tracing::warn!(%error, "stopping: cannot release claims; they expire with their lease"),
    }
}

/// Extends the batch's claims every third of a lease, until dropped. A claim
/// already lost (to a worker that took it over, or recorded) is not renewed.
async fn renew(state: &AppState, config: &WorkerConfig, claimed: &[EventRecord]) -> std::convert::Infallible {
    let ids: Vec<i64> = claimed.iter().map(|e| e.id).collect();
    let tokens: Vec<Option<uuid::Uuid>> = claimed.iter().map(|e| e.claim_token).collect();
    let mut every = tokio::time::interval(config.lease / 3);
    every.tick().await; // the first tick is now: the claim was just made
    loop {
        every.tick().await;
        if let Err(error) = queries::renew(&state.pool, &ids, &tokens, config.lease.as_secs_f64()).await {
            tracing::warn!(%error, "cannot renew the claims; another worker may take them over");
        }
    }
}

/// Runs one event through the dispatcher. A failure is recorded here; an
/// outcome is returned for `record`, with the time it took.
async fn process(
    state: &AppState,
    dispatcher: &Dispatcher,
    config: &WorkerConfig,
    event: &EventRecord,
) -> Option<(Outcome, Duration)> {
    let started = std::time::Instant::now();
    match dispatcher.dispatch(state.clone(), event.clone()).await {
        Ok(outcome) => Some((outcome, started.elapsed())),
        Err(error) => {
            // GitHub asked to wait (a rate limit): tried again then, and not
            // counted against the budget. Otherwise: backoff, then an operator.
            let (retry_in, counted) = match error.wait {
                Some(wait) => (Some(wait.as_secs_f64()), false),
                None => ((event.attempts < config.max_attempts).then(|| backoff(event.attempts).as_secs_f64()), true),
            };
            tracing::warn!(%error, attempts = event.attempts, ?retry_in, counted, "event handler failed");
            match until_recorded(|| {
                queries::fail(&state.pool, event, error.reason.as_str(), &error.detail, retry_in, counted)
            })
            .await
            {
                Ok(true) => {
                    state.metrics.event_processed(if counted { "errored" } else { "postponed" }, started.elapsed())
                }
                Ok(false) => {
                    tracing::warn!("the claim ran out before the failure was recorded; another worker owns the event")
                }
                Err(error) => tracing::error!(%error, "cannot record the event's failure; it will be claimed again"),
            }
            None
        }
    }
}

async fn record(state: &AppState, finished: &[(&EventRecord, (Outcome, Duration))]) {
    if finished.is_empty() {
        return;
    }
    let outcomes: Vec<queries::Finished<'_>> =
        finished.iter().map(|(event, (outcome, _))| (*event, outcome.status(), outcome.reason())).collect();
    match until_recorded(|| queries::finish(&state.pool, &outcomes)).await {
        Ok(recorded) => {
            for (event, (outcome, took)) in finished {
                if recorded.contains(&event.id) {
                    state.metrics.event_processed(outcome.status().as_str(), *took);
                } else {
                    tracing::warn!(
                        id = event.id,
                        "the claim ran out before the outcome was recorded; another worker owns the event"
                    );
                }
            }
        }
        Err(error) => tracing::error!(%error, "cannot record the events' outcomes; they will be claimed again"),
    }
}
