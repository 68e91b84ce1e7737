//! Importing a followed repository's history from (simulated) GitHub, page by
//! page and resumable, paused by rate limits and failed with a reason (and
//! Retry) by refusals; and the periodic re-read that heals a lost delivery.
#![cfg(feature = "ssr")]

mod support;

use serde_json::{json, Value};
use sqlx::PgPool;
use support::{
    flows::{connect_github, create_project, sign_up},
    spawn_stack_with, until, Stack,
};

/// The import's row, as the tests read it.
#[derive(Debug)]
struct Import {
    state: String,
    reason: Option<String>,
    issues_read: i32,
    comments_read: i32,
    resume_in_secs: Option<f64>,
    issues_etag: Option<String>,
}

async fn import(pool: &PgPool) -> Option<Import> {
    sqlx::query_as!(
        Import,
        r#"SELECT state, reason, issues_read, comments_read, issues_etag,
                  EXTRACT(EPOCH FROM resume_at - now())::float8 AS resume_in_secs
           FROM github_repo_imports"#
    )
    .fetch_optional(pool)
    .await
    .unwrap()
}

async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(pool).await.unwrap()
}

async fn faults(stack: &Stack, faults: Value) {
    let answer = stack.gh.http.put(format!("{}/_sim/faults", stack.gh.web)).json(&faults).send().await.unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());
}

/// Ada's project apollo, her GitHub account octocat connected, the App
/// installed on octocat/hello-world, which has `issues` issues with
/// `comments` comments each before anyone follows it; `before_follow` runs
/// just before she follows it.
async fn follow_with_history(
    pool: &PgPool,
    issues: u64,
    comments: u64,
    resync_secs: u64,
    before_follow: Value,
) -> Stack {
    let stack = spawn_stack_with(pool.clone(), |config| {
        config.resync_interval = Some(std::time::Duration::from_secs(resync_secs));
    })
    .await;
    let app = &stack.app;
    sign_up(app, "ada@example.com").await;
    create_project(app, "apollo").await;
    connect_github(&stack, app, "octocat").await;
    let seeded = stack
        .gh
        .http
        .post(format!("{}/_sim/repos/octocat/hello-world/seed", stack.gh.web))
        .json(&json!({"issues": issues, "comments_per_issue": comments}))
        .send()
        .await
        .unwrap();
    assert_eq!(seeded.status(), 201);
    stack.gh.install("octocat", "octocat", Some(&["hello-world"])).await;
    until("the repository is listed", 30, async || count(pool, "github_repos").await == 1).await;
    let installation: i64 =
        sqlx::query_scalar!("SELECT id FROM github_app_installations").fetch_one(pool).await.unwrap();
    let attached = app
        .post_form("/fn/attach_installation", &[("slug", "apollo"), ("installation_id", &installation.to_string())])
        .await;
    assert_eq!(attached.status(), 200);
    faults(&stack, before_follow).await;
    let repo: i64 = sqlx::query_scalar!("SELECT id FROM github_repos").fetch_one(pool).await.unwrap();
    let followed = app
        .post_form("/fn/set_following", &[("slug", "apollo"), ("repo_id", &repo.to_string()), ("follow", "true")])
        .await;
    assert_eq!(followed.status(), 200);
    stack
}

async fn until_state(pool: &PgPool, state: &'static str) -> Import {
    support::until_some(state, 120, async || import(pool).await.filter(|i| i.state == state)).await
}

#[sqlx::test]
async fn following_a_repository_imports_its_issues_and_comments_page_by_page(pool: PgPool) {
    let stack = follow_with_history(&pool, 250, 2, 900, json!({})).await;
    let done = until_state(&pool, "up_to_date").await;
    assert_eq!((done.issues_read, done.comments_read), (250, 500), "each read once: {done:?}");
    assert_eq!(count(&pool, "tasks").await, 250);
    assert_eq!(count(&pool, "task_comments").await, 500);
    let closed: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM tasks WHERE state = 'closed'"#)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(closed, 84, "every third seeded issue is closed");

    let repos: Value = stack.app.get("/api/projects/apollo/github-repos").await.json().await.unwrap();
    assert_eq!(repos[0]["import"]["state"], "up_to_date");
    assert_eq!(repos[0]["import"]["tasks"], 250);
    let page = stack.app.get("/projects/apollo/integrations").await.text().await.unwrap();
    assert!(page.contains("Up to date · 250 tasks"), "the tab says so");
    let tasks: Value = stack.app.get("/api/projects/apollo/tasks?state=all").await.json().await.unwrap();
    assert_eq!(tasks["total"], 250);
    assert_eq!(tasks["tasks"][0]["comments"], 2);
}

#[sqlx::test]
async fn an_import_that_stops_midway_goes_on_from_its_watermark(pool: PgPool) {
    // The first page of issues comes; the second fails every retry (GitHub not answering).
    let broken = json!({"pass_first": 1, "fail_next": 4, "fail_status": 502, "fail_path": "/hello-world/issues"});
    let _stack = follow_with_history(&pool, 250, 0, 900, broken).await;
    let paused = until_state(&pool, "paused").await;
    assert_eq!(paused.reason.as_deref(), Some("GitHub did not answer"));
    assert_eq!(paused.issues_read, 100, "the first page was kept");
    assert_eq!(count(&pool, "tasks").await, 100);
    sqlx::query!("UPDATE github_repo_imports SET resume_at = now()").execute(&pool).await.unwrap();
    let done = until_state(&pool, "up_to_date").await;
    assert_eq!(count(&pool, "tasks").await, 250);
    // From the watermark, not from the start (which would have counted 350).
    assert_eq!(done.issues_read, 250);
}

#[sqlx::test]
async fn a_rate_limit_pauses_the_import_until_the_reset_and_says_so(pool: PgPool) {
    let stack = follow_with_history(&pool, 30, 1, 900, json!({"rate_limit_next": 1, "reset_after_secs": 90})).await;
    let paused = until_state(&pool, "paused").await;
    assert_eq!(paused.reason.as_deref(), Some("GitHub rate limit"));
    let wait = paused.resume_in_secs.unwrap();
    assert!((60.0..=91.0).contains(&wait), "until GitHub's reset: {wait} s");
    let page = stack.app.get("/projects/apollo/integrations").await.text().await.unwrap();
    assert!(page.contains("Paused until") && page.contains("GitHub rate limit"), "the tab says so");
    // The reset comes: it goes on by itself.
    sqlx::query!("UPDATE github_repo_imports SET resume_at = now()").execute(&pool).await.unwrap();
    let done = until_state(&pool, "up_to_date").await;
    assert_eq!((done.issues_read, done.comments_read), (30, 30));
}

#[sqlx::test]
async fn a_refusal_fails_the_import_with_the_next_step_until_retried(pool: PgPool) {
    let refused = json!({"fail_next": 1, "fail_status": 403, "fail_path": "/issues"});
    let stack = follow_with_history(&pool, 5, 0, 900, refused).await;
    let failed = until_state(&pool, "failed").await;
    assert!(failed.reason.as_deref().unwrap().contains("Accept its new permissions"), "{failed:?}");
    let page = stack.app.get("/projects/apollo/integrations").await.text().await.unwrap();
    assert!(page.contains("Import failed") && page.contains(">Retry<"), "the reason and a Retry button");
    let repo: i64 = sqlx::query_scalar!("SELECT id FROM github_repos").fetch_one(&pool).await.unwrap();
    let stranger = stack.app.another_browser();
    sign_up(&stranger, "eve@example.com").await;
    let refused = stranger.post_form("/fn/retry_import", &[("slug", "apollo"), ("repo_id", &repo.to_string())]).await;
    assert_eq!(refused.status(), 404, "only the owner retries");
    let retried = stack.app.post_form("/fn/retry_import", &[("slug", "apollo"), ("repo_id", &repo.to_string())]).await;
    assert_eq!(retried.status(), 200);
    until_state(&pool, "up_to_date").await;
    assert_eq!(count(&pool, "tasks").await, 5);
}

#[sqlx::test]
async fn the_periodic_re_read_heals_a_change_whose_delivery_was_lost(pool: PgPool) {
    let stack = follow_with_history(&pool, 3, 0, 1, json!({})).await;
    let done = until_state(&pool, "up_to_date").await;
    assert!(done.issues_etag.is_some(), "the first page's ETag is kept for the next read");
    // A change on GitHub whose webhook never arrives.
    {
        let mut world = stack.gh.sim.sim.world();
        let issue = world.issues.values_mut().find(|i| i.number == 2).unwrap();
        issue.title = "Changed while the webhook was lost".into();
        issue.open = false;
        issue.updated_at = chrono::Utc::now();
    }
    until("the re-read finds the change", 30, async || {
        sqlx::query_scalar!("SELECT state FROM tasks WHERE number = 2").fetch_one(&pool).await.unwrap() == "closed"
    })
    .await;
    let title: String = sqlx::query_scalar!("SELECT title FROM tasks WHERE number = 2").fetch_one(&pool).await.unwrap();
    assert_eq!(title, "Changed while the webhook was lost");
}

#[sqlx::test]
async fn a_server_killed_mid_import_goes_on_from_its_watermark_after_a_restart(pool: PgPool) {
    use support::binary::{free_port, Server};
    let port = free_port();
    let app = format!("http://127.0.0.1:{port}");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_url = format!("http://{}", listener.local_addr().unwrap());
    let gh = support::github::SimHarness::serve_on(listener, |config| {
        config.webhook_url = format!("{app}/webhooks/github");
    })
    .await;
    let env = [("GITHUB_API_URL", format!("{sim_url}/api/v3")), ("GITHUB_WEB_URL", sim_url.clone())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let client = reqwest::Client::new();
    let url = support::database_url(&pool);
    let mut server = Server::start(&url, port, &env);
    server.wait_ready(&client).await;

    let seeded = gh
        .http
        .post(format!("{}/_sim/repos/octocat/hello-world/seed", gh.web))
        .json(&json!({"issues": 3000}))
        .send()
        .await
        .unwrap();
    assert_eq!(seeded.status(), 201);
    gh.install("octocat", "octocat", Some(&["hello-world"])).await;
    until("the repository is listed", 30, async || count(&pool, "github_repos").await == 1).await;
    let browser = server.browser();
    sign_up(&browser, "ada@example.com").await;
    create_project(&browser, "apollo").await;
    // Each page takes a while, so the kill comes midway.
    gh.http.put(format!("{}/_sim/faults", gh.web)).json(&json!({"latency_ms": 100})).send().await.unwrap();
    sqlx::query!(
        r#"WITH attached AS (INSERT INTO project_github_installations (project_id, installation_id)
                             SELECT p.id, i.id FROM projects p, github_app_installations i)
           INSERT INTO project_github_repos (project_id, github_repo_id) SELECT p.id, r.id FROM projects p, github_repos r"#
    )
    .execute(&pool)
    .await
    .unwrap();
    until("a few pages are read", 60, async || import(&pool).await.is_some_and(|i| i.issues_read >= 500)).await;
    server.kill();
    let killed = import(&pool).await.unwrap();
    assert_eq!(killed.state, "importing", "{killed:?}");
    assert!(killed.issues_read < 3000, "killed midway: {killed:?}");

    // Started again once the dead server's lease has run out (two minutes later).
    sqlx::query!("UPDATE github_repo_imports SET lease_until = now()").execute(&pool).await.unwrap();
    gh.http.delete(format!("{}/_sim/faults", gh.web)).send().await.unwrap();
    let server = Server::start(&url, port, &env);
    server.wait_ready(&client).await;
    let done = until_state(&pool, "up_to_date").await;
    assert_eq!(count(&pool, "tasks").await, 3000);
    // Each issue counted once: from the watermark, not from the start (which would count the first pages twice).
    assert_eq!(done.issues_read, 3000, "{killed:?} then {done:?}");
}

#[sqlx::test]
async fn a_reader_whose_lease_was_taken_over_writes_nothing_more(pool: PgPool) {
    // Slow pages, so the import is under way when its lease changes hands.
    let stack = follow_with_history(&pool, 1500, 0, 900, json!({"latency_ms": 100})).await;
    until("a few pages are read", 60, async || import(&pool).await.is_some_and(|i| i.issues_read >= 200)).await;
    // Another reader takes it over (as after a lease that ran out) and holds it.
    sqlx::query!(
        "UPDATE github_repo_imports SET lease_token = gen_random_uuid(), lease_until = now() + interval '1 hour'"
    )
    .execute(&pool)
    .await
    .unwrap();
    let taken = import(&pool).await.unwrap().issues_read;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let later = import(&pool).await.unwrap();
    assert_eq!((later.state.as_str(), later.issues_read), ("importing", taken), "the old reader stopped writing");
    // The other reader "dies"; the next claim goes on from the watermark.
    faults(&stack, json!({})).await;
    sqlx::query!("UPDATE github_repo_imports SET lease_until = now()").execute(&pool).await.unwrap();
    let done = until_state(&pool, "up_to_date").await;
    assert_eq!(done.issues_read, 1500, "each issue counted once");
    assert_eq!(count(&pool, "tasks").await, 1500);
}
