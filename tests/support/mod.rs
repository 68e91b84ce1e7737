//! Starts the whole application on a free port against the test's own database,
//! and speaks HTTP to it, as a client would.
#![allow(dead_code)] // each test binary uses a different part

pub mod github;

use std::net::SocketAddr;

use forgelink::server::{config::Config, startup::Application};
use sqlx::PgPool;
use tokio::sync::oneshot;

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// The `GITHUB_*` variables of the test App (its private key written to a file).
pub fn github_env() -> Vec<(String, String)> {
    static KEY_PATH: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    let key_path = KEY_PATH.get_or_init(|| {
        let path = std::env::temp_dir().join(format!("forgelink-test-app-{}.pem", std::process::id()));
        std::fs::write(&path, &github::app_key().private_pem).expect("the key file is written");
        path
    });
    [
        ("GITHUB_API_URL", "http://127.0.0.1:9/api/v3".to_owned()),
        ("GITHUB_WEB_URL", "http://127.0.0.1:9".to_owned()),
        ("GITHUB_APP_ID", github::APP_ID.to_string()),
        ("GITHUB_APP_SLUG", "forgelink-test".to_owned()),
        ("GITHUB_CLIENT_ID", github::CLIENT_ID.to_owned()),
        ("GITHUB_CLIENT_SECRET", github::CLIENT_SECRET.to_owned()),
        ("GITHUB_WEBHOOK_SECRET", github::WEBHOOK_SECRET.to_owned()),
        ("GITHUB_PRIVATE_KEY_PATH", key_path.display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The configuration a test server runs with: a free port, production rendering,
/// the test App (pointed at nothing until a test starts a simulator).
pub fn test_config() -> Config {
    let github = github_env();
    Config::from_lookup(|name| match name {
        "DATABASE_URL" => std::env::var("DATABASE_URL").ok(),
        "LEPTOS_SITE_ADDR" => Some("127.0.0.1:0".into()),
        "LEPTOS_ENV" => Some("PROD".into()),
        other => github.iter().find(|(k, _)| k == other).map(|(_, v)| v.clone()),
    })
    .expect("test configuration is valid (is DATABASE_URL set? scripts/test sets it)")
}

pub async fn spawn_app(pool: PgPool) -> TestApp {
    // Logs go through the test harness, so only a failing test shows them.
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("forgelink=debug,tower_http=warn")
        .try_init();
    let app = Application::build_with_pool(test_config(), pool)
        .await
        .expect("the application builds");
    let addr = app.local_addr().expect("the listener has an address");
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    TestApp {
        addr,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client"),
        stop: Some(stop),
        server: Some(server),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("the server answers")
    }

    /// Asks the server to stop and waits until it has.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.server.take() {
            Some(server) => server.await.expect("the server task did not panic"),
            None => Ok(()),
        }
    }
}
