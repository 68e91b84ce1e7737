//! The operators' event log: listing, filtering, details, retry, live stream;
//! nobody else gets any of it.
#![cfg(feature = "ssr")]

mod support;

use forgelink::{
    api::events::ListEvents,
    domain::events::{EventRow, EventStatus, StatusCount},
};
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{
    answer,
    deliveries::deliver,
    flows::{sign_up, sign_up_operator},
    next_change, spawn_app, wait_until_settled, TestApp,
};

/// Lists events as the page does; the filter written as its query would be.
async fn list(app: &TestApp, filter: Value) -> reqwest::Response {
    let filter = serde_json::from_value(filter).expect("a filter");
    app.post_postcard("/fn/list_events", &ListEvents { filter }).await
}

/// The log's rows, newest first, and how many events are in each status.
async fn listed(app: &TestApp, filter: Value) -> (Vec<EventRow>, Vec<StatusCount>) {
    answer(list(app, filter).await).await
}

#[sqlx::test]
async fn operators_list_filter_inspect_and_retry_events(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    sign_up_operator(&app, &pool, "ops@example.com").await;
    let ping = json!({"zen": "Half measures are as bad as nothing at all."});
    assert_eq!(deliver(&app, "ping", ping).await.status(), 202);
    assert_eq!(deliver(&app, "star", json!({"action": "created", "installation": {"id": 42}})).await.status(), 202);
    wait_until_settled(&pool).await;

    let (rows, counts) = listed(&app, json!({})).await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].event, "star", "newest first");
    assert_eq!(
        counts,
        [
            StatusCount { status: EventStatus::Ignored, count: 1, approximate: false },
            StatusCount { status: EventStatus::Processed, count: 1, approximate: false },
        ]
    );
    let (ignored, _) = listed(&app, json!({"status": "ignored"})).await;
    assert_eq!(ignored.len(), 1);
    assert_eq!(ignored[0].failure_reason.as_deref(), Some("forgelink does not subscribe to star events"));
    // By event, action and installation, alone or together.
    for (filter, expected) in [
        (json!({"event": "star"}), vec!["star"]),
        (json!({"event": "ping"}), vec!["ping"]),
        (json!({"action": "created"}), vec!["star"]),
        (json!({"installation": 42}), vec!["star"]),
        (json!({"installation": 43}), vec![]),
        (json!({"event": "star", "action": "deleted"}), vec![]),
        (json!({"event": "push"}), vec![]),
    ] {
        let (rows, _) = listed(&app, filter.clone()).await;
        assert_eq!(rows.iter().map(|r| r.event.as_str()).collect::<Vec<_>>(), expected, "{filter}");
    }
    let unknown = app.get("/admin/events?status=bogus").await.text().await.unwrap();
    assert!(unknown.contains("No status is called “bogus”"), "an unknown status is said, not taken for any");

    let id = ignored[0].id;
    let page = app.get(&format!("/admin/events/{id}")).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("does not subscribe to star events"));

    let retried = app.post_form("/fn/retry_event", &[("id", &id.to_string())]).await;
    assert!(retried.status().is_success(), "{}", retried.status());
    wait_until_settled(&pool).await;
    let attempts: i32 =
        sqlx::query_scalar!("SELECT attempts FROM github_events WHERE id = $1", id).fetch_one(&pool).await.unwrap();
    assert_eq!(attempts, 1, "processed again with a fresh budget");
    let processed_id: i64 =
        sqlx::query_scalar!("SELECT id FROM github_events WHERE status = 'processed'").fetch_one(&pool).await.unwrap();
    let refused = app.post_form("/fn/retry_event", &[("id", &processed_id.to_string())]).await;
    assert_eq!(refused.status(), 409, "a processed event is not retried");

    let mut stream = app.client.get(app.url("/live/events")).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let wait = std::time::Duration::from_secs(5);
    assert!(next_change(&mut stream, wait).await, "one on connecting (what changed since the page rendered)");
    // Quiet first, so that a late notice of the retry above does not pass for the delivery's.
    while next_change(&mut stream, std::time::Duration::from_millis(500)).await {}
    assert_eq!(deliver(&app, "ping", json!({"zen": "Keep it logically awesome."})).await.status(), 202);
    assert!(next_change(&mut stream, wait).await, "a delivery is told to the open log");
}

#[sqlx::test]
async fn nobody_else_sees_the_event_log(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    sign_up_operator(&app, &pool, "ops@example.com").await;
    let someone = app.another_browser();
    sign_up(&someone, "dev@example.com").await;
    assert_eq!(list(&someone, json!({})).await.status(), 404);
    assert_eq!(someone.client.get(someone.url("/live/events")).send().await.unwrap().status(), 404);
    // The operator pages are the 404 page a missing address gets, nothing of their own.
    let anonymous = app.another_browser();
    for visitor in [&someone, &anonymous] {
        for path in ["/admin/events", "/admin/events?status=errored", "/admin/events/1"] {
            let page = visitor.get(path).await;
            assert_eq!(page.status(), 404, "{path}");
            let html = page.text().await.unwrap();
            assert!(html.contains("<title>Not found · forgelink</title>"), "{path}: {html}");
            assert_eq!(html.matches("Page not found").count(), 1, "{path}");
            for own in ["Webhook event", "Filter events", "missed deliveries", "All events", "Loading"] {
                assert!(!html.contains(own), "{path} shows {own:?}: {html}");
            }
        }
    }
}

/// Inserts `count` events in `status`, received `days_ago`.
async fn insert_events(pool: &PgPool, status: &str, count: i32, days_ago: i32) {
    sqlx::query!(
        "INSERT INTO github_events (delivery_id, event, payload, occurred_at, status, received_at)
         SELECT gen_random_uuid()::text, 'ping', '{}', now(), $1, now() - make_interval(days => $3)
         FROM generate_series(1, $2)",
        status,
        count,
        days_ago,
    )
    .execute(pool)
    .await
    .unwrap();
}

async fn statuses(pool: &PgPool) -> Vec<(String, i64)> {
    sqlx::query!(r#"SELECT status, count(*) AS "n!" FROM github_events GROUP BY status ORDER BY status"#)
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.status, r.n))
        .collect()
}

/// Finished events older than the retention are deleted in batches, by one
/// instance at a time; errored ones and recent ones stay.
#[sqlx::test]
async fn old_finished_events_are_deleted_and_errored_ones_kept(pool: PgPool) {
    use forgelink::server::webhooks::retention;
    insert_events(&pool, "processed", 25, 40).await;
    insert_events(&pool, "ignored", 5, 40).await;
    insert_events(&pool, "unhandled", 3, 31).await;
    insert_events(&pool, "errored", 4, 40).await;
    insert_events(&pool, "processed", 6, 29).await;

    // Another instance is sweeping: this one leaves it to that one.
    let mut other = pool.begin().await.unwrap();
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtextextended('forgelink:retention', 0))")
        .execute(&mut *other)
        .await
        .unwrap();
    assert_eq!(retention::sweep(&pool, 30, 10).await.unwrap(), None);
    other.rollback().await.unwrap();

    assert_eq!(retention::sweep(&pool, 30, 10).await.unwrap(), Some(33), "in batches of 10");
    assert_eq!(statuses(&pool).await, [("errored".to_owned(), 4), ("processed".to_owned(), 6)]);
    assert_eq!(retention::sweep(&pool, 30, 10).await.unwrap(), Some(0));
}

/// On a large table the log's counts do not count finished events one by one:
/// pending and errored ones exactly, finished ones from the planner's statistics.
#[sqlx::test]
async fn the_logs_counts_are_estimated_on_a_large_table(pool: PgPool) {
    use forgelink::server::webhooks::event_log;
    insert_events(&pool, "processed", 150_000, 1).await;
    insert_events(&pool, "ignored", 30_000, 1).await;
    insert_events(&pool, "errored", 3, 1).await;
    insert_events(&pool, "unprocessed", 2, 0).await;
    sqlx::query!("ANALYZE github_events").execute(&pool).await.unwrap();
    let counts = event_log::counts(&pool).await.unwrap();
    let find = |status: &str| {
        counts.iter().find(|c| c.status.as_str() == status).unwrap_or_else(|| panic!("{status}: {counts:?}"))
    };
    assert_eq!((find("errored").count, find("errored").approximate), (3, false));
    assert_eq!((find("unprocessed").count, find("unprocessed").approximate), (2, false));
    for (status, exact) in [("processed", 150_000.0), ("ignored", 30_000.0)] {
        let estimate = find(status);
        assert!(estimate.approximate, "{estimate:?}");
        assert!((estimate.count as f64 - exact).abs() / exact < 0.1, "{estimate:?} vs {exact}");
    }
}
