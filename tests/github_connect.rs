//! Connecting a GitHub account through the OAuth web flow (against the
//! simulator), tokens encrypted at rest, refreshed, and forgotten.
#![cfg(feature = "ssr")]

mod support;

use forgelink::{
    domain::accounts::{GitHubIdentity, User},
    server::{
        accounts::github_link::{self, LinkError},
        crypto::TokenCipher,
        github::client::GitHubClient,
    },
};
use serde_json::json;
use sqlx::PgPool;
use support::{
    flows::{local, location, oauth_round_trip, sign_up},
    spawn_stack, test_config, TestApp,
};

/// The GitHub account linked to whoever is signed in in this browser (none if nobody is).
async fn github_account(app: &TestApp) -> Option<GitHubIdentity> {
    let user: Option<User> = support::answer(app.post_form("/fn/current_user", &[]).await).await;
    user.and_then(|user| user.github)
}

#[sqlx::test]
async fn connecting_links_the_account_and_stores_tokens_encrypted(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    let app = &stack.app;
    sign_up(app, "ada@example.com").await;
    let callback = oauth_round_trip(&stack, app, "octocat", "approve").await;
    let landed = app.get(&local(&callback)).await;
    assert_eq!(location(&landed), "/account");

    let linked = github_account(app).await.expect("a GitHub account is linked");
    assert_eq!(linked.login, "octocat");
    assert!(linked.avatar_url.ends_with("/avatars/octocat.svg"));

    let row =
        sqlx::query!("SELECT github_access_token, github_refresh_token FROM users").fetch_one(&pool).await.unwrap();
    for token in [row.github_access_token.unwrap(), row.github_refresh_token.unwrap()] {
        let text = String::from_utf8_lossy(&token);
        assert!(!text.contains("ghu_") && !text.contains("ghr_"), "a token is stored in clear text");
    }

    // The same callback again (a replay) is refused and changes nothing.
    let replay = app.get(&local(&callback)).await;
    assert!(location(&replay).starts_with("/auth/github/problem?reason=state"));
    assert_eq!(github_account(app).await.map(|linked| linked.login).as_deref(), Some("octocat"));

    // The account page shows the connection; disconnecting forgets it.
    let page = app.get("/account").await.text().await.unwrap();
    assert!(page.contains("Connected to GitHub as"), "{page}");
    let response = app.post_form("/auth/github/disconnect", &[("return_to", "/account")]).await;
    assert_eq!(location(&response), "/account");
    assert_eq!(github_account(app).await, None);
    let tokens: Option<Vec<u8>> =
        sqlx::query_scalar!("SELECT github_access_token FROM users").fetch_one(&pool).await.unwrap();
    assert!(tokens.is_none());
}

#[sqlx::test]
async fn cancelling_on_github_connects_nothing(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    sign_up(&stack.app, "ada@example.com").await;
    let callback = oauth_round_trip(&stack, &stack.app, "octocat", "cancel").await;
    let landed = stack.app.get(&local(&callback)).await;
    assert_eq!(location(&landed), "/auth/github/problem?reason=cancelled&return_to=%2Faccount");
    assert_eq!(github_account(&stack.app).await, None);
    let problem = stack.app.get("/auth/github/problem?reason=cancelled&return_to=%2Faccount").await;
    assert_eq!(problem.status(), 200);
    let html = problem.text().await.unwrap();
    assert!(html.contains("You cancelled on GitHub"), "{html}");
    assert!(html.contains("Try again"));
}

#[sqlx::test]
async fn a_forged_state_is_refused(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    sign_up(&stack.app, "ada@example.com").await;
    let callback = oauth_round_trip(&stack, &stack.app, "octocat", "approve").await;
    let forged = local(&callback).replace("state=", "state=forged");
    let landed = stack.app.get(&forged).await;
    assert!(location(&landed).starts_with("/auth/github/problem?reason=state"));
    assert_eq!(github_account(&stack.app).await, None);
}

#[sqlx::test]
async fn one_github_account_links_to_one_forgelink_user(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    sign_up(&stack.app, "ada@example.com").await;
    let first = oauth_round_trip(&stack, &stack.app, "octocat", "approve").await;
    stack.app.get(&local(&first)).await;

    let other = stack.app.another_browser();
    sign_up(&other, "grace@example.com").await;
    let second = oauth_round_trip(&stack, &other, "octocat", "approve").await;
    let landed = other.get(&local(&second)).await;
    assert!(location(&landed).starts_with("/auth/github/problem?reason=already_linked"));
    assert_eq!(github_account(&other).await, None);
}

#[sqlx::test]
async fn github_down_during_the_exchange_leaves_nothing_half_written(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    sign_up(&stack.app, "ada@example.com").await;
    let callback = oauth_round_trip(&stack, &stack.app, "octocat", "approve").await;
    // The code exchange works; GET /user then keeps failing (past the client's retries).
    stack.gh.http.put(format!("{}/_sim/faults", stack.gh.web)).json(&json!({"fail_next": 10})).send().await.unwrap();
    let landed = stack.app.get(&local(&callback)).await;
    assert!(location(&landed).starts_with("/auth/github/problem?reason=github_down"));
    let row = sqlx::query!("SELECT github_id, github_access_token FROM users").fetch_one(&pool).await.unwrap();
    assert!(row.github_id.is_none() && row.github_access_token.is_none());
}

/// Ada, signed up and connected as octocat; her id, and a client and cipher
/// as the server's.
async fn connected(stack: &support::Stack, pool: &PgPool) -> (i64, GitHubClient, TokenCipher) {
    sign_up(&stack.app, "ada@example.com").await;
    let callback = oauth_round_trip(stack, &stack.app, "octocat", "approve").await;
    stack.app.get(&local(&callback)).await;
    let user_id: i64 = sqlx::query_scalar!("SELECT id FROM users").fetch_one(pool).await.unwrap();
    let mut config = test_config();
    config.github.api_url = format!("{}/api/v3", stack.gh.web);
    config.github.web_url = stack.gh.web.clone();
    (user_id, GitHubClient::new(config.github), config.cipher)
}

/// Two callers at once with a token about to expire: one refreshes, the other
/// waits and takes its token (two refreshes would spend GitHub's single-use
/// refresh token twice, and the second would be refused).
#[sqlx::test]
async fn callers_at_once_share_one_refresh(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    let (user_id, github, cipher) = connected(&stack, &pool).await;
    sqlx::query!("UPDATE users SET github_access_token_expires_at = now() + interval '1 minute'")
        .execute(&pool)
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        github_link::user_access_token(&pool, &github, &cipher, user_id),
        github_link::user_access_token(&pool, &github, &cipher, user_id),
    );
    let (a, b) = (a.expect("first caller"), b.expect("second caller"));
    assert_eq!(a, b, "one refresh, shared");
    assert_eq!(github.current_user(&a).await.unwrap().login, "octocat");
}

#[sqlx::test]
async fn expired_user_tokens_are_refreshed_and_a_refused_refresh_asks_to_reconnect(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    let (user_id, github, cipher) = connected(&stack, &pool).await;

    let first = github_link::user_access_token(&pool, &github, &cipher, user_id).await.unwrap();
    let again = github_link::user_access_token(&pool, &github, &cipher, user_id).await.unwrap();
    assert_eq!(first, again, "a fresh token is reused");
    // Refreshed 5 minutes before it expires, not sooner.
    sqlx::query!("UPDATE users SET github_access_token_expires_at = now() + interval '6 minutes'")
        .execute(&pool)
        .await
        .unwrap();
    let still = github_link::user_access_token(&pool, &github, &cipher, user_id).await.unwrap();
    assert_eq!(still, first, "six minutes left: still used");

    // Nearly expired (four minutes left): refreshed, and the new token works.
    sqlx::query!("UPDATE users SET github_access_token_expires_at = now() + interval '4 minutes'")
        .execute(&pool)
        .await
        .unwrap();
    let refreshed = github_link::user_access_token(&pool, &github, &cipher, user_id).await.unwrap();
    assert_ne!(refreshed, first);
    assert_eq!(github.current_user(&refreshed).await.unwrap().login, "octocat");

    // GitHub's refresh tokens are single-use: the second refresh works only
    // with the token the first one stored.
    let expire_soon =
        || sqlx::query!("UPDATE users SET github_access_token_expires_at = now() + interval '1 minute'").execute(&pool);
    expire_soon().await.unwrap();
    let second = github_link::user_access_token(&pool, &github, &cipher, user_id).await.expect("refreshed again");
    assert_ne!(second, refreshed);
    assert_eq!(github.current_user(&second).await.unwrap().login, "octocat");

    // The person revokes the App on GitHub: the next refresh is refused.
    let cookie = stack.gh.sign_in("octocat").await;
    let octocat_id = stack.gh.sim.sim.world().account_by_login("octocat").unwrap().id;
    stack.gh.post_form(&cookie, &format!("/settings/applications/{octocat_id}/revoke"), &[]).await;
    sqlx::query!("UPDATE users SET github_access_token_expires_at = now() - interval '1 hour'")
        .execute(&pool)
        .await
        .unwrap();
    let error = github_link::user_access_token(&pool, &github, &cipher, user_id).await.unwrap_err();
    assert!(matches!(error, LinkError::ReconnectNeeded), "{error:?}");
    assert!(github_account(&stack.app).await.expect("still linked").reconnect_needed);
    let page = stack.app.get("/account").await.text().await.unwrap();
    assert!(page.contains("Reconnect GitHub account"));
}
