//! Starts the whole application on a free port against the test's own database,
//! and speaks HTTP to it, as a client would.
#![allow(dead_code)] // each test binary uses a different part

pub mod binary;
pub mod cluster;
pub mod deliveries;
pub mod flows;
pub mod github;

use std::{net::SocketAddr, sync::Arc};

use forgelink::{server::config::Config, startup::Application};
use reqwest::cookie::{CookieStore, Jar};
use sqlx::PgPool;
use tokio::sync::oneshot;

/// A server function's answer (or error), decoded from postcard as the WASM decodes it.
pub async fn answer<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> T {
    let bytes = response.bytes().await.expect("the answer arrives");
    postcard::from_bytes(&bytes).expect("the answer is postcard of the expected type")
}

pub struct TestApp {
    pub addr: SocketAddr,
    /// A browser: it keeps the cookies it is given and sends them back, and follows no redirect.
    pub client: reqwest::Client,
    /// The browser's cookies.
    pub cookies: Arc<Jar>,
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
        // 32 bytes, base64: a fixed key for tests only.
        ("FORGELINK_ENCRYPTION_KEY", "Zm9yZ2VsaW5rLXRlc3Qta2V5LTMyLWJ5dGVzLWxvbmc=".to_owned()),
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
    spawn_app_with(pool, |_| {}).await
}

/// As `spawn_app`, with the configuration adjusted first (e.g. pointed at a simulator).
pub async fn spawn_app_with(pool: PgPool, adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with_dispatcher(pool, forgelink::startup::handlers(), adjust).await
}

/// As `spawn_app_with`, with the webhook handlers given.
pub async fn spawn_app_with_dispatcher(
    pool: PgPool,
    dispatcher: forgelink::server::webhooks::Dispatcher,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    // Logs go through the test harness, so only a failing test shows them.
    let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("forgelink=debug,tower_http=warn").try_init();
    let mut config = test_config();
    adjust(&mut config);
    let app = Application::build_with(config, pool, dispatcher).await.expect("the application builds");
    let addr = app.local_addr().expect("the listener has an address");
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    TestApp { stop: Some(stop), server: Some(server), ..TestApp::at(addr) }
}

impl TestApp {
    /// Another browser (an empty cookie jar) on the same server.
    pub fn another_browser(&self) -> TestApp {
        TestApp::at(self.addr)
    }

    /// A browser of a server at `addr` that this test did not start in-process.
    pub fn at(addr: SocketAddr) -> TestApp {
        let cookies = Arc::new(Jar::default());
        TestApp {
            addr,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .cookie_provider(cookies.clone())
                // A request that hangs fails the test naming its address
                // (longer than any test holds a live stream open).
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .expect("an HTTP client"),
            cookies,
            stop: None,
            server: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("the server answers")
    }

    /// Posts a form as a page of this site would (with its `Origin`).
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.post_form_with(path, form, &[]).await
    }

    /// As `post_form`, with more headers (e.g. a proxy's `X-Forwarded-For`).
    pub async fn post_form_with(
        &self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self.client.post(self.url(path)).header("origin", format!("http://{}", self.addr));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.form(form).send().await.expect("the server answers")
    }

    /// Calls a server function that takes no form (its arguments in postcard, as the WASM sends them).
    pub async fn post_postcard<T: serde::Serialize>(&self, path: &str, arguments: &T) -> reqwest::Response {
        self.post_postcard_with(path, arguments, &[]).await
    }

    /// As `post_postcard`, with more headers.
    pub async fn post_postcard_with<T: serde::Serialize>(
        &self,
        path: &str,
        arguments: &T,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let body = postcard::to_allocvec(arguments).expect("the arguments encode");
        let mut request = self.client.post(self.url(path)).header("origin", format!("http://{}", self.addr));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.header("content-type", "application/x-postcard").body(body).send().await.expect("the server answers")
    }

    /// The value of the cookie `name` that this browser sends with a request for `path`.
    pub fn cookie(&self, path: &str, name: &str) -> Option<String> {
        let sent = self.cookies.cookies(&self.url(path).parse().unwrap())?;
        let mut pairs = sent.to_str().unwrap().split("; ").filter_map(|pair| pair.split_once('='));
        pairs.find(|(n, _)| *n == name).map(|(_, value)| value.to_owned())
    }

    /// Gives this browser the cookie `name` for the whole site, as if the server had set it.
    pub fn set_cookie(&self, name: &str, value: &str) {
        self.cookies.add_cookie_str(&format!("{name}={value}; Path=/"), &self.url("/").parse().unwrap());
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

/// forgelink and a GitHub simulator that know each other's addresses.
pub struct Stack {
    pub app: TestApp,
    pub gh: github::SimHarness,
}

pub async fn spawn_stack(pool: PgPool) -> Stack {
    spawn_stack_with(pool, |_| {}).await
}

/// As `spawn_stack`, with forgelink's configuration adjusted first.
pub async fn spawn_stack_with(pool: PgPool, adjust: impl FnOnce(&mut Config)) -> Stack {
    let sim_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_addr = sim_listener.local_addr().unwrap();
    let app = spawn_app_with(pool, |config| {
        config.github.api_url = format!("http://{sim_addr}/api/v3");
        config.github.web_url = format!("http://{sim_addr}");
        adjust(config);
    })
    .await;
    let gh = github::SimHarness::serve_on(sim_listener, |config| {
        config.callback_url = app.url("/auth/github/callback");
        config.setup_url = app.url("/integrations/github/setup");
        config.webhook_url = app.url("/webhooks/github");
    })
    .await;
    Stack { app, gh }
}

/// Webhook events unprocessed or in progress.
pub async fn pending_events(pool: &PgPool) -> i64 {
    sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM github_events WHERE status IN ('unprocessed', 'processing')"#)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Polls `done` every 50 ms until it holds, for about `seconds`; whether it did.
pub async fn eventually(seconds: u64, mut done: impl AsyncFnMut() -> bool) -> bool {
    poll(seconds, async || done().await.then_some(())).await.is_some()
}

/// Polls `found` every 50 ms until it gives something, for about `seconds`.
async fn poll<T>(seconds: u64, mut found: impl AsyncFnMut() -> Option<T>) -> Option<T> {
    for _ in 0..seconds * 20 {
        if let Some(value) = found().await {
            return Some(value);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    None
}

/// Polls `done` until it holds; fails the test saying what it waited for if it
/// does not within `seconds`.
pub async fn until(what: &str, seconds: u64, done: impl AsyncFnMut() -> bool) {
    assert!(eventually(seconds, done).await, "waited {seconds} s for {what}");
}

/// Polls `found` until it gives something; fails the test saying what it
/// waited for if it gives nothing within about `seconds`.
pub async fn until_some<T>(what: &str, seconds: u64, found: impl AsyncFnMut() -> Option<T>) -> T {
    poll(seconds, found).await.unwrap_or_else(|| panic!("waited {seconds} s for {what}"))
}

/// This test's database (`#[sqlx::test]` makes one each) as a URL, for a process of its own.
pub fn database_url(pool: &PgPool) -> String {
    let mut url = url::Url::parse(&std::env::var("DATABASE_URL").expect("DATABASE_URL")).unwrap();
    url.set_path(pool.connect_options().get_database().expect("a database name"));
    url.into()
}

/// Waits until no webhook event is unprocessed or in progress (at most 10 s).
pub async fn wait_until_settled(pool: &PgPool) {
    until("no event pending", 10, async || pending_events(pool).await == 0).await;
}

/// Waits for at least `count` webhook events to be stored (at most 10 s), then for all to settle.
pub async fn wait_for_events(pool: &PgPool, count: i64) {
    let stored =
        async || sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM github_events"#).fetch_one(pool).await.unwrap();
    until(&format!("{count} webhook events to arrive"), 10, async || stored().await >= count).await;
    wait_until_settled(pool).await;
}

/// A gauge of this instance's `/metrics`, by name without the `forgelink_` prefix.
pub async fn gauge(app: &TestApp, name: &str) -> i64 {
    let text = app.get("/metrics").await.text().await.expect("metrics are text");
    let prefix = format!("forgelink_{name} ");
    let line = text.lines().find(|line| line.starts_with(&prefix)).unwrap_or_else(|| panic!("no {name} in\n{text}"));
    line[prefix.len()..].parse().unwrap_or_else(|_| panic!("{line}"))
}

/// Waits (at most 10 s) until a gauge reads `value`, and says what it read last if it never does.
pub async fn wait_for_gauge(app: &TestApp, name: &str, value: i64) {
    let mut last = 0;
    let reached = eventually(10, async || {
        last = gauge(app, name).await;
        last == value
    })
    .await;
    assert!(reached, "forgelink_{name} is still {last} after 10 s, not {value}");
}

/// Reads server-sent events until one named `changed` arrives, or `wait` passes.
pub async fn next_change(stream: &mut reqwest::Response, wait: std::time::Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, stream.chunk()).await {
            Ok(Ok(Some(chunk))) if String::from_utf8_lossy(&chunk).contains("event: changed") => return true,
            Ok(Ok(Some(_))) => continue, // a keep-alive comment
            _ => return false,
        }
    }
}

/// The statements the test's database runs for one GET of `path`, counted by
/// pg_stat_statements (which scripts/lib.sh loads): the fewest of three, so
/// that work in the background does not count.
pub async fn statements_for(app: &TestApp, pool: &PgPool, path: &str) -> i64 {
    sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements").execute(pool).await.unwrap();
    let so_far = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements
             WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    };
    let mut fewest = i64::MAX;
    for _ in 0..3 {
        let before = so_far().await;
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        response.text().await.unwrap();
        fewest = fewest.min(so_far().await - before);
    }
    fewest
}
