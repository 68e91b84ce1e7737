//! The ground every later feature stands on: health, readiness, the rendered
//! page, a server function round trip, request ids, graceful shutdown.
#![cfg(feature = "ssr")]

mod support;

use std::time::Duration;

use forgelink::{domain::system::DatabaseStatus, server::db::MIGRATOR};
use serde_json::Value;
use sqlx::{postgres::PgPoolOptions, PgPool};
use support::spawn_app;

#[sqlx::test]
async fn healthz_answers_ok(pool: PgPool) {
    let app = spawn_app(pool).await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[sqlx::test]
async fn readyz_is_200_once_every_migration_is_applied(pool: PgPool) {
    let app = spawn_app(pool).await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "ready", "database": "ok"}), "no versions for outsiders");
}

#[sqlx::test(migrations = false)]
async fn readyz_is_503_while_migrations_are_pending(pool: PgPool) {
    let app = spawn_app(pool).await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    let reason = body["reason"].as_str().unwrap();
    assert_eq!(reason, "migrations not applied yet");
}

#[sqlx::test]
async fn startup_migrations_bring_an_empty_database_to_ready(pool: PgPool) {
    // sqlx::test migrated this database already; a second run must be a no-op.
    forgelink::server::db::migrate_at_startup(&pool).await.unwrap();
    assert_eq!(forgelink::server::health::readiness(&pool).await.unwrap(), MIGRATOR.iter().count());
}

#[tokio::test]
async fn readyz_is_503_with_a_reason_when_the_database_is_down() {
    // Nothing listens on port 1: the pool cannot connect.
    let pool = PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(2))
        .connect_lazy("postgres://postgres@127.0.0.1:1/forgelink")
        .unwrap();
    let app = spawn_app(pool).await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["reason"], "database unreachable", "not the driver's words, which name the address");
    let check = app.post_form("/fn/check_database", &[]).await;
    assert_eq!(check.status(), 503);
    let text = support::answer::<forgelink::api::error::AppError>(check).await.to_string();
    assert!(text.contains("database unreachable") && !text.contains("127.0.0.1") && !text.contains(":1"), "{text}");
    // The process itself is still alive.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[sqlx::test]
async fn the_home_page_is_rendered_on_the_server_with_its_hydration_scripts(pool: PgPool) {
    let app = spawn_app(pool).await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Connect GitHub to your projects"));
    assert!(html.contains("/pkg/forgelink.js"), "hydration script missing");
    assert!(html.contains("/pkg/forgelink.css"), "stylesheet missing");
}

/// Every page carries a policy the hydrated app runs under: its inline scripts
/// only with this response's nonce (fresh each time), nothing framed or sniffed.
#[sqlx::test]
async fn pages_carry_a_content_security_policy_with_their_own_nonce(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut nonces = Vec::new();
    for path in ["/", "/signin", "/no/such/page"] {
        let response = app.get(path).await;
        let headers = response.headers().clone();
        let policy = headers["content-security-policy"].to_str().unwrap().to_owned();
        let nonce =
            policy.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a nonce").to_owned();
        assert!(nonce.len() >= 22, "128 bits: {nonce}");
        for directive in
            ["default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'", "'strict-dynamic'"]
        {
            assert!(policy.contains(directive), "{path}: {policy}");
        }
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "strict-origin-when-cross-origin");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert!(headers.get("strict-transport-security").is_none(), "not over plain http");
        let html = response.text().await.unwrap();
        let scripts = html.matches("<script").count();
        assert!(scripts > 0, "{path}");
        assert_eq!(
            html.matches(&format!("nonce=\"{nonce}\"")).count(),
            scripts,
            "{path}: every script carries the nonce: {html}"
        );
        nonces.push(nonce);
    }
    nonces.dedup();
    assert_eq!(nonces.len(), 3, "a new nonce each response");
    // What is not a page may load nothing.
    let health = app.get("/healthz").await;
    assert_eq!(
        health.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
    );
}

#[sqlx::test]
async fn over_https_browsers_are_told_to_stay_on_https(pool: PgPool) {
    let app =
        support::spawn_app_with(pool, |config| config.public_url = Some("https://forgelink.example.com".into())).await;
    let response = app.get("/").await;
    assert_eq!(response.headers()["strict-transport-security"], "max-age=31536000; includeSubDomains");
}

/// A signed-in person's pages and data are never stored (the back button on a
/// shared computer shows nothing).
#[sqlx::test]
async fn a_signed_in_persons_pages_are_not_stored(pool: PgPool) {
    let app = spawn_app(pool).await;
    assert!(app.get("/").await.headers().get("cache-control").is_none(), "anonymous pages may be stored");
    support::flows::sign_up(&app, "ada@example.com").await;
    for path in ["/projects", "/account", "/no/such/page"] {
        assert_eq!(app.get(path).await.headers()["cache-control"], "no-store", "{path}");
    }
    let user = app.post_form("/fn/current_user", &[]).await;
    assert_eq!(user.headers()["cache-control"], "no-store");
}

/// A form or server function body larger than 256 KiB is refused from its
/// Content-Length, before any of it is read.
#[sqlx::test]
async fn a_huge_form_is_refused_before_it_is_read(pool: PgPool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app(pool).await;
    for path in ["/fn/sign_in", "/api/projects/apollo/github-repos"] {
        let mut tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {0}\r\nOrigin: http://{0}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: 52428800\r\n\r\nemail=",
            app.addr
        );
        tcp.write_all(head.as_bytes()).await.unwrap();
        let mut answer = vec![0; 1024];
        let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut answer))
            .await
            .expect("answered without the 50 MB")
            .unwrap();
        let answer = String::from_utf8_lossy(&answer[..n]);
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
    }
}

#[sqlx::test]
async fn an_unknown_path_is_404(pool: PgPool) {
    let app = spawn_app(pool).await;
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("Page not found"));
}

#[sqlx::test]
async fn the_check_database_server_function_answers_without_a_version(pool: PgPool) {
    let app = spawn_app(pool).await;
    let response = app
        .client
        .post(app.url("/fn/check_database"))
        .header("origin", format!("http://{}", app.addr))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.bytes().await.unwrap();
    assert!(!String::from_utf8_lossy(&body).contains("PostgreSQL"), "no version for outsiders: {body:?}");
    let status: DatabaseStatus = postcard::from_bytes(&body).unwrap();
    assert!(status.schema_current, "{status:?}");
}

#[sqlx::test]
async fn every_response_carries_a_request_id(pool: PgPool) {
    let app = spawn_app(pool).await;
    let first = app.get("/healthz").await;
    let second = app.get("/healthz").await;
    let id = |r: &reqwest::Response| r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(id(&first), id(&second));
}

#[sqlx::test]
async fn shutdown_finishes_cleanly(pool: PgPool) {
    let app = spawn_app(pool).await;
    let addr = app.addr;
    assert_eq!(app.get("/healthz").await.status(), 200);
    tokio::time::timeout(Duration::from_secs(10), app.stop())
        .await
        .expect("the server stops promptly")
        .expect("the server stops without error");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "still listening");
}

/// A built site as cargo-leptos leaves it with `hash-files` and `--precompress`:
/// files named by their hashes, each with `.br` and `.gz` beside it, and the hash file.
fn hashed_site() -> std::path::PathBuf {
    let site = std::env::temp_dir().join(format!("forgelink-site-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(site.join("pkg/snippets")).unwrap();
    let files = [
        ("pkg/forgelink.W4sm.wasm", "wasm"),
        ("pkg/forgelink.J5.js", "js"),
        ("pkg/snippets/inline0.js", "a snippet"),
        ("favicon.svg", "<svg/>"),
    ];
    for (name, body) in files {
        std::fs::write(site.join(name), body).unwrap();
        std::fs::write(site.join(format!("{name}.br")), format!("{body} in brotli")).unwrap();
        std::fs::write(site.join(format!("{name}.gz")), format!("{body} in gzip")).unwrap();
    }
    std::fs::write(site.join("hash.txt"), "js: J5\nwasm: W4sm\ncss: C5s\n").unwrap();
    site
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(0u8)
}

async fn spawn_with_site(pool: PgPool, site: &std::path::Path) -> support::TestApp {
    let site = site.to_path_buf();
    support::spawn_app_with(pool, move |config| {
        config.leptos.site_root = site.display().to_string().into();
        // An absolute name: Leptos joins it to the binary's folder, which keeps it as it is.
        config.leptos.hash_file = site.join("hash.txt").display().to_string().into();
        config.leptos.hash_files = true;
    })
    .await
}

/// Pages rendered many at once (a project's, which waits for its data, and
/// the not-found page) each carry the page policy naming the nonce their own
/// scripts carry. (When the shell set the policy while rendering, the browser
/// tests with two browsers at once saw a project page without it in every run,
/// which then ran no script; this test, without a browser, did not catch that.)
#[sqlx::test]
async fn every_page_rendered_at_once_carries_the_policy_of_its_own_scripts(pool: PgPool) {
    let app = spawn_app(pool).await;
    support::flows::sign_up(&app, "ada@example.com").await;
    support::flows::create_project(&app, "apollo").await;
    let visitor = app.another_browser();
    let mut pages = tokio::task::JoinSet::new();
    for n in 0..60 {
        let (browser, path) = match n % 3 {
            0 => (&app, "/projects/apollo"),
            1 => (&visitor, "/projects/apollo"),
            _ => (&visitor, "/no/such/page"),
        };
        let request = browser.client.get(browser.url(path));
        pages.spawn(async move {
            let response = request.send().await.expect("the server answers");
            let policy = response.headers().get("content-security-policy").map(|v| v.to_str().unwrap().to_owned());
            (path, policy, response.text().await.unwrap())
        });
    }
    for (path, policy, html) in pages.join_all().await {
        let policy = policy.unwrap_or_default();
        let nonce = policy.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next());
        let nonce = nonce.unwrap_or_else(|| panic!("{path}: no page policy: {policy}"));
        assert_eq!(html.matches("<script").count(), html.matches(&format!("nonce=\"{nonce}\"")).count(), "{path}");
    }
}

#[sqlx::test]
async fn built_files_are_sent_precompressed_and_hashed_ones_kept_for_a_year(pool: PgPool) {
    let site = hashed_site();
    let app = spawn_with_site(pool, &site).await;
    let get = |path: &'static str, encodings: &'static str| {
        let request = app.client.get(app.url(path)).header("accept-encoding", encodings);
        async move { request.send().await.expect("the server answers") }
    };

    let wasm = get("/pkg/forgelink.W4sm.wasm", "gzip, deflate, br").await;
    assert_eq!(wasm.status(), 200);
    assert_eq!(wasm.headers()["content-encoding"], "br");
    assert_eq!(wasm.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(wasm.headers()["vary"], "accept-encoding", "a cache must not give brotli to a client without it");
    assert_eq!(wasm.text().await.unwrap(), "wasm in brotli", "the file made at build time, not compressed again");
    let gzip = get("/pkg/forgelink.J5.js", "gzip").await;
    assert_eq!(gzip.headers()["content-encoding"], "gzip");
    assert_eq!(gzip.text().await.unwrap(), "js in gzip");
    let plain = get("/pkg/forgelink.J5.js", "identity").await;
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.text().await.unwrap(), "js");

    // A name without a hash may change under the same address: revalidated by its tag every time.
    let snippet = get("/pkg/snippets/inline0.js", "br").await;
    assert_eq!(snippet.headers()["cache-control"], "no-cache", "wasm-bindgen's snippets keep their names");
    let icon = get("/favicon.svg", "br").await;
    assert_eq!(icon.headers()["cache-control"], "no-cache");
    let tag = icon.headers()["etag"].clone();
    let again = app.client.get(app.url("/favicon.svg")).header("accept-encoding", "br").header("if-none-match", &tag);
    let again = again.send().await.unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"], tag);
    assert!(again.bytes().await.unwrap().is_empty());
    std::fs::write(site.join("favicon.svg.br"), "a new icon in brotli").unwrap();
    let changed = app.client.get(app.url("/favicon.svg")).header("accept-encoding", "br").header("if-none-match", &tag);
    let changed = changed.send().await.unwrap();
    assert_eq!(changed.status(), 200, "another length is another version");
    assert_eq!(changed.text().await.unwrap(), "a new icon in brotli");

    // Pages name the hashed files, and are neither cached for good nor tagged as files.
    let page = app.get("/").await;
    assert!(page.headers().get("etag").is_none());
    let html = page.text().await.unwrap();
    for name in ["/pkg/forgelink.J5.js", "/pkg/forgelink.W4sm.wasm", "/pkg/forgelink.C5s.css"] {
        assert!(html.contains(name), "{name} missing from the page");
    }
    let missing = get("/pkg/forgelink.J5.css", "br").await;
    assert_eq!(missing.status(), 404);
    assert!(missing.headers().get("cache-control").is_none_or(|v| v != "public, max-age=31536000, immutable"));
    std::fs::remove_dir_all(site).unwrap();
}

/// Pages, server functions and JSON are compressed when the client accepts it;
/// a live stream never is, so each message reaches the browser as it is sent.
#[sqlx::test]
async fn answers_are_compressed_on_the_fly_but_live_streams_are_not(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let page = app.client.get(app.url("/")).header("accept-encoding", "br").send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-encoding"], "br");
    assert!(!page.bytes().await.unwrap().starts_with(b"<!DOCTYPE"), "the body is brotli, not HTML");

    support::flows::sign_up_operator(&app, &pool, "ops@example.com").await;
    let stream = app.client.get(app.url("/live/events")).header("accept-encoding", "br, gzip");
    let mut stream = stream.send().await.unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    assert!(stream.headers().get("content-encoding").is_none());
    let wait = Duration::from_secs(5);
    assert!(support::next_change(&mut stream, wait).await, "the first message, not held in an encoder");
    while support::next_change(&mut stream, Duration::from_millis(500)).await {}
    let ping = serde_json::json!({"zen": "Speak like a human."});
    assert_eq!(support::deliveries::deliver(&app, "ping", ping).await.status(), 202);
    assert!(support::next_change(&mut stream, wait).await, "a change is told at once");

    support::wait_until_settled(&pool).await;
    let arguments = forgelink::api::events::ListEvents { filter: Default::default() };
    let answer = app.post_postcard_with("/fn/list_events", &arguments, &[("accept-encoding", "gzip")]).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["content-encoding"], "gzip");
}
