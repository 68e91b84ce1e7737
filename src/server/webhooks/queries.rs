//! The webhook pipeline's SQL: storing deliveries, claiming work, recording outcomes.

use sqlx::PgPool;
use uuid::Uuid;

/// The channel workers LISTEN on; the intake NOTIFYs it with each new event.
pub const CHANNEL: &str = "github_events";

pub struct NewDelivery<'a> {
    pub delivery_id: &'a str,
    pub hook_id: i64,
    pub event: &'a str,
    pub action: Option<&'a str>,
    pub installation_github_id: Option<i64>,
    pub payload: &'a serde_json::Value,
    /// Seconds since the epoch, from the payload.
    pub occurred_at: f64,
}

/// Stores a delivery and wakes the workers, in one statement (one commit).
/// Returns `None` when this delivery was stored before (a redelivery).
pub async fn insert_delivery(pool: &PgPool, d: &NewDelivery<'_>) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"WITH stored AS (
               INSERT INTO github_events (delivery_id, hook_id, event, action, installation_github_id, payload, occurred_at)
               VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7))
               ON CONFLICT (delivery_id, hook_id) DO NOTHING
               RETURNING id)
           SELECT id AS "id!" FROM stored, pg_notify('github_events', stored.id::text)"#,
        d.delivery_id,
        d.hook_id,
        d.event,
        d.action,
        d.installation_github_id,
        d.payload,
        d.occurred_at,
    )
    .fetch_optional(pool)
    .await
}

/// A claimed event, as a handler sees it.
#[derive(Debug, Clone)]
pub struct EventRecord {
    pub id: i64,
    pub delivery_id: String,
    pub event: String,
    pub action: Option<String>,
    pub installation_github_id: Option<i64>,
    pub payload: serde_json::Value,
    pub attempts: i32,
    pub claim_token: Option<Uuid>,
}

/// Claims up to `limit` due events for this worker: per installation only the
/// earliest pending event (by GitHub's time), and none while another of that
/// installation is being processed. SKIP LOCKED lets instances share the queue.
pub async fn claim(pool: &PgPool, limit: i64, lease_secs: f64) -> Result<Vec<EventRecord>, sqlx::Error> {
    let token = Uuid::new_v4();
    sqlx::query_as!(
        EventRecord,
        r#"WITH heads AS (
               SELECT DISTINCT ON (coalesce(installation_github_id, -id))
                      id, status, locked_until, next_attempt_at
               FROM github_events
               WHERE status IN ('unprocessed', 'processing')
                  OR (status = 'errored' AND next_attempt_at IS NOT NULL)
               ORDER BY coalesce(installation_github_id, -id), occurred_at, id
           ),
           due AS (
               -- Conditions on e, not on the snapshot in heads: a row another worker
               -- claimed meanwhile is re-checked against its new version once locked.
               SELECT e.id FROM github_events e JOIN heads h ON h.id = e.id
               WHERE e.status = 'unprocessed'
                  OR (e.status = 'errored' AND e.next_attempt_at <= now())
                  OR (e.status = 'processing' AND e.locked_until < now())
               ORDER BY e.occurred_at, e.id
               LIMIT $1
               FOR UPDATE OF e SKIP LOCKED
           )
           UPDATE github_events e
           SET status = 'processing', claim_token = $2, attempts = e.attempts + 1,
               locked_until = now() + make_interval(secs => $3)
           FROM due WHERE e.id = due.id
           RETURNING e.id, e.delivery_id, e.event, e.action, e.installation_github_id, e.payload,
                     e.attempts, e.claim_token"#,
        limit,
        token,
        lease_secs,
    )
    .fetch_all(pool)
    .await
}

/// Records a final outcome (processed, ignored, unhandled). Only the claim
/// holder may: a worker whose lease ran out changes nothing.
pub async fn finish(pool: &PgPool, event: &EventRecord, status: &str, reason: Option<&str>) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"UPDATE github_events
           SET status = $3, failure_reason = $4, error = NULL, processed_at = now(),
               claim_token = NULL, locked_until = NULL, next_attempt_at = NULL
           WHERE id = $1 AND claim_token = $2"#,
        event.id,
        event.claim_token,
        status,
        reason,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a failure; retried after `retry_in_secs`, or never (`None`).
pub async fn fail(
    pool: &PgPool,
    event: &EventRecord,
    reason: &str,
    error: &str,
    retry_in_secs: Option<f64>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"UPDATE github_events
           SET status = 'errored', failure_reason = $3, error = $4,
               next_attempt_at = now() + make_interval(secs => $5),
               claim_token = NULL, locked_until = NULL
           WHERE id = $1 AND claim_token = $2"#,
        event.id,
        event.claim_token,
        reason,
        error,
        retry_in_secs,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An operator's retry of an errored or ignored event: back to the queue, with
/// a fresh attempt budget. Returns whether anything changed.
pub async fn retry(pool: &PgPool, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"WITH reset AS (
               UPDATE github_events
               SET status = 'unprocessed', attempts = 0, next_attempt_at = NULL,
                   failure_reason = NULL, error = NULL, processed_at = NULL
               WHERE id = $1 AND status IN ('errored', 'ignored', 'unhandled')
               RETURNING id)
           SELECT pg_notify('github_events', id::text) FROM reset"#,
        id,
    )
    .fetch_optional(pool)
    .await?;
    Ok(done.is_some())
}

/// Events waiting to be processed (unprocessed, in progress, or due for a retry).
pub async fn queue_depth(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM github_events
           WHERE status IN ('unprocessed', 'processing')
              OR (status = 'errored' AND next_attempt_at IS NOT NULL)"#
    )
    .fetch_one(pool)
    .await
}
