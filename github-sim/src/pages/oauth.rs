//! OAuth, as GitHub's web flow has it: the authorize page, the token endpoint, and revoking an authorization.

use std::collections::HashMap;

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Json,
};
use chrono::Utc;
use maud::html;
use serde_json::json;

use super::{refused, render, require_user, with_query, FormPairs};
use crate::{
    hooks::Outgoing,
    html::{avatar_img, url_encode},
    payloads,
    world::{Grant, Id, REFRESH_TOKEN_LIFETIME, USER_TOKEN_LIFETIME},
    Simulator,
};

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

pub(super) async fn authorize_page(
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
    let body = html! {
        section.card {
            p {
                (avatar_img(&sim.urls().web, &user.login, 32)) " " strong { (config.app.name) }
                " by forgelink would like permission to verify your GitHub identity (" (user.login)
                ") and know which resources you can access."
            }
            form.row method="post" action="/login/oauth/authorize" {
                input type="hidden" name="client_id" value=(config.app.client_id);
                input type="hidden" name="redirect_uri" value=(redirect_uri);
                input type="hidden" name="state" value=(state);
                button type="submit" name="decision" value="cancel" { "Cancel" }
                button.primary type="submit" name="decision" value="approve" { "Authorize " (config.app.name) }
            }
            p.muted { "Authorizing will redirect to " code { (redirect_uri) } }
        }
    };
    render(&sim, &format!("Authorize {}", config.app.name), Some(&user), body)
}

fn approve(sim: &Simulator, user_id: Id, redirect_uri: &str, state: &str) -> Response {
    let mut world = sim.world();
    world.authorized_users.insert(user_id);
    let code = world.issue_oauth_code(user_id, Some(redirect_uri.to_owned()));
    sim.persist(&world);
    Redirect::to(&with_query(redirect_uri, &[("code", &code), ("state", state)])).into_response()
}

pub(super) async fn authorize(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
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
pub(super) async fn access_token(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
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
        "expires_in": USER_TOKEN_LIFETIME.num_seconds(),
        "refresh_token": refresh,
        "refresh_token_expires_in": REFRESH_TOKEN_LIFETIME.num_seconds(),
        "scope": "",
        "token_type": "bearer",
    }))
}

pub(super) async fn revoke_authorization(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(user_id): Path<Id>,
) -> Response {
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
        world.tokens.retain(|_, t| !matches!(t.grant, Grant::User { user_id } if user_id == user.id));
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
