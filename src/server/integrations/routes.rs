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

use super::{authority::AuthorityError, install_flow, IntegrationError};
use crate::{
    domain::{accounts::User, problems::InstallProblem},
    server::{
        accounts::{CurrentUser, NoUser},
        redirects::{install_problem, redirect_with, sign_in_first},
        state::AppState,
    },
};

pub fn router() -> Router<AppState> {
    Router::new().route("/integrations/github/install", post(install)).route("/integrations/github/setup", get(setup))
}

/// The signed-in person, or where to send them instead.
#[allow(clippy::result_large_err)] // the response is the handler's answer at once, not an error carried along
fn signed_in(user: Result<CurrentUser, NoUser>, back_to: &str) -> Result<User, Response> {
    match user {
        Ok(CurrentUser(user)) => Ok(user),
        Err(NoUser::SignedOut) => Err(sign_in_first(back_to)),
        Err(error) => {
            tracing::error!(%error, "cannot tell who is signed in");
            Err(install_problem(InstallProblem::Unavailable, "/projects", None))
        }
    }
}

#[derive(Deserialize)]
struct InstallForm {
    slug: String,
}

async fn install(
    State(state): State<AppState>,
    user: Result<CurrentUser, NoUser>,
    Form(form): Form<InstallForm>,
) -> Response {
    let tab = format!("/projects/{}/integrations", crate::paths::encode_query(&form.slug));
    let user = match signed_in(user, &tab) {
        Ok(user) => user,
        Err(response) => return response,
    };
    match install_flow::begin(&state, &user, &form.slug).await {
        // 303: the browser follows with a GET to GitHub's install page.
        Ok(url) => Redirect::to(&url).into_response(),
        Err(IntegrationError::NotConnected) => redirect_with("/auth/github/connect", &[("return_to", &tab)]),
        Err(IntegrationError::NotFound) => install_problem(InstallProblem::NotFound, "/projects", None),
        Err(error) => {
            tracing::error!(%error, "starting an install failed");
            install_problem(InstallProblem::Unavailable, &tab, None)
        }
    }
}

async fn setup(
    State(state): State<AppState>,
    user: Result<CurrentUser, NoUser>,
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
    let user = match signed_in(user, &here) {
        Ok(user) => user,
        Err(response) => return response,
    };
    match install_flow::complete(&state, &user, &query).await {
        Ok(path) => Redirect::to(&path).into_response(),
        Err(error) => {
            tracing::warn!(user_id = user.id, %error, "setup redirect linked nothing");
            use install_flow::SetupError::Authority;
            let return_to = match &error {
                Authority(AuthorityError::NotConnected) => here.as_str(),
                _ => "/projects",
            };
            let account = match &error {
                Authority(AuthorityError::NotAnOwner(account)) => Some(account.as_str()),
                _ => None,
            };
            install_problem(error.reason(), return_to, account)
        }
    }
}
