//! The redirects routes answer with: to a path with a query, to sign in
//! first, and to the page that explains why a GitHub flow stopped.

use axum::response::{IntoResponse, Redirect, Response};

use crate::domain::problems::{ConnectProblem, InstallProblem};

/// 303 to `path` with `params` as its query.
pub fn redirect_with(path: &str, params: &[(&str, &str)]) -> Response {
    let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
    Redirect::to(&format!("{path}?{query}")).into_response()
}

/// To the sign-in page, which comes back to `next` afterwards.
pub fn sign_in_first(next: &str) -> Response {
    redirect_with("/signin", &[("next", next)])
}

pub fn connect_problem(reason: ConnectProblem, return_to: &str) -> Response {
    redirect_with("/auth/github/problem", &[("reason", reason.as_str()), ("return_to", return_to)])
}

/// `account`: the organization whose owner could add the installation.
pub fn install_problem(reason: InstallProblem, return_to: &str, account: Option<&str>) -> Response {
    let mut params = vec![("reason", reason.as_str()), ("return_to", return_to)];
    params.extend(account.map(|account| ("account", account)));
    redirect_with("/integrations/github/problem", &params)
}
