//! Deliveries GitHub failed to make (an outage) are found in GitHub's delivery
//! log and redelivered; deliveries that arrived are left alone.
#![cfg(feature = "ssr")]

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use sqlx::PgPool;
use support::spawn_stack;

async fn stored(pool: &PgPool, guid: &str) -> bool {
    sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM github_events WHERE delivery_id = $1"#, guid)
        .fetch_one(pool)
        .await
        .unwrap()
        == 1
}

#[sqlx::test]
async fn missed_deliveries_are_redelivered_once(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    let admin = &stack.app;
    admin
        .post_form("/api/sign_up", &[("email", "ops@example.com"), ("display_name", "Ops"), ("password", "correct horse battery"), ("next", "")])
        .await;

    // An outage: the first delivery never arrives; the second does.
    stack.gh.http.put(format!("{}/_sim/faults", stack.gh.web)).json(&json!({"drop_webhooks": 1})).send().await.unwrap();
    stack.gh.install("forge-demo", "octocat", None).await;
    stack.gh.install("octocat", "octocat", None).await;
    let (missed, arrived) = loop {
        let log = stack.gh.sim.sim.world().deliveries.clone();
        if log.len() == 2 {
            let missed = log.iter().find(|d| d.status_code == 0).expect("a failed delivery").guid.clone();
            let arrived = log.iter().find(|d| d.status_code == 202).expect("a delivered one").guid.clone();
            break (missed, arrived);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(!stored(&pool, &missed).await);
    assert!(stored(&pool, &arrived).await);

    let response = admin.post_form("/api/recover_missed_deliveries", &[]).await;
    assert_eq!(response.status(), 200);
    let summary: Value = response.json().await.unwrap();
    assert_eq!(summary, json!({"checked": 2, "redelivered": 1}));
    for _ in 0..100 {
        if stored(&pool, &missed).await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(stored(&pool, &missed).await, "the missed delivery arrived");

    // Nothing is missing any more.
    let again: Value = admin.post_form("/api/recover_missed_deliveries", &[]).await.json().await.unwrap();
    assert_eq!(again["redelivered"], 0);

    // Only operators may ask.
    let someone = admin.another_browser();
    someone
        .post_form("/api/sign_up", &[("email", "dev@example.com"), ("display_name", "Dev"), ("password", "correct horse battery"), ("next", "")])
        .await;
    assert_eq!(someone.post_form("/api/recover_missed_deliveries", &[]).await.status(), 404);
}
