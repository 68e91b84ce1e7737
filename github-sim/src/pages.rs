//! The web side a person clicks through: sign in as a simulated user, authorize
//! the App (OAuth), install it on a user or organization, configure, suspend or
//! uninstall it, and open issues and comments on repositories.

use std::collections::{BTreeSet, HashMap};

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Json, Router,
};
use chrono::Utc;
use serde_json::json;

use super::{
    actions::InstallationAction,
    hooks::Outgoing,
    html::{avatar_img, avatar_svg, error_card, esc, page, url_encode},
    payloads,
    world::{Account, AccountKind, Id, Selection},
    Simulator,
};

const USER_COOKIE: &str = "gh_sim_user";

pub fn router(sim: Simulator) -> Router {
    Router::new()
        .route("/", get(dashboard))
        .route("/avatars/{file}", get(avatar))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/login/oauth/authorize", get(authorize_page).post(authorize))
        .route("/login/oauth/access_token", post(access_token))
        .route("/settings/applications/{user}/revoke", post(revoke_authorization))
        .route("/apps/{slug}", get(app_page))
        .route("/apps/{slug}/installations/new", get(choose_account))
        .route("/apps/{slug}/installations/new/permissions", get(choose_repositories))
        .route("/apps/{slug}/installations", post(install))
        .route("/settings/installations/{id}", get(configure_page).post(configure))
        .route("/organizations/{org}/settings/installations/{id}", get(configure_page_in_org))
        .route("/settings/installations/{id}/{action}", post(change_installation))
        .route("/deliveries/{id}/redeliver", post(redeliver))
        .route("/{owner}/{repo}", get(repo_page))
        .route("/{owner}/{repo}/issues", post(new_issue))
        .route("/{owner}/{repo}/issues/{number}/state", post(issue_state))
        .route("/{owner}/{repo}/issues/{number}/comments", post(new_comment))
        .with_state(sim)
}

// --- helpers ---------------------------------------------------------------------------

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

fn render(sim: &Simulator, title: &str, user: Option<&Account>, body: &str) -> Response {
    page(title, user, &sim.urls().web, body).into_response()
}

fn refused(sim: &Simulator, user: Option<&Account>, status: StatusCode, message: &str) -> Response {
    let body = format!(r#"{}<p><a href="/">Back to the dashboard</a></p>"#, error_card(message));
    (status, render(sim, "Something went wrong", user, &body)).into_response()
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

fn account_label(web: &str, account: &Account) -> String {
    format!(
        r#"{} <strong>{}</strong> <span class="badge">{}</span>"#,
        avatar_img(web, &account.login, 20),
        esc(&account.login),
        account.kind.as_str()
    )
}

// --- dashboard, avatars, sign-in ----------------------------------------------------------

async fn dashboard(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    let user = signed_in(&sim, &headers);
    let world = sim.world();
    let config = sim.config();
    let web = &sim.urls().web;
    let mut body = format!(
        r#"<section class="card" aria-labelledby="app-h"><h2 id="app-h">The App: {name}</h2>
<p>App ID <code>{id}</code> · slug <code>{slug}</code> · client ID <code>{client}</code></p>
<p class="muted">Webhooks go to <code>{hook}</code>; installers return to <code>{setup}</code>; OAuth returns to <code>{callback}</code>.</p>
<p><a class="button primary" href="/apps/{slug}/installations/new">Install {name}</a></p></section>"#,
        name = esc(&config.app.name),
        id = config.app.id,
        slug = esc(&config.app.slug),
        client = esc(&config.app.client_id),
        hook = esc(&config.webhook_url),
        setup = esc(&config.setup_url),
        callback = esc(&config.callback_url),
    );

    body.push_str(r#"<section class="card" aria-labelledby="acc-h"><h2 id="acc-h">Accounts</h2><ul class="plain">"#);
    for account in world.accounts.values().filter(|a| a.kind != AccountKind::Bot) {
        let repos = world.repos_of(account.id);
        let shown: Vec<String> = repos
            .iter()
            .take(12)
            .map(|r| format!(r#"<a href="/{}">{}</a>"#, esc(&world.full_name(r)), esc(&r.name)))
            .collect();
        let more =
            if repos.len() > shown.len() { format!(" and {} more", repos.len() - shown.len()) } else { String::new() };
        let members = if account.kind == AccountKind::Organization {
            let names: Vec<String> = account
                .members
                .iter()
                .filter_map(|id| world.accounts.get(id))
                .map(|m| format!("{}{}", esc(&m.login), if account.admins.contains(&m.id) { " (owner)" } else { "" }))
                .collect();
            format!(r#"<div class="muted">Members: {}</div>"#, names.join(", "))
        } else {
            String::new()
        };
        body.push_str(&format!(
            r#"<li>{label} · {count} {noun}{members}<div>{shown}{more}</div></li>"#,
            label = account_label(web, account),
            count = repos.len(),
            noun = if repos.len() == 1 { "repository" } else { "repositories" },
            shown = shown.join(", "),
        ));
    }
    body.push_str("</ul></section>");

    body.push_str(r#"<section class="card" aria-labelledby="inst-h"><h2 id="inst-h">Installations</h2>"#);
    if world.installations.is_empty() {
        body.push_str(r#"<p class="muted">The App is not installed anywhere yet.</p>"#);
    } else {
        body.push_str(r#"<ul class="plain">"#);
        for installation in world.installations.values() {
            let Some(account) = world.accounts.get(&installation.account_id) else { continue };
            body.push_str(&format!(
                r#"<li>{label} · {selection} · {count} repositories{suspended} · <a href="/settings/installations/{id}">Configure installation {id}</a></li>"#,
                label = account_label(web, account),
                selection = installation.selection.as_str(),
                count = world.installation_repos(installation).len(),
                suspended = if installation.suspended_at.is_some() { r#" · <span class="badge">suspended</span>"# } else { "" },
                id = installation.id,
            ));
        }
        body.push_str("</ul>");
    }
    body.push_str("</section>");

    if let Some(user) = &user {
        if world.authorized_users.contains(&user.id) {
            body.push_str(&format!(
                r#"<section class="card" aria-labelledby="auth-h"><h2 id="auth-h">Authorized GitHub Apps</h2>
<form method="post" action="/settings/applications/{id}/revoke" class="row"><span>{name}</span><button type="submit" class="danger">Revoke access of {name}</button></form></section>"#,
                id = user.id,
                name = esc(&config.app.name),
            ));
        }
    }

    body.push_str(r#"<section class="card" aria-labelledby="del-h"><h2 id="del-h">Recent deliveries</h2>"#);
    if world.deliveries.is_empty() {
        body.push_str(r#"<p class="muted">No webhook has been delivered yet.</p>"#);
    } else {
        body.push_str("<table><thead><tr><th>Event</th><th>Status</th><th>Delivered</th><th>GUID</th><th></th></tr></thead><tbody>");
        for delivery in world.deliveries.iter().rev().take(25) {
            body.push_str(&format!(
                r#"<tr><td>{event}{action}</td><td>{status}</td><td>{at}{redelivery}</td><td><code>{guid}</code></td><td><form method="post" action="/deliveries/{id}/redeliver"><button type="submit">Redeliver</button></form></td></tr>"#,
                event = esc(&delivery.event),
                action = delivery.action.as_deref().map(|a| format!(".{}", esc(a))).unwrap_or_default(),
                status = esc(&delivery.status),
                at = payloads::timestamp(delivery.delivered_at),
                redelivery = if delivery.redelivery { " (redelivery)" } else { "" },
                guid = esc(&delivery.guid),
                id = delivery.id,
            ));
        }
        body.push_str("</tbody></table>");
    }
    body.push_str("</section>");
    drop(world);
    render(&sim, "GitHub simulator", user.as_ref(), &body)
}

async fn avatar(Path(file): Path<String>) -> Response {
    let login = file.strip_suffix(".svg").unwrap_or(&file);
    ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")], avatar_svg(login))
        .into_response()
}

async fn login_page(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let return_to = own_path(&sim, query.get("return_to").map(String::as_str));
    let world = sim.world();
    let mut body = String::from(
        r#"<section class="card" aria-labelledby="pick-h"><h2 id="pick-h">Sign in as</h2><ul class="plain">"#,
    );
    for user in world.users() {
        body.push_str(&format!(
            r#"<li><form method="post" action="/login" class="row"><input type="hidden" name="return_to" value="{ret}"><input type="hidden" name="login" value="{login}">{avatar}<button type="submit">Continue as {login}</button></form></li>"#,
            ret = esc(&return_to),
            login = esc(&user.login),
            avatar = avatar_img(&sim.urls().web, &user.login, 24),
        ));
    }
    body.push_str(&format!(
        r#"</ul></section><section class="card" aria-labelledby="new-h"><h2 id="new-h">Create a simulated user</h2>
<form method="post" action="/login"><input type="hidden" name="return_to" value="{ret}">
<p><label>Username <input type="text" name="new_login" required pattern="[A-Za-z0-9](?:[A-Za-z0-9\-]{{0,37}}[A-Za-z0-9])?" autocomplete="off"></label></p>
<p><label><input type="checkbox" name="join_org" value="forge-demo" checked> Make them an owner of forge-demo</label></p>
<button type="submit" class="primary">Create and sign in</button></form></section>"#,
        ret = esc(&return_to),
    ));
    drop(world);
    render(&sim, "Sign in to GitHub", signed_in(&sim, &headers).as_ref(), &body)
}

fn valid_login(login: &str) -> bool {
    !login.is_empty()
        && login.len() <= 39
        && login.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !login.starts_with('-')
        && !login.ends_with('-')
}

async fn login(State(sim): State<Simulator>, body: Bytes) -> Response {
    let form = FormPairs::parse(&body);
    let return_to = own_path(&sim, form.get("return_to"));
    let mut world = sim.world();
    let user_id = if let Some(new_login) = form.get("new_login").map(str::trim) {
        if !valid_login(new_login) {
            drop(world);
            return refused(&sim, None, StatusCode::UNPROCESSABLE_ENTITY, "A username may only contain letters, digits and single hyphens, and cannot begin or end with a hyphen.");
        }
        if world.account_by_login(new_login).is_some() {
            drop(world);
            return refused(
                &sim,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("The username {new_login} is already taken."),
            );
        }
        let id = world.add_account(new_login, AccountKind::User, None);
        world.add_repo(id, "hello-world", false, false, Some("My first repository"));
        if let Some(org) = form.get("join_org").and_then(|login| world.account_by_login(login)).map(|a| a.id) {
            world.add_member(org, id, true);
        }
        sim.persist(&world);
        id
    } else {
        match form.get("login").and_then(|l| world.account_by_login(l)).filter(|a| a.kind == AccountKind::User) {
            Some(user) => user.id,
            None => {
                drop(world);
                return refused(&sim, None, StatusCode::UNPROCESSABLE_ENTITY, "No such user.");
            }
        }
    };
    drop(world);
    let cookie = format!("{USER_COOKIE}={user_id}; Path=/; HttpOnly; SameSite=Lax");
    ([(header::SET_COOKIE, cookie)], Redirect::to(&return_to)).into_response()
}

async fn logout() -> Response {
    let cookie = format!("{USER_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

// --- OAuth ----------------------------------------------------------------------------

/// GitHub accepts a `redirect_uri` on the registered callback's host and port,
/// at the callback's path or below it.
fn redirect_allowed(callback: &str, requested: &str) -> bool {
    match (url::Url::parse(callback), url::Url::parse(requested)) {
        (Ok(cb), Ok(rq)) => {
            cb.scheme() == rq.scheme()
                && cb.host_str() == rq.host_str()
                && cb.port_or_known_default() == rq.port_or_known_default()
                && rq.path().starts_with(cb.path())
        }
        _ => false,
    }
}

async fn authorize_page(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let here = format!(
        "/login/oauth/authorize?{}",
        query.iter().map(|(k, v)| format!("{k}={}", url_encode(v))).collect::<Vec<_>>().join("&")
    );
    let user = match require_user(&sim, &headers, &here) {
        Ok(user) => user,
        Err(redirect) => return redirect,
    };
    let config = sim.config();
    if query.get("client_id").map(String::as_str) != Some(config.app.client_id.as_str()) {
        return refused(&sim, Some(&user), StatusCode::NOT_FOUND, "The client_id is not valid: no App has it.");
    }
    let redirect_uri = query.get("redirect_uri").cloned().unwrap_or_else(|| config.callback_url.clone());
    if !redirect_allowed(&config.callback_url, &redirect_uri) {
        return refused(
            &sim,
            Some(&user),
            StatusCode::BAD_REQUEST,
            "The redirect_uri is not associated with this application.",
        );
    }
    let state = query.get("state").cloned().unwrap_or_default();
    // Once authorized, GitHub sends the user straight back.
    if sim.world().authorized_users.contains(&user.id) {
        return approve(&sim, user.id, &redirect_uri, &state);
    }
    let body = format!(
        r#"<section class="card"><p>{avatar} <strong>{app}</strong> by forgelink would like permission to verify your GitHub identity ({login}) and know which resources you can access.</p>
<form method="post" action="/login/oauth/authorize" class="row">
<input type="hidden" name="client_id" value="{client}"><input type="hidden" name="redirect_uri" value="{redirect}"><input type="hidden" name="state" value="{state}">
<button type="submit" name="decision" value="cancel">Cancel</button>
<button type="submit" name="decision" value="approve" class="primary">Authorize {app}</button></form>
<p class="muted">Authorizing will redirect to <code>{redirect}</code></p></section>"#,
        avatar = avatar_img(&sim.urls().web, &user.login, 32),
        app = esc(&config.app.name),
        login = esc(&user.login),
        client = esc(&config.app.client_id),
        redirect = esc(&redirect_uri),
        state = esc(&state),
    );
    render(&sim, &format!("Authorize {}", config.app.name), Some(&user), &body)
}

fn approve(sim: &Simulator, user_id: Id, redirect_uri: &str, state: &str) -> Response {
    let mut world = sim.world();
    world.authorized_users.insert(user_id);
    let code = world.issue_oauth_code(user_id, Some(redirect_uri.to_owned()));
    sim.persist(&world);
    Redirect::to(&with_query(redirect_uri, &[("code", &code), ("state", state)])).into_response()
}

async fn authorize(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
    let form = FormPairs::parse(&body);
    let user = match require_user(&sim, &headers, "/") {
        Ok(user) => user,
        Err(redirect) => return redirect,
    };
    let config = sim.config();
    let redirect_uri = form.get("redirect_uri").unwrap_or(&config.callback_url).to_owned();
    if form.get("client_id") != Some(config.app.client_id.as_str())
        || !redirect_allowed(&config.callback_url, &redirect_uri)
    {
        return refused(&sim, Some(&user), StatusCode::BAD_REQUEST, "The authorization request is not valid.");
    }
    let state = form.get("state").unwrap_or_default();
    if form.get("decision") == Some("approve") {
        approve(&sim, user.id, &redirect_uri, state)
    } else {
        Redirect::to(&with_query(
            &redirect_uri,
            &[
                ("error", "access_denied"),
                ("error_description", "The user has denied your application access."),
                ("error_uri", "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#access-denied"),
                ("state", state),
            ],
        ))
        .into_response()
    }
}

/// `POST /login/oauth/access_token`: exchanges a code or a refresh token. Like
/// GitHub, errors are answered with 200 and an `error` field.
async fn access_token(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
    let is_json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let params: HashMap<String, String> = if is_json_body {
        serde_json::from_slice::<HashMap<String, serde_json::Value>>(&body)
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
            .collect()
    } else {
        url::form_urlencoded::parse(&body).into_owned().collect()
    };
    let wants_json = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("json"));
    let answer = |value: serde_json::Value| -> Response {
        if wants_json {
            Json(value).into_response()
        } else {
            let encoded: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(
                    value
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned))),
                )
                .finish();
            ([(header::CONTENT_TYPE, "application/x-www-form-urlencoded; charset=utf-8")], encoded).into_response()
        }
    };
    let error = |code: &str, description: &str| json!({ "error": code, "error_description": description, "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors" });
    let config = sim.config();
    if params.get("client_id") != Some(&config.app.client_id)
        || params.get("client_secret") != Some(&config.client_secret)
    {
        return answer(error(
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        ));
    }
    let mut world = sim.world();
    let now = Utc::now();
    let user_id = if params.get("grant_type").map(String::as_str) == Some("refresh_token") {
        // Refresh tokens are single-use: taking it out of the map spends it.
        match params.get("refresh_token").and_then(|t| world.refresh_tokens.remove(t)) {
            Some(refresh) if refresh.expires_at > now => refresh.user_id,
            _ => return answer(error("bad_refresh_token", "The refresh token passed is incorrect or expired.")),
        }
    } else {
        match params.get("code").and_then(|c| world.oauth_codes.remove(c)) {
            Some(code) if code.expires_at > now => {
                let redirect_matches = match (params.get("redirect_uri"), &code.redirect_uri) {
                    (Some(given), Some(original)) => given == original,
                    _ => true,
                };
                if !redirect_matches {
                    return answer(error(
                        "redirect_uri_mismatch",
                        "The redirect_uri MUST match the registered callback URL for this application.",
                    ));
                }
                code.user_id
            }
            _ => return answer(error("bad_verification_code", "The code passed is incorrect or expired.")),
        }
    };
    let (access, refresh) = world.issue_user_tokens(user_id);
    sim.persist(&world);
    answer(json!({
        "access_token": access,
        "expires_in": super::world::USER_TOKEN_LIFETIME.num_seconds(),
        "refresh_token": refresh,
        "refresh_token_expires_in": super::world::REFRESH_TOKEN_LIFETIME.num_seconds(),
        "scope": "",
        "token_type": "bearer",
    }))
}

async fn revoke_authorization(State(sim): State<Simulator>, headers: HeaderMap, Path(user_id): Path<Id>) -> Response {
    let user = match require_user(&sim, &headers, "/") {
        Ok(user) if user.id == user_id => user,
        Ok(user) => {
            return refused(&sim, Some(&user), StatusCode::FORBIDDEN, "You can only revoke your own authorizations.")
        }
        Err(redirect) => return redirect,
    };
    let payload = {
        let mut world = sim.world();
        world.authorized_users.remove(&user.id);
        world.tokens.retain(|_, t| !matches!(t.grant, super::world::Grant::User { user_id } if user_id == user.id));
        world.refresh_tokens.retain(|_, t| t.user_id != user.id);
        sim.persist(&world);
        json!({ "action": "revoked", "sender": payloads::account(sim.urls(), &user) })
    };
    sim.send_webhook(Outgoing {
        event: "github_app_authorization".into(),
        installation_id: None,
        repository_id: None,
        payload,
    });
    Redirect::to("/").into_response()
}

// --- installing and configuring -----------------------------------------------------------

async fn app_page(State(sim): State<Simulator>, headers: HeaderMap, Path(slug): Path<String>) -> Response {
    let user = signed_in(&sim, &headers);
    if slug != sim.config().app.slug {
        return refused(&sim, user.as_ref(), StatusCode::NOT_FOUND, "No App has this name.");
    }
    let body = format!(
        r#"<section class="card"><p>Connects GitHub repositories to forgelink projects.</p><p><a class="button primary" href="/apps/{slug}/installations/new">Install</a></p></section>"#,
        slug = esc(&slug)
    );
    render(&sim, &sim.config().app.name, user.as_ref(), &body)
}

async fn choose_account(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let state = query.get("state").cloned().unwrap_or_default();
    let here = format!("/apps/{slug}/installations/new?state={}", url_encode(&state));
    let user = match require_user(&sim, &headers, &here) {
        Ok(user) => user,
        Err(redirect) => return redirect,
    };
    if slug != sim.config().app.slug {
        return refused(&sim, Some(&user), StatusCode::NOT_FOUND, "No App has this name.");
    }
    let world = sim.world();
    let mut body = format!(
        r#"<p>Where do you want to install <strong>{}</strong>?</p><ul class="plain">"#,
        esc(&sim.config().app.name)
    );
    for account in world.accounts_of(user.id) {
        let action = match world.installation_for_account(account.id) {
            Some(installation) => format!(
                r#"<a class="button" href="/settings/installations/{id}?state={state}">Configure</a> <span class="muted">Installed</span>"#,
                id = installation.id,
                state = esc(&url_encode(&state)),
            ),
            None => {
                let verb = if sim.can_administer(&world, user.id, account.id) { "Install" } else { "Request" };
                format!(
                    r#"<a class="button primary" href="/apps/{slug}/installations/new/permissions?target_id={id}&amp;state={state}">{verb} on {login}</a>"#,
                    slug = esc(&slug),
                    id = account.id,
                    state = esc(&url_encode(&state)),
                    login = esc(&account.login),
                )
            }
        };
        body.push_str(&format!(r#"<li class="row">{} {action}</li>"#, account_label(&sim.urls().web, account)));
    }
    body.push_str("</ul>");
    drop(world);
    render(&sim, &format!("Install {}", sim.config().app.name), Some(&user), &body)
}

/// The repository picker shared by the install and configure pages.
fn repository_picker(sim: &Simulator, account_id: Id, selection: Selection, chosen: &BTreeSet<Id>) -> String {
    let world = sim.world();
    let repos = world.repos_of(account_id);
    let mut out = format!(
        r#"<fieldset><legend>Repository access</legend>
<p><label><input type="radio" name="repository_selection" value="all"{all}> All repositories ({count})</label></p>
<p><label><input type="radio" name="repository_selection" value="selected"{selected}> Only select repositories</label></p>
<ul class="plain" aria-label="Repositories">"#,
        all = if selection == Selection::All { " checked" } else { "" },
        selected = if selection == Selection::Selected { " checked" } else { "" },
        count = repos.len(),
    );
    for repo in repos {
        out.push_str(&format!(
            r#"<li><label><input type="checkbox" name="repository_ids" value="{id}"{checked}> {name}</label>{private}{archived}</li>"#,
            id = repo.id,
            checked = if chosen.contains(&repo.id) { " checked" } else { "" },
            name = esc(&world.full_name(repo)),
            private = if repo.private { r#" <span class="badge">Private</span>"# } else { "" },
            archived = if repo.archived { r#" <span class="badge">Archived</span>"# } else { "" },
        ));
    }
    out.push_str("</ul></fieldset>");
    out
}

async fn choose_repositories(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let state = query.get("state").cloned().unwrap_or_default();
    let target = query.get("target_id").and_then(|t| t.parse::<Id>().ok());
    let here = format!(
        "/apps/{slug}/installations/new/permissions?target_id={}&state={}",
        target.unwrap_or_default(),
        url_encode(&state)
    );
    let user = match require_user(&sim, &headers, &here) {
        Ok(user) => user,
        Err(redirect) => return redirect,
    };
    let (account, admin) = {
        let world = sim.world();
        let account = target.and_then(|id| world.accounts_of(user.id).into_iter().find(|a| a.id == id).cloned());
        let admin = account.as_ref().is_some_and(|a| sim.can_administer(&world, user.id, a.id));
        (account, admin)
    };
    let Some(account) = account else {
        return refused(&sim, Some(&user), StatusCode::NOT_FOUND, "You cannot install the App on that account.");
    };
    let verb = if admin { "Install" } else { "Request" };
    let note = if admin {
        String::new()
    } else {
        r#"<p class="muted">You are not an owner of this organization: an owner must approve your request.</p>"#
            .to_owned()
    };
    let body = format!(
        r#"<p>{verb} on {label}</p>{note}<form method="post" action="/apps/{slug}/installations">
<input type="hidden" name="target_id" value="{id}"><input type="hidden" name="state" value="{state}">
{picker}<p><button type="submit" class="primary">{verb}</button></p></form>"#,
        label = account_label(&sim.urls().web, &account),
        slug = esc(&slug),
        id = account.id,
        state = esc(&state),
        picker = repository_picker(&sim, account.id, Selection::All, &BTreeSet::new()),
    );
    render(&sim, &format!("{verb} {}", sim.config().app.name), Some(&user), &body)
}

/// The repositories chosen in a picker form: `None` means all.
fn chosen_repositories(form: &FormPairs) -> Result<Option<BTreeSet<Id>>, &'static str> {
    match form.get("repository_selection") {
        Some("selected") => {
            let ids: BTreeSet<Id> = form.all("repository_ids").filter_map(|id| id.parse().ok()).collect();
            if ids.is_empty() {
                Err("Choose at least one repository, or all repositories.")
            } else {
                Ok(Some(ids))
            }
        }
        _ => Ok(None),
    }
}

async fn install(State(sim): State<Simulator>, headers: HeaderMap, Path(slug): Path<String>, body: Bytes) -> Response {
    let form = FormPairs::parse(&body);
    let user = match require_user(&sim, &headers, &format!("/apps/{slug}/installations/new")) {
        Ok(user) => user,
        Err(redirect) => return redirect,
    };
    let state = form.get("state").unwrap_or_default().to_owned();
    let Some(target) = form.get("target_id").and_then(|t| t.parse::<Id>().ok()) else {
        return refused(&sim, Some(&user), StatusCode::UNPROCESSABLE_ENTITY, "Choose an account to install on.");
    };
    let repo_ids = match chosen_repositories(&form) {
        Ok(ids) => ids,
        Err(message) => return refused(&sim, Some(&user), StatusCode::UNPROCESSABLE_ENTITY, message),
    };
    let setup_url = sim.config().setup_url.clone();
    let is_member = sim.world().accounts_of(user.id).iter().any(|a| a.id == target);
    let is_admin = sim.can_administer(&sim.world(), user.id, target);
    if is_member && !is_admin {
        // An owner has to approve; GitHub sends the requester back without an installation.
        return Redirect::to(&with_query(&setup_url, &[("setup_action", "request"), ("state", &state)]))
            .into_response();
    }
    match sim.install(target, user.id, None, repo_ids) {
        Ok(id) => Redirect::to(&with_query(
            &setup_url,
            &[("installation_id", &id.to_string()), ("setup_action", "install"), ("state", &state)],
        ))
        .into_response(),
        Err(message) => refused(&sim, Some(&user), StatusCode::UNPROCESSABLE_ENTITY, &message),
    }
}

async fn configure_page_in_org(
    state: State<Simulator>,
    headers: HeaderMap,
    Path((_org, id)): Path<(String, Id)>,
    query: Query<HashMap<String, String>>,
) -> Response {
    configure_page(state, headers, Path(id), query).await
}

async fn configure_page(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(id): Path<Id>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let user = match require_user(&sim, &headers, &format!("/settings/installations/{id}")) {
        Ok(user) => user,
        Err(redirect) => return redirect,
    };
    let found = {
        let world = sim.world();
        world
            .installations
            .get(&id)
            .filter(|i| sim.can_administer(&world, user.id, i.account_id))
            .cloned()
            .and_then(|i| world.accounts.get(&i.account_id).cloned().map(|a| (i, a)))
    };
    let Some((installation, account)) = found else {
        return refused(&sim, Some(&user), StatusCode::NOT_FOUND, "No installation you can configure has this id.");
    };
    let state = query.get("state").cloned().unwrap_or_default();
    let suspended = installation.suspended_at.is_some();
    let body = format!(
        r#"<p>Installed on {label}{badge}</p>
<form method="post" action="/settings/installations/{id}"><input type="hidden" name="state" value="{state}">
{picker}<p><button type="submit" class="primary">Save</button></p></form>
<section class="card" aria-labelledby="danger-h"><h2 id="danger-h">Danger zone</h2><div class="row">
<form method="post" action="/settings/installations/{id}/{toggle}"><button type="submit">{toggle_label}</button></form>
<form method="post" action="/settings/installations/{id}/delete"><button type="submit" class="danger">Uninstall</button></form>
</div></section>"#,
        label = account_label(&sim.urls().web, &account),
        badge = if suspended { r#" <span class="badge">Suspended</span>"# } else { "" },
        state = esc(&state),
        picker = repository_picker(&sim, account.id, installation.selection, &installation.repo_ids),
        toggle = if suspended { "unsuspend" } else { "suspend" },
        toggle_label = if suspended { "Unsuspend" } else { "Suspend" },
    );
    render(&sim, &format!("Configure {}", sim.config().app.name), Some(&user), &body)
}

async fn configure(State(sim): State<Simulator>, headers: HeaderMap, Path(id): Path<Id>, body: Bytes) -> Response {
    let form = FormPairs::parse(&body);
    let user = match require_user(&sim, &headers, &format!("/settings/installations/{id}")) {
        Ok(user) => user,
        Err(redirect) => return redirect,
    };
    let repo_ids = match chosen_repositories(&form) {
        Ok(ids) => ids,
        Err(message) => return refused(&sim, Some(&user), StatusCode::UNPROCESSABLE_ENTITY, message),
    };
    match sim.change_repositories(id, user.id, repo_ids) {
        Ok(()) => {
            let mut params = vec![("installation_id", id.to_string()), ("setup_action", "update".to_owned())];
            if let Some(state) = form.get("state").filter(|s| !s.is_empty()) {
                params.push(("state", state.to_owned()));
            }
            let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            Redirect::to(&with_query(&sim.config().setup_url, &params)).into_response()
        }
        Err(message) => refused(&sim, Some(&user), StatusCode::UNPROCESSABLE_ENTITY, &message),
    }
}

async fn change_installation(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((id, action)): Path<(Id, String)>,
) -> Response {
    let user = match require_user(&sim, &headers, &format!("/settings/installations/{id}")) {
        Ok(user) => user,
        Err(redirect) => return redirect,
    };
    let action = match action.as_str() {
        "suspend" => InstallationAction::Suspend,
        "unsuspend" => InstallationAction::Unsuspend,
        "delete" => InstallationAction::Delete,
        _ => return refused(&sim, Some(&user), StatusCode::NOT_FOUND, "No such action."),
    };
    match sim.change_installation(id, user.id, action) {
        Ok(()) if action == InstallationAction::Delete => Redirect::to("/").into_response(),
        Ok(()) => Redirect::to(&format!("/settings/installations/{id}")).into_response(),
        Err(message) => refused(&sim, Some(&user), StatusCode::UNPROCESSABLE_ENTITY, &message),
    }
}

async fn redeliver(State(sim): State<Simulator>, Path(id): Path<Id>) -> Response {
    match sim.redeliver(id).await {
        Some(_) => Redirect::to("/").into_response(),
        None => refused(&sim, None, StatusCode::NOT_FOUND, "No such delivery."),
    }
}

// --- repositories and issues ---------------------------------------------------------------

async fn repo_page(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((owner, name)): Path<(String, String)>,
) -> Response {
    let user = signed_in(&sim, &headers);
    let world = sim.world();
    let Some(repo) = world.repo_by_name(&owner, &name).cloned() else {
        drop(world);
        return refused(&sim, user.as_ref(), StatusCode::NOT_FOUND, "This is not the web page you are looking for.");
    };
    let full_name = world.full_name(&repo);
    let base = format!("/{}", esc(&full_name));
    let mut body = format!(
        r#"<p>{desc}{private}{archived}</p>"#,
        desc = esc(repo.description.as_deref().unwrap_or("")),
        private = if repo.private { r#" <span class="badge">Private</span>"# } else { "" },
        archived = if repo.archived { r#" <span class="badge">Archived</span>"# } else { "" },
    );
    let mut issues: Vec<_> = world.issues.values().filter(|i| i.repo_id == repo.id).collect();
    issues.sort_by_key(|i| std::cmp::Reverse(i.number));
    body.push_str(r#"<section class="card" aria-labelledby="issues-h"><h2 id="issues-h">Issues</h2>"#);
    if issues.is_empty() {
        body.push_str(r#"<p class="muted">No issues yet.</p>"#);
    }
    for issue in issues {
        let comments: String = issue
            .comments
            .iter()
            .map(|c| {
                let author = world.accounts.get(&c.user_id).map_or("ghost", |a| a.login.as_str());
                format!(r#"<li><strong>{}</strong>: {}</li>"#, esc(author), esc(&c.body))
            })
            .collect();
        let (toggle, toggle_label) = if issue.open { ("closed", "Close issue") } else { ("open", "Reopen issue") };
        body.push_str(&format!(
            r#"<article class="card" aria-label="Issue #{n}"><h3>#{n} {title} <span class="badge">{state}</span></h3>
<p>{body}</p><ul class="plain">{comments}</ul>
<form method="post" action="{base}/issues/{n}/comments"><label>Comment <input type="text" name="body" required></label> <button type="submit">Comment on #{n}</button></form>
<form method="post" action="{base}/issues/{n}/state"><input type="hidden" name="state" value="{toggle}"><button type="submit">{toggle_label} #{n}</button></form></article>"#,
            n = issue.number,
            title = esc(&issue.title),
            state = if issue.open { "Open" } else { "Closed" },
            body = esc(issue.body.as_deref().unwrap_or("")),
        ));
    }
    body.push_str(&format!(
        r#"</section><section class="card" aria-labelledby="new-issue-h"><h2 id="new-issue-h">New issue</h2>
<form method="post" action="{base}/issues"><p><label>Title <input type="text" name="title" required></label></p>
<p><label>Description <textarea name="body" rows="3"></textarea></label></p><button type="submit" class="primary">Submit new issue</button></form></section>"#
    ));
    drop(world);
    render(&sim, &full_name, user.as_ref(), &body)
}

/// Runs an issue form's action for the signed-in user on the repository, then
/// returns to the repository page, or shows why it could not be done (with `refusal`).
fn issue_form(
    sim: &Simulator,
    headers: &HeaderMap,
    (owner, name): (&str, &str),
    refusal: StatusCode,
    action: impl FnOnce(Id, &Account) -> Result<(), String>,
) -> Response {
    let here = format!("/{owner}/{name}");
    let user = match require_user(sim, headers, &here) {
        Ok(user) => user,
        Err(redirect) => return redirect,
    };
    let Some(repo_id) = sim.world().repo_by_name(owner, name).map(|r| r.id) else {
        return refused(sim, Some(&user), StatusCode::NOT_FOUND, "No such repository.");
    };
    match action(repo_id, &user) {
        Ok(()) => Redirect::to(&here).into_response(),
        Err(message) => refused(sim, Some(&user), refusal, &message),
    }
}

async fn new_issue(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((owner, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let form = FormPairs::parse(&body);
    issue_form(&sim, &headers, (&owner, &name), StatusCode::UNPROCESSABLE_ENTITY, |repo_id, user| {
        sim.open_issue(repo_id, user.id, form.get("title").unwrap_or_default(), form.get("body")).map(|_| ())
    })
}

async fn issue_state(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((owner, name, number)): Path<(String, String, u64)>,
    body: Bytes,
) -> Response {
    let open = FormPairs::parse(&body).get("state") == Some("open");
    issue_form(&sim, &headers, (&owner, &name), StatusCode::NOT_FOUND, |repo_id, user| {
        sim.set_issue_state(repo_id, number, user.id, open).map(|_| ())
    })
}

async fn new_comment(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((owner, name, number)): Path<(String, String, u64)>,
    body: Bytes,
) -> Response {
    let form = FormPairs::parse(&body);
    issue_form(&sim, &headers, (&owner, &name), StatusCode::UNPROCESSABLE_ENTITY, |repo_id, user| {
        sim.add_comment(repo_id, number, user.id, form.get("body").unwrap_or_default()).map(|_| ())
    })
}
