//! The JSON API, for scripts and other clients: session-cookie auth (the same
//! sessions as the pages; changes need the same-origin `Origin` header), the
//! same authorization rules as the pages, and errors in one shape:
//! `{"statusCode": 404, "statusMessage": "Not Found", "data": {"message": "…"}}`.

mod installations;
mod repos;
mod tasks;

use super::{accounts::NoUser, integrations::IntegrationError, state::AppState};
use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/users/{user_id}/installations", get(installations::of_user))
        .route("/api/github-app-installations", get(installations::list))
        .route("/api/github-app-installations/{id}", get(installations::one))
        .route("/api/projects/{slug}/github-repos", get(repos::list).post(repos::follow))
        .route("/api/projects/{slug}/github-repos/{id}", axum::routing::delete(repos::unfollow))
        .route("/api/projects/{slug}/tasks", get(tasks::list))
        .route("/api/projects/{slug}/tasks/{id}", get(tasks::one))
}

/// An error in the API's shape.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("{what} not found"))
    }

    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "JSON API request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side. Try again in a moment.")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "statusCode": self.status.as_u16(),
            "statusMessage": self.status.canonical_reason().unwrap_or(""),
            "data": { "message": self.message },
        });
        (self.status, Json(body)).into_response()
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        Self::internal(error)
    }
}

impl From<IntegrationError> for ApiError {
    fn from(error: IntegrationError) -> Self {
        match error {
            IntegrationError::NotFound => Self::not_found("Project"),
            IntegrationError::NotConnected | IntegrationError::Invalid(_) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, error.to_string())
            }
            IntegrationError::NotAnOwner(_) => Self::new(StatusCode::FORBIDDEN, error.to_string()),
            IntegrationError::GitHubDown(_) => Self::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string()),
            IntegrationError::Database(_) | IntegrationError::Internal(_) => Self::internal(error),
        }
    }
}

pub type ApiResult = Result<Response, ApiError>;

impl From<NoUser> for ApiError {
    fn from(error: NoUser) -> Self {
        match error {
            NoUser::SignedOut => {
                Self::new(StatusCode::UNAUTHORIZED, "Sign in to use the API: no valid session cookie was sent.")
            }
            NoUser::Unavailable(_) => Self::internal(error),
        }
    }
}

/// A path segment that must be a positive id.
fn parse_id(text: &str, what: &str) -> Result<i64, ApiError> {
    text.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| {
        ApiError::new(StatusCode::BAD_REQUEST, format!("{what} must be a positive integer, not {text:?}"))
    })
}

/// RFC 3339 with seconds, UTC.
fn timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
