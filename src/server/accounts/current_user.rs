//! Who is asking: the signed-in person, as every HTTP handler, JSON API route,
//! live stream and server function learns it (an axum extractor).
//! `CurrentUser` for routes that need someone, `Option<CurrentUser>` for those
//! anyone may call; `Result<_, NoUser>` where the route answers in its own way.

use axum::{
    extract::{FromRef, FromRequestParts, OptionalFromRequestParts},
    http::{request::Parts, StatusCode},
    response::{IntoResponse, Response},
};
use tower_sessions::Session;

use super::{service, session, User};
use crate::server::state::AppState;

/// The signed-in person (never the password hash).
#[derive(Debug, Clone)]
pub struct CurrentUser(pub User);

impl std::ops::Deref for CurrentUser {
    type Target = User;

    fn deref(&self) -> &User {
        &self.0
    }
}

/// Why there is no `CurrentUser`.
#[derive(Debug, thiserror::Error)]
pub enum NoUser {
    #[error("not signed in")]
    SignedOut,
    /// The session store or the database failed: nobody can be told apart now.
    #[error("cannot tell who is signed in: {0}")]
    Unavailable(String),
}

impl IntoResponse for NoUser {
    fn into_response(self) -> Response {
        match self {
            Self::SignedOut => (StatusCode::UNAUTHORIZED, "Sign in to continue.").into_response(),
            Self::Unavailable(error) => {
                tracing::error!(%error, "cannot tell who is signed in");
                (StatusCode::SERVICE_UNAVAILABLE, "Something went wrong on our side. Try again in a moment.")
                    .into_response()
            }
        }
    }
}

/// The session's user, if it has one that still exists.
async fn signed_in(parts: &Parts, state: &AppState) -> Result<Option<User>, NoUser> {
    let unavailable = |error: &dyn std::fmt::Display| NoUser::Unavailable(error.to_string());
    // Put there by the session layer, which every route for people runs under.
    let session = parts.extensions.get::<Session>().ok_or_else(|| unavailable(&"no session layer on this route"))?;
    let Some(id) = session::user_id(session).await.map_err(|e| unavailable(&e))? else {
        return Ok(None);
    };
    service::user_by_id(&state.pool, id).await.map_err(|e| unavailable(&e))
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser
where
    AppState: FromRef<S>,
{
    type Rejection = NoUser;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, NoUser> {
        signed_in(parts, &AppState::from_ref(state)).await?.map(CurrentUser).ok_or(NoUser::SignedOut)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for CurrentUser
where
    AppState: FromRef<S>,
{
    type Rejection = NoUser;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, NoUser> {
        Ok(signed_in(parts, &AppState::from_ref(state)).await?.map(CurrentUser))
    }
}
