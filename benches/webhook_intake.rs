//! Webhook acknowledgement throughput and latency: signed ~10 KB `issues.opened`
//! deliveries (a fresh delivery id each) at 32 connections for 10 s, against
//! forgelink and two reference receivers on the same machine, in one run:
//! a Node `@octokit/webhooks` server that only verifies, and one that also
//! inserts each delivery into PostgreSQL with `pg`. Then how fast forgelink's
//! workers drain the backlog a burst leaves, after a burst whose senders waited
//! for every answer and after one whose senders hung up with requests in flight
//! (as GitHub does after 10 s, and load balancers sooner). Run it with `scripts/bench`.

mod common;

use std::{
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use common::{database_url, free_port, wait_for};
use github_sim::signature_256;
use serde_json::{json, Value};

const CONNECTIONS: usize = 32;
const DURATION: Duration = Duration::from_secs(10);
/// The bursts before a drain, and how long the drain is watched at most.
const BURST: Duration = Duration::from_secs(5);
const DRAIN: Duration = Duration::from_secs(10);

struct Result {
    name: &'static str,
    acked: usize,
    failed: usize,
    /// Requests whose senders hung up at the end (`Ending::HangUp`).
    abandoned: usize,
    latencies_us: Vec<u64>,
    elapsed: Duration,
    /// Rows in the receiver's database afterwards (`None`: it stores nothing).
    stored: Option<i64>,
}

impl Result {
    fn rate(&self) -> f64 {
        self.acked as f64 / self.elapsed.as_secs_f64()
    }
    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let index = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        self.latencies_us[index] as f64 / 1000.0
    }
}

/// GitHub's published example payloads (`@octokit/webhooks-examples`, MIT).
const EXAMPLES: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/end2end/node_modules/@octokit/webhooks-examples/api.github.com/index.json");
/// Issues the deliveries are about: a burst concerns many issues, as in life
/// (an issue is opened once), and each issue's events are applied in order.
const ISSUES: u64 = 1024;

/// GitHub's `issues.opened` example (about 11.6 KB) as an App receives it
/// (with its installation), once per issue, each with its signature.
fn signed_payloads(secret: &str) -> Vec<(Vec<u8>, String)> {
    let text =
        std::fs::read_to_string(EXAMPLES).unwrap_or_else(|e| panic!("{EXAMPLES}: {e} (scripts/setup installs it)"));
    let events: Vec<Value> = serde_json::from_str(&text).expect("the examples are JSON");
    let example = events
        .iter()
        .filter(|event| event["name"] == "issues")
        .flat_map(|event| event["examples"].as_array().into_iter().flatten())
        .find(|example| example["action"] == "opened")
        .expect("an issues.opened example");
    (0..ISSUES)
        .map(|n| {
            let mut payload = example.clone();
            payload["installation"] = json!({ "id": 1 });
            payload["issue"]["number"] = json!(n + 1);
            payload["issue"]["id"] = json!(444_500_041 + n);
            let body = serde_json::to_vec(&payload).expect("a payload serializes");
            let signature = signature_256(secret, &body);
            (body, signature)
        })
        .collect()
}

async fn fresh_database(name: &str) {
    let admin = sqlx::PgPool::connect(&database_url("postgres")).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
}

/// How a load ends: senders wait for the answers of requests under way, or hang up.
#[derive(Clone, Copy, PartialEq)]
enum Ending {
    Wait,
    HangUp,
}

async fn load(name: &'static str, port: u16, payloads: Arc<Vec<(Vec<u8>, String)>>) -> Result {
    load_for(name, port, payloads, DURATION, Ending::Wait).await
}

async fn load_for(
    name: &'static str,
    port: u16,
    payloads: Arc<Vec<(Vec<u8>, String)>>,
    duration: Duration,
    ending: Ending,
) -> Result {
    let client = reqwest::Client::builder().pool_max_idle_per_host(CONNECTIONS).build().unwrap();
    let url = Arc::new(format!("http://127.0.0.1:{port}/webhooks/github"));
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for connection in 0..CONNECTIONS {
        let (client, url, payloads) = (client.clone(), url.clone(), payloads.clone());
        tasks.spawn(async move {
            let (mut acked, mut failed, mut abandoned, mut latencies) = (0usize, 0usize, 0usize, Vec::new());
            // Connections take the issues in turn.
            let mut next = connection;
            while Instant::now() < deadline {
                let (body, signature) = &payloads[next % payloads.len()];
                next += CONNECTIONS;
                let sent = Instant::now();
                let request = client
                    .post(url.as_str())
                    .header("content-type", "application/json")
                    .header("x-github-event", "issues")
                    .header("x-github-delivery", uuid::Uuid::new_v4().to_string())
                    .header("x-github-hook-id", "1")
                    .header("x-hub-signature-256", signature.as_str())
                    .body(body.clone())
                    .send();
                // Hanging up drops the request under way, which closes its connection.
                let response = match ending {
                    Ending::Wait => request.await,
                    Ending::HangUp => match tokio::time::timeout_at(deadline.into(), request).await {
                        Ok(response) => response,
                        Err(_) => {
                            abandoned += 1;
                            break;
                        }
                    },
                };
                match response {
                    Ok(r) if r.status().is_success() => {
                        latencies.push(sent.elapsed().as_micros() as u64);
                        acked += 1;
                    }
                    _ => failed += 1,
                }
            }
            (acked, failed, abandoned, latencies)
        });
    }
    let mut result = Result {
        name,
        acked: 0,
        failed: 0,
        abandoned: 0,
        latencies_us: Vec::new(),
        elapsed: Duration::ZERO,
        stored: None,
    };
    while let Some(Ok((acked, failed, abandoned, latencies))) = tasks.join_next().await {
        result.acked += acked;
        result.failed += failed;
        result.abandoned += abandoned;
        result.latencies_us.extend(latencies);
    }
    result.elapsed = started.elapsed();
    result.latencies_us.sort_unstable();
    result
}

fn spawn(command: &mut Command) -> Child {
    command.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("the receiver starts")
}

fn stop(mut child: Child) {
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let _ = child.wait();
}

/// A Node reference receiver: verify only, or (`store`) verify and INSERT with `pg`.
async fn node(receiver: &str, secret: &str, store: bool, payloads: Arc<Vec<(Vec<u8>, String)>>) -> Result {
    let port = free_port();
    let mut command = Command::new("node");
    command.arg(receiver).env("PORT", port.to_string()).env("SECRET", secret);
    if store {
        fresh_database("forgelink_bench_node").await;
        command.env("STORE", "1").env("DATABASE_URL", database_url("forgelink_bench_node"));
    }
    let child = spawn(&mut command);
    wait_for(&format!("http://127.0.0.1:{port}/")).await;
    let name = if store { "node @octokit/webhooks + pg INSERT" } else { "node @octokit/webhooks, verify only" };
    let mut result = load(name, port, payloads).await;
    stop(child);
    if store {
        result.stored = Some(rows("forgelink_bench_node", "deliveries").await);
    }
    result
}

/// Rows in `table` of database `name`.
async fn rows(name: &str, table: &str) -> i64 {
    let pool = sqlx::PgPool::connect(&database_url(name)).await.unwrap();
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(&pool).await.unwrap()
}

#[tokio::main]
async fn main() {
    let secret = std::env::var("GITHUB_WEBHOOK_SECRET")
        .expect("GITHUB_WEBHOOK_SECRET")
        .split(',')
        .next()
        .unwrap()
        .trim()
        .to_owned();
    let payloads = Arc::new(signed_payloads(&secret));
    println!(
        "payload: GitHub's issues.opened example, {} bytes, {ISSUES} issues; {CONNECTIONS} connections, {} s per receiver",
        payloads[0].0.len(),
        DURATION.as_secs()
    );
    let node_receiver = std::env::var("NODE_RECEIVER").expect("NODE_RECEIVER");
    // `BENCH_ONLY=forgelink` skips the references and the drains (for profiling
    // forgelink alone); `BENCH_ONLY=drain` measures the drains alone.
    let only = std::env::var("BENCH_ONLY").ok();
    let only = only.as_deref();

    // `BENCH_RUNS=n` (`scripts/bench intake --runs n`): the three receivers in
    // turn, n times, then the median and range of each figure.
    let runs: usize = std::env::var("BENCH_RUNS").map_or(1, |n| n.parse().expect("BENCH_RUNS is a number"));
    let mut all_runs = Vec::new();
    for run in (1..=runs).filter(|_| only != Some("drain")) {
        let mut results = Vec::new();
        if runs > 1 {
            println!("\nrun {run} of {runs}");
        }
        // 1. and 2. Node, verify only; verify and INSERT with pg.
        for store in [false, true].into_iter().filter(|_| only.is_none()) {
            results.push(node(&node_receiver, &secret, store, payloads.clone()).await);
        }
        // 3. forgelink, storing every delivery durably (workers running, as in production).
        let (forgelink, port) = forgelink().await;
        let mut result = load("forgelink (stores durably)", port, payloads.clone()).await;
        stop(forgelink);
        result.stored = Some(rows("forgelink_bench", "github_events").await);
        results.push(result);
        report(&results, only.is_some());
        all_runs.push(results);
    }
    if all_runs.len() > 1 {
        summarize(&all_runs);
    }

    // 4. The backlog a burst leaves, drained, after each ending.
    if only.is_none_or(|only| only == "drain") {
        let mut drains = Vec::new();
        for ending in [Ending::Wait, Ending::HangUp] {
            drains.push((ending, drain(ending, payloads.clone()).await));
        }
        println!("\n| burst ({} s, {CONNECTIONS} connections) ended by | acknowledged | abandoned | backlog | drained/s | intake busy after |", BURST.as_secs());
        println!("| --- | ---: | ---: | ---: | ---: | --- |");
        for (ending, d) in &drains {
            let words = if *ending == Ending::Wait { "senders waiting for answers" } else { "senders hanging up" };
            let busy = match d.busy_after {
                Some(true) => "yes",
                Some(false) => "no",
                None => "not reported",
            };
            println!(
                "| {words} | {} | {} | {} | {:.0} | {busy} |",
                d.burst.acked, d.burst.abandoned, d.backlog, d.rate
            );
        }
        println!(
            "\nafter hanging up / after waiting: {:.2}x the drain rate (target: within noise of 1x)",
            drains[1].1.rate / drains[0].1.rate
        );
    }
}

/// A forgelink of the release build on a fresh database; its process and port.
async fn forgelink() -> (Child, u16) {
    fresh_database("forgelink_bench").await;
    let port = free_port();
    let forgelink = spawn(
        Command::new(std::env::var("FORGELINK_BIN").expect("FORGELINK_BIN"))
            .env("DATABASE_URL", database_url("forgelink_bench"))
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_ENV", "PROD")
            .env("RUST_LOG", "error"),
    );
    wait_for(&format!("http://127.0.0.1:{port}/readyz")).await;
    (forgelink, port)
}

struct Drain {
    burst: Result,
    /// Events waiting when the burst ended.
    backlog: i64,
    /// Events processed a second from then until the backlog is gone (or `DRAIN` is up).
    rate: f64,
    /// Whether the intake still counted as busy once the burst had ended
    /// (`None`: a build before the figure was reported).
    busy_after: Option<bool>,
}

async fn drain(ending: Ending, payloads: Arc<Vec<(Vec<u8>, String)>>) -> Drain {
    let (forgelink, port) = forgelink().await;
    let burst = load_for("forgelink", port, payloads, BURST, ending).await;
    let metrics = format!("http://127.0.0.1:{port}/metrics");
    // Answers under way when senders hang up are written a moment later.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let busy_after = gauge(&metrics, "webhook_intake_busy").await.map(|busy| busy == 1);
    let started = Instant::now();
    let depth = || async { gauge(&metrics, "event_queue_depth").await.expect("the queue's depth") };
    let backlog = depth().await;
    let mut left = backlog;
    while left > 0 && started.elapsed() < DRAIN {
        tokio::time::sleep(Duration::from_millis(250)).await;
        left = depth().await;
    }
    let rate = (backlog - left) as f64 / started.elapsed().as_secs_f64();
    stop(forgelink);
    Drain { burst, backlog, rate, busy_after }
}

/// A gauge from forgelink's `/metrics`, if it reports it.
async fn gauge(metrics: &str, name: &str) -> Option<i64> {
    let text = reqwest::get(metrics).await.expect("metrics answer").text().await.expect("metrics are text");
    let prefix = format!("forgelink_{name} ");
    text.lines().find_map(|line| line.strip_prefix(&prefix)).map(|value| value.parse().expect("a whole number"))
}

fn report(results: &[Result], only_forgelink: bool) {
    println!("\n| receiver | acknowledged/s | p50 ms | p99 ms | failed | acknowledged | stored |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in results {
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {} | {} | {} |",
            r.name,
            r.rate(),
            r.percentile_ms(0.5),
            r.percentile_ms(0.99),
            r.failed,
            r.acked,
            r.stored.map_or("—".to_owned(), |n| n.to_string()),
        );
    }
    for r in results {
        // A durable receiver stores every delivery it acknowledged (perhaps
        // more: answers its senders gave up on).
        if let Some(stored) = r.stored.filter(|&stored| stored < r.acked as i64) {
            println!("LOST: {} acknowledged {} deliveries and stored {stored}", r.name, r.acked);
        }
    }
    let forgelink = results.last().expect("forgelink was measured");
    let Some(durable_node) = results.get(1).filter(|_| !only_forgelink).map(Result::rate) else {
        return;
    };
    println!(
        "\nforgelink / durable node: {:.2}x the rate (target ≥ 2x); forgelink p99 {:.2} ms (target < 10 ms)",
        forgelink.rate() / durable_node,
        forgelink.percentile_ms(0.99)
    );
}

/// Median and range of each receiver's rate and p99, and of the ratio, over runs.
fn summarize(runs: &[Vec<Result>]) {
    let spread = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let median = if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 };
        (median, values[0], values[n - 1])
    };
    println!("\n{} runs: median [min–max]\n", runs.len());
    println!("| receiver | acknowledged/s | p99 ms |");
    println!("| --- | ---: | ---: |");
    for (i, first) in runs[0].iter().enumerate() {
        let (rate, rate_min, rate_max) = spread(runs.iter().map(|run| run[i].rate()).collect());
        let (p99, p99_min, p99_max) = spread(runs.iter().map(|run| run[i].percentile_ms(0.99)).collect());
        println!("| {} | {rate:.0} [{rate_min:.0}–{rate_max:.0}] | {p99:.2} [{p99_min:.2}–{p99_max:.2}] |", first.name);
    }
    if runs[0].len() == 3 {
        let ratios: Vec<f64> = runs.iter().map(|run| run[2].rate() / run[1].rate()).collect();
        let listed: Vec<String> = ratios.iter().map(|r| format!("{r:.2}x")).collect();
        let (median, _, _) = spread(ratios);
        println!("\nforgelink / durable node, run by run: {}; median {median:.2}x", listed.join(", "));
    }
}
