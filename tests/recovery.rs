//! Deliveries GitHub failed to make (an outage) are found in GitHub's delivery
//! log and redelivered; deliveries that arrived are left alone.
#![cfg(feature = "ssr")]

mod support;

use std::time::Duration;

use forgelink::domain::events::RecoverySummary;
use serde_json::json;
use sqlx::PgPool;
use support::{spawn_stack, spawn_stack_with, TestApp};

/// Asks for a recovery run, as an operator's page does; what it found.
async fn run_recovery(admin: &TestApp) -> RecoverySummary {
    let response = admin.post_form("/fn/recover_missed_deliveries", &[]).await;
    assert_eq!(response.status(), 200);
    support::answer(response).await
}

async fn stored(pool: &PgPool, guid: &str) -> bool {
    sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM github_events WHERE delivery_id = $1"#, guid)
        .fetch_one(pool)
        .await
        .unwrap()
        == 1
}

/// Whether a recovery run holds its lease (one at a time, across instances).
async fn recovery_leased(pool: &PgPool) -> bool {
    sqlx::query_scalar!(
        r#"SELECT count(*) > 0 AS "held!" FROM github_call_leases WHERE key = $1 AND until > now()"#,
        forgelink::server::webhooks::recovery::LEASE_KEY,
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn missed_deliveries_are_redelivered_once(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    let admin = &stack.app;
    support::flows::sign_up_operator(admin, &pool, "ops@example.com").await;

    // An outage: the first delivery never arrives; the second does.
    stack.gh.http.put(format!("{}/_sim/faults", stack.gh.web)).json(&json!({"drop_webhooks": 1})).send().await.unwrap();
    stack.gh.install("forge-demo", "octocat", None).await;
    stack.gh.install("octocat", "octocat", None).await;
    let log = support::until_some("both deliveries in GitHub's log", 10, async || {
        let log = stack.gh.sim.sim.world().deliveries.clone();
        (log.len() == 2).then_some(log)
    })
    .await;
    let missed = log.iter().find(|d| d.status_code == 0).expect("a failed delivery").guid.clone();
    let arrived = log.iter().find(|d| d.status_code == 202).expect("a delivered one").guid.clone();
    assert!(!stored(&pool, &missed).await);
    assert!(stored(&pool, &arrived).await);

    assert_eq!(run_recovery(admin).await, RecoverySummary { checked: 2, redelivered: 1, failed: 0 });
    support::until("the missed delivery to arrive", 10, async || stored(&pool, &missed).await).await;

    // Nothing is missing any more, and only what is newer than the last run is
    // read: the redelivery's own attempt.
    assert_eq!(run_recovery(admin).await, RecoverySummary { checked: 1, redelivered: 0, failed: 0 });

    // Only operators may ask.
    let someone = admin.another_browser();
    someone
        .post_form(
            "/fn/sign_up",
            &[
                ("email", "dev@example.com"),
                ("display_name", "Dev"),
                ("password", "correct horse battery"),
                ("next", ""),
            ],
        )
        .await;
    assert_eq!(someone.post_form("/fn/recover_missed_deliveries", &[]).await.status(), 404);
}

/// Recovery runs once at a time (asking twice at once would redeliver twice),
/// and a run whose caller stops waiting, here an operator who closed the page
/// while GitHub was slow, does not keep the lock: the next run goes ahead.
#[sqlx::test]
async fn one_recovery_at_a_time_and_an_abandoned_one_lets_go(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    let admin = &stack.app;
    support::flows::sign_up_operator(admin, &pool, "ops@example.com").await;
    let faults = format!("{}/_sim/faults", stack.gh.web);
    stack.gh.http.put(&faults).json(&json!({"latency_ms": 1500})).send().await.unwrap();
    let recover = || admin.client.post(admin.url("/fn/recover_missed_deliveries")).header("origin", admin.url(""));

    let slow = tokio::spawn(recover().send());
    support::until("the first run to take the lease", 10, async || recovery_leased(&pool).await).await;
    let meanwhile = recover().send().await.unwrap();
    assert_eq!(meanwhile.status(), 409, "a second run at once is refused");
    let refused: forgelink::api::error::AppError = support::answer(meanwhile).await;
    assert!(refused.to_string().contains("already running"), "{refused}");
    assert_eq!(slow.await.unwrap().unwrap().status(), 200);
    support::until("the first run to let go of the lease", 10, async || !recovery_leased(&pool).await).await;

    // The operator gives up (closes the page) while GitHub is still answering.
    let abandoned = tokio::spawn(recover().send());
    support::until("the second run to take the lease", 10, async || recovery_leased(&pool).await).await;
    abandoned.abort();
    stack.gh.http.delete(&faults).send().await.unwrap();
    // The lease goes with the abandoned run (not after its 10-minute lifetime).
    support::until("the abandoned run to let go of the lease", 10, async || !recovery_leased(&pool).await).await;
    assert_eq!(recover().send().await.unwrap().status(), 200);
}

/// An operator, and two installations whose deliveries GitHub failed to make
/// (an outage); their GUIDs, oldest first.
async fn two_missed_deliveries(pool: &PgPool) -> (support::Stack, Vec<String>) {
    let stack = spawn_stack(pool.clone()).await;
    support::flows::sign_up_operator(&stack.app, pool, "ops@example.com").await;
    let faults = format!("{}/_sim/faults", stack.gh.web);
    stack.gh.http.put(&faults).json(&json!({"drop_webhooks": 2})).send().await.unwrap();
    stack.gh.install("forge-demo", "octocat", None).await;
    stack.gh.install("octocat", "octocat", None).await;
    support::until("both deliveries in GitHub's log", 10, async || stack.gh.sim.sim.world().deliveries.len() >= 2)
        .await;
    let guids = stack.gh.sim.sim.world().deliveries.iter().map(|d| d.guid.clone()).collect();
    (stack, guids)
}

/// A redelivery GitHub refuses does not stop the others, and is asked for
/// again on the next run (which reads no further back than it must).
#[sqlx::test]
async fn recovery_goes_on_past_a_refused_redelivery(pool: PgPool) {
    let (stack, guids) = two_missed_deliveries(&pool).await;
    let (admin, faults) = (&stack.app, format!("{}/_sim/faults", stack.gh.web));
    stack
        .gh
        .http
        .put(&faults)
        .json(&json!({"fail_next": 1, "fail_status": 422, "fail_path": "/attempts"}))
        .send()
        .await
        .unwrap();

    assert_eq!(run_recovery(admin).await, RecoverySummary { checked: 2, redelivered: 1, failed: 1 });
    let second = run_recovery(admin).await;
    assert_eq!(second.redelivered, 1, "the refused one, asked again: {second:?}");
    assert_eq!(second.failed, 0);
    support::until("both deliveries to arrive", 10, async || {
        stored(&pool, &guids[0]).await && stored(&pool, &guids[1]).await
    })
    .await;
}

/// Without anyone asking, recovery runs on its timer (here every second).
#[sqlx::test]
async fn recovery_runs_by_itself_on_its_timer(pool: PgPool) {
    let stack = spawn_stack_with(pool.clone(), |c| c.recovery_interval = Some(Duration::from_secs(1))).await;
    let faults = format!("{}/_sim/faults", stack.gh.web);
    stack.gh.http.put(&faults).json(&json!({"drop_webhooks": 1})).send().await.unwrap();
    stack.gh.install("forge-demo", "octocat", None).await;
    let missed = support::until_some("the dropped delivery in GitHub's log", 10, async || {
        stack.gh.sim.sim.world().deliveries.first().map(|d| d.guid.clone())
    })
    .await;
    support::until("the timer's run to redeliver it", 10, async || stored(&pool, &missed).await).await;
}

/// GitHub keeps deliveries three days: what failed before that is not asked for.
#[sqlx::test]
async fn recovery_reads_no_further_back_than_github_keeps_deliveries(pool: PgPool) {
    let (stack, _) = two_missed_deliveries(&pool).await;
    let admin = &stack.app;
    let (old, recent) = {
        let mut world = stack.gh.sim.sim.world();
        world.deliveries[0].delivered_at = chrono::Utc::now() - chrono::Duration::days(4);
        (world.deliveries[0].guid.clone(), world.deliveries[1].guid.clone())
    };
    assert_eq!(run_recovery(admin).await, RecoverySummary { checked: 1, redelivered: 1, failed: 0 });
    support::until("the recent one to arrive", 10, async || stored(&pool, &recent).await).await;
    assert!(!stored(&pool, &old).await, "four days old: not asked for");
}
