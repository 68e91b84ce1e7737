//! Operational facts the UI can show anyone: is the database there.

use crate::domain::system::DatabaseStatus;
use leptos::prelude::*;

/// Asks PostgreSQL for its version and the migrations applied.
#[server(prefix = "/fn", endpoint = "check_database")]
pub async fn check_database() -> Result<DatabaseStatus, ServerFnError> {
    use crate::server::{health, state::AppState};

    let state = use_context::<AppState>().ok_or_else(|| ServerFnError::new("application state is missing"))?;
    health::database_status(&state.pool).await.map_err(|error| {
        tracing::warn!(%error, "database status check failed");
        ServerFnError::new(error.public_reason())
    })
}
