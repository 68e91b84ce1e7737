//! Operational facts the UI can show anyone: is the database there.

use super::error::AppError;
use crate::domain::system::DatabaseStatus;
use leptos::{prelude::*, server_fn::codec::Postcard};

/// Asks PostgreSQL for its version and the migrations applied.
#[server(prefix = "/fn", endpoint = "check_database", output = Postcard)]
pub async fn check_database() -> Result<DatabaseStatus, AppError> {
    use crate::{api::context, server::health};

    let state = context::state()?;
    health::database_status(&state.pool).await.map_err(|error| {
        tracing::warn!(%error, "database status check failed");
        context::fail(AppError::Unavailable(error.public_reason().into()))
    })
}
