//! The operator's view of webhook events (admins only).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;

/// What a missed-delivery recovery run found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoverySummary {
    pub checked: usize,
    pub redelivered: usize,
}

/// Asks GitHub for failed deliveries of the last 3 days that forgelink does not
/// have, and requests their redelivery.
#[server(endpoint = "recover_missed_deliveries")]
pub async fn recover_missed_deliveries() -> Result<RecoverySummary, AppError> {
    use crate::server::{context, webhooks::recovery};
    let state = context::state()?;
    context::require_admin().await?;
    let found = recovery::recover_missed(&state).await.map_err(|error| {
        tracing::warn!(%error, "missed-delivery recovery failed");
        context::fail(AppError::Invalid(format!("GitHub could not be asked: {error}")))
    })?;
    Ok(RecoverySummary { checked: found.checked, redelivered: found.redelivered })
}
