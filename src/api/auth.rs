//! Who is signed in, and signing up, in and out.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;

/// A signed-in person as the UI sees them (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub is_admin: bool,
    pub github: Option<GitHubIdentity>,
}

/// The GitHub account linked to a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitHubIdentity {
    pub id: i64,
    pub login: String,
    pub avatar_url: String,
    /// GitHub stopped accepting the stored tokens: connect again.
    pub reconnect_needed: bool,
}

#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<User>, AppError> {
    crate::server::context::current_user().await
}

#[server(endpoint = "sign_up")]
pub async fn sign_up(
    email: String,
    display_name: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use crate::server::{accounts, context};
    let state = context::state()?;
    let client = context::auth_client().await?;
    let signed_in = accounts::service::sign_up(&state.pool, &email, &display_name, &password, &client)
        .await
        .map_err(context::account_error)?;
    context::keep_device(&signed_in.device)?;
    context::begin_session(signed_in.user.id).await?;
    leptos_axum::redirect(&crate::paths::local_path(next.as_deref(), "/projects"));
    Ok(())
}

#[server(endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use crate::server::{accounts, context};
    let state = context::state()?;
    let client = context::auth_client().await?;
    let signed_in =
        accounts::service::sign_in(&state.pool, &email, &password, &client).await.map_err(context::account_error)?;
    context::keep_device(&signed_in.device)?;
    context::begin_session(signed_in.user.id).await?;
    leptos_axum::redirect(&crate::paths::local_path(next.as_deref(), "/projects"));
    Ok(())
}

#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    crate::server::context::end_session().await?;
    leptos_axum::redirect("/");
    Ok(())
}
