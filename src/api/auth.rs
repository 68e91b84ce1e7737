//! Who is signed in, and signing up, in and out.

use leptos::{prelude::*, server_fn::codec::Postcard};

use super::error::AppError;
use crate::domain::accounts::User;

#[server(prefix = "/fn", endpoint = "current_user", output = Postcard)]
pub async fn current_user() -> Result<Option<User>, AppError> {
    crate::api::context::current_user().await
}

#[server(prefix = "/fn", endpoint = "sign_up", output = Postcard)]
pub async fn sign_up(
    email: String,
    display_name: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use crate::{api::context, server::accounts};
    let state = context::state()?;
    let client = context::auth_client().await?;
    let signed_in = accounts::service::sign_up(&state.pool, &email, &display_name, &password, &client).await?;
    context::keep_device(&signed_in.device)?;
    context::begin_session(signed_in.user.id).await?;
    leptos_axum::redirect(&crate::paths::local_path(next.as_deref(), "/projects"));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "sign_in", output = Postcard)]
pub async fn sign_in(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use crate::{api::context, server::accounts};
    let state = context::state()?;
    let client = context::auth_client().await?;
    let signed_in = accounts::service::sign_in(&state.pool, &email, &password, &client).await?;
    context::keep_device(&signed_in.device)?;
    context::begin_session(signed_in.user.id).await?;
    leptos_axum::redirect(&crate::paths::local_path(next.as_deref(), "/projects"));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "sign_out", output = Postcard)]
pub async fn sign_out() -> Result<(), AppError> {
    crate::api::context::end_session().await?;
    leptos_axum::redirect("/");
    Ok(())
}
