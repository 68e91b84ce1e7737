//! A server killed with SIGKILL in the middle of a burst of deliveries loses
//! none it acknowledged: after a restart each is processed, exactly once.
#![cfg(feature = "ssr")]

mod support;

use std::{
    collections::HashSet,
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use forgelink::server::github_sim::signature_256;
use sqlx::PgPool;
use support::{github::WEBHOOK_SECRET, github_env};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts the real server binary on the test's own database.
fn start_server(database_url: &str, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_forgelink"))
        .envs(github_env())
        .env("DATABASE_URL", database_url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_ENV", "PROD")
        .env("FORGELINK_WORKERS", "2")
        .env("FORGELINK_WORKER_LEASE_SECS", "2")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary starts")
}

async fn wait_ready(client: &reqwest::Client, port: u16) {
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("http://127.0.0.1:{port}/readyz")).send().await {
            if r.status() == 200 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become ready");
}

#[sqlx::test]
async fn a_server_killed_mid_burst_loses_no_acknowledged_delivery(pool: PgPool) {
    let database = pool.connect_options().get_database().unwrap().to_owned();
    let mut url = url::Url::parse(&std::env::var("DATABASE_URL").unwrap()).unwrap();
    url.set_path(&database);
    let port = free_port();
    let client = reqwest::Client::new();
    let mut server = start_server(url.as_str(), port);
    wait_ready(&client, port).await;

    const BURST: usize = 600;
    const KILL_AFTER: usize = 150;
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let acked_count = Arc::new(AtomicUsize::new(0));
    let mut sends = tokio::task::JoinSet::new();
    for n in 0..BURST {
        let (client, acked, acked_count) = (client.clone(), acked.clone(), acked_count.clone());
        sends.spawn(async move {
            let id = uuid::Uuid::new_v4().to_string();
            let body = format!(r#"{{"zen":"Approachable is better than simple.","hook_id":{n}}}"#);
            let response = client
                .post(format!("http://127.0.0.1:{port}/webhooks/github"))
                .header("x-github-event", "ping")
                .header("x-github-delivery", &id)
                .header("x-hub-signature-256", signature_256(WEBHOOK_SECRET, body.as_bytes()))
                .body(body)
                .send()
                .await;
            if matches!(response, Ok(ref r) if r.status().is_success()) {
                acked.lock().unwrap().push(id);
                acked_count.fetch_add(1, Ordering::SeqCst);
            }
        });
    }
    while acked_count.load(Ordering::SeqCst) < KILL_AFTER {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    server.kill().expect("SIGKILL");
    server.wait().unwrap();
    while sends.join_next().await.is_some() {}
    let acked: HashSet<String> = acked.lock().unwrap().iter().cloned().collect();
    assert!(acked.len() >= KILL_AFTER && acked.len() < BURST, "killed mid-burst ({} acknowledged)", acked.len());

    let mut server = start_server(url.as_str(), port);
    wait_ready(&client, port).await;
    let mut settled = false;
    for _ in 0..400 {
        let pending: i64 = sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM github_events WHERE status IN ('unprocessed', 'processing')"#
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        if pending == 0 {
            settled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(settled, "every stored event is processed after the restart");

    let rows = sqlx::query!("SELECT delivery_id, status FROM github_events").fetch_all(&pool).await.unwrap();
    let stored: HashSet<String> = rows.iter().map(|r| r.delivery_id.clone()).collect();
    assert_eq!(stored.len(), rows.len(), "each delivery stored once");
    let lost: Vec<_> = acked.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    assert!(rows.iter().all(|r| r.status == "processed"), "every event processed");
}
