//! The GitHub simulator behaves as GitHub does where forgelink depends on it:
//! credentials, OAuth, installs, pagination, deliveries, redelivery and faults.
#![cfg(feature = "ssr")]

mod support;

use std::collections::HashMap;

use forgelink::{
    domain::integrations::RepositorySelection,
    server::github::events::{InstallationEvent, InstallationRepositoriesEvent, IssueCommentEvent, IssuesEvent},
};
use serde_json::{json, Value};
use support::github::{app_key, other_key, SimHarness, APP_ID, CLIENT_ID, CLIENT_SECRET, WEBHOOK_SECRET};

fn query_of(location: &str) -> HashMap<String, String> {
    let url = url::Url::parse(location).expect("an absolute redirect");
    url.query_pairs().into_owned().collect()
}

// --- App JWTs --------------------------------------------------------------------------

#[tokio::test]
async fn a_valid_app_jwt_is_accepted() {
    let gh = SimHarness::start().await;
    let response = gh.api_get("/app", &gh.jwt()).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-ratelimit-remaining"));
    let app: Value = response.json().await.unwrap();
    assert_eq!(app["id"], APP_ID);
    assert_eq!(app["client_id"], CLIENT_ID);
}

#[tokio::test]
async fn the_jwt_check_rejects_another_key_expiry_and_long_lifetimes() {
    let gh = SimHarness::start().await;
    let now = chrono::Utc::now().timestamp();
    let cases = [
        ("signed by another key", gh.jwt_with(json!({"iat": now - 60, "exp": now + 540, "iss": APP_ID}), other_key())),
        ("expired", gh.jwt_with(json!({"iat": now - 700, "exp": now - 100, "iss": APP_ID}), app_key())),
        (
            "exp more than 10 minutes ahead",
            gh.jwt_with(json!({"iat": now - 10, "exp": now + 660, "iss": APP_ID}), app_key()),
        ),
        ("issued in the future", gh.jwt_with(json!({"iat": now + 300, "exp": now + 500, "iss": APP_ID}), app_key())),
        ("another App's id", gh.jwt_with(json!({"iat": now - 60, "exp": now + 540, "iss": APP_ID + 1}), app_key())),
        ("no exp", gh.jwt_with(json!({"iat": now - 60, "iss": APP_ID}), app_key())),
        ("not a JWT", "not-a-jwt".to_owned()),
    ];
    for (case, token) in cases {
        let response = gh.api_get("/app/installations", &token).await;
        assert_eq!(response.status(), 401, "{case}");
        let body: Value = response.json().await.unwrap();
        assert!(body["message"].is_string(), "{case}: {body}");
    }
    // The client ID is accepted as the issuer too.
    let by_client_id = gh.jwt_with(json!({"iat": now - 60, "exp": now + 540, "iss": CLIENT_ID}), app_key());
    assert_eq!(gh.api_get("/app", &by_client_id).await.status(), 200);
}

#[tokio::test]
async fn wrong_tokens_get_bad_credentials() {
    let gh = SimHarness::start().await;
    for path in ["/user", "/installation/repositories", "/user/installations"] {
        let response = gh.api_get(path, "ghu_notarealtoken").await;
        assert_eq!(response.status(), 401, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["message"], "Bad credentials");
    }
}

// --- OAuth (user access tokens) ----------------------------------------------------------

/// Signs in as `login`, approves the App, and returns the code and the state GitHub sent back.
async fn authorize(gh: &SimHarness, login: &str, state: &str) -> (String, String) {
    let cookie = gh.sign_in(login).await;
    let redirect_uri = "http://127.0.0.1:3000/auth/github/callback";
    let response = gh
        .http
        .get(format!("{}/login/oauth/authorize", gh.web))
        .query(&[("client_id", CLIENT_ID), ("redirect_uri", redirect_uri), ("state", state)])
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("Authorize forgelink (test)"));
    let response = gh
        .post_form(
            &cookie,
            "/login/oauth/authorize",
            &[("client_id", CLIENT_ID), ("redirect_uri", redirect_uri), ("state", state), ("decision", "approve")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(redirect_uri), "{location}");
    let query = query_of(location);
    (query["code"].clone(), query["state"].clone())
}

async fn exchange(gh: &SimHarness, params: &[(&str, &str)]) -> Value {
    let mut form = vec![("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)];
    form.extend_from_slice(params);
    gh.http
        .post(format!("{}/login/oauth/access_token", gh.web))
        .header("accept", "application/json")
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_oauth_web_flow_yields_user_tokens_and_refresh_tokens_are_single_use() {
    let gh = SimHarness::start().await;
    let (code, state) = authorize(&gh, "octocat", "s-123").await;
    assert_eq!(state, "s-123");

    let tokens = exchange(&gh, &[("code", &code)]).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert!(access.starts_with("ghu_"));
    assert_eq!(tokens["expires_in"], 28_800);
    assert_eq!(tokens["token_type"], "bearer");

    let user: Value = gh.api_get("/user", access).await.json().await.unwrap();
    assert_eq!(user["login"], "octocat");
    assert!(user["avatar_url"].as_str().unwrap().ends_with("/avatars/octocat.svg"));

    // A code works once.
    let again = exchange(&gh, &[("code", &code)]).await;
    assert_eq!(again["error"], "bad_verification_code");

    // A refresh token works once, and the new access token works.
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let refreshed = exchange(&gh, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    let new_access = refreshed["access_token"].as_str().unwrap();
    assert_eq!(gh.api_get("/user", new_access).await.status(), 200);
    let reused = exchange(&gh, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!(reused["error"], "bad_refresh_token");

    // Wrong client credentials are refused.
    let wrong = gh
        .http
        .post(format!("{}/login/oauth/access_token", gh.web))
        .header("accept", "application/json")
        .form(&[("client_id", CLIENT_ID), ("client_secret", "nope"), ("code", "x")])
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(wrong["error"], "incorrect_client_credentials");
}

#[tokio::test]
async fn cancelling_the_authorization_returns_access_denied_with_the_state() {
    let gh = SimHarness::start().await;
    let cookie = gh.sign_in("mona").await;
    let response = gh
        .post_form(
            &cookie,
            "/login/oauth/authorize",
            &[("client_id", CLIENT_ID), ("state", "s-9"), ("decision", "cancel")],
        )
        .await;
    let query = query_of(response.headers()["location"].to_str().unwrap());
    assert_eq!(query["error"], "access_denied");
    assert_eq!(query["state"], "s-9");
    assert!(!query.contains_key("code"));
}

#[tokio::test]
async fn a_foreign_redirect_uri_is_refused() {
    let gh = SimHarness::start().await;
    let cookie = gh.sign_in("octocat").await;
    let response = gh
        .http
        .get(format!("{}/login/oauth/authorize", gh.web))
        .query(&[("client_id", CLIENT_ID), ("redirect_uri", "http://evil.example/cb"), ("state", "x")])
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

// --- installing through the pages ------------------------------------------------------------

#[tokio::test]
async fn installing_on_an_org_delivers_a_signed_webhook_and_returns_to_the_setup_url() {
    let gh = SimHarness::start().await;
    let cookie = gh.sign_in("octocat").await;
    let (org_id, api_id, web_id) = {
        let world = gh.sim.sim.world();
        let org = world.account_by_login("forge-demo").unwrap().id;
        (org, world.repo_by_name("forge-demo", "api").unwrap().id, world.repo_by_name("forge-demo", "web").unwrap().id)
    };
    let (api_id, web_id) = (api_id.to_string(), web_id.to_string());
    let response = gh
        .post_form(
            &cookie,
            "/apps/forgelink-test/installations",
            &[
                ("target_id", &org_id.to_string()),
                ("state", "signed-state"),
                ("repository_selection", "selected"),
                ("repository_ids", &api_id),
                ("repository_ids", &web_id),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("http://127.0.0.1:3000/integrations/github/setup?"), "{location}");
    let query = query_of(&location);
    assert_eq!(query["setup_action"], "install");
    assert_eq!(query["state"], "signed-state");
    let installation_id: u64 = query["installation_id"].parse().unwrap();

    let hooks = gh.receiver.wait_for(1).await;
    let hook = &hooks[0];
    assert_eq!(hook.header("x-github-event"), "installation");
    assert_eq!(hook.header("content-type"), "application/json");
    assert!(hook.header("user-agent").starts_with("GitHub-Hookshot/"));
    assert_eq!(hook.header("x-github-hook-installation-target-type"), "integration");
    assert_eq!(hook.header("x-github-hook-installation-target-id"), APP_ID.to_string());
    assert!(uuid::Uuid::parse_str(hook.header("x-github-delivery")).is_ok());
    assert!(!hook.header("x-github-hook-id").is_empty());
    assert_eq!(hook.header("x-hub-signature-256"), github_sim::signature_256(WEBHOOK_SECRET, &hook.body));

    assert_eq!(hook.header("x-github-event"), "installation");
    let event: InstallationEvent = serde_json::from_slice(&hook.body).unwrap();
    assert_eq!(event.action, "created");
    assert_eq!(event.installation.id, installation_id as i64);
    let account = event.installation.account.unwrap();
    assert_eq!(account.login, "forge-demo");
    assert_eq!(account.kind, "Organization");
    assert_eq!(event.installation.repository_selection, RepositorySelection::Selected);
    let names: Vec<_> = event.repositories.unwrap().into_iter().map(|r| r.full_name).collect();
    assert_eq!(names, ["forge-demo/api", "forge-demo/web"]);
    assert_eq!(event.sender.login, "octocat");

    // The user sees the installation through their own token.
    let (code, _) = authorize(&gh, "octocat", "s").await;
    let tokens = exchange(&gh, &[("code", &code)]).await;
    let mine: Value =
        gh.api_get("/user/installations", tokens["access_token"].as_str().unwrap()).await.json().await.unwrap();
    assert_eq!(mine["total_count"], 1);
    assert_eq!(mine["installations"][0]["id"], installation_id);
}

#[tokio::test]
async fn a_member_who_is_not_an_owner_can_only_request_an_install() {
    let gh = SimHarness::start().await;
    let cookie = gh.sign_in("mona").await;
    let org_id = gh.sim.sim.world().account_by_login("forge-demo").unwrap().id.to_string();
    let response =
        gh.post_form(&cookie, "/apps/forgelink-test/installations", &[("target_id", &org_id), ("state", "st")]).await;
    let query = query_of(response.headers()["location"].to_str().unwrap());
    assert_eq!(query["setup_action"], "request");
    assert_eq!(query["state"], "st");
    assert!(!query.contains_key("installation_id"));
    assert!(gh.sim.sim.world().installations.is_empty());
}

/// As on GitHub, every member is shown an organization's installation; only
/// the membership endpoint tells its owners from the rest.
#[tokio::test]
async fn members_see_the_installation_and_the_membership_says_who_owns_the_organization() {
    let gh = SimHarness::start().await;
    gh.install("forge-demo", "octocat", None).await;
    for (login, role) in [("octocat", Some("admin")), ("mona", Some("member")), ("hubot", None)] {
        let token = {
            let mut world = gh.sim.sim.world();
            let id = world.account_by_login(login).unwrap().id;
            world.issue_user_tokens(id).0
        };
        let listed: Value = gh.api_get("/user/installations", &token).await.json().await.unwrap();
        assert_eq!(listed["total_count"], u64::from(role.is_some()), "{login}");
        let membership = gh.api_get("/user/memberships/orgs/forge-demo", &token).await;
        match role {
            Some(role) => {
                assert_eq!(membership.status(), 200, "{login}");
                let body: Value = membership.json().await.unwrap();
                assert_eq!((body["role"].as_str(), body["state"].as_str()), (Some(role), Some("active")), "{login}");
                assert_eq!(body["organization"]["login"], "forge-demo");
                assert_eq!(body["user"]["login"], login);
            }
            None => assert_eq!(membership.status(), 404, "{login}"),
        }
    }
}

#[tokio::test]
async fn configuring_suspending_and_uninstalling_send_the_matching_webhooks() {
    let gh = SimHarness::start().await;
    let id = gh.install("forge-demo", "octocat", Some(&["api"])).await;
    gh.receiver.wait_for(1).await;
    let cookie = gh.sign_in("octocat").await;
    let web_id = gh.sim.sim.world().repo_by_name("forge-demo", "web").unwrap().id.to_string();

    // api → web: one added, one removed, then back to the setup URL with setup_action=update.
    let response = gh
        .post_form(
            &cookie,
            &format!("/settings/installations/{id}"),
            &[("repository_selection", "selected"), ("repository_ids", &web_id)],
        )
        .await;
    let query = query_of(response.headers()["location"].to_str().unwrap());
    assert_eq!(query["setup_action"], "update");
    assert_eq!(query["installation_id"], id.to_string());
    let hooks = gh.receiver.wait_for(3).await;
    let mut changes: Vec<(String, Vec<String>, Vec<String>)> = hooks[1..]
        .iter()
        .map(|hook| {
            assert_eq!(hook.header("x-github-event"), "installation_repositories");
            let e: InstallationRepositoriesEvent = serde_json::from_slice(&hook.body).unwrap();
            (
                e.action,
                e.repositories_added.into_iter().map(|r| r.name).collect(),
                e.repositories_removed.into_iter().map(|r| r.name).collect(),
            )
        })
        .collect();
    changes.sort();
    assert_eq!(
        changes,
        [("added".to_owned(), vec!["web".to_owned()], vec![]), ("removed".to_owned(), vec![], vec!["api".to_owned()]),]
    );

    // Suspended: no installation token; unsuspended: tokens again; deleted: gone.
    gh.post_form(&cookie, &format!("/settings/installations/{id}/suspend"), &[]).await;
    let refused = gh.api_post(&format!("/app/installations/{id}/access_tokens"), &gh.jwt(), json!({})).await;
    assert_eq!(refused.status(), 403);
    gh.post_form(&cookie, &format!("/settings/installations/{id}/unsuspend"), &[]).await;
    let token = gh.installation_token(id).await;
    gh.post_form(&cookie, &format!("/settings/installations/{id}/delete"), &[]).await;
    assert_eq!(gh.api_get("/installation/repositories", &token).await.status(), 401);

    let hooks = gh.receiver.wait_for(6).await;
    let mut actions: Vec<String> = hooks[3..]
        .iter()
        .map(|h| format!("{}.{}", h.header("x-github-event"), h.json()["action"].as_str().unwrap()))
        .collect();
    actions.sort();
    assert_eq!(actions, ["installation.deleted", "installation.suspend", "installation.unsuspend"]);
}

// --- the REST API ------------------------------------------------------------------------

#[tokio::test]
async fn installation_repositories_are_paginated_with_link_headers() {
    let gh = SimHarness::start_with(|config| config.large_org_repos = Some(250)).await;
    let id = gh.install("mega-corp", "octocat", None).await;
    let token = gh.installation_token(id).await;

    let mut url = format!("{}/installation/repositories?per_page=100", gh.api);
    let mut names = Vec::new();
    let mut pages = 0;
    loop {
        let response = gh.http.get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), 200);
        pages += 1;
        let next = response
            .headers()
            .get("link")
            .and_then(|l| l.to_str().ok())
            .and_then(|l| l.split(", ").find(|p| p.ends_with("rel=\"next\"")))
            .map(|p| p.trim_start_matches('<').split('>').next().unwrap().to_owned());
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["total_count"], 250);
        assert_eq!(body["repository_selection"], "all");
        names.extend(
            body["repositories"].as_array().unwrap().iter().map(|r| r["full_name"].as_str().unwrap().to_owned()),
        );
        match next {
            Some(next) => url = next,
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names.len(), 250);
    names.dedup();
    assert_eq!(names.len(), 250, "no repository listed twice");

    // per_page is capped at 100, as on GitHub.
    let body: Value = gh.api_get("/installation/repositories?per_page=500", &token).await.json().await.unwrap();
    assert_eq!(body["repositories"].as_array().unwrap().len(), 100);
}

#[tokio::test]
async fn issues_written_through_the_api_send_issue_webhooks() {
    let gh = SimHarness::start().await;
    let id = gh.install("forge-demo", "octocat", None).await;
    gh.receiver.wait_for(1).await;
    let token = gh.installation_token(id).await;
    let created = gh
        .api_post("/repos/forge-demo/api/issues", &token, json!({"title": "Broken link", "body": "On the home page"}))
        .await;
    assert_eq!(created.status(), 201);
    let issue: Value = created.json().await.unwrap();
    assert_eq!(issue["number"], 1);
    let comment =
        gh.api_post("/repos/forge-demo/api/issues/1/comments", &token, json!({"body": "Looking into it"})).await;
    assert_eq!(comment.status(), 201);

    let hooks = gh.receiver.wait_for(3).await;
    let mut seen = Vec::new();
    for hook in &hooks[1..] {
        match hook.header("x-github-event") {
            "issues" => {
                let e: IssuesEvent = serde_json::from_slice(&hook.body).unwrap();
                assert_eq!(e.issue.title, "Broken link");
                assert_eq!(e.repository.full_name, "forge-demo/api");
                assert_eq!(e.installation.unwrap().id, id as i64);
                seen.push(format!("issues.{}", e.action));
            }
            "issue_comment" => {
                let e: IssueCommentEvent = serde_json::from_slice(&hook.body).unwrap();
                assert_eq!(e.comment.body, "Looking into it");
                seen.push(format!("issue_comment.{}", e.action));
            }
            other => panic!("unexpected {other} event"),
        }
    }
    seen.sort();
    assert_eq!(seen, ["issue_comment.created", "issues.opened"]);
    // An installation cannot reach a repository outside it.
    assert_eq!(gh.api_get("/repos/octocat/dotfiles/issues", &token).await.status(), 404);
}

#[tokio::test]
async fn the_delivery_log_lists_attempts_and_redelivery_keeps_the_guid() {
    let gh = SimHarness::start().await;
    // The first delivery is dropped, as in an outage.
    let faults =
        gh.http.put(format!("{}/_sim/faults", gh.web)).json(&json!({"drop_webhooks": 1})).send().await.unwrap();
    assert_eq!(faults.status(), 200);
    gh.install("forge-demo", "octocat", None).await;
    let jwt = gh.jwt();
    let failed = support::until_some("the failed delivery in the log", 10, async || {
        let list: Value = gh.api_get("/app/hook/deliveries", &jwt).await.json().await.unwrap();
        list.as_array().unwrap().first().cloned()
    })
    .await;
    assert_eq!(failed["status_code"], 0);
    assert_eq!(failed["event"], "installation");
    assert_eq!(failed["action"], "created");
    assert!(gh.receiver.received().is_empty(), "the dropped delivery never arrived");

    let attempt = gh.api_post(&format!("/app/hook/deliveries/{}/attempts", failed["id"]), &jwt, json!({})).await;
    assert_eq!(attempt.status(), 202);
    let hooks = gh.receiver.wait_for(1).await;
    assert_eq!(hooks[0].header("x-github-delivery"), failed["guid"].as_str().unwrap());

    let list: Value = gh.api_get("/app/hook/deliveries", &jwt).await.json().await.unwrap();
    let newest = &list[0];
    assert_eq!(newest["guid"], failed["guid"]);
    assert_eq!(newest["redelivery"], true);
    assert_eq!(newest["status_code"], 202);
    assert_eq!(newest["status"], "OK");
}

#[tokio::test]
async fn injected_faults_answer_like_github_under_stress() {
    let gh = SimHarness::start().await;
    let jwt = gh.jwt();
    let set = |faults: Value| {
        let http = gh.http.clone();
        let url = format!("{}/_sim/faults", gh.web);
        async move { http.put(url).json(&faults).send().await.unwrap() }
    };

    set(json!({"fail_next": 2})).await;
    assert_eq!(gh.api_get("/app", &jwt).await.status(), 503);
    assert_eq!(gh.api_get("/app", &jwt).await.status(), 503);
    assert_eq!(gh.api_get("/app", &jwt).await.status(), 200);

    set(json!({"rate_limit_next": 1, "retry_after_secs": 7})).await;
    let limited = gh.api_get("/app", &jwt).await;
    assert_eq!(limited.status(), 403);
    assert_eq!(limited.headers()["retry-after"], "7");

    set(json!({"rate_limit_next": 1, "rate_limit_status": 429, "reset_after_secs": 30})).await;
    let limited = gh.api_get("/app", &jwt).await;
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["x-ratelimit-remaining"], "0");
    let reset: i64 = limited.headers()["x-ratelimit-reset"].to_str().unwrap().parse().unwrap();
    assert!(reset > chrono::Utc::now().timestamp());

    set(json!({"latency_ms": 300})).await;
    let started = std::time::Instant::now();
    assert_eq!(gh.api_get("/app", &jwt).await.status(), 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));

    let bad = gh.http.put(format!("{}/_sim/faults", gh.web)).json(&json!({"no_such_fault": 1})).send().await.unwrap();
    assert_eq!(bad.status(), 422, "unknown fault names are refused");
}

#[tokio::test]
async fn the_pages_render_for_a_person() {
    let gh = SimHarness::start().await;
    let home = gh.http.get(&gh.web).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("forgelink (test)"));
    assert!(home.contains("forge-demo"));
    // Signing in is required to install; the page then lists the user's accounts.
    let install =
        gh.http.get(format!("{}/apps/forgelink-test/installations/new?state=abc", gh.web)).send().await.unwrap();
    assert_eq!(install.status(), 303);
    let cookie = gh.sign_in("octocat").await;
    let page = gh
        .http
        .get(format!("{}/apps/forgelink-test/installations/new?state=abc", gh.web))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Install on forge-demo"));
    assert!(page.contains("Install on octocat"));
}

#[tokio::test]
async fn the_repository_page_opens_closes_and_comments_on_issues() {
    let gh = SimHarness::start().await;
    gh.install("forge-demo", "octocat", None).await;
    gh.receiver.wait_for(1).await;
    let cookie = gh.sign_in("octocat").await;

    let opened = gh.post_form(&cookie, "/forge-demo/web/issues", &[("title", "Logo is blurry"), ("body", "")]).await;
    assert_eq!(opened.status(), 303);
    assert_eq!(opened.headers()["location"], "/forge-demo/web");
    let commented = gh.post_form(&cookie, "/forge-demo/web/issues/1/comments", &[("body", "Agreed")]).await;
    assert_eq!(commented.status(), 303);
    let closed = gh.post_form(&cookie, "/forge-demo/web/issues/1/state", &[("state", "closed")]).await;
    assert_eq!(closed.status(), 303);

    let hooks = gh.receiver.wait_for(4).await;
    let mut seen: Vec<String> = hooks[1..]
        .iter()
        .map(|h| format!("{}.{}", h.header("x-github-event"), h.json()["action"].as_str().unwrap()))
        .collect();
    seen.sort();
    assert_eq!(seen, ["issue_comment.created", "issues.closed", "issues.opened"]);

    // What cannot be done is said, with GitHub's kind of status.
    let untitled = gh.post_form(&cookie, "/forge-demo/web/issues", &[("title", " ")]).await;
    assert_eq!(untitled.status(), 422);
    let missing = gh.post_form(&cookie, "/forge-demo/web/issues/99/state", &[("state", "closed")]).await;
    assert_eq!(missing.status(), 404);
    let no_repo = gh.post_form(&cookie, "/forge-demo/nothing/issues", &[("title", "x")]).await;
    assert_eq!(no_repo.status(), 404);
}
