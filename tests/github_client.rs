//! The GitHub client against the simulator: installation tokens cached and
//! minted once under concurrency, replaced before expiry and after a 401;
//! rate limits and server errors waited out or reported.
#![cfg(feature = "ssr")]

mod support;

use std::time::Instant;

use forgelink::server::github::{
    client::{GitHubClient, GitHubError},
    installation_tokens::InstallationTokens,
};
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{github::SimHarness, test_config};

struct Setup {
    gh: SimHarness,
    client: GitHubClient,
    installation: i64,
}

async fn setup() -> Setup {
    let gh = SimHarness::start().await;
    let installation = gh.install("forge-demo", "octocat", None).await as i64;
    let mut config = test_config();
    config.github.api_url = gh.api.clone();
    config.github.web_url = gh.web.clone();
    Setup { client: GitHubClient::new(config.github), gh, installation }
}

fn tokens(pool: &PgPool, setup: &Setup) -> InstallationTokens {
    InstallationTokens::new(pool.clone(), setup.client.clone(), test_config().cipher)
}

async fn sim_state(gh: &SimHarness) -> Value {
    gh.http.get(format!("{}/_sim/state", gh.web)).send().await.unwrap().json().await.unwrap()
}

async fn minted(gh: &SimHarness) -> u64 {
    sim_state(gh).await["installation_tokens_issued"].as_u64().unwrap()
}

async fn api_requests(gh: &SimHarness) -> u64 {
    sim_state(gh).await["api_requests"].as_u64().unwrap()
}

async fn faults(gh: &SimHarness, faults: Value) {
    let response = gh.http.put(format!("{}/_sim/faults", gh.web)).json(&faults).send().await.unwrap();
    assert!(response.status().is_success());
}

#[sqlx::test]
async fn concurrent_callers_on_two_instances_share_one_mint(pool: PgPool) {
    let s = setup().await;
    // Two instances: each has its own in-process gate; the lease spans both.
    let (a, b) = (tokens(&pool, &s), tokens(&pool, &s));
    let calls: Vec<_> = (0..16)
        .map(|n| {
            let cache = if n % 2 == 0 { a.clone() } else { b.clone() };
            let installation = s.installation;
            tokio::spawn(async move { cache.token(installation).await.unwrap() })
        })
        .collect();
    let mut tokens = Vec::new();
    for call in calls {
        tokens.push(call.await.unwrap());
    }
    assert!(tokens.iter().all(|t| t == &tokens[0]), "every caller got the same token");
    assert_eq!(minted(&s.gh).await, 1, "one mint for sixteen callers");
    let stored = sqlx::query_scalar!("SELECT token FROM github_installation_tokens").fetch_one(&pool).await.unwrap();
    assert!(!String::from_utf8_lossy(&stored).contains(&tokens[0]), "the token is stored encrypted");
}

#[sqlx::test]
async fn a_token_close_to_expiry_is_replaced_before_use(pool: PgPool) {
    let s = setup().await;
    let cache = tokens(&pool, &s);
    let first = cache.token(s.installation).await.unwrap();
    assert_eq!(cache.token(s.installation).await.unwrap(), first, "cached");
    sqlx::query!("UPDATE github_installation_tokens SET expires_at = now() + interval '2 minutes'")
        .execute(&pool)
        .await
        .unwrap();
    let second = cache.token(s.installation).await.unwrap();
    assert_ne!(second, first);
    assert_eq!(minted(&s.gh).await, 2);
}

#[sqlx::test]
async fn a_token_github_refuses_is_dropped_and_the_call_retried_once(pool: PgPool) {
    let s = setup().await;
    let cache = tokens(&pool, &s);
    cache.token(s.installation).await.unwrap();
    // GitHub revokes it early (as on a key rotation).
    let revoked = s.gh.http.delete(format!("{}/_sim/installation-tokens", s.gh.web)).send().await.unwrap();
    assert_eq!(revoked.status(), 204);
    let client = s.client.clone();
    let page = cache
        .with_token(s.installation, |token| {
            let client = client.clone();
            async move { client.installation_repositories(&token, None).await }
        })
        .await
        .unwrap();
    assert_eq!(page.total_count, 5);
    assert_eq!(minted(&s.gh).await, 2);
}

#[sqlx::test]
async fn rate_limits_are_waited_out_when_short_and_reported_when_long(pool: PgPool) {
    let s = setup().await;
    let token = tokens(&pool, &s).token(s.installation).await.unwrap();

    // Secondary limit with retry-after: 1 s → waits, then succeeds.
    faults(&s.gh, json!({ "rate_limit_next": 1, "rate_limit_status": 403, "retry_after_secs": 1 })).await;
    let (before, started) = (api_requests(&s.gh).await, Instant::now());
    s.client.installation_repositories(&token, None).await.unwrap();
    assert!(started.elapsed().as_secs_f64() >= 1.0, "waited as GitHub asked");
    assert_eq!(api_requests(&s.gh).await - before, 2, "the limited call and its retry");

    // Primary limit: no requests left until x-ratelimit-reset.
    faults(&s.gh, json!({ "rate_limit_next": 1, "rate_limit_status": 429, "reset_after_secs": 1 })).await;
    let (before, started) = (api_requests(&s.gh).await, Instant::now());
    let page = s.client.installation_repositories(&token, None).await.expect("answered once the limit reset");
    assert!(!page.repositories.is_empty());
    assert!(started.elapsed().as_secs_f64() >= 1.0, "waited for the reset (at least a second)");
    assert_eq!(api_requests(&s.gh).await - before, 2, "the limited call and its retry after the reset");

    // A wait over 20 s is not spent holding the caller: it is told when to come back.
    faults(&s.gh, json!({ "rate_limit_next": 1, "retry_after_secs": 21 })).await;
    match s.client.installation_repositories(&token, None).await {
        Err(GitHubError::RateLimited { retry_after_secs }) => assert_eq!(retry_after_secs, 21),
        other => panic!("expected a rate limit, got {other:?}"),
    }
    faults(&s.gh, json!({ "rate_limit_next": 1, "retry_after_secs": 600 })).await;
    let before = api_requests(&s.gh).await;
    match s.client.installation_repositories(&token, None).await {
        Err(GitHubError::RateLimited { retry_after_secs }) => assert_eq!(retry_after_secs, 600),
        other => panic!("expected a rate limit, got {other:?}"),
    }
    assert_eq!(api_requests(&s.gh).await - before, 1, "no retry");
}

#[sqlx::test]
async fn server_errors_are_retried_with_backoff_then_reported(pool: PgPool) {
    let s = setup().await;
    let token = tokens(&pool, &s).token(s.installation).await.unwrap();
    faults(&s.gh, json!({ "fail_next": 2, "fail_status": 502 })).await;
    s.client.installation_repositories(&token, None).await.unwrap();

    faults(&s.gh, json!({ "fail_next": 10, "fail_status": 503 })).await;
    match s.client.installation_repositories(&token, None).await {
        Err(error @ GitHubError::Status { status: 503, .. }) => assert!(error.is_transient()),
        other => panic!("expected a 503, got {other:?}"),
    }
    // Four attempts were made; six failures are left.
    let left = s.gh.http.get(format!("{}/_sim/faults", s.gh.web)).send().await.unwrap().json::<Value>().await.unwrap();
    assert_eq!(left["fail_next"], 6);
}

/// A lease whose holder died (never released) is taken over once it expires,
/// not before: nobody waits for good on a crashed instance.
#[sqlx::test]
async fn a_lease_whose_holder_died_expires(pool: PgPool) {
    use forgelink::server::github::leases;
    use std::time::Duration;
    let held = leases::try_claim(&pool, "token:1", Duration::from_secs(3)).await.unwrap().expect("free at first");
    std::mem::forget(held); // its process died: never released
    let again = leases::try_claim(&pool, "token:1", Duration::from_secs(60)).await.unwrap();
    assert!(again.is_none(), "held until it expires");
    support::until("the dead holder's lease to expire", 10, async || {
        leases::try_claim(&pool, "token:1", Duration::from_secs(60)).await.unwrap().is_some()
    })
    .await;
}
