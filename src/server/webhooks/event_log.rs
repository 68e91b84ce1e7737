//! The event log's queries, for operators.

use sqlx::PgPool;

use crate::domain::events::{EventDetail, EventFilter, EventRow, EventStatus, StatusCount};

pub async fn list(pool: &PgPool, filter: &EventFilter) -> Result<Vec<EventRow>, sqlx::Error> {
    let blank = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    sqlx::query_as!(
        EventRow,
        r#"SELECT id, delivery_id, event, action, installation_github_id, status AS "status: EventStatus",
                  attempts, failure_reason,
                  to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS "received_at!"
           FROM github_events
           WHERE ($1::text IS NULL OR status = $1)
             AND ($2::text IS NULL OR event = $2)
             AND ($3::text IS NULL OR action = $3)
             AND ($4::int8 IS NULL OR installation_github_id = $4)
           ORDER BY id DESC
           LIMIT 100"#,
        filter.status.map(EventStatus::as_str),
        blank(&filter.event),
        blank(&filter.action),
        filter.installation,
    )
    .fetch_all(pool)
    .await
}

/// Past this many rows (by the planner's estimate) finished events are not
/// counted one by one on every refresh of the log.
pub const EXACT_UP_TO: f32 = 100_000.0;

/// Events by status. On a large table the pending and errored ones are still
/// counted exactly (their partial indexes are small) and the finished ones are
/// the planner's estimate from its statistics (`approximate`), so a refresh
/// costs the same on a table of millions as on an empty one.
pub async fn counts(pool: &PgPool) -> Result<Vec<StatusCount>, sqlx::Error> {
    let estimated_rows =
        sqlx::query_scalar!(r#"SELECT reltuples AS "n!" FROM pg_class WHERE oid = 'github_events'::regclass"#)
            .fetch_one(pool)
            .await?;
    if estimated_rows < EXACT_UP_TO {
        let rows =
            sqlx::query!(r#"SELECT status AS "status: EventStatus", count(*) AS "n!" FROM github_events GROUP BY status ORDER BY status"#)
                .fetch_all(pool)
                .await?;
        return Ok(rows
            .into_iter()
            .map(|r| StatusCount { status: r.status, count: r.n, approximate: false })
            .collect());
    }
    let rows = sqlx::query!(
        r#"SELECT status AS "status!: EventStatus", count(*) AS "n!", false AS "approximate!"
           FROM github_events WHERE status IN ('unprocessed', 'processing', 'errored') GROUP BY status
           UNION ALL
           SELECT v.status AS "status!: EventStatus", round(v.freq * c.reltuples)::int8 AS "n!", true AS "approximate!"
           FROM pg_stats s
           CROSS JOIN LATERAL unnest(s.most_common_vals::text::text[], s.most_common_freqs) AS v(status, freq)
           CROSS JOIN (SELECT reltuples FROM pg_class WHERE oid = 'github_events'::regclass) c
           WHERE s.schemaname = current_schema() AND s.tablename = 'github_events' AND s.attname = 'status'
             AND v.status IN ('processed', 'ignored', 'unhandled')
           ORDER BY 1"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| StatusCount { status: r.status, count: r.n, approximate: r.approximate }).collect())
}

pub async fn detail(pool: &PgPool, id: i64) -> Result<Option<EventDetail>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT id, delivery_id, event, action, installation_github_id, status AS "status: EventStatus",
                  attempts, failure_reason, error,
                  jsonb_pretty(payload::jsonb) AS "payload!",
                  to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS "received_at!",
                  to_char(next_attempt_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS next_attempt_at,
                  to_char(processed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS processed_at
           FROM github_events WHERE id = $1"#,
        id,
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| EventDetail {
        row: EventRow {
            id: r.id,
            delivery_id: r.delivery_id,
            event: r.event,
            action: r.action,
            installation_github_id: r.installation_github_id,
            status: r.status,
            attempts: r.attempts,
            failure_reason: r.failure_reason,
            received_at: r.received_at,
        },
        payload: r.payload,
        error: r.error,
        next_attempt_at: r.next_attempt_at,
        processed_at: r.processed_at,
    }))
}
