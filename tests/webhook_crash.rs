//! The server process under signals. Killed with SIGKILL in the middle of a
//! burst of deliveries, it loses none it acknowledged: after a restart each is
//! processed, and no more events are claimed twice than the killed server's
//! workers held. Sent SIGTERM, it lets a request in flight finish before it exits.
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

use forgelink::server::webhooks::worker::WorkerConfig;
use sqlx::PgPool;
use support::{
    binary::{deliver_ping, free_port, Server, WORKERS},
    deliveries::Delivery,
};

#[sqlx::test]
async fn a_server_killed_mid_burst_loses_no_acknowledged_delivery(pool: PgPool) {
    let url = support::database_url(&pool);
    let port = free_port();
    let client = reqwest::Client::new();
    let lease = [("FORGELINK_WORKER_LEASE_SECS", "2")];
    let mut server = Server::start(&url, port, &lease);
    server.wait_ready(&client).await;

    // A burst from 64 senders, as GitHub's do; the kill comes once some events
    // are processed (so a restart that ran them again would show) and while
    // deliveries are still arriving.
    const BURST: usize = 10_000;
    const KILL_AFTER: usize = 150;
    const PROCESSED_BEFORE: i64 = 30;
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let (next, acked_count) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut sends = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let (client, acked, next, acked_count, addr) =
            (client.clone(), acked.clone(), next.clone(), acked_count.clone(), server.addr());
        sends.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= BURST {
                    return;
                }
                // Past the first acknowledgements, slower (64 senders, about 1,300 a second), so
                // that the burst outlasts the wait for processed events: at full speed a fast
                // intake took all 10,000 in about a second, before the workers had run 30.
                if acked_count.load(Ordering::SeqCst) >= KILL_AFTER {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                match deliver_ping(&client, addr, n).await {
                    Some(id) => {
                        acked.lock().unwrap().push(id);
                        acked_count.fetch_add(1, Ordering::SeqCst);
                    }
                    None => return, // the server is gone
                }
            }
        });
    }
    // Looked at every millisecond: the kill must come mid-burst.
    let mid_burst = async {
        while acked_count.load(Ordering::SeqCst) < KILL_AFTER {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), mid_burst).await.expect("150 deliveries acknowledged within 30 s");
    let processed = async || {
        sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM github_events WHERE status = 'processed'"#)
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    support::until("some events processed before the kill", 30, async || processed().await >= PROCESSED_BEFORE).await;
    server.kill();
    while sends.join_next().await.is_some() {}
    let acked: HashSet<String> = acked.lock().unwrap().iter().cloned().collect();
    assert!(acked.len() >= KILL_AFTER && acked.len() < BURST, "killed mid-burst ({} acknowledged)", acked.len());

    let mut server = Server::start(&url, port, &lease);
    server.wait_ready(&client).await;
    let settled = support::eventually(20, async || support::pending_events(&pool).await == 0).await;
    server.kill();
    assert!(settled, "every stored event is processed after the restart");

    let rows = sqlx::query!("SELECT delivery_id, status, attempts FROM github_events").fetch_all(&pool).await.unwrap();
    let stored: HashSet<String> = rows.iter().map(|r| r.delivery_id.clone()).collect();
    let lost: Vec<_> = acked.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    assert!(rows.iter().all(|r| r.status == "processed"), "every event processed");
    // Each claim counts an attempt. Only the batches the killed server held
    // may have been claimed (and their handlers run) a second time.
    let in_flight = (WORKERS as i64) * WorkerConfig::default().batch;
    let again: i64 = rows.iter().map(|r| i64::from(r.attempts) - 1).sum();
    assert!(rows.iter().all(|r| r.attempts >= 1));
    assert!(again <= in_flight, "{again} claims beyond the first; at most {in_flight} were in flight at the kill");
}

#[sqlx::test]
async fn sigterm_lets_a_delivery_in_flight_finish(pool: PgPool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let url = support::database_url(&pool);
    let mut server = Server::start(&url, free_port(), &[]);
    server.wait_ready(&reqwest::Client::new()).await;

    // A delivery whose body is half sent when the signal comes: asking for
    // `100 Continue` shows when the server is reading it.
    let ping = Delivery::new("ping", serde_json::json!({"zen": "Mind your words, they are important.", "hook_id": 1}));
    let signature = github_sim::signature_256(ping.secret, &ping.body);
    let head = format!(
        "POST /webhooks/github HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nX-GitHub-Event: ping\r\n\
         X-GitHub-Delivery: {}\r\nX-GitHub-Hook-ID: 1\r\nX-Hub-Signature-256: {signature}\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        server.addr(),
        ping.id,
        ping.body.len()
    );
    let (first, rest) = ping.body.split_at(ping.body.len() / 2);
    let addr = server.addr();
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut continued = vec![0; 64];
    let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut continued)).await.expect("continue").unwrap();
    assert!(continued[..n].starts_with(b"HTTP/1.1 100 Continue"), "{}", String::from_utf8_lossy(&continued[..n]));
    tcp.write_all(first).await.unwrap();
    let stopping = tokio::spawn(async move { server.terminate().await });
    // Stopping has begun once the port refuses new connections.
    support::until("the server to stop accepting", 10, async || tokio::net::TcpStream::connect(addr).await.is_err())
        .await;
    tcp.write_all(rest).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), tcp.read_to_string(&mut answer)).await.expect("answered").unwrap();
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    let status = stopping.await.unwrap();
    assert!(status.success(), "exited cleanly: {status}");
    let stored: i64 =
        sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM github_events WHERE delivery_id = $1"#, ping.id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(stored, 1, "the acknowledged delivery is stored");
}
