//! The ground every later feature stands on: health, readiness, the rendered
//! page, a server function round trip, request ids, graceful shutdown.
#![cfg(feature = "ssr")]

mod support;

use std::time::Duration;

use forgelink::server::db::MIGRATOR;
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
    assert_eq!(body["status"], "ready");
    assert_eq!(body["migrations_applied"], MIGRATOR.iter().count());
}

#[sqlx::test(migrations = false)]
async fn readyz_is_503_while_migrations_are_pending(pool: PgPool) {
    let app = spawn_app(pool).await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    let reason = body["reason"].as_str().unwrap();
    assert_eq!(reason, format!("{} migration(s) not applied yet", MIGRATOR.iter().count()));
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
    let reason = body["reason"].as_str().unwrap();
    assert!(reason.starts_with("database unreachable"), "{reason}");
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

#[sqlx::test]
async fn an_unknown_path_is_404(pool: PgPool) {
    let app = spawn_app(pool).await;
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("Page not found"));
}

#[sqlx::test]
async fn the_check_database_server_function_reports_postgres(pool: PgPool) {
    let app = spawn_app(pool).await;
    let response = app
        .client
        .post(app.url("/api/check_database"))
        .header("origin", format!("http://{}", app.addr))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(body["server_version"].as_str().unwrap().starts_with("PostgreSQL "), "{body}");
    assert_eq!(body["migrations_applied"], MIGRATOR.iter().count());
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
