//! The operator's view of webhook events (admins only).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;

/// What a missed-delivery recovery run found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoverySummary {
    pub checked: usize,
    pub redelivered: usize,
    /// GitHub refused these; they are asked for again on the next run.
    pub failed: usize,
}

/// Asks GitHub for failed deliveries of the last 3 days that forgelink does not
/// have, and requests their redelivery.
#[server(endpoint = "recover_missed_deliveries")]
pub async fn recover_missed_deliveries() -> Result<RecoverySummary, AppError> {
    use crate::server::{context, webhooks::recovery};
    let state = context::state()?;
    context::require_admin().await?;
    let found = recovery::recover_exclusively(&state).await.map_err(|error| {
        tracing::warn!(%error, "missed-delivery recovery failed");
        context::fail(AppError::Invalid(format!("GitHub could not be asked: {error}")))
    })?;
    let Some(found) = found else {
        return Err(context::fail(AppError::Conflict("A recovery is already running. Try again in a minute.".into())));
    };
    Ok(RecoverySummary { checked: found.checked, redelivered: found.redelivered, failed: found.failed })
}

/// Which events the log shows (all filters optional; empty means any).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFilter {
    pub status: Option<String>,
    pub event: Option<String>,
    pub action: Option<String>,
    pub installation: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    pub id: i64,
    pub delivery_id: String,
    pub event: String,
    pub action: Option<String>,
    pub installation_github_id: Option<i64>,
    pub status: String,
    pub attempts: i32,
    pub failure_reason: Option<String>,
    /// UTC, `YYYY-MM-DD HH:MM:SS`.
    pub received_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDetail {
    pub row: EventRow,
    pub payload: String,
    pub error: Option<String>,
    pub next_attempt_at: Option<String>,
    pub processed_at: Option<String>,
}

/// How many events are in a status; `approximate` on a large table, for
/// finished ones (the planner's estimate, see `webhooks::log::counts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCount {
    pub status: String,
    pub count: i64,
    pub approximate: bool,
}

/// The newest events matching the filter (at most 100), and how many events
/// there are in each status.
#[server(endpoint = "list_events", input = leptos::server_fn::codec::Json)]
pub async fn list_events(filter: EventFilter) -> Result<(Vec<EventRow>, Vec<StatusCount>), AppError> {
    use crate::server::{context, webhooks::log};
    let state = context::state()?;
    context::require_admin().await?;
    let rows = log::list(&state.pool, &filter).await.map_err(context::internal)?;
    let counts = log::counts(&state.pool).await.map_err(context::internal)?;
    Ok((rows, counts))
}

#[server(endpoint = "get_event")]
pub async fn get_event(id: i64) -> Result<EventDetail, AppError> {
    use crate::server::{context, webhooks::log};
    let state = context::state()?;
    context::require_admin().await?;
    log::detail(&state.pool, id).await.map_err(context::internal)?.ok_or_else(|| context::fail(AppError::NotFound))
}

/// Puts an errored, ignored or unhandled event back in the queue.
#[server(endpoint = "retry_event")]
pub async fn retry_event(id: i64) -> Result<(), AppError> {
    use crate::server::{context, webhooks};
    let state = context::state()?;
    context::require_admin().await?;
    if webhooks::retry(&state.pool, id).await.map_err(context::internal)? {
        Ok(())
    } else {
        Err(context::fail(AppError::Conflict("Only errored, ignored or unhandled events can be retried.".into())))
    }
}
