//! The browser's round trip through GitHub to connect an account:
//! `/auth/github/connect` → GitHub's authorize page → `/auth/github/callback`.
//! Every failure lands on `/auth/github/problem`, which says what happened and
//! what to do next; nothing half-written stays behind.

use axum::{
    extract::{Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Form, Router,
};
use rand::Rng;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use super::{github_link, CurrentUser, NoUser};
use crate::{
    domain::problems::ConnectProblem,
    paths::local_path,
    server::{
        integrations,
        redirects::{connect_problem, sign_in_first},
        state::AppState,
    },
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/github/connect", get(connect))
        .route("/auth/github/callback", get(callback))
        .route("/auth/github/disconnect", post(disconnect))
}

const PENDING: &str = "github_oauth";

/// What the session remembers between leaving for GitHub and coming back.
#[derive(Serialize, Deserialize)]
struct Pending {
    state: String,
    return_to: String,
}

#[derive(Deserialize)]
struct ConnectQuery {
    return_to: Option<String>,
}

async fn connect(
    State(state): State<AppState>,
    user: Result<CurrentUser, NoUser>,
    session: Session,
    Query(query): Query<ConnectQuery>,
) -> Response {
    let return_to = local_path(query.return_to.as_deref(), "/account");
    match user {
        Ok(_) => {}
        Err(NoUser::SignedOut) => {
            let query =
                url::form_urlencoded::Serializer::new(String::new()).append_pair("return_to", &return_to).finish();
            return sign_in_first(&format!("/auth/github/connect?{query}"));
        }
        Err(error) => {
            tracing::error!(%error, "cannot tell who is signed in");
            return connect_problem(ConnectProblem::Unavailable, &return_to);
        }
    }
    let oauth_state = hex::encode(rand::rng().random::<[u8; 32]>());
    let pending = Pending { state: oauth_state.clone(), return_to: return_to.clone() };
    if let Err(error) = session.insert(PENDING, pending).await {
        tracing::error!(%error, "session store failed");
        return connect_problem(ConnectProblem::Unavailable, &return_to);
    }
    Redirect::to(&state.github.authorize_url(&state.oauth_callback_url(), &oauth_state)).into_response()
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn callback(
    State(state): State<AppState>,
    user: Result<CurrentUser, NoUser>,
    session: Session,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let user_id = match user {
        Ok(user) => user.id,
        Err(NoUser::SignedOut) => return sign_in_first("/account"),
        Err(error) => {
            tracing::error!(%error, "cannot tell who is signed in");
            return connect_problem(ConnectProblem::Unavailable, "/account");
        }
    };
    // Single use: taken out of the session whatever happens next.
    let pending: Option<Pending> = session.remove(PENDING).await.unwrap_or(None);
    let Some(pending) = pending else {
        return connect_problem(ConnectProblem::State, "/account");
    };
    let state_matches =
        query.state.as_deref().is_some_and(|given| bool::from(given.as_bytes().ct_eq(pending.state.as_bytes())));
    if !state_matches {
        tracing::warn!(user_id, "OAuth callback with a state that does not match the session");
        return connect_problem(ConnectProblem::State, &pending.return_to);
    }
    if let Some(error) = query.error.as_deref() {
        let reason = if error == "access_denied" { ConnectProblem::Cancelled } else { ConnectProblem::Refused };
        return connect_problem(reason, &pending.return_to);
    }
    let Some(code) = query.code.as_deref().filter(|c| !c.is_empty()) else {
        return connect_problem(ConnectProblem::Refused, &pending.return_to);
    };
    match github_link::complete_link(
        &state.pool,
        &state.github,
        &state.cipher,
        user_id,
        code,
        &state.oauth_callback_url(),
    )
    .await
    {
        Ok(identity) => {
            tracing::info!(user_id, github_login = %identity.login, "GitHub account connected");
            // Installs this person made on GitHub before connecting are theirs now.
            match integrations::claim_unmatched(&state.pool, user_id, identity.id).await {
                Ok(0) => {}
                Ok(claimed) => tracing::info!(user_id, claimed, "installations claimed"),
                Err(error) => tracing::error!(%error, "claiming installations failed"),
            }
            Redirect::to(&pending.return_to).into_response()
        }
        Err(error) => {
            tracing::warn!(user_id, %error, "connecting GitHub failed");
            let reason = match error {
                github_link::LinkError::AlreadyLinked => ConnectProblem::AlreadyLinked,
                github_link::LinkError::GitHubDown(_) => ConnectProblem::GitHubDown,
                github_link::LinkError::GitHubRefused(_) => ConnectProblem::Refused,
                _ => ConnectProblem::Unavailable,
            };
            connect_problem(reason, &pending.return_to)
        }
    }
}

#[derive(Deserialize)]
struct DisconnectForm {
    return_to: Option<String>,
}

async fn disconnect(
    State(state): State<AppState>,
    user: Result<CurrentUser, NoUser>,
    Form(form): Form<DisconnectForm>,
) -> Response {
    let return_to = local_path(form.return_to.as_deref(), "/account");
    match user {
        Ok(user) => match github_link::disconnect(&state.pool, user.id).await {
            Ok(()) => Redirect::to(&return_to).into_response(),
            Err(error) => {
                tracing::error!(%error, "disconnecting GitHub failed");
                connect_problem(ConnectProblem::Unavailable, &return_to)
            }
        },
        Err(NoUser::SignedOut) => sign_in_first(&return_to),
        Err(error) => {
            tracing::error!(%error, "cannot tell who is signed in");
            connect_problem(ConnectProblem::Unavailable, &return_to)
        }
    }
}
