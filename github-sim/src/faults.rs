//! The control API under `/_sim`: fault injection (latency, 5xx answers, rate
//! limits, dropped webhooks) so tests can prove forgelink survives them, and a
//! few helpers to set up scale tests without clicking.

use std::time::Duration;

use axum::{
    extract::{Request, State},
    http::{HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use chrono::Utc;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    auth::ApiError,
    world::{AccountKind, Id, World},
    Simulator,
};

/// Faults applied to the REST API and to webhook deliveries. Counters count down
/// to zero; `error_rate` applies to every request while set.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Added to every API answer.
    pub latency_ms: u64,
    /// Share (0.0–1.0) of API requests answered 502.
    pub error_rate: f64,
    /// The next N API requests are answered with `fail_status` (default 503)…
    pub fail_next: u32,
    pub fail_status: Option<u16>,
    /// …only those whose path contains this, when set…
    pub fail_path: Option<String>,
    /// …after letting this many of them through (a failure midway through a listing).
    pub pass_first: u32,
    /// The next N API requests are rate limited.
    pub rate_limit_next: u32,
    /// 403 (primary/secondary limit) or 429; default 403.
    pub rate_limit_status: Option<u16>,
    /// Sent as `retry-after` (secondary limits) when set…
    pub retry_after_secs: Option<u64>,
    /// …else `x-ratelimit-remaining: 0` with `x-ratelimit-reset` this far ahead.
    pub reset_after_secs: Option<u64>,
    /// The next N webhook deliveries fail to connect (and are logged as failed).
    pub drop_webhooks: u32,
}

impl Faults {
    pub fn take_webhook_drop(&mut self) -> bool {
        take(&mut self.drop_webhooks)
    }
}

fn take(counter: &mut u32) -> bool {
    if *counter > 0 {
        *counter -= 1;
        true
    } else {
        false
    }
}

/// Applies the configured faults before an API request reaches its handler.
pub async fn inject(State(sim): State<Simulator>, request: Request, next: Next) -> Response {
    sim.inner.counters.api_requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (latency, failure) = {
        let mut faults = sim.faults();
        let failure = if take(&mut faults.rate_limit_next) {
            Some(rate_limited(&faults))
        } else if faults.fail_path.as_deref().is_none_or(|path| request.uri().path().contains(path))
            && !take(&mut faults.pass_first)
            && take(&mut faults.fail_next)
        {
            let status = faults
                .fail_status
                .and_then(|s| StatusCode::from_u16(s).ok())
                .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            Some(ApiError::new(status, "Server Error").into_response())
        } else if faults.error_rate > 0.0 && rand::rng().random_bool(faults.error_rate.clamp(0.0, 1.0)) {
            Some(ApiError::new(StatusCode::BAD_GATEWAY, "Server Error").into_response())
        } else {
            None
        };
        (faults.latency_ms, failure)
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    match failure {
        Some(response) => response,
        None => next.run(request).await,
    }
}

fn rate_limited(faults: &Faults) -> Response {
    let status = faults.rate_limit_status.and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::FORBIDDEN);
    let now = Utc::now().timestamp();
    let mut error = match faults.retry_after_secs {
        Some(seconds) => {
            let mut error = ApiError::new(
                status,
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            );
            error.headers.insert("retry-after", HeaderValue::from(seconds));
            error
        }
        None => ApiError::new(status, "API rate limit exceeded"),
    };
    let reset = now + faults.reset_after_secs.unwrap_or(60) as i64;
    let limits = super::auth::rate_limit_headers(5000, 5000, reset);
    error.headers.extend(limits);
    error.into_response()
}

pub fn router(sim: Simulator) -> Router {
    Router::new()
        .route("/faults", get(get_faults).put(set_faults).delete(clear_faults))
        .route("/orgs", post(create_org))
        .route("/installations", post(create_installation))
        .route("/repos/{owner}/{name}/seed", post(seed_repository))
        .route("/state", get(summary))
        .route("/installation-tokens", axum::routing::delete(revoke_installation_tokens))
        .with_state(sim)
}

async fn get_faults(State(sim): State<Simulator>) -> Json<Faults> {
    Json(sim.faults().clone())
}

async fn set_faults(State(sim): State<Simulator>, Json(faults): Json<Faults>) -> Json<Faults> {
    *sim.faults() = faults.clone();
    Json(faults)
}

async fn clear_faults(State(sim): State<Simulator>) -> StatusCode {
    *sim.faults() = Faults::default();
    StatusCode::NO_CONTENT
}

/// The id of the user (not an organization) with this login, or GitHub's 422.
fn user_id(world: &World, login: &str) -> Result<Id, ApiError> {
    world
        .account_by_login(login)
        .filter(|a| a.kind == AccountKind::User)
        .map(|a| a.id)
        .ok_or_else(|| ApiError::unprocessable(format!("no user {login}")))
}

#[derive(Deserialize)]
struct NewOrg {
    login: String,
    #[serde(default)]
    repositories: usize,
    /// Logins of existing users to make owners (admins).
    #[serde(default)]
    owners: Vec<String>,
    /// Logins of existing users to make members who are not owners.
    #[serde(default)]
    members: Vec<String>,
}

/// Creates (or grows) an organization with `repositories` repositories.
async fn create_org(State(sim): State<Simulator>, Json(org): Json<NewOrg>) -> Result<impl IntoResponse, ApiError> {
    let mut world = sim.world();
    let users = |logins: &[String]| logins.iter().map(|login| user_id(&world, login)).collect::<Result<Vec<_>, _>>();
    let (owners, members) = (users(&org.owners)?, users(&org.members)?);
    let id = world.add_large_org(&org.login, org.repositories, &owners);
    for member in members {
        world.add_member(id, member, false);
    }
    let repositories = world.repos_of(id).len();
    sim.persist(&world);
    Ok((StatusCode::CREATED, Json(json!({ "id": id, "login": org.login, "repositories": repositories }))))
}

#[derive(Deserialize)]
struct NewInstallation {
    /// The user or organization to install on.
    account: String,
    /// The user who installs (the webhook's sender).
    sender: String,
    /// The member who asked the sender (an owner) to install, if one did.
    requester: Option<String>,
    /// Repository names to select; all repositories when absent.
    repositories: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Seed {
    issues: u64,
    #[serde(default)]
    comments_per_issue: u64,
    /// Who wrote them: the repository's owner when not given.
    author: Option<String>,
}

/// `POST /_sim/repos/{owner}/{name}/seed`: thousands of issues and comments at once.
async fn seed_repository(
    State(sim): State<Simulator>,
    axum::extract::Path((owner, name)): axum::extract::Path<(String, String)>,
    Json(seed): Json<Seed>,
) -> Result<impl IntoResponse, ApiError> {
    let (repo_id, author) = {
        let world = sim.world();
        let repo = world
            .repo_by_name(&owner, &name)
            .ok_or_else(|| ApiError::unprocessable(format!("no repository {owner}/{name}")))?;
        (repo.id, user_id(&world, seed.author.as_deref().unwrap_or(&owner))?)
    };
    sim.seed_issues(repo_id, author, seed.issues, seed.comments_per_issue).map_err(ApiError::unprocessable)?;
    Ok((StatusCode::CREATED, Json(json!({ "issues": seed.issues, "comments": seed.issues * seed.comments_per_issue }))))
}

/// Installs the App as if `sender` had clicked through the install page (or
/// approved `requester`'s request).
async fn create_installation(
    State(sim): State<Simulator>,
    Json(request): Json<NewInstallation>,
) -> Result<impl IntoResponse, ApiError> {
    let (account_id, sender_id, requester, repo_ids) = {
        let world = sim.world();
        let account = world
            .account_by_login(&request.account)
            .ok_or_else(|| ApiError::unprocessable(format!("no account {}", request.account)))?;
        let sender = user_id(&world, &request.sender)?;
        let requester = request.requester.as_deref().map(|login| user_id(&world, login)).transpose()?;
        let repo_ids = match &request.repositories {
            None => None,
            Some(names) => Some(
                names
                    .iter()
                    .map(|name| {
                        world
                            .repo_by_name(&account.login, name)
                            .map(|r| r.id)
                            .ok_or_else(|| ApiError::unprocessable(format!("no repository {name}")))
                    })
                    .collect::<Result<_, _>>()?,
            ),
        };
        (account.id, sender, requester, repo_ids)
    };
    let id = sim.install(account_id, sender_id, requester, repo_ids).map_err(ApiError::unprocessable)?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

async fn summary(State(sim): State<Simulator>) -> Json<serde_json::Value> {
    let world = sim.world();
    Json(json!({
        "app": { "id": sim.config().app.id, "slug": sim.config().app.slug },
        "accounts": world.accounts.len(),
        "repositories": world.repos.len(),
        "installations": world.installations.len(),
        "deliveries": world.deliveries.len(),
        "api_requests": sim.inner.counters.api_requests.load(std::sync::atomic::Ordering::Relaxed),
        "installation_tokens_issued": sim.inner.counters.installation_tokens.load(std::sync::atomic::Ordering::Relaxed),
    }))
}

/// Revokes every installation token, as GitHub does when an App's key is
/// rotated: the next call with one is answered 401.
async fn revoke_installation_tokens(State(sim): State<Simulator>) -> StatusCode {
    let mut world = sim.world();
    world.tokens.retain(|_, t| !matches!(t.grant, super::world::Grant::Installation { .. }));
    sim.persist(&world);
    StatusCode::NO_CONTENT
}
