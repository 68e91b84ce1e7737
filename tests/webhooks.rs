//! Webhook intake and processing: every check answered with the right status
//! and the right rows, duplicates and disorder handled, work shared and retried.
#![cfg(feature = "ssr")]

mod support;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use forgelink::server::{
    config::Secret,
    webhooks::{
        dispatcher::{FailureReason, HandlerError},
        Dispatcher, Outcome,
    },
};
use serde_json::{json, Value};
use sqlx::{Connection, PgPool};
use support::{deliveries::Delivery, github::WEBHOOK_SECRET, spawn_app, spawn_app_with, wait_until_settled};

fn no_workers(config: &mut forgelink::server::config::Config) {
    config.workers.workers = 0;
}

async fn rows(pool: &PgPool) -> i64 {
    sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM github_events"#).fetch_one(pool).await.unwrap()
}

fn issue_opened(installation: i64, updated_at: &str) -> Value {
    json!({
        "action": "opened",
        "issue": { "id": 1, "number": 1, "title": "t", "body": null, "state": "open",
                   "user": { "id": 1, "login": "octocat", "type": "User" }, "updated_at": updated_at },
        "repository": { "id": 10, "name": "api", "full_name": "forge-demo/api", "private": false,
                        "owner": { "id": 2, "login": "forge-demo", "type": "Organization" }, "updated_at": updated_at },
        "installation": { "id": installation },
        "sender": { "id": 1, "login": "octocat", "type": "User" }
    })
}

#[sqlx::test]
async fn a_valid_delivery_is_stored_and_acknowledged_with_202(pool: PgPool) {
    let app = spawn_app_with(pool.clone(), no_workers).await;
    let d = Delivery::new("issues", issue_opened(77, "2026-11-22T10:00:00Z"));
    let response = d.post(&app).await;
    assert_eq!(response.status(), 202);
    let row = sqlx::query!(
        "SELECT delivery_id, hook_id, event, action, installation_github_id, status, payload FROM github_events"
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(row.delivery_id, d.id);
    assert_eq!(row.hook_id, 4242);
    assert_eq!((row.event.as_str(), row.action.as_deref()), ("issues", Some("opened")));
    assert_eq!(row.installation_github_id, Some(77));
    assert_eq!(row.status, "unprocessed");
    assert_eq!(row.payload["issue"]["title"], "t");
}

/// When a change happened is read from GitHub's times, in either form they
/// come in; a time that does not read orders the event by its arrival, and the
/// delivery is stored all the same.
#[sqlx::test]
async fn an_event_is_ordered_by_githubs_time_or_else_by_its_arrival(pool: PgPool) {
    let app = spawn_app_with(pool.clone(), no_workers).await;
    for (installation, updated_at) in [(1, json!("2019-05-15T15:20:40Z")), (2, json!(1557933640)), (3, json!("soon"))] {
        let payload = json!({"action": "created", "installation": {"id": installation, "updated_at": updated_at}});
        assert_eq!(Delivery::new("installation", payload).post(&app).await.status(), 202);
    }
    let rows = sqlx::query!(
        r#"SELECT installation_github_id AS "installation!", extract(epoch FROM occurred_at)::int8 AS "at!",
                  occurred_at > received_at - interval '1 minute' AS "on_arrival!"
           FROM github_events ORDER BY installation_github_id"#
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let read: Vec<_> = rows.iter().map(|r| (r.installation, r.at == 1557933640, r.on_arrival)).collect();
    assert_eq!(read, [(1, true, false), (2, true, false), (3, false, true)]);
}

#[sqlx::test]
async fn the_payload_is_kept_byte_for_byte_as_github_sent_it(pool: PgPool) {
    let app = spawn_app_with(pool.clone(), no_workers).await;
    let payload = issue_opened(77, "2026-11-22T10:00:00Z");
    // Indented: jsonb would store it normalized, not as sent.
    let d = Delivery { body: serde_json::to_vec_pretty(&payload).unwrap(), ..Delivery::new("issues", payload) };
    assert_eq!(d.post(&app).await.status(), 202);
    let stored: String =
        sqlx::query_scalar!(r#"SELECT payload::text AS "p!" FROM github_events"#).fetch_one(&pool).await.unwrap();
    assert_eq!(stored.as_bytes(), d.body.as_slice());
}

#[sqlx::test]
async fn bad_deliveries_are_refused_and_write_nothing(pool: PgPool) {
    let app = spawn_app_with(pool.clone(), no_workers).await;
    let payload = issue_opened(1, "2026-11-22T10:00:00Z");

    let d = Delivery::new("issues", &payload);
    // Signed as it was, sent with a byte more.
    let mut tampered = d.body.clone();
    tampered.push(b' ');
    let response = d.request(&app.client, &app.url("")).body(tampered).send().await.unwrap();
    assert_eq!(response.status(), 401, "tampered");

    let wrong_secret = Delivery { secret: "not-the-secret", ..Delivery::new("issues", &payload) };
    assert_eq!(wrong_secret.post(&app).await.status(), 401, "wrong secret");

    assert_eq!(d.post_without(&app, "x-hub-signature-256").await.status(), 401, "unsigned");
    assert_eq!(d.post_without(&app, "x-github-event").await.status(), 400, "no X-GitHub-Event");
    assert_eq!(d.post_without(&app, "x-github-delivery").await.status(), 400, "no X-GitHub-Delivery");

    let not_json = Delivery { body: b"action=opened".to_vec(), ..Delivery::new("issues", json!({})) };
    assert_eq!(not_json.post(&app).await.status(), 400, "not JSON");

    let oversized = Delivery { body: vec![b' '; 25 * 1024 * 1024 + 1], ..Delivery::new("issues", json!({})) };
    assert_eq!(oversized.post(&app).await.status(), 413, "over 25 MB");

    assert_eq!(rows(&pool).await, 0);
}

#[sqlx::test]
async fn a_nul_character_is_stored_as_a_replacement_character(pool: PgPool) {
    // PostgreSQL stores no U+0000; GitHub passes it through from issue bodies.
    let app = spawn_app_with(pool.clone(), no_workers).await;
    let mut payload = issue_opened(1, "2026-11-22T10:00:00Z");
    payload["issue"]["body"] = json!("before\u{0}after, and the text \\u0000 as typed");
    let nul = Delivery::new("issues", payload);
    let other = Delivery::new("issues", issue_opened(1, "2026-11-22T10:00:01Z"));
    // Sent together, so they may share an insert: neither may fail the other.
    let (a, b) = tokio::join!(nul.post(&app), other.post(&app));
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (202, 202));
    let body =
        sqlx::query_scalar!("SELECT payload->'issue'->>'body' FROM github_events WHERE delivery_id = $1", nul.id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(body.as_deref(), Some("before\u{fffd}after, and the text \\u0000 as typed"));
    assert_eq!(rows(&pool).await, 2);
}

/// A lone UTF-16 surrogate escape (`\ud800`, which PostgreSQL and serde both
/// refuse) is stored as U+FFFD, readable in the log, and never fails the
/// deliveries stored with it; a proper pair is kept.
#[sqlx::test]
async fn a_lone_surrogate_is_stored_as_a_replacement_character(pool: PgPool) {
    let app = spawn_app_with(pool.clone(), no_workers).await;
    let mut payload = issue_opened(1, "2026-11-22T10:00:00Z");
    payload["issue"]["title"] = json!("LONE alone, and a pair PAIR");
    let body = serde_json::to_string(&payload).unwrap().replace("LONE", "\\ud800").replace("PAIR", "\\ud83d\\ude00");
    let lone = Delivery { body: body.into_bytes(), ..Delivery::new("issues", json!({})) };
    let other = Delivery::new("issues", issue_opened(1, "2026-11-22T10:00:01Z"));
    let (a, b) = tokio::join!(lone.post(&app), other.post(&app));
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (202, 202));
    let title = sqlx::query_scalar!(
        "SELECT payload::jsonb->'issue'->>'title' FROM github_events WHERE delivery_id = $1",
        lone.id
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(title.as_deref(), Some("\u{fffd} alone, and a pair \u{1f600}"));
    assert_eq!(rows(&pool).await, 2);
}

#[sqlx::test]
async fn secrets_can_rotate(pool: PgPool) {
    let app = spawn_app_with(pool.clone(), |config| {
        no_workers(config);
        config.github.webhook_secrets = vec![Secret::new("new-secret"), Secret::new("old-secret")];
    })
    .await;
    for secret in ["new-secret", "old-secret"] {
        let d = Delivery { secret, ..Delivery::new("ping", json!({"zen": "Design for failure.", "hook_id": 1})) };
        assert_eq!(d.post(&app).await.status(), 202, "{secret}");
    }
    let gone = Delivery { secret: WEBHOOK_SECRET, ..Delivery::new("ping", json!({"zen": "x"})) };
    assert_eq!(gone.post(&app).await.status(), 401);
    assert_eq!(rows(&pool).await, 2);
}

#[sqlx::test]
async fn a_redelivery_is_acknowledged_and_changes_nothing(pool: PgPool) {
    let app = spawn_app_with(pool.clone(), no_workers).await;
    let d = Delivery::new("issues", issue_opened(1, "2026-11-22T10:00:00Z"));
    assert_eq!(d.post(&app).await.status(), 202);
    sqlx::query!("UPDATE github_events SET status = 'processed'").execute(&pool).await.unwrap();
    let again = d.post(&app).await;
    assert_eq!(again.status(), 200);
    assert_eq!(rows(&pool).await, 1);
    let status: String = sqlx::query_scalar!("SELECT status FROM github_events").fetch_one(&pool).await.unwrap();
    assert_eq!(status, "processed");
}

/// Under load deliveries are stored many to a statement, two statements at once:
/// a delivery and its redelivery can share a statement or be in two at once, and
/// still exactly one of them is stored and answered 202.
#[sqlx::test]
async fn a_burst_with_redeliveries_stores_each_delivery_once(pool: PgPool) {
    let app = Arc::new(spawn_app_with(pool.clone(), no_workers).await);
    let deliveries: Vec<Arc<Delivery>> =
        (0..150).map(|n| Arc::new(Delivery::new("issues", issue_opened(n, "2026-11-22T10:00:00Z")))).collect();
    let mut sends = tokio::task::JoinSet::new();
    // Each delivery right after itself, and all again.
    for d in deliveries.iter().flat_map(|d| [d, d]).chain(&deliveries) {
        let (app, d) = (app.clone(), d.clone());
        sends.spawn(async move { (d.id.clone(), d.post(&app).await.status().as_u16()) });
    }
    let mut answers = std::collections::HashMap::<String, Vec<u16>>::new();
    while let Some(answer) = sends.join_next().await {
        let (id, status) = answer.unwrap();
        answers.entry(id).or_default().push(status);
    }
    for statuses in answers.values_mut() {
        statuses.sort();
        assert_eq!(statuses, &[200, 200, 202]);
    }
    assert_eq!(answers.len(), 150);
    assert_eq!(rows(&pool).await, 150);
}

#[tokio::test]
async fn an_unreachable_database_gets_503_never_a_2xx() {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(1))
        .connect_lazy("postgres://postgres@127.0.0.1:1/forgelink")
        .unwrap();
    let app = spawn_app_with(pool, no_workers).await;
    let d = Delivery::new("ping", json!({"zen": "x"}));
    assert_eq!(d.post(&app).await.status(), 503);
}

/// A dispatcher whose handlers record the order they saw events in.
fn recording() -> (Dispatcher, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let dispatcher = Dispatcher::standard().on("issues", &["opened"], move |_, payload: Value| {
        let log = log.clone();
        async move {
            log.lock().unwrap().push(payload["issue"]["updated_at"].as_str().unwrap_or("").to_owned());
            Ok(Outcome::Processed)
        }
    });
    (dispatcher, seen)
}

/// How far a stored event's processing went.
struct Stored {
    status: String,
    failure_reason: Option<String>,
}

/// Every stored event, in the order they arrived.
async fn statuses(pool: &PgPool) -> Vec<Stored> {
    sqlx::query!("SELECT event, status, failure_reason FROM github_events ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .map(|r| Stored { status: r.status, failure_reason: r.failure_reason })
        .collect()
}

#[sqlx::test]
async fn events_of_one_installation_are_applied_in_githubs_order(pool: PgPool) {
    let (dispatcher, seen) = recording();
    // Stored first, processed after: deliveries that arrived out of order.
    let app = spawn_app_with(pool.clone(), no_workers).await;
    for at in ["2026-11-22T10:00:03Z", "2026-11-22T10:00:01Z", "2026-11-22T10:00:02Z"] {
        assert_eq!(Delivery::new("issues", issue_opened(5, at)).post(&app).await.status(), 202);
    }
    let _workers = support::spawn_app_with_dispatcher(pool.clone(), dispatcher, |c| c.workers.workers = 3).await;
    wait_until_settled(&pool).await;
    assert_eq!(*seen.lock().unwrap(), ["2026-11-22T10:00:01Z", "2026-11-22T10:00:02Z", "2026-11-22T10:00:03Z"]);
}

#[sqlx::test]
async fn the_events_of_many_issues_are_each_applied_in_order(pool: PgPool) {
    let seen = Arc::new(Mutex::new(Vec::<(i64, String)>::new()));
    let log = seen.clone();
    let dispatcher = Dispatcher::new().on("issues", &["opened"], move |_, payload: Value| {
        let log = log.clone();
        async move {
            let issue = &payload["issue"];
            log.lock()
                .unwrap()
                .push((issue["number"].as_i64().unwrap(), issue["updated_at"].as_str().unwrap().to_owned()));
            Ok(Outcome::Processed)
        }
    });
    // 40 issues, each with three deliveries stored out of order, interleaved.
    let app = spawn_app_with(pool.clone(), no_workers).await;
    for at in ["2026-11-22T10:00:03Z", "2026-11-22T10:00:01Z", "2026-11-22T10:00:02Z"] {
        for number in 1..=40 {
            let mut payload = issue_opened(5, at);
            payload["issue"]["number"] = json!(number);
            assert_eq!(Delivery::new("issues", payload).post(&app).await.status(), 202);
        }
    }
    // Claims of three: each walk over the keys stops early and the next goes on from there.
    let _workers = support::spawn_app_with_dispatcher(pool.clone(), dispatcher, |c| {
        c.workers.workers = 2;
        c.workers.batch = 3;
    })
    .await;
    wait_until_settled(&pool).await;
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 120, "each event applied once");
    for number in 1..=40 {
        let times: Vec<&str> = seen.iter().filter(|(n, _)| *n == number).map(|(_, at)| at.as_str()).collect();
        assert_eq!(times, ["2026-11-22T10:00:01Z", "2026-11-22T10:00:02Z", "2026-11-22T10:00:03Z"], "issue {number}");
    }
}

/// A handler that panics fails its event, not its worker: the one worker goes on
/// with the next event.
#[sqlx::test]
async fn a_handler_that_panics_fails_its_event_not_the_worker(pool: PgPool) {
    let dispatcher = Dispatcher::new().on("ping", &[], |_, payload: Value| async move {
        assert_ne!(payload["zen"], "panic", "a handler bug");
        Ok(Outcome::Processed)
    });
    let app = support::spawn_app_with_dispatcher(pool.clone(), dispatcher, |c| c.workers.workers = 1).await;
    Delivery::new("ping", json!({"zen": "panic"})).post(&app).await;
    wait_until_settled(&pool).await;
    Delivery::new("ping", json!({"zen": "calm"})).post(&app).await;
    wait_until_settled(&pool).await;
    let got = statuses(&pool).await;
    assert_eq!((got[0].status.as_str(), got[0].failure_reason.as_deref()), ("errored", Some("handler_panicked")));
    assert_eq!(got[1].status, "processed", "the worker lived on");
}

#[sqlx::test]
async fn the_dispatcher_records_processed_ignored_and_unhandled(pool: PgPool) {
    let (dispatcher, _) = recording();
    let app = support::spawn_app_with_dispatcher(pool.clone(), dispatcher, |_| {}).await;
    Delivery::new("ping", json!({"zen": "Keep it logically awesome.", "hook_id": 1})).post(&app).await;
    Delivery::new("issues", issue_opened(1, "2026-11-22T10:00:00Z")).post(&app).await;
    Delivery::new("issues", json!({"action": "labeled", "installation": {"id": 2}})).post(&app).await;
    Delivery::new("issues", json!({"action": "teleported", "installation": {"id": 3}})).post(&app).await;
    Delivery::new("star", json!({"action": "created"})).post(&app).await;
    wait_until_settled(&pool).await;
    let got = statuses(&pool).await;
    assert_eq!(got[0].status, "processed", "ping");
    assert_eq!(got[1].status, "processed", "issues.opened");
    assert_eq!(
        (got[2].status.as_str(), got[2].failure_reason.as_deref()),
        ("ignored", Some("forgelink does not act on issues.labeled"))
    );
    assert_eq!(got[3].status, "unhandled");
    assert!(got[3].failure_reason.as_deref().unwrap().contains("issues.teleported"));
    assert_eq!(
        (got[4].status.as_str(), got[4].failure_reason.as_deref()),
        ("ignored", Some("forgelink does not subscribe to star events"))
    );
}

#[sqlx::test]
async fn a_failing_handler_is_retried_then_left_for_an_operator(pool: PgPool) {
    let failures = Arc::new(Mutex::new(0));
    let count = failures.clone();
    let dispatcher = Dispatcher::new().on("issues", &["opened"], move |_, _: Value| {
        let count = count.clone();
        async move {
            *count.lock().unwrap() += 1;
            Err::<Outcome, _>(HandlerError::new(FailureReason::GithubUnreachable, "connection refused"))
        }
    });
    let app = support::spawn_app_with_dispatcher(pool.clone(), dispatcher, |c| c.workers.max_attempts = 2).await;
    Delivery::new("issues", issue_opened(1, "2026-11-22T10:00:00Z")).post(&app).await;

    // First failure: errored, due again after a backoff.
    let status_is = |status: &'static str, attempts: i32| {
        let pool = pool.clone();
        async move || {
            sqlx::query!("SELECT status, attempts FROM github_events")
                .fetch_one(&pool)
                .await
                .is_ok_and(|row| row.status == status && row.attempts == attempts)
        }
    };
    support::until("the first failure to be recorded", 10, status_is("errored", 1)).await;
    let row = sqlx::query!(
        "SELECT status, attempts, failure_reason, error, next_attempt_at IS NOT NULL AS \"due!\" FROM github_events"
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((row.status.as_str(), row.attempts), ("errored", 1));
    assert_eq!(row.failure_reason.as_deref(), Some("github_unreachable"));
    assert_eq!(row.error.as_deref(), Some("connection refused"));
    assert!(row.due, "a retry is scheduled");

    // Make the retry due now; the second failure exhausts the budget.
    sqlx::query!("UPDATE github_events SET next_attempt_at = now()").execute(&pool).await.unwrap();
    support::until("the second failure to be recorded", 10, async || {
        sqlx::query_scalar!(r#"SELECT attempts = 2 AND next_attempt_at IS NULL AS "done!" FROM github_events"#)
            .fetch_one(&pool)
            .await
            .unwrap()
    })
    .await;
    let row = sqlx::query!("SELECT status, attempts, next_attempt_at IS NULL AS \"given_up!\" FROM github_events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!((row.status.as_str(), row.attempts, row.given_up), ("errored", 2, true));

    // An operator's retry puts it back in the queue with a fresh budget.
    let id: i64 = sqlx::query_scalar!("SELECT id FROM github_events").fetch_one(&pool).await.unwrap();
    assert!(forgelink::server::webhooks::retry(&pool, id).await.unwrap());
    support::until("the handler to run a third time", 10, async || *failures.lock().unwrap() >= 3).await;
    assert_eq!(*failures.lock().unwrap(), 3);
}

#[sqlx::test]
async fn two_instances_share_a_burst_and_process_each_event_once(pool: PgPool) {
    // Each payload's `updated_at` is its own: which instance handled which event.
    let handled = Arc::new(Mutex::new(Vec::<(&str, String)>::new()));
    let dispatcher = |instance: &'static str| {
        let handled = handled.clone();
        Dispatcher::new().on("issues", &["opened"], move |_, payload: Value| {
            let handled = handled.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(5)).await; // a handler does some work
                handled.lock().unwrap().push((instance, payload["issue"]["updated_at"].to_string()));
                Ok(Outcome::Processed)
            }
        })
    };
    let a = support::spawn_app_with_dispatcher(pool.clone(), dispatcher("a"), |c| c.workers.workers = 2).await;
    let b = support::spawn_app_with_dispatcher(pool.clone(), dispatcher("b"), |c| c.workers.workers = 2).await;
    let (a, b) = (Arc::new(a), Arc::new(b));
    let mut sends = tokio::task::JoinSet::new();
    for n in 0..200 {
        let app = if n % 2 == 0 { a.clone() } else { b.clone() };
        // Over more issues (ordering keys: each issue's events go in order, one
        // at a time) than one instance's workers claim at once (2 × 10).
        let mut payload = issue_opened(1, &format!("2026-11-22T10:{:02}:{:02}Z", n / 60, n % 60));
        payload["issue"]["number"] = json!(n % 100);
        sends.spawn(async move { Delivery::new("issues", payload).post(&app).await.status().as_u16() });
    }
    while let Some(status) = sends.join_next().await {
        assert_eq!(status.unwrap(), 202);
    }
    wait_until_settled(&pool).await;
    let handled = handled.lock().unwrap().clone();
    assert_eq!(handled.len(), 200, "every event handled");
    for instance in ["a", "b"] {
        assert!(handled.iter().any(|(by, _)| *by == instance), "instance {instance} handled none of the burst");
    }
    let mut ids: Vec<_> = handled.into_iter().map(|(_, id)| id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 200, "none handled twice");
}

#[sqlx::test]
async fn another_instance_is_woken_for_deliveries_it_did_not_receive(pool: PgPool) {
    let (dispatcher, seen) = recording();
    // Its sweep would come too late: only a NOTIFY can wake it in time.
    let _worker =
        support::spawn_app_with_dispatcher(pool.clone(), dispatcher, |c| c.workers.sweep = Duration::from_secs(60))
            .await;
    support::until("the worker's LISTEN", 10, async || {
        // How sqlx's listener spells it, for the one channel workers listen on.
        let listen = format!(r#"LISTEN "{}";"#, forgelink::server::webhooks::CHANNEL);
        sqlx::query_scalar!(
            r#"SELECT count(*) > 0 AS "yes!" FROM pg_stat_activity WHERE datname = current_database() AND query = $1"#,
            listen
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    })
    .await;
    let intake = spawn_app_with(pool.clone(), no_workers).await;
    let deliver = |second: u32| {
        let at = format!("2026-11-22T10:00:0{second}Z");
        let (intake, delivery) = (&intake, Delivery::new("issues", issue_opened(1, &at)));
        async move { assert_eq!(delivery.post(intake).await.status(), 202) }
    };
    // The first is announced at once; once the other instance has processed it
    // and waits again, four more within the announcing interval, announced
    // together a moment later.
    deliver(0).await;
    support::until("the first delivery processed", 10, async || statuses(&pool).await[0].status == "processed").await;
    tokio::time::sleep(Duration::from_millis(2)).await; // it waits again
    for second in 1..5 {
        deliver(second).await;
    }
    // Well before its 60 s sweep.
    support::until("the other instance to process all five", 10, async || seen.lock().unwrap().len() == 5).await;
}

#[sqlx::test]
async fn metrics_report_deliveries_processing_and_the_queue(pool: PgPool) {
    let intake = spawn_app_with(pool.clone(), no_workers).await;
    Delivery::new("ping", json!({"zen": "x"})).post(&intake).await;
    let bad = Delivery { secret: "nope", ..Delivery::new("ping", json!({"zen": "x"})) };
    bad.post(&intake).await;
    let text = intake.get("/metrics").await.text().await.unwrap();
    assert!(text.contains(r#"forgelink_webhook_deliveries_total{event="ping",outcome="accepted"} 1"#), "{text}");
    assert!(text.contains(r#"forgelink_webhook_deliveries_total{event="ping",outcome="bad_signature"} 1"#), "{text}");
    assert!(text.contains("forgelink_event_queue_depth 1"), "{text}");
    assert!(text.contains("forgelink_event_processing_seconds_count 0"), "nothing processed here: {text}");

    // An instance with workers counts what it processed, by outcome, and how long each took.
    let worker = spawn_app(pool.clone()).await;
    Delivery::new("star", json!({"action": "created"})).post(&worker).await;
    let lines = [
        r#"forgelink_events_processed_total{status="processed"} 1"#,
        r#"forgelink_events_processed_total{status="ignored"} 1"#,
        r#"forgelink_event_processing_seconds_bucket{le="+Inf"} 2"#,
        "forgelink_event_processing_seconds_count 2",
        "forgelink_event_queue_depth 0",
    ];
    let mut text = String::new();
    let counted = support::eventually(10, async || {
        text = worker.get("/metrics").await.text().await.unwrap();
        lines.iter().all(|line| text.lines().any(|l| l == *line))
    })
    .await;
    assert!(counted, "{lines:?} in {text}");
}

/// Anyone can send any `X-GitHub-Event`: only names GitHub sends become
/// labels, the rest count as `other`, so the metrics cannot grow from outside.
#[sqlx::test]
async fn made_up_event_names_are_counted_as_other(pool: PgPool) {
    let app = spawn_app_with(pool, no_workers).await;
    for n in 0..50 {
        let made_up = format!("made_up_{n}");
        Delivery { event: &made_up, secret: "nope", ..Delivery::new("ping", json!({})) }.post(&app).await;
    }
    Delivery::new("issues", json!({"action": "opened"})).post(&app).await;
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(!text.contains("made_up"), "{text}");
    assert!(text.contains(r#"forgelink_webhook_deliveries_total{event="other",outcome="bad_signature"} 50"#), "{text}");
    assert!(text.contains(r#"forgelink_webhook_deliveries_total{event="issues",outcome="accepted"} 1"#), "{text}");
}

/// With a token configured, only a scraper presenting it reads the metrics.
#[sqlx::test]
async fn metrics_can_require_a_token(pool: PgPool) {
    let app = spawn_app_with(pool, |config| {
        config.metrics_token = Some(forgelink::server::config::Secret::new("s3cret-scraper"));
    })
    .await;
    let scrape = |authorization: Option<&'static str>| {
        let mut request = app.client.get(app.url("/metrics"));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        request.send()
    };
    assert_eq!(scrape(None).await.unwrap().status(), 401);
    assert_eq!(scrape(Some("Bearer wrong")).await.unwrap().status(), 401);
    let answered = scrape(Some("Bearer s3cret-scraper")).await.unwrap();
    assert_eq!(answered.status(), 200);
    assert!(answered.text().await.unwrap().contains("forgelink_webhook_deliveries_total"));
}

/// Senders that hang up while their deliveries wait for the commit (GitHub gives
/// up after 10 s, load balancers sooner) leave nothing behind: the deliveries are
/// stored all the same, and once they are the intake is idle again, so workers
/// claim without pausing. (Before, each abandoned request left the intake one
/// delivery busier for good, and workers paused 200 ms before every claim.)
#[sqlx::test]
async fn deliveries_whose_senders_hang_up_leave_the_intake_idle(pool: PgPool) {
    // No workers: their claims would wait for the lock below too, holding
    // connections the writer needs (a test pool has five).
    let app = spawn_app_with(pool.clone(), no_workers).await;
    let deliveries: Vec<_> =
        (0..12).map(|n| Delivery::new("issues", issue_opened(77, &format!("2026-11-22T10:00:{n:02}Z")))).collect();

    // The writer is held back: its INSERT waits for this lock (taken outside the pool).
    let mut outside = sqlx::PgConnection::connect_with(&pool.connect_options()).await.unwrap();
    let mut lock = outside.begin().await.unwrap();
    sqlx::query("LOCK TABLE github_events IN EXCLUSIVE MODE").execute(&mut *lock).await.unwrap();
    let mut senders = tokio::task::JoinSet::new();
    for d in &deliveries {
        senders.spawn(d.request(&app.client, &app.url("")).timeout(Duration::from_millis(300)).send());
    }
    while let Some(sent) = senders.join_next().await {
        assert!(sent.unwrap().is_err_and(|e| e.is_timeout()), "the sender gave up before an answer");
    }
    support::wait_for_gauge(&app, "webhook_deliveries_waiting", 12).await;
    assert_eq!(support::gauge(&app, "webhook_intake_busy").await, 1, "twelve waiting: workers yield");

    assert_eq!(rows(&pool).await, 0);

    lock.commit().await.unwrap();
    support::wait_for_gauge(&app, "webhook_deliveries_waiting", 0).await;
    assert_eq!(rows(&pool).await, 12, "every delivery stored, though no one waited for the answer");
    assert_eq!(support::gauge(&app, "webhook_intake_busy").await, 0, "nothing waits: workers claim at full speed");
    // GitHub redelivers what it saw fail: each is answered as already received.
    assert_eq!(deliveries[0].post(&app).await.status(), 200);
}

/// How many events have `status` once `count` do, or `within` has passed.
async fn events_reaching(pool: &PgPool, status: &str, count: i64, within: Duration) -> i64 {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let now = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM github_events WHERE status = $1"#, status)
            .fetch_one(pool)
            .await
            .unwrap();
        if now >= count || tokio::time::Instant::now() >= deadline {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Makes GitHub answer every API call after `latency_ms`, then installs the
/// App (as octocat) on `count` new organizations of `repos` repositories each.
async fn install_with_slow_github(stack: &support::Stack, count: usize, repos: usize, latency_ms: u64) {
    let orgs: Vec<String> = (0..count).map(|n| format!("slow-{n}")).collect();
    {
        let mut world = stack.gh.sim.sim.world();
        let octocat = world.account_by_login("octocat").unwrap().id;
        for login in &orgs {
            world.add_large_org(login, repos, &[octocat]);
        }
    }
    let faults = stack
        .gh
        .http
        .put(format!("{}/_sim/faults", stack.gh.web))
        .json(&json!({ "latency_ms": latency_ms }))
        .send()
        .await
        .unwrap();
    assert!(faults.status().is_success());
    for org in &orgs {
        stack.gh.install(org, "octocat", None).await;
    }
}

/// A slow GitHub never starves intake of connections: none is held while
/// GitHub answers. (Before, each installation token mint held one in a
/// transaction for as long as GitHub took: three were seen held here, and
/// enough slow mints leave intake none.)
#[sqlx::test]
async fn a_slow_github_leaves_the_intake_its_connections(pool: PgPool) {
    // Connections that give up after 3 s, as in production, one per worker,
    // each worker taking one event at a time.
    let small = sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(3))
        .connect_with((*pool.connect_options()).clone())
        .await
        .unwrap();
    let stack = support::spawn_stack_with(small, |config| {
        config.workers.workers = 8;
        config.workers.batch = 1;
        // Workers busy claiming when a delivery is announced find it at the next sweep.
        config.workers.sweep = Duration::from_millis(200);
    })
    .await;
    install_with_slow_github(&stack, 8, 1, 5000).await;
    let busy = events_reaching(&pool, "processing", 8, Duration::from_secs(5)).await;
    assert_eq!(busy, 8, "every worker is waiting for GitHub to mint its installation's token");

    // A connection idle in a transaction for over a second is one held while GitHub answers.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let held: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
         AND state = 'idle in transaction' AND state_change < now() - interval '1 second'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(held, 0, "connections held across a GitHub call");
    let deliveries: Vec<_> = (0..200)
        .map(|n| Delivery::new("issues", issue_opened(77, &format!("2026-11-22T10:{:02}:{:02}Z", n / 60, n % 60))))
        .collect();
    let mut senders = tokio::task::JoinSet::new();
    for d in &deliveries {
        // GitHub gives up on a delivery after 10 s.
        senders.spawn(d.request(&stack.app.client, &stack.app.url("")).timeout(Duration::from_secs(10)).send());
    }
    let mut statuses = std::collections::BTreeMap::new();
    while let Some(sent) = senders.join_next().await {
        let status = sent.unwrap().map_or(0, |response| response.status().as_u16());
        *statuses.entry(status).or_insert(0) += 1;
    }
    assert_eq!(statuses, [(202, 200)].into(), "every delivery acknowledged while GitHub was slow");
}

/// Claims are renewed while an event is worked on: with a 2 s lease and GitHub
/// taking 1 s a call, ten installations (each a token mint and a listing, one
/// worker's batch taking ~20 s) are each handled once. (Before, the other
/// worker took over every event whose lease ran out and ran it again.)
#[sqlx::test]
async fn a_slow_event_keeps_its_claim_and_runs_once(pool: PgPool) {
    let stack = support::spawn_stack_with(pool.clone(), |config| config.workers.lease = Duration::from_secs(2)).await;
    install_with_slow_github(&stack, 10, 3, 1000).await;
    events_reaching(&pool, "processed", 10, Duration::from_secs(60)).await;
    let attempts = sqlx::query_scalar!("SELECT attempts FROM github_events WHERE status = 'processed' ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(attempts, vec![1; 10], "each event claimed and handled once");
    let listed = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM github_repos WHERE installation_id IS NOT NULL"#)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(listed, 30, "every installation's three repositories");
}

/// Large bodies (or of unknown length) are read two at a time, each within
/// GitHub's 10 s, so unsigned 25 MB uploads cannot pile up in memory and
/// hashing; small deliveries never wait for them; past 25 MB is refused at once.
#[sqlx::test]
async fn large_unsigned_bodies_wait_their_turn_and_small_deliveries_do_not(pool: PgPool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with(pool, no_workers).await;
    let upload = |length: usize| {
        let addr = app.addr;
        async move {
            let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
            let head = format!(
                "POST /webhooks/github HTTP/1.1\r\nHost: {addr}\r\nX-GitHub-Event: ping\r\nX-GitHub-Delivery: x\r\n\
                 X-Hub-Signature-256: sha256=00\r\nContent-Length: {length}\r\n\r\n{{"
            );
            tcp.write_all(head.as_bytes()).await.unwrap();
            tcp // held open, the rest of the body never sent
        }
    };
    let mut held = Vec::new();
    for _ in 0..6 {
        held.push(upload(20 * 1024 * 1024).await);
    }
    support::wait_for_gauge(&app, "webhook_large_bodies", 2).await;
    let signed = Delivery::new("ping", json!({"zen": "small", "hook_id": 1})).post(&app).await;
    assert_eq!(signed.status(), 202, "a small delivery does not wait for large ones");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(support::gauge(&app, "webhook_large_bodies").await, 2, "never more than two at once");

    let mut too_large = upload(26 * 1024 * 1024).await;
    let mut answer = vec![0; 512];
    let n = tokio::time::timeout(Duration::from_secs(5), too_large.read(&mut answer))
        .await
        .expect("answered at once")
        .unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 413"));

    // The first two give up after GitHub's 10 s; the next two get their turn.
    let mut first = held.remove(0);
    let n = tokio::time::timeout(Duration::from_secs(15), first.read(&mut answer))
        .await
        .expect("timed out by the server")
        .unwrap();
    assert!(
        String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&answer[..n])
    );
    assert_eq!(support::gauge(&app, "webhook_large_bodies").await, 2);
}

/// Stopping with a browser's live stream open and a slow event in progress:
/// the stream ends, nothing more is claimed, the event in progress finishes,
/// and the server is gone well within its 10 s.
#[sqlx::test]
async fn stopping_ends_live_streams_and_lets_the_event_in_progress_finish(pool: PgPool) {
    let dispatcher = Dispatcher::new().on("ping", &[], |_, _: Value| async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        Ok(Outcome::Processed)
    });
    let app = support::spawn_app_with_dispatcher(pool.clone(), dispatcher, |c| {
        c.workers.workers = 1;
        c.workers.batch = 1;
    })
    .await;
    support::flows::sign_up(&app, "ada@example.com").await;
    let mut stream = app.client.get(app.url("/live/integrations")).send().await.unwrap();
    for n in 0..3 {
        assert_eq!(Delivery::new("ping", json!({ "zen": n })).post(&app).await.status(), 202);
    }
    let status_counts = || async {
        sqlx::query!(r#"SELECT status, count(*) AS "n!" FROM github_events GROUP BY status ORDER BY status"#)
            .fetch_all(&pool)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.status, r.n))
            .collect::<Vec<_>>()
    };
    support::until("an event in progress", 10, async || {
        status_counts().await.iter().any(|(status, _)| status == "processing")
    })
    .await;
    tokio::time::timeout(Duration::from_secs(12), app.stop())
        .await
        .expect("gone within the deadline, a browser connected or not")
        .unwrap();
    let ended =
        tokio::time::timeout(Duration::from_secs(2), async { while let Ok(Some(_)) = stream.chunk().await {} }).await;
    assert!(ended.is_ok(), "the live stream was ended");
    assert_eq!(
        status_counts().await,
        [("processed".to_owned(), 1), ("unprocessed".to_owned(), 2)],
        "one finished, none claimed after"
    );
}

/// An event still in progress 8 s after the signal is let go at once (its
/// claim released for another instance), not left until its lease runs out.
#[sqlx::test]
async fn stopping_releases_the_claim_of_an_event_that_does_not_finish(pool: PgPool) {
    let dispatcher = Dispatcher::new().on("ping", &[], |_, _: Value| async {
        tokio::time::sleep(Duration::from_secs(60)).await;
        Ok(Outcome::Processed)
    });
    let app = support::spawn_app_with_dispatcher(pool.clone(), dispatcher, |c| c.workers.workers = 1).await;
    Delivery::new("ping", json!({ "zen": "slow" })).post(&app).await;
    let processing = || async {
        sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM github_events WHERE status = 'processing' AND locked_until > now()"#
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    support::until("the event in progress", 10, async || processing().await > 0).await;
    tokio::time::timeout(Duration::from_secs(12), app.stop()).await.expect("gone within the deadline").unwrap();
    assert_eq!(processing().await, 0, "its claim was released, not held for the 60 s lease");
}
