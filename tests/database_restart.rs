//! PostgreSQL restarted under a running server in the middle of a burst of
//! deliveries: the server recovers by itself. Readiness says the database is
//! gone and back; nothing acknowledged is lost; every event is processed once;
//! an open page is told to fetch again what it may have missed.
#![cfg(feature = "ssr")]

mod support;

use std::{
    collections::HashSet,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use forgelink::server::{
    config::DatabaseUrl,
    db,
    webhooks::{Dispatcher, Outcome},
};
use sqlx::PgPool;
use support::{
    binary::{deliver_ping, free_port, Server},
    cluster::Cluster,
    eventually, flows, pending_events,
};
use tokio::sync::Notify;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_database_restart_everything_recovers_by_itself() {
    let cluster = Cluster::start();
    // The default lease (a minute): outcomes must be recorded by the worker that
    // has them, not by running the events again once their claims run out.
    let server = Server::start(&cluster.url, free_port(), &[]);
    let client = reqwest::Client::new();
    server.wait_ready(&client).await;

    // An open integrations tab: its live stream, whose first message comes at once.
    let browser = server.browser();
    flows::sign_up(&browser, "ada@example.com").await;
    let mut stream = browser.client.get(browser.url("/live/integrations")).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let messages = Arc::new(AtomicUsize::new(0));
    let heard = messages.clone();
    tokio::spawn(async move {
        while let Ok(Some(chunk)) = stream.chunk().await {
            let count = String::from_utf8_lossy(&chunk).matches("event: changed").count();
            heard.fetch_add(count, Ordering::SeqCst);
        }
    });
    assert!(eventually(10, async || messages.load(Ordering::SeqCst) >= 1).await, "the stream's first message");

    // Eight senders deliver one after another until told to stop.
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let refused = Arc::new(AtomicUsize::new(0));
    let sending = Arc::new(AtomicBool::new(true));
    let mut senders = tokio::task::JoinSet::new();
    for sender in 0..8 {
        let (client, acked, refused, sending, addr) =
            (client.clone(), acked.clone(), refused.clone(), sending.clone(), server.addr());
        senders.spawn(async move {
            let mut n = sender * 1_000_000;
            while sending.load(Ordering::SeqCst) {
                match deliver_ping(&client, addr, n).await {
                    Some(id) => acked.lock().unwrap().push(id),
                    None => _ = refused.fetch_add(1, Ordering::SeqCst),
                }
                n += 1;
            }
        });
    }
    let acked_count = || acked.lock().unwrap().len();
    assert!(eventually(30, async || acked_count() >= 200).await, "the burst is under way");

    cluster.stop();
    assert_eq!(server.readiness(&client).await, Some(503), "not ready while the database is down");
    // Down for a while: deliveries are refused (not acknowledged), outcomes wait.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let told_before = messages.load(Ordering::SeqCst);
    cluster.restart();
    assert!(eventually(30, async || server.readiness(&client).await == Some(200)).await, "ready again");
    let acked_before = acked_count();
    assert!(eventually(30, async || acked_count() >= acked_before + 200).await, "deliveries are acknowledged again");
    sending.store(false, Ordering::SeqCst);
    while senders.join_next().await.is_some() {}
    assert!(refused.load(Ordering::SeqCst) > 0, "the database went down mid-burst");

    assert!(
        eventually(20, async || messages.load(Ordering::SeqCst) > told_before).await,
        "the open page is told to fetch again what it may have missed"
    );

    let pool = sqlx::PgPool::connect(&cluster.url).await.unwrap();
    let settled = eventually(90, async || pending_events(&pool).await == 0).await;
    assert!(settled, "every stored event is processed");

    let rows = sqlx::query!("SELECT delivery_id, status, attempts FROM github_events").fetch_all(&pool).await.unwrap();
    let stored: HashSet<&str> = rows.iter().map(|r| r.delivery_id.as_str()).collect();
    assert_eq!(stored.len(), rows.len(), "each delivery stored once");
    let acked = acked.lock().unwrap();
    let lost: Vec<_> = acked.iter().filter(|id| !stored.contains(id.as_str())).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    assert!(rows.iter().all(|r| r.status == "processed"), "every event processed");
    let again: Vec<_> = rows.iter().filter(|r| r.attempts != 1).map(|r| (&r.delivery_id, r.attempts)).collect();
    assert!(again.is_empty(), "processed more than once: {again:?}");
}

/// The window the burst above rarely hits: an event whose handler finishes
/// while the database is down has its outcome recorded once it is back, by the
/// worker that ran it, not by running it again when its claim runs out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outcome_reached_while_the_database_is_down_is_recorded_once_it_is_back() {
    let cluster = Cluster::start();
    let mut config = support::test_config();
    config.database_url = DatabaseUrl::parse(&cluster.url).unwrap();
    let pool = db::connect_lazy(&config).unwrap();
    db::MIGRATOR.run(&pool).await.unwrap();
    let (started, finish, runs) = (Arc::new(Notify::new()), Arc::new(Notify::new()), Arc::new(AtomicUsize::new(0)));
    let (started_, finish_, runs_) = (started.clone(), finish.clone(), runs.clone());
    let dispatcher = Dispatcher::new().on("ping", &[], move |_, _: serde_json::Value| {
        let (started, finish, runs) = (started_.clone(), finish_.clone(), runs_.clone());
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            started.notify_one();
            finish.notified().await;
            Ok(Outcome::Processed)
        }
    });
    let app = support::spawn_app_with_dispatcher(pool.clone(), dispatcher, |c| c.workers.workers = 1).await;
    assert!(deliver_ping(&app.client, app.addr, 1).await.is_some(), "acknowledged");
    tokio::time::timeout(Duration::from_secs(10), started.notified()).await.expect("the handler runs");

    cluster.stop();
    finish.notify_one();
    // Down for longer than the pool waits for a connection (3 s): the worker cannot record the outcome.
    tokio::time::sleep(Duration::from_secs(5)).await;
    cluster.restart();
    let processed = eventually(30, async || {
        let row = sqlx::query!("SELECT status, attempts FROM github_events").fetch_one(&pool).await;
        matches!(row, Ok(row) if row.status == "processed" && row.attempts == 1)
    })
    .await;
    assert!(processed, "recorded as processed, in its first attempt");
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the handler ran once");
}

/// Started while its database is down, the server answers (not ready), and
/// once the database is back applies the migrations and becomes ready.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_started_before_its_database_migrates_it_once_it_is_back() {
    let cluster = Cluster::start();
    cluster.stop();
    let server = Server::start(&cluster.url, free_port(), &[]);
    let client = reqwest::Client::new();
    assert!(eventually(10, async || server.readiness(&client).await == Some(503)).await, "up, not ready");
    cluster.restart();
    // Its retries back off to one every 10 s.
    assert!(eventually(30, async || server.readiness(&client).await == Some(200)).await, "ready once it is back");
    let pool = PgPool::connect(&cluster.url).await.unwrap();
    let tables: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM information_schema.tables WHERE table_name IN ('github_events', 'users')"#
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(tables, 2, "migrated");
}

/// A lost `LISTEN` connection (a restart, a failover, an idle-connection
/// killer): once listening again, the workers look at once for what other
/// instances stored meanwhile, unannounced, not at the next sweep (an hour here).
#[sqlx::test]
async fn workers_catch_up_on_what_they_missed_while_not_listening(pool: PgPool) {
    let _workers = support::spawn_app_with(pool.clone(), |c| {
        c.workers.workers = 1;
        c.workers.sweep = Duration::from_secs(3600);
    })
    .await;
    let other = support::spawn_app_with(pool.clone(), |c| c.workers.workers = 0).await;
    let listening = async || {
        let n = sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN "github_events";'"#
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        n == 1
    };
    assert!(eventually(10, listening).await, "the workers listen");

    // Cut the listening connections, then store a delivery at the other instance at once.
    sqlx::query!(
        r#"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'"#
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(deliver_ping(&other.client, other.addr, 1).await.is_some(), "acknowledged");
    let processed = eventually(20, async || {
        let status = sqlx::query_scalar!("SELECT status FROM github_events").fetch_one(&pool).await.unwrap();
        status == "processed"
    })
    .await;
    assert!(processed, "processed without waiting for the sweep");
}
