//! The webhook pipeline's SQL: storing deliveries, claiming work, recording outcomes.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::events::EventStatus;

/// The channel workers LISTEN on; the intake NOTIFYs it when events arrive.
pub const CHANNEL: &str = "github_events";
/// Notified when an event's status changes (the event log follows it).
pub const STATUS_CHANNEL: &str = "github_event_status";

/// A verified delivery, ready to store.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub delivery_id: String,
    pub hook_id: i64,
    pub event: String,
    pub action: Option<String>,
    pub installation_github_id: Option<i64>,
    /// The JSON body as received, stored as `json` (PostgreSQL checks it).
    pub payload: String,
    /// Seconds since the epoch, from the payload.
    pub occurred_at: DateTime<Utc>,
    pub ordering_key: Option<String>,
}

/// Stores a batch of deliveries in one statement (one commit, one fsync) and,
/// if `announce`, wakes the workers of every instance once. Returns the
/// (delivery id, hook id) pairs newly stored; the others were stored before
/// (redeliveries).
pub async fn insert_deliveries(
    pool: &PgPool,
    batch: &[NewDelivery],
    announce: bool,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let text = |f: fn(&NewDelivery) -> &str| batch.iter().map(f).collect::<Vec<&str>>();
    let optional_text = |f: fn(&NewDelivery) -> Option<&str>| batch.iter().map(f).collect::<Vec<Option<&str>>>();
    let rows = sqlx::query!(
        r#"WITH stored AS (
               INSERT INTO github_events
                   (delivery_id, hook_id, event, action, installation_github_id, payload, occurred_at, ordering_key)
               SELECT d, h, e, a, i, p::json, t, k
               FROM UNNEST($1::text[], $2::int8[], $3::text[], $4::text[], $5::int8[], $6::text[], $7::timestamptz[], $8::text[])
                    AS u(d, h, e, a, i, p, t, k)
               ON CONFLICT (delivery_id, hook_id) DO NOTHING
               RETURNING delivery_id, hook_id),
           woken AS (SELECT pg_notify('github_events', '') WHERE $9 AND EXISTS (SELECT 1 FROM stored))
           SELECT delivery_id AS "delivery_id!", hook_id AS "hook_id!" FROM stored, (SELECT count(*) FROM woken) w"#,
        &text(|d| &d.delivery_id) as &[&str],
        &batch.iter().map(|d| d.hook_id).collect::<Vec<_>>(),
        &text(|d| &d.event) as &[&str],
        &optional_text(|d| d.action.as_deref()) as &[Option<&str>],
        &batch.iter().map(|d| d.installation_github_id).collect::<Vec<_>>() as &[Option<i64>],
        &text(|d| &d.payload) as &[&str],
        // chrono's; with time's feature on (tower-sessions), the macro expects time's
        &batch.iter().map(|d| d.occurred_at).collect::<Vec<_>>() as _,
        &optional_text(|d| d.ordering_key.as_deref()) as &[Option<&str>],
        announce,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.delivery_id, r.hook_id)).collect())
}

/// Wakes the workers of every instance: deliveries were stored without saying so.
pub async fn announce_deliveries(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT pg_notify('github_events', '')").execute(pool).await?;
    Ok(())
}

/// A claimed event, as a handler sees it.
#[derive(Debug, Clone)]
pub struct EventRecord {
    pub id: i64,
    pub delivery_id: String,
    pub event: String,
    pub action: Option<String>,
    pub installation_github_id: Option<i64>,
    /// Events with the same key are applied one at a time, in GitHub's order.
    pub ordering_key: Option<String>,
    /// `null` for an event no handler is registered for: its outcome does not
    /// depend on it, and reading (and sending) large payloads is not free.
    pub payload: serde_json::Value,
    pub attempts: i32,
    pub claim_token: Option<Uuid>,
}

/// Claims up to `limit` due events for this worker: of each ordering key only
/// its earliest pending event (and only while no other of that key is in
/// progress), plus events that need no order, earliest first.
///
/// The keys are served in turn: the walk over them (a loose index scan) starts
/// after `after_key`, the last key of this worker's previous claim, and stops
/// as soon as it has found `limit` events. A claim so costs about `limit` index
/// probes however many keys have pending work (a burst over a thousand issues
/// made a walk over all of them cost ~9 ms a claim), and no key waits behind
/// another's backlog. SKIP LOCKED lets workers on every instance share the
/// queue; conditions are re-checked on the locked rows. Payloads are read only
/// for the events in `with_payload`.
pub async fn claim(
    pool: &PgPool,
    limit: i64,
    lease_secs: f64,
    with_payload: &[String],
    after_key: &str,
) -> Result<Vec<EventRecord>, sqlx::Error> {
    let token = Uuid::new_v4();
    sqlx::query_as!(
        EventRecord,
        r#"WITH RECURSIVE keys(k) AS (
               (SELECT ordering_key FROM github_events
                WHERE status IN ('unprocessed', 'processing', 'errored')
                  AND ordering_key IS NOT NULL AND ordering_key > $5
                ORDER BY ordering_key LIMIT 1)
               UNION ALL
               SELECT (SELECT e.ordering_key FROM github_events e
                       WHERE e.status IN ('unprocessed', 'processing', 'errored')
                         AND e.ordering_key IS NOT NULL AND e.ordering_key > keys.k
                       ORDER BY e.ordering_key LIMIT 1)
               FROM keys WHERE keys.k IS NOT NULL
           ),
           heads AS (
               -- Read lazily: the walk stops once `limit` heads are due.
               (SELECT h.id, h.occurred_at FROM keys
                CROSS JOIN LATERAL (
                    SELECT e.id, e.status, e.next_attempt_at, e.locked_until, e.occurred_at FROM github_events e
                    WHERE e.ordering_key = keys.k
                      AND e.status IN ('unprocessed', 'processing', 'errored')
                      AND (e.status <> 'errored' OR e.next_attempt_at IS NOT NULL)
                    ORDER BY e.occurred_at, e.id LIMIT 1) h
                WHERE h.status = 'unprocessed'
                   OR (h.status = 'errored' AND h.next_attempt_at <= now())
                   OR (h.status = 'processing' AND h.locked_until < now())
                LIMIT $1)
               UNION ALL
               (SELECT e.id, e.occurred_at FROM github_events e
                WHERE e.ordering_key IS NULL AND e.status IN ('unprocessed', 'processing', 'errored')
                  AND (e.status = 'unprocessed'
                       OR (e.status = 'errored' AND e.next_attempt_at <= now())
                       OR (e.status = 'processing' AND e.locked_until < now()))
                ORDER BY e.occurred_at, e.id LIMIT $1)
           ),
           due AS (
               SELECT e.id FROM github_events e
               JOIN (SELECT id FROM heads ORDER BY occurred_at, id LIMIT $1) h ON h.id = e.id
               WHERE e.status = 'unprocessed'
                  OR (e.status = 'errored' AND e.next_attempt_at <= now())
                  OR (e.status = 'processing' AND e.locked_until < now())
               FOR UPDATE OF e SKIP LOCKED
           )
           UPDATE github_events e
           SET status = 'processing', claim_token = $2, attempts = e.attempts + 1,
               locked_until = now() + make_interval(secs => $3)
           FROM due WHERE e.id = due.id
           RETURNING e.id, e.delivery_id, e.event, e.action, e.installation_github_id, e.ordering_key,
                     CASE WHEN e.event = ANY($4) THEN e.payload ELSE 'null'::json END AS "payload!",
                     e.attempts, e.claim_token"#,
        limit,
        token,
        lease_secs,
        with_payload,
        after_key,
    )
    .fetch_all(pool)
    .await
}

/// Extends claims this worker still holds (by their claim tokens).
pub async fn renew(pool: &PgPool, ids: &[i64], tokens: &[Option<Uuid>], lease_secs: f64) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"UPDATE github_events e SET locked_until = now() + make_interval(secs => $3)
           FROM UNNEST($1::int8[], $2::uuid[]) AS c(i, t)
           WHERE e.id = c.i AND e.claim_token = c.t AND e.status = 'processing'"#,
        ids,
        tokens as &[Option<Uuid>],
        lease_secs,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// A final outcome to record: (event, status, reason).
pub type Finished<'a> = (&'a EventRecord, EventStatus, Option<&'a str>);

/// Records final outcomes (processed, ignored, unhandled) of a claimed batch in
/// one statement (one commit). Only the claim holder may: an event whose lease
/// ran out to another worker is left alone. Returns the ids recorded.
pub async fn finish(pool: &PgPool, outcomes: &[Finished<'_>]) -> Result<Vec<i64>, sqlx::Error> {
    let ids: Vec<i64> = outcomes.iter().map(|(e, _, _)| e.id).collect();
    let tokens: Vec<Option<Uuid>> = outcomes.iter().map(|(e, _, _)| e.claim_token).collect();
    let statuses: Vec<&str> = outcomes.iter().map(|(_, s, _)| s.as_str()).collect();
    let reasons: Vec<Option<&str>> = outcomes.iter().map(|(_, _, r)| *r).collect();
    sqlx::query_scalar!(
        r#"WITH done AS (
               UPDATE github_events e
               SET status = u.s, failure_reason = u.r, error = NULL, processed_at = now(),
                   claim_token = NULL, locked_until = NULL, next_attempt_at = NULL
               FROM UNNEST($1::int8[], $2::uuid[], $3::text[], $4::text[]) AS u(i, t, s, r)
               WHERE e.id = u.i AND e.claim_token = u.t
               RETURNING e.id),
           told AS (SELECT pg_notify('github_event_status', '') WHERE EXISTS (SELECT 1 FROM done))
           SELECT id AS "id!" FROM done, (SELECT count(*) FROM told) t"#,
        &ids,
        &tokens as &[Option<Uuid>],
        &statuses as &[&str],
        &reasons as &[Option<&str>],
    )
    .fetch_all(pool)
    .await
}

/// Records a failure; retried after `retry_in_secs`, or never (`None`). Not
/// `counted`: the attempt is given back (GitHub asked us to wait).
pub async fn fail(
    pool: &PgPool,
    event: &EventRecord,
    reason: &str,
    error: &str,
    retry_in_secs: Option<f64>,
    counted: bool,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"WITH done AS (
               UPDATE github_events
               SET status = 'errored', failure_reason = $3, error = $4,
                   attempts = CASE WHEN $6 THEN attempts ELSE greatest(attempts - 1, 0) END,
                   next_attempt_at = now() + make_interval(secs => $5),
                   claim_token = NULL, locked_until = NULL
               WHERE id = $1 AND claim_token = $2
               RETURNING id)
           SELECT pg_notify('github_event_status', id::text) FROM done"#,
        event.id,
        event.claim_token,
        reason,
        error,
        retry_in_secs,
        counted,
    )
    .fetch_optional(pool)
    .await?;
    Ok(done.is_some())
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

/// Takes the retention sweep's lock for this transaction, if no one holds it.
pub async fn try_lock_retention(conn: impl sqlx::PgExecutor<'_>) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT pg_try_advisory_xact_lock(hashtextextended('forgelink:retention', 0)) AS "locked!""#)
        .fetch_one(conn)
        .await
}

/// Deletes up to `batch` finished events received more than `days` ago, oldest first.
pub async fn delete_finished_before(
    conn: impl sqlx::PgExecutor<'_>,
    days: u32,
    batch: i64,
) -> Result<u64, sqlx::Error> {
    let deleted = sqlx::query!(
        r#"DELETE FROM github_events WHERE id IN (
               SELECT id FROM github_events
               WHERE status IN ('processed', 'ignored', 'unhandled')
                 AND received_at < now() - make_interval(days => $1)
               ORDER BY received_at
               LIMIT $2
               FOR UPDATE SKIP LOCKED)"#,
        days as i32,
        batch,
    )
    .execute(conn)
    .await?;
    Ok(deleted.rows_affected())
}

/// The attempt id up to which recovery has dealt with every delivery.
pub async fn recovery_seen_through(pool: &PgPool) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!("SELECT seen_through FROM webhook_recovery_mark").fetch_optional(pool).await
}

pub async fn set_recovery_seen_through(pool: &PgPool, seen_through: i64) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO webhook_recovery_mark (seen_through) VALUES ($1)
         ON CONFLICT (only_row) DO UPDATE SET seen_through = $1, updated_at = now()",
        seen_through
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Which of these deliveries are stored.
pub async fn stored_delivery_ids(pool: &PgPool, guids: &[String]) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT DISTINCT delivery_id FROM github_events WHERE delivery_id = ANY($1)", guids)
        .fetch_all(pool)
        .await
}
