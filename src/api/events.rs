//! The operator's view of webhook events (admins only).

use leptos::{prelude::*, server_fn::codec::Postcard};

use super::error::AppError;
use crate::domain::events::{EventDetail, EventFilter, EventRow, RecoverySummary, StatusCount};

/// Asks GitHub for failed deliveries of the last 3 days that forgelink does not
/// have, and requests their redelivery.
#[server(prefix = "/fn", endpoint = "recover_missed_deliveries", output = Postcard)]
pub async fn recover_missed_deliveries() -> Result<RecoverySummary, AppError> {
    use crate::{api::context, server::webhooks::recovery};
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

/// The newest events matching the filter (at most 100), and how many events
/// there are in each status.
#[server(prefix = "/fn", endpoint = "list_events", input = Postcard, output = Postcard)]
pub async fn list_events(filter: EventFilter) -> Result<(Vec<EventRow>, Vec<StatusCount>), AppError> {
    use crate::{api::context, server::webhooks::event_log};
    let state = context::state()?;
    context::require_admin().await?;
    let rows = event_log::list(&state.pool, &filter).await.map_err(context::internal)?;
    let counts = event_log::counts(&state.pool).await.map_err(context::internal)?;
    Ok((rows, counts))
}

#[server(prefix = "/fn", endpoint = "get_event", output = Postcard)]
pub async fn get_event(id: i64) -> Result<EventDetail, AppError> {
    use crate::{api::context, server::webhooks::event_log};
    let state = context::state()?;
    context::require_admin().await?;
    event_log::detail(&state.pool, id)
        .await
        .map_err(context::internal)?
        .ok_or_else(|| context::fail(AppError::NotFound))
}

/// Puts an errored, ignored or unhandled event back in the queue.
#[server(prefix = "/fn", endpoint = "retry_event", output = Postcard)]
pub async fn retry_event(id: i64) -> Result<(), AppError> {
    use crate::{api::context, server::webhooks};
    let state = context::state()?;
    context::require_admin().await?;
    if webhooks::retry(&state.pool, id).await.map_err(context::internal)? {
        Ok(())
    } else {
        Err(context::fail(AppError::Conflict("Only errored, ignored or unhandled events can be retried.".into())))
    }
}
