//! The web side a person clicks through: the router over the flows' pages, and the helpers they share.

mod install;
mod oauth;
mod repos;
mod session;

use axum::{
    body::Bytes,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Router,
};
use maud::{html, Markup};

use super::{
    html::{avatar_img, error_card, page, url_encode},
    world::{Account, AccountKind, Id, Repo},
    Simulator,
};

const USER_COOKIE: &str = "gh_sim_user";

pub fn router(sim: Simulator) -> Router {
    Router::new()
        .route("/", get(session::dashboard))
        .route("/avatars/{file}", get(session::avatar))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/login/oauth/authorize", get(oauth::authorize_page).post(oauth::authorize))
        .route("/login/oauth/access_token", post(oauth::access_token))
        .route("/settings/applications/{user}/revoke", post(oauth::revoke_authorization))
        .route("/apps/{slug}", get(install::app_page))
        .route("/apps/{slug}/installations/new", get(install::choose_account))
        .route("/apps/{slug}/installations/new/permissions", get(install::choose_repositories))
        .route("/apps/{slug}/installations", post(install::install))
        .route("/settings/installations/{id}", get(install::configure_page).post(install::configure))
        .route("/organizations/{org}/settings/installations/{id}", get(install::configure_page_in_org))
        .route("/settings/installations/{id}/{action}", post(install::change_installation))
        .route("/deliveries/{id}/redeliver", post(install::redeliver))
        .route("/{owner}/{repo}", get(repos::repo_page))
        .route("/{owner}/{repo}/issues", post(repos::new_issue))
        .route("/{owner}/{repo}/issues/{number}/state", post(repos::issue_state))
        .route("/{owner}/{repo}/issues/{number}/comments", post(repos::new_comment))
        .route("/{owner}/{repo}/issues/{number}/labels", post(repos::add_label))
        .route("/{owner}/{repo}/issues/{number}/delete", post(repos::delete_issue))
        .route("/{owner}/{repo}/issues/{number}/assignees", post(repos::assignees))
        .route("/{owner}/{repo}/issues/{number}/transfer", post(repos::transfer_issue))
        .route("/{owner}/{repo}/pulls", post(repos::new_pull))
        .route("/{owner}/{repo}/pull/{number}/merge", post(repos::merge_pull))
        .route("/{owner}/{repo}/pull/{number}/draft", post(repos::pull_draft))
        .with_state(sim)
}

/// `candidate` if it leads back into the simulator, else `/`: a sign-in page
/// must not redirect anywhere else. Read as browsers read URLs (`//host`,
/// `/\host` and tabs in the path are other sites to them, and to `url`).
fn own_path(sim: &Simulator, candidate: Option<&str>) -> String {
    let origin = url::Url::parse(&sim.urls().web).ok();
    let joined = candidate.filter(|path| path.starts_with('/')).and_then(|path| origin.as_ref()?.join(path).ok());
    match (origin, joined) {
        (Some(origin), Some(joined)) if joined.origin() == origin.origin() => {
            joined[url::Position::BeforePath..].to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// A url-encoded form body, keeping repeated keys (checkbox lists).
struct FormPairs(Vec<(String, String)>);

impl FormPairs {
    fn parse(body: &Bytes) -> Self {
        Self(url::form_urlencoded::parse(body).into_owned().collect())
    }
    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
    fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

fn signed_in(sim: &Simulator, headers: &HeaderMap) -> Option<Account> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    let id: Id = cookies
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == USER_COOKIE)?
        .1
        .parse()
        .ok()?;
    sim.world().accounts.get(&id).filter(|a| a.kind == AccountKind::User).cloned()
}

/// The signed-in user, or a redirect to the sign-in page that comes back here.
fn require_user(sim: &Simulator, headers: &HeaderMap, here: &str) -> Result<Account, Response> {
    signed_in(sim, headers)
        .ok_or_else(|| Redirect::to(&format!("/login?return_to={}", url_encode(here))).into_response())
}

fn render(sim: &Simulator, title: &str, user: Option<&Account>, body: Markup) -> Response {
    page(title, user, &sim.urls().web, body).into_response()
}

fn refused(sim: &Simulator, user: Option<&Account>, status: StatusCode, message: &str) -> Response {
    let body = html! {
        (error_card(message))
        p { a href="/" { "Back to the dashboard" } }
    };
    (status, render(sim, "Something went wrong", user, body)).into_response()
}

/// Adds query parameters to a URL that may already have some.
fn with_query(url: &str, params: &[(&str, &str)]) -> String {
    let mut out = url.to_owned();
    for (i, (k, v)) in params.iter().enumerate() {
        let sep = if i == 0 && !url.contains('?') { '?' } else { '&' };
        out.push_str(&format!("{sep}{k}={}", url_encode(v)));
    }
    out
}

fn account_label(web: &str, account: &Account) -> Markup {
    html! {
        (avatar_img(web, &account.login, 20)) " " strong { (account.login) } " "
        span.badge { (account.kind.as_str()) }
    }
}

/// A repository's visibility badges, after its name or description.
fn repo_badges(repo: &Repo) -> Markup {
    html! {
        @if repo.private { " " span.badge { "Private" } }
        @if repo.archived { " " span.badge { "Archived" } }
    }
}
