//! Operational facts the UI can show anyone: is the database there.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the database said when asked just now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseStatus {
    /// Every migration applied.
    pub schema_current: bool,
    pub round_trip_ms: u64,
}

/// Asks PostgreSQL for its version and the migrations applied.
#[server(endpoint = "check_database")]
pub async fn check_database() -> Result<DatabaseStatus, ServerFnError> {
    use crate::server::{health, state::AppState};

    let state = use_context::<AppState>().ok_or_else(|| ServerFnError::new("application state is missing"))?;
    health::database_status(&state.pool).await.map_err(|error| {
        tracing::warn!(%error, "database status check failed");
        ServerFnError::new(error.public_reason())
    })
}
