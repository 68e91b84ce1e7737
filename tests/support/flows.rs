//! What a person does in a browser, as HTTP: sign up, create a project,
//! connect GitHub (through the simulator's pages).

use std::collections::HashMap;

use super::{Stack, TestApp};

pub async fn sign_up(app: &TestApp, email: &str) {
    let response = app
        .post_form(
            "/fn/sign_up",
            &[("email", email), ("display_name", "Ada"), ("password", "correct horse battery"), ("next", "")],
        )
        .await;
    let status = response.status();
    assert!(status.is_success() || status.is_redirection(), "{status}");
}

/// Signs up, then is made an operator the way `forgelink admin grant` does it.
pub async fn sign_up_operator(app: &TestApp, pool: &sqlx::PgPool, email: &str) {
    sign_up(app, email).await;
    forgelink::server::accounts::service::set_operator(pool, email, true).await.unwrap();
}

pub async fn create_project(app: &TestApp, slug: &str) {
    let response = app.post_form("/fn/create_project", &[("name", slug), ("slug", slug), ("description", "")]).await;
    let status = response.status();
    assert!(status.is_success() || status.is_redirection(), "{status}");
}

pub fn location(response: &reqwest::Response) -> String {
    assert!(response.status().is_redirection(), "expected a redirect, got {}", response.status());
    response.headers()["location"].to_str().unwrap().to_owned()
}

pub fn query(url: &str) -> HashMap<String, String> {
    let url = url::Url::parse(url).or_else(|_| url::Url::parse(&format!("http://x{url}"))).unwrap();
    url.query_pairs().into_owned().collect()
}

/// The path and query of a URL on forgelink.
pub fn local(url: &str) -> String {
    let url = url::Url::parse(url).unwrap();
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

/// Starts the OAuth flow in forgelink, decides on the simulator as `login`,
/// and returns the URL GitHub sends the browser back to.
pub async fn oauth_round_trip(stack: &Stack, app: &TestApp, login: &str, decision: &str) -> String {
    let authorize = location(&app.get("/auth/github/connect?return_to=/account").await);
    assert!(authorize.starts_with(&format!("{}/login/oauth/authorize?", stack.gh.web)), "{authorize}");
    let params = query(&authorize);
    let cookie = stack.gh.sign_in(login).await;
    let page = stack.gh.http.get(&authorize).header("cookie", &cookie).send().await.unwrap();
    if page.status().is_redirection() {
        // Authorized before: GitHub sends the browser straight back.
        return location(&page);
    }
    assert_eq!(page.status(), 200, "the authorize page");
    let back = stack
        .gh
        .post_form(
            &cookie,
            "/login/oauth/authorize",
            &[
                ("client_id", &params["client_id"]),
                ("redirect_uri", &params["redirect_uri"]),
                ("state", &params["state"]),
                ("decision", decision),
            ],
        )
        .await;
    location(&back)
}

/// Connects `login`'s GitHub account to the signed-in forgelink user.
pub async fn connect_github(stack: &Stack, app: &TestApp, login: &str) {
    let callback = oauth_round_trip(stack, app, login, "approve").await;
    let landed = app.get(&local(&callback)).await;
    assert_eq!(location(&landed), "/account");
}
