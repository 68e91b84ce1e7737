//! What every handler and server function can reach.

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::PgPool;

/// Handlers take the parts they need through `State<T>` (via `FromRef`);
/// server functions get the whole state from Leptos' context.
#[derive(Clone, Debug, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
}
