//! The browser's round trip through GitHub to install the App:
//! `POST /integrations/github/install` → GitHub's install page →
//! `GET /integrations/github/setup`. Failures land on
//! `/integrations/github/problem`, which says what happened and what to do.

use axum::{
    extract::{Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Form, Router,
};
use serde::Deserialize;
use tower_sessions::Session;

use super::{install_flow, IntegrationError};
use crate::{
    domain::accounts::User,
    server::{accounts, state::AppState},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/integrations/github/install", post(install)).route("/integrations/github/setup", get(setup))
}

fn redirect_with(path: &str, params: &[(&str, &str)]) -> Response {
    let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
    Redirect::to(&format!("{path}?{query}")).into_response()
}

fn problem(reason: &str, return_to: &str) -> Response {
    redirect_with("/integrations/github/problem", &[("reason", reason), ("return_to", return_to)])
}

/// The signed-in person, or where to send them instead.
async fn signed_in(state: &AppState, session: &Session, back_to: &str) -> Result<User, Response> {
    let id = match accounts::session::user_id(session).await {
        Ok(Some(id)) => id,
        Ok(None) => return Err(redirect_with("/signin", &[("next", back_to)])),
        Err(error) => {
            tracing::error!(%error, "session store failed");
            return Err(problem("unavailable", "/projects"));
        }
    };
    match accounts::service::user_by_id(&state.pool, id).await {
        Ok(Some(user)) => Ok(user),
        Ok(None) => Err(redirect_with("/signin", &[("next", back_to)])),
        Err(error) => {
            tracing::error!(%error, "loading the user failed");
            Err(problem("unavailable", "/projects"))
        }
    }
}

#[derive(Deserialize)]
struct InstallForm {
    slug: String,
}

async fn install(State(state): State<AppState>, session: Session, Form(form): Form<InstallForm>) -> Response {
    let tab = format!("/projects/{}/integrations", crate::paths::encode_query(&form.slug));
    let user = match signed_in(&state, &session, &tab).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    match install_flow::begin(&state, &user, &form.slug).await {
        // 303: the browser follows with a GET to GitHub's install page.
        Ok(url) => Redirect::to(&url).into_response(),
        Err(IntegrationError::NotConnected) => redirect_with("/auth/github/connect", &[("return_to", &tab)]),
        Err(IntegrationError::NotFound) => problem("not_found", "/projects"),
        Err(error) => {
            tracing::error!(%error, "starting an install failed");
            problem("unavailable", &tab)
        }
    }
}

async fn setup(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<install_flow::SetupQuery>,
) -> Response {
    let here = {
        let mut params = Vec::new();
        for (key, value) in [
            ("installation_id", &query.installation_id),
            ("setup_action", &query.setup_action),
            ("state", &query.state),
        ] {
            if let Some(value) = value {
                params.push((key, value.as_str()));
            }
        }
        let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
        format!("/integrations/github/setup?{query}")
    };
    let user = match signed_in(&state, &session, &here).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    match install_flow::complete(&state, &user, &query).await {
        Ok(path) => Redirect::to(&path).into_response(),
        Err(error) => {
            tracing::warn!(user_id = user.id, %error, "setup redirect linked nothing");
            let return_to = match &error {
                install_flow::SetupError::NotConnected => here.as_str(),
                _ => "/projects",
            };
            let mut params = vec![("reason", error.reason()), ("return_to", return_to)];
            if let install_flow::SetupError::NotAnOwner(account) = &error {
                params.push(("account", account));
            }
            redirect_with("/integrations/github/problem", &params)
        }
    }
}
