//! What server functions reach through Leptos' context and the request:
//! the application state, the session, the signed-in user; and the mapping of
//! the services' errors to the `AppError` the UI shows (with the right HTTP
//! status), so a server function says `?`.

use std::net::SocketAddr;

use axum::{
    extract::ConnectInfo,
    http::{header, HeaderMap},
};
use leptos::prelude::*;
use tower_sessions::Session;

use super::error::AppError;
use crate::{
    domain::accounts::User,
    server::{
        accounts::{self, throttle::Client, CurrentUser},
        integrations, projects, security,
        state::AppState,
        tasks,
    },
};

pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        AppError::Internal
    })
}

/// Sets the response status for the error, then returns it.
pub fn fail(error: AppError) -> AppError {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = axum::http::StatusCode::from_u16(error.status()) {
            response.set_status(status);
        }
    }
    error
}

pub fn internal(error: impl std::fmt::Display) -> AppError {
    tracing::error!(%error, "server function failed");
    fail(AppError::Internal)
}

async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(internal)
}

pub async fn current_user() -> Result<Option<User>, AppError> {
    let user = leptos_axum::extract_with_state::<Option<CurrentUser>, _>(&state()?).await.map_err(internal)?;
    Ok(user.map(|CurrentUser(user)| user))
}

pub async fn require_user() -> Result<User, AppError> {
    current_user().await?.ok_or_else(|| fail(AppError::Unauthorized))
}

/// Operators only; anyone else is told nothing exists here.
pub async fn require_admin() -> Result<User, AppError> {
    let user = require_user().await?;
    if user.is_admin {
        Ok(user)
    } else {
        Err(fail(AppError::NotFound))
    }
}

pub async fn begin_session(user_id: i64) -> Result<(), AppError> {
    accounts::session::begin(&session().await?, user_id).await.map_err(internal)
}

pub async fn end_session() -> Result<(), AppError> {
    accounts::session::end(&session().await?).await.map_err(internal)
}

/// Kept by a browser that has signed in, so its sign-ins are throttled apart
/// from strangers' guesses (see `accounts::throttle`).
const DEVICE_COOKIE: &str = "forgelink_device";

/// Who is signing in or up, as the throttle sees them.
pub async fn auth_client() -> Result<Client, AppError> {
    let state = state()?;
    let ConnectInfo(peer) = leptos_axum::extract::<ConnectInfo<SocketAddr>>().await.map_err(internal)?;
    let headers = leptos_axum::extract::<HeaderMap>().await.map_err(internal)?;
    let ip = security::client_ip(peer.ip(), &headers, &state.trusted_proxies);
    Ok(Client::new(ip, security::cookie(&headers, DEVICE_COOKIE)))
}

/// Gives the browser its device token for a year (sent back to server functions, `/fn`, only).
pub fn keep_device(token: &str) -> Result<(), AppError> {
    let state = state()?;
    let secure = if state.over_https() { "; Secure" } else { "" };
    let cookie = format!("{DEVICE_COOKIE}={token}; Path=/fn; Max-Age=31536000; HttpOnly; SameSite=Strict{secure}");
    if let (Some(response), Ok(value)) = (use_context::<leptos_axum::ResponseOptions>(), cookie.parse()) {
        response.append_header(header::SET_COOKIE, value);
    }
    Ok(())
}

impl From<accounts::AccountError> for AppError {
    fn from(error: accounts::AccountError) -> Self {
        use accounts::AccountError as E;
        match error {
            E::Invalid(message) => fail(AppError::Invalid(message)),
            E::EmailTaken => fail(AppError::Conflict(error.to_string())),
            E::WrongCredentials => fail(AppError::Invalid(error.to_string())),
            E::Throttled(_) => fail(AppError::TooManyAttempts(error.to_string())),
            E::NoSuchAccount(_) => fail(AppError::NotFound),
            E::Database(_) => internal(error),
        }
    }
}

impl From<projects::ProjectError> for AppError {
    fn from(error: projects::ProjectError) -> Self {
        use projects::ProjectError as E;
        match error {
            E::Invalid(message) => fail(AppError::Invalid(message)),
            E::SlugTaken(_) => fail(AppError::Conflict(error.to_string())),
            E::Database(_) => internal(error),
        }
    }
}

impl From<integrations::IntegrationError> for AppError {
    fn from(error: integrations::IntegrationError) -> Self {
        use integrations::IntegrationError as E;
        match error {
            E::NotFound => fail(AppError::NotFound),
            E::NotConnected => fail(AppError::Invalid(error.to_string())),
            E::NotAnOwner(_) => fail(AppError::Forbidden(error.to_string())),
            E::GitHubDown(_) => fail(AppError::Unavailable(error.to_string())),
            E::Invalid(message) => fail(AppError::Invalid(message)),
            E::Database(_) | E::Internal(_) => internal(error),
        }
    }
}

impl From<tasks::TaskError> for AppError {
    fn from(error: tasks::TaskError) -> Self {
        match error {
            tasks::TaskError::NotFound => fail(AppError::NotFound),
            tasks::TaskError::Database(_) => internal(error),
        }
    }
}
