//! A server killed with SIGKILL in the middle of a burst of deliveries loses
//! none it acknowledged: after a restart each is processed, exactly once.
#![cfg(feature = "ssr")]

mod support;

use std::{
    collections::HashSet,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use sqlx::PgPool;
use support::binary::{deliver_ping, free_port, Server};

#[sqlx::test]
async fn a_server_killed_mid_burst_loses_no_acknowledged_delivery(pool: PgPool) {
    let database = pool.connect_options().get_database().unwrap().to_owned();
    let mut url = url::Url::parse(&std::env::var("DATABASE_URL").unwrap()).unwrap();
    url.set_path(&database);
    let port = free_port();
    let client = reqwest::Client::new();
    let lease = [("FORGELINK_WORKER_LEASE_SECS", "2")];
    let mut server = Server::start(url.as_str(), port, &lease);
    server.wait_ready(&client).await;

    const BURST: usize = 600;
    const KILL_AFTER: usize = 150;
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let acked_count = Arc::new(AtomicUsize::new(0));
    let mut sends = tokio::task::JoinSet::new();
    for n in 0..BURST {
        let (client, acked, acked_count) = (client.clone(), acked.clone(), acked_count.clone());
        let addr = server.addr();
        sends.spawn(async move {
            if let Some(id) = deliver_ping(&client, addr, n).await {
                acked.lock().unwrap().push(id);
                acked_count.fetch_add(1, Ordering::SeqCst);
            }
        });
    }
    while acked_count.load(Ordering::SeqCst) < KILL_AFTER {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    server.kill();
    while sends.join_next().await.is_some() {}
    let acked: HashSet<String> = acked.lock().unwrap().iter().cloned().collect();
    assert!(acked.len() >= KILL_AFTER && acked.len() < BURST, "killed mid-burst ({} acknowledged)", acked.len());

    let mut server = Server::start(url.as_str(), port, &lease);
    server.wait_ready(&client).await;
    let settled = support::eventually(20, async || support::pending_events(&pool).await == 0).await;
    server.kill();
    assert!(settled, "every stored event is processed after the restart");

    let rows = sqlx::query!("SELECT delivery_id, status FROM github_events").fetch_all(&pool).await.unwrap();
    let stored: HashSet<String> = rows.iter().map(|r| r.delivery_id.clone()).collect();
    assert_eq!(stored.len(), rows.len(), "each delivery stored once");
    let lost: Vec<_> = acked.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    assert!(rows.iter().all(|r| r.status == "processed"), "every event processed");
}
