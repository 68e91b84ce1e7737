//! The REST API, under `/api/v3`: the endpoints forgelink calls, with GitHub's
//! credentials rules, pagination (`per_page` ≤ 100, `Link`) and rate-limit headers.
//! Every endpoint in one file, as GitHub's reference lists them, beside the
//! credential checks they share.

use axum::{
    extract::{OriginalUri, Path, Query, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    auth::ApiError,
    faults, payloads,
    world::{AccountKind, Grant, Id, Installation, Repo, World},
    Simulator,
};

pub fn router(sim: Simulator) -> Router {
    Router::new()
        .route("/app", get(get_app))
        .route("/app/installations", get(list_app_installations))
        .route("/app/installations/{id}", get(get_app_installation))
        .route("/app/installations/{id}/access_tokens", post(create_installation_token))
        .route("/app/hook/deliveries", get(list_deliveries))
        .route("/app/hook/deliveries/{id}", get(get_delivery))
        .route("/app/hook/deliveries/{id}/attempts", post(redeliver))
        .route("/installation/repositories", get(list_installation_repos))
        .route("/user", get(get_user))
        .route("/user/installations", get(list_user_installations))
        .route("/user/installations/{id}/repositories", get(list_user_installation_repos))
        .route("/user/memberships/orgs/{org}", get(get_own_membership))
        .route("/users/{login}", get(get_user_by_login))
        .route("/repos/{owner}/{repo}", get(get_repo))
        .route("/repos/{owner}/{repo}/issues", get(list_issues).post(create_issue))
        .route("/repos/{owner}/{repo}/pulls", post(create_pull))
        .route("/repos/{owner}/{repo}/pulls/{number}", get(get_pull))
        .route("/repos/{owner}/{repo}/pulls/{number}/merge", axum::routing::put(merge_pull))
        .route("/repos/{owner}/{repo}/issues/comments", get(list_repo_comments))
        .route("/repos/{owner}/{repo}/issues/comments/{id}", get(get_comment))
        .route("/repos/{owner}/{repo}/issues/{number}", get(get_issue).patch(update_issue))
        .route("/repos/{owner}/{repo}/issues/{number}/comments", get(list_comments).post(create_comment))
        .route("/repos/{owner}/{repo}/issues/{number}/assignees", post(change_assignees).delete(change_assignees))
        .fallback(|| async { ApiError::not_found() })
        .layer(middleware::from_fn_with_state(sim.clone(), rate_limit))
        .layer(middleware::from_fn_with_state(sim.clone(), faults::inject))
        .with_state(sim)
}

/// Counts every request and adds `x-ratelimit-*` headers to the answer.
async fn rate_limit(State(sim): State<Simulator>, request: Request, next: Next) -> Response {
    let limits = match sim.count_request(request.headers()) {
        Ok(limits) => limits,
        Err(error) => return error.into_response(),
    };
    let mut response = next.run(request).await;
    response.headers_mut().extend(limits);
    response
}

type ApiResult = Result<Response, ApiError>;

#[derive(Deserialize)]
struct PageQuery {
    per_page: Option<usize>,
    page: Option<usize>,
}

/// One page of `items` and the `Link` header GitHub sends with it.
fn paginate<T: Clone>(items: &[T], query: &PageQuery, uri: &OriginalUri, base: &str) -> (Vec<T>, Option<HeaderValue>) {
    let per_page = query.per_page.unwrap_or(30).clamp(1, 100);
    let page = query.page.unwrap_or(1).max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let slice = items.iter().skip((page - 1) * per_page).take(per_page).cloned().collect();
    // Keep the other query parameters; replace page and per_page.
    let others: Vec<String> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("page=") && !p.starts_with("per_page="))
        .map(str::to_owned)
        .collect();
    let url = |n: usize| {
        let mut params = others.clone();
        params.push(format!("per_page={per_page}"));
        params.push(format!("page={n}"));
        format!("{base}{}?{}", uri.path(), params.join("&"))
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("<{}>; rel=\"prev\"", url(page - 1)));
    }
    if page < last {
        links.push(format!("<{}>; rel=\"next\"", url(page + 1)));
        links.push(format!("<{}>; rel=\"last\"", url(last)));
    }
    if page > 1 {
        links.push(format!("<{}>; rel=\"first\"", url(1)));
    }
    let header = (!links.is_empty()).then(|| HeaderValue::from_str(&links.join(", ")).ok()).flatten();
    (slice, header)
}

fn with_link(body: Value, link: Option<HeaderValue>) -> Response {
    let mut response = Json(body).into_response();
    if let Some(link) = link {
        response.headers_mut().insert("link", link);
    }
    response
}

// --- the App (JWT) ---------------------------------------------------------------------

async fn get_app(State(sim): State<Simulator>, headers: HeaderMap) -> ApiResult {
    sim.verify_app_jwt(&headers)?;
    let world = sim.world();
    let owner = world.account_by_login("forge-demo");
    Ok(Json(payloads::app(sim.urls(), &sim.config().app, owner, world.installations.len())).into_response())
}

async fn list_app_installations(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    uri: OriginalUri,
    Query(query): Query<PageQuery>,
) -> ApiResult {
    sim.verify_app_jwt(&headers)?;
    let world = sim.world();
    let all: Vec<Value> = world
        .installations
        .values()
        .map(|i| payloads::installation(sim.urls(), &world, &sim.config().app, i))
        .collect();
    let (page, link) = paginate(&all, &query, &uri, &sim.urls().web);
    Ok(with_link(Value::Array(page), link))
}

async fn get_app_installation(State(sim): State<Simulator>, headers: HeaderMap, Path(id): Path<Id>) -> ApiResult {
    sim.verify_app_jwt(&headers)?;
    let world = sim.world();
    let installation = world.installations.get(&id).ok_or_else(ApiError::not_found)?;
    Ok(Json(payloads::installation(sim.urls(), &world, &sim.config().app, installation)).into_response())
}

async fn create_installation_token(State(sim): State<Simulator>, headers: HeaderMap, Path(id): Path<Id>) -> ApiResult {
    sim.verify_app_jwt(&headers)?;
    let mut world = sim.world();
    let installation = world.installations.get(&id).cloned().ok_or_else(ApiError::not_found)?;
    if installation.suspended_at.is_some() {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "This installation has been suspended"));
    }
    let (token, expires_at) = world.issue_installation_token(id);
    sim.persist(&world);
    sim.inner.counters.installation_tokens.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let body = json!({
        "token": token,
        "expires_at": payloads::timestamp(expires_at),
        "permissions": payloads::permissions(),
        "repository_selection": installation.selection.as_str(),
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Deserialize)]
struct DeliveryQuery {
    per_page: Option<usize>,
    cursor: Option<Id>,
}

fn delivery_summary(d: &super::world::Delivery) -> Value {
    json!({
        "id": d.id,
        "guid": d.guid,
        "delivered_at": payloads::timestamp(d.delivered_at),
        "redelivery": d.redelivery,
        "duration": d.duration_secs,
        "status": d.status,
        "status_code": d.status_code,
        "event": d.event,
        "action": d.action,
        "installation_id": d.installation_id,
        "repository_id": d.repository_id,
        "throttled_at": null,
    })
}

/// Newest first, cursor-paginated as GitHub does for this endpoint.
async fn list_deliveries(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    uri: OriginalUri,
    Query(query): Query<DeliveryQuery>,
) -> ApiResult {
    sim.verify_app_jwt(&headers)?;
    let per_page = query.per_page.unwrap_or(30).clamp(1, 100);
    let world = sim.world();
    let mut newest_first: Vec<_> =
        world.deliveries.iter().filter(|d| query.cursor.is_none_or(|cursor| d.id < cursor)).collect();
    newest_first.sort_by_key(|d| std::cmp::Reverse(d.id));
    let more = newest_first.len() > per_page;
    let page: Vec<Value> = newest_first.iter().take(per_page).map(|d| delivery_summary(d)).collect();
    let link = match (more, newest_first.get(per_page.saturating_sub(1))) {
        (true, Some(last)) => HeaderValue::from_str(&format!(
            "<{}{}?per_page={per_page}&cursor={}>; rel=\"next\"",
            sim.urls().web,
            uri.path(),
            last.id
        ))
        .ok(),
        _ => None,
    };
    Ok(with_link(Value::Array(page), link))
}

async fn get_delivery(State(sim): State<Simulator>, headers: HeaderMap, Path(id): Path<Id>) -> ApiResult {
    sim.verify_app_jwt(&headers)?;
    let world = sim.world();
    let delivery = world.deliveries.iter().find(|d| d.id == id).ok_or_else(ApiError::not_found)?;
    let mut body = delivery_summary(delivery);
    body["request"] = json!({
        "headers": delivery.request_headers,
        "payload": serde_json::from_str::<Value>(&delivery.request_body).unwrap_or(Value::Null),
    });
    body["response"] = json!({ "headers": delivery.response_headers, "payload": delivery.response_body });
    Ok(Json(body).into_response())
}

async fn redeliver(State(sim): State<Simulator>, headers: HeaderMap, Path(id): Path<Id>) -> ApiResult {
    sim.verify_app_jwt(&headers)?;
    if !sim.world().deliveries.iter().any(|d| d.id == id) {
        return Err(ApiError::not_found());
    }
    // GitHub accepts the request and delivers shortly after.
    let background = sim.clone();
    tokio::spawn(async move { background.redeliver(id).await });
    Ok((StatusCode::ACCEPTED, Json(json!({}))).into_response())
}

// --- installations (installation token) ----------------------------------------------

async fn list_installation_repos(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    uri: OriginalUri,
    Query(query): Query<PageQuery>,
) -> ApiResult {
    let installation_id = sim.installation_of(&headers)?;
    let world = sim.world();
    let installation = world.installations.get(&installation_id).ok_or_else(ApiError::bad_credentials)?;
    Ok(repositories_page(&sim, &world, installation, &query, &uri))
}

/// One page of an installation's repositories, in the shape both listing endpoints share.
fn repositories_page(
    sim: &Simulator,
    world: &World,
    installation: &Installation,
    query: &PageQuery,
    uri: &OriginalUri,
) -> Response {
    let repos = world.installation_repos(installation);
    let (page, link) = paginate(&repos, query, uri, &sim.urls().web);
    let body = json!({
        "total_count": repos.len(),
        "repository_selection": installation.selection.as_str(),
        "repositories": page.iter().map(|r| payloads::repository(sim.urls(), world, r)).collect::<Vec<_>>(),
    });
    with_link(body, link)
}

// --- the signed-in user (user token) ---------------------------------------------------

async fn get_user(State(sim): State<Simulator>, headers: HeaderMap) -> ApiResult {
    let user_id = sim.user_of(&headers)?;
    let world = sim.world();
    let user = world.accounts.get(&user_id).ok_or_else(ApiError::bad_credentials)?;
    Ok(Json(payloads::authenticated_user(sim.urls(), &world, user)).into_response())
}

async fn list_user_installations(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    uri: OriginalUri,
    Query(query): Query<PageQuery>,
) -> ApiResult {
    let user_id = sim.user_of(&headers)?;
    let world = sim.world();
    let visible = world.installations_visible_to(user_id);
    let (page, link) = paginate(&visible, &query, &uri, &sim.urls().web);
    let body = json!({
        "total_count": visible.len(),
        "installations": page.iter().map(|i| payloads::installation(sim.urls(), &world, &sim.config().app, i)).collect::<Vec<_>>(),
    });
    Ok(with_link(body, link))
}

async fn list_user_installation_repos(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    uri: OriginalUri,
    Path(id): Path<Id>,
    Query(query): Query<PageQuery>,
) -> ApiResult {
    let user_id = sim.user_of(&headers)?;
    let world = sim.world();
    let installation =
        world.installations_visible_to(user_id).into_iter().find(|i| i.id == id).ok_or_else(ApiError::not_found)?;
    Ok(repositories_page(&sim, &world, installation, &query, &uri))
}

// --- repositories and issues (installation or user token) -----------------------------

/// The repository, if the request's credential may read it, and who acts when writing.
/// Takes the world's lock itself: call it without holding the lock.
fn authorized_repo(sim: &Simulator, headers: &HeaderMap, owner: &str, name: &str) -> Result<(Repo, Id), ApiError> {
    let grant = sim.token_grant(headers)?;
    let world = sim.world();
    let repo = world.repo_by_name(owner, name).ok_or_else(ApiError::not_found)?;
    let actor = match grant {
        Grant::Installation { installation_id } => {
            let covered =
                world.installation_for_repo(repo).is_some_and(|i| i.id == installation_id && i.suspended_at.is_none());
            if !covered {
                return Err(ApiError::not_found());
            }
            world.bot_id // the App acts as its bot user
        }
        Grant::User { user_id } => {
            let reachable = world.reaches_account(user_id, repo.owner_id);
            if !reachable && repo.private {
                return Err(ApiError::not_found());
            }
            user_id
        }
    };
    Ok((repo.clone(), actor))
}

/// `GET /user/memberships/orgs/{org}`: the token's user's role in the
/// organization; 404 for an organization they do not belong to, as on GitHub.
async fn get_own_membership(State(sim): State<Simulator>, headers: HeaderMap, Path(org): Path<String>) -> ApiResult {
    let user_id = sim.user_of(&headers)?;
    let world = sim.world();
    let org = world
        .account_by_login(&org)
        .filter(|a| a.kind == AccountKind::Organization && a.members.contains(&user_id))
        .ok_or_else(ApiError::not_found)?;
    let user = world.accounts.get(&user_id).ok_or_else(ApiError::bad_credentials)?;
    Ok(Json(payloads::membership(sim.urls(), org, user)).into_response())
}

/// `GET /users/{username}`: public, as on GitHub.
async fn get_user_by_login(State(sim): State<Simulator>, Path(login): Path<String>) -> ApiResult {
    let world = sim.world();
    let account = world.account_by_login(&login).ok_or_else(ApiError::not_found)?;
    Ok(Json(payloads::account(sim.urls(), account)).into_response())
}

async fn get_repo(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((owner, name)): Path<(String, String)>,
) -> ApiResult {
    let (repo, _) = authorized_repo(&sim, &headers, &owner, &name)?;
    let world = sim.world();
    Ok(Json(payloads::repository(sim.urls(), &world, &repo)).into_response())
}

#[derive(Deserialize)]
struct IssueQuery {
    state: Option<String>,
    /// `created` (GitHub's default), `updated` or `comments`.
    sort: Option<String>,
    /// `desc` (the default) or `asc`.
    direction: Option<String>,
    /// Only what was updated at or after this time.
    since: Option<DateTime<Utc>>,
    per_page: Option<usize>,
    page: Option<usize>,
}

impl IssueQuery {
    fn page(&self) -> PageQuery {
        PageQuery { per_page: self.per_page, page: self.page }
    }

    /// Sorts `items` as asked, by `(created, updated, comments)` keys.
    fn sort<T>(&self, items: &mut [T], key: impl Fn(&T) -> (DateTime<Utc>, DateTime<Utc>, usize, u64)) {
        let by = self.sort.as_deref().unwrap_or("created");
        items.sort_by_key(|item| {
            let (created, updated, comments, id) = key(item);
            match by {
                "updated" => (updated, 0, id),
                "comments" => (DateTime::<Utc>::MIN_UTC, comments, id),
                _ => (created, 0, id),
            }
        });
        if self.direction.as_deref() != Some("asc") {
            items.reverse();
        }
    }
}

/// GitHub's conditional requests: a list answered with an `ETag`, and `304 Not
/// Modified` (no body, no rate limit spent) to a request whose `If-None-Match` names it.
fn conditional(headers: &HeaderMap, body: Value, link: Option<HeaderValue>) -> Response {
    use std::hash::{Hash, Hasher};
    let text = body.to_string();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    let etag = format!("W/\"{:016x}\"", hasher.finish());
    if headers.get("if-none-match").and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        response.headers_mut().insert("etag", HeaderValue::from_str(&etag).expect("an ETag is a header value"));
        return response;
    }
    let mut response = with_link(body, link);
    response.headers_mut().insert("etag", HeaderValue::from_str(&etag).expect("an ETag is a header value"));
    response
}

async fn list_issues(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    uri: OriginalUri,
    Path((owner, name)): Path<(String, String)>,
    Query(query): Query<IssueQuery>,
) -> ApiResult {
    let (repo, _) = authorized_repo(&sim, &headers, &owner, &name)?;
    let world = sim.world();
    let wanted = query.state.as_deref().unwrap_or("open");
    let mut issues: Vec<_> = world
        .issues
        .values()
        .filter(|i| i.repo_id == repo.id)
        .filter(|i| match wanted {
            "all" => true,
            "closed" => !i.open,
            _ => i.open,
        })
        .filter(|i| query.since.is_none_or(|since| i.updated_at >= since))
        .collect();
    query.sort(&mut issues, |i| (i.created_at, i.updated_at, i.comments.len(), i.number));
    let (page, link) = paginate(&issues, &query.page(), &uri, &sim.urls().web);
    let body = page.iter().map(|i| payloads::issue(sim.urls(), &world, &repo, i)).collect();
    Ok(conditional(&headers, Value::Array(body), link))
}

/// `GET /repos/{owner}/{repo}/issues/comments`: every issue's comments (pull
/// requests' included), by `since`, `sort` and `direction` as GitHub reads them.
async fn list_repo_comments(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    uri: OriginalUri,
    Path((owner, name)): Path<(String, String)>,
    Query(query): Query<IssueQuery>,
) -> ApiResult {
    let (repo, _) = authorized_repo(&sim, &headers, &owner, &name)?;
    let world = sim.world();
    let mut comments: Vec<_> = world
        .issues
        .values()
        .filter(|i| i.repo_id == repo.id)
        .flat_map(|i| i.comments.iter().map(move |c| (i, c)))
        .filter(|(_, c)| query.since.is_none_or(|since| c.updated_at >= since))
        .collect();
    query.sort(&mut comments, |(_, c)| (c.created_at, c.updated_at, 0, c.id));
    let (page, link) = paginate(&comments, &query.page(), &uri, &sim.urls().web);
    let body = page.iter().map(|(i, c)| payloads::comment(sim.urls(), &world, &repo, i, c)).collect();
    Ok(conditional(&headers, Value::Array(body), link))
}

async fn get_comment(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((owner, name, id)): Path<(String, String, u64)>,
) -> ApiResult {
    let (repo, _) = authorized_repo(&sim, &headers, &owner, &name)?;
    let world = sim.world();
    let (issue, comment) = world
        .issues
        .values()
        .filter(|i| i.repo_id == repo.id)
        .find_map(|i| i.comments.iter().find(|c| c.id == id).map(|c| (i, c)))
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(payloads::comment(sim.urls(), &world, &repo, issue, comment)).into_response())
}

async fn get_issue(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((owner, name, number)): Path<(String, String, u64)>,
) -> ApiResult {
    let (repo, _) = authorized_repo(&sim, &headers, &owner, &name)?;
    let world = sim.world();
    if let Some(issue) = world.issue_by_number(repo.id, number) {
        return Ok(Json(payloads::issue(sim.urls(), &world, &repo, issue)).into_response());
    }
    // A transferred issue's old address redirects to where it is now.
    let moved = world.moved_issue(repo.id, number).ok_or_else(ApiError::not_found)?;
    let there = world.repos.get(&moved.repo_id).ok_or_else(ApiError::not_found)?;
    let url = format!("{}/repos/{}/issues/{}", sim.urls().api, world.full_name(there), moved.number);
    let location = HeaderValue::from_str(&url).map_err(|_| ApiError::not_found())?;
    let body = json!({
        "message": "Moved Permanently",
        "url": url,
        "documentation_url": "https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api#follow-redirects",
    });
    Ok((StatusCode::MOVED_PERMANENTLY, [(axum::http::header::LOCATION, location)], Json(body)).into_response())
}

#[derive(Deserialize)]
struct AssigneesBody {
    #[serde(default)]
    assignees: Vec<String>,
}

/// `POST` (add) or `DELETE` (remove) `/repos/{o}/{r}/issues/{n}/assignees`:
/// the issue as it is then; logins that cannot be assigned are passed over, as on GitHub.
async fn change_assignees(
    State(sim): State<Simulator>,
    method: axum::http::Method,
    headers: HeaderMap,
    Path((owner, name, number)): Path<(String, String, u64)>,
    Json(input): Json<AssigneesBody>,
) -> ApiResult {
    let (repo, actor) = authorized_repo(&sim, &headers, &owner, &name)?;
    let assign = method == axum::http::Method::POST;
    if sim.world().issue_by_number(repo.id, number).is_none() {
        return Err(ApiError::not_found());
    }
    for login in &input.assignees {
        let _passed_over = sim.set_assignee(repo.id, number, actor, login, assign);
    }
    let world = sim.world();
    let issue = world.issue_by_number(repo.id, number).ok_or_else(ApiError::not_found)?;
    let status = if assign { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(payloads::issue(sim.urls(), &world, &repo, issue))).into_response())
}

#[derive(Deserialize)]
struct IssueBody {
    title: Option<String>,
    body: Option<String>,
    state: Option<String>,
}

async fn create_issue(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((owner, name)): Path<(String, String)>,
    Json(input): Json<IssueBody>,
) -> ApiResult {
    let (repo, actor) = authorized_repo(&sim, &headers, &owner, &name)?;
    let title = input.title.ok_or_else(|| ApiError::unprocessable("Invalid request.\n\n\"title\" wasn't supplied."))?;
    let issue = sim.open_issue(repo.id, actor, &title, input.body.as_deref()).map_err(ApiError::unprocessable)?;
    let world = sim.world();
    Ok((StatusCode::CREATED, Json(payloads::issue(sim.urls(), &world, &repo, &issue))).into_response())
}

async fn update_issue(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((owner, name, number)): Path<(String, String, u64)>,
    Json(input): Json<IssueBody>,
) -> ApiResult {
    let (repo, actor) = authorized_repo(&sim, &headers, &owner, &name)?;
    let mut issue = if input.title.is_some() || input.body.is_some() {
        sim.edit_issue(repo.id, number, actor, input.title.as_deref(), input.body.as_deref())
    } else {
        sim.world().issue_by_number(repo.id, number).cloned().ok_or_else(|| "No such issue.".to_owned())
    }
    .map_err(|_| ApiError::not_found())?;
    if let Some(state) = input.state.as_deref() {
        let open = match state {
            "open" => true,
            "closed" => false,
            other => return Err(ApiError::unprocessable(format!("Invalid state: {other}"))),
        };
        issue = sim.set_issue_state(repo.id, number, actor, open).map_err(|_| ApiError::not_found())?;
    }
    let world = sim.world();
    Ok(Json(payloads::issue(sim.urls(), &world, &repo, &issue)).into_response())
}

async fn list_comments(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    uri: OriginalUri,
    Path((owner, name, number)): Path<(String, String, u64)>,
    Query(query): Query<PageQuery>,
) -> ApiResult {
    let (repo, _) = authorized_repo(&sim, &headers, &owner, &name)?;
    let world = sim.world();
    let issue = world.issue_by_number(repo.id, number).ok_or_else(ApiError::not_found)?;
    let (page, link) = paginate(&issue.comments, &query, &uri, &sim.urls().web);
    let body = page.iter().map(|c| payloads::comment(sim.urls(), &world, &repo, issue, c)).collect();
    Ok(with_link(Value::Array(body), link))
}

#[derive(Deserialize)]
struct CommentBody {
    body: String,
}

async fn create_comment(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((owner, name, number)): Path<(String, String, u64)>,
    Json(input): Json<CommentBody>,
) -> ApiResult {
    let (repo, actor) = authorized_repo(&sim, &headers, &owner, &name)?;
    let (issue, comment) = sim.add_comment(repo.id, number, actor, &input.body).map_err(ApiError::unprocessable)?;
    let world = sim.world();
    Ok((StatusCode::CREATED, Json(payloads::comment(sim.urls(), &world, &repo, &issue, &comment))).into_response())
}

#[derive(Deserialize)]
struct PullBody {
    title: Option<String>,
    body: Option<String>,
    #[serde(default)]
    draft: bool,
}

async fn create_pull(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((owner, name)): Path<(String, String)>,
    Json(input): Json<PullBody>,
) -> ApiResult {
    let (repo, actor) = authorized_repo(&sim, &headers, &owner, &name)?;
    let title = input.title.ok_or_else(|| ApiError::unprocessable("Invalid request.\n\n\"title\" wasn't supplied."))?;
    let issue =
        sim.open_pull(repo.id, actor, &title, input.body.as_deref(), input.draft).map_err(ApiError::unprocessable)?;
    let world = sim.world();
    let pull = issue.pull.as_ref().ok_or_else(ApiError::not_found)?;
    Ok((StatusCode::CREATED, Json(payloads::pull_request(sim.urls(), &world, &repo, &issue, pull))).into_response())
}

async fn get_pull(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((owner, name, number)): Path<(String, String, u64)>,
) -> ApiResult {
    let (repo, _) = authorized_repo(&sim, &headers, &owner, &name)?;
    let world = sim.world();
    let issue = world.issue_by_number(repo.id, number).filter(|i| i.pull.is_some()).ok_or_else(ApiError::not_found)?;
    let pull = issue.pull.as_ref().ok_or_else(ApiError::not_found)?;
    Ok(Json(payloads::pull_request(sim.urls(), &world, &repo, issue, pull)).into_response())
}

async fn merge_pull(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((owner, name, number)): Path<(String, String, u64)>,
) -> ApiResult {
    let (repo, actor) = authorized_repo(&sim, &headers, &owner, &name)?;
    let issue = sim
        .merge_pull(repo.id, number, actor)
        .map_err(|message| ApiError::new(StatusCode::METHOD_NOT_ALLOWED, message))?;
    let sha = issue.pull.as_ref().map(|p| format!("{:040x}", p.id)).unwrap_or_default();
    Ok(Json(json!({"sha": sha, "merged": true, "message": "Pull Request successfully merged"})).into_response())
}
