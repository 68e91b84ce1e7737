//! What the benchmarks share: forgelink and the GitHub simulator in this
//! process over real HTTP, on a fresh database, with a person signed up who is
//! octocat on GitHub, and the steps that give them data (projects, installs,
//! follows, imports).
#![allow(dead_code)] // each benchmark uses a part

use std::time::{Duration, Instant};

use forgelink::{
    server::{config::Config, db},
    startup::Application,
};
use serde_json::{json, Value};
use sqlx::PgPool;

pub const RENDERS: usize = 100;
pub const WARM_UP: usize = 10;

pub fn database_url(name: &str) -> String {
    let mut url =
        url::Url::parse(&std::env::var("DATABASE_URL").expect("DATABASE_URL (scripts/bench sets it)")).unwrap();
    url.set_path(name);
    url.to_string()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits until `url` answers at all (a server has started listening), 30 s at most.
pub async fn wait_for(url: &str) {
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if client.get(url).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} did not answer");
}

pub async fn fresh_database(name: &str) -> PgPool {
    let admin = PgPool::connect(&database_url("postgres")).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
    let pool = PgPool::connect(&database_url(name)).await.unwrap();
    db::migrate_at_startup(&pool).await.unwrap();
    pool
}

pub struct Stack {
    pub app: String,
    pub sim: String,
    pub simulator: github_sim::Simulator,
    pub pool: PgPool,
    pub http: reqwest::Client,
    pub cookie: String,
}

impl Stack {
    pub async fn start(database: &str) -> Self {
        let pool = fresh_database(database).await;
        let sim_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sim = format!("http://{}", sim_listener.local_addr().unwrap());
        let mut config = Config::from_env().expect("the configuration scripts/bench sets up");
        config.github.api_url = format!("{sim}/api/v3");
        config.github.web_url = sim.clone();
        config.leptos.site_addr = "127.0.0.1:0".parse().unwrap();
        config.leptos.env = leptos::config::Env::PROD;
        config.recovery_interval = None;
        let application = Application::build_with_pool(config, pool.clone()).await.unwrap();
        let app = format!("http://{}", application.local_addr().unwrap());
        tokio::spawn(application.run_until_stopped(std::future::pending()));
        let mut sim_config = github_sim::SimConfig::from_env().expect("the simulated App scripts/bench sets up");
        sim_config.webhook_url = format!("{app}/webhooks/github");
        sim_config.state_file = None;
        let simulator = github_sim::serve(sim_listener, sim_config).unwrap().sim;
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let mut stack = Self { app, sim, simulator, pool, http, cookie: String::new() };
        stack.sign_up().await;
        stack
    }

    pub async fn sign_up(&mut self) {
        let response = self
            .http
            .post(format!("{}/fn/sign_up", self.app))
            .header("origin", &self.app)
            .form(&[
                ("email", "bench@example.com"),
                ("display_name", "Bench"),
                ("password", "correct horse battery"),
                ("next", ""),
            ])
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success() || response.status().is_redirection(), "{}", response.status());
        let session = response.headers().get_all("set-cookie").iter().filter_map(|c| c.to_str().ok());
        let session = session.filter_map(|c| c.split(';').next()).find(|c| c.starts_with("forgelink_session="));
        self.cookie = session.expect("a session cookie").to_owned();
        // The person is octocat on (simulated) GitHub.
        let octocat = self.sim_get("/api/v3/users/octocat").await;
        let octocat = octocat["id"].as_i64().unwrap_or_else(|| panic!("{octocat}"));
        sqlx::query("UPDATE users SET github_id = $1, github_login = 'octocat'")
            .bind(octocat)
            .execute(&self.pool)
            .await
            .unwrap();
    }

    pub async fn sim_get(&self, path: &str) -> Value {
        self.http.get(format!("{}{path}", self.sim)).send().await.unwrap().json().await.unwrap()
    }

    pub async fn sim_post(&self, path: &str, body: Value) -> Value {
        let response = self.http.post(format!("{}{path}", self.sim)).json(&body).send().await.unwrap();
        assert!(response.status().is_success(), "{path}: {}", response.status());
        response.json().await.unwrap()
    }

    pub async fn create_project(&self, slug: &str) {
        let response = self
            .http
            .post(format!("{}/fn/create_project", self.app))
            .header("origin", &self.app)
            .header("cookie", &self.cookie)
            .form(&[("name", slug), ("slug", slug), ("description", "")])
            .send()
            .await
            .unwrap();
        assert!(response.status().is_redirection() || response.status().is_success(), "{}", response.status());
    }

    /// Installs on a new organization with `repos` repositories, started from
    /// `slug` (as a click on Install would); returns (time to `processed`, API
    /// calls, tokens minted).
    pub async fn install(&self, org: &str, repos: usize, slug: &str) -> (Duration, u64, u64, i64) {
        self.sim_post("/_sim/orgs", json!({ "login": org, "repositories": repos, "owners": ["octocat"] })).await;
        sqlx::query(
            "INSERT INTO github_app_installations (user_id, originating_project_id, origin, state)
             SELECT u.id, p.id, 'app', 'initiated_on_app' FROM users u, projects p WHERE p.slug = $1",
        )
        .bind(slug)
        .execute(&self.pool)
        .await
        .unwrap();
        let before = self.sim_get("/_sim/state").await;
        let started = Instant::now();
        self.sim_post("/_sim/installations", json!({ "account": org, "sender": "octocat" })).await;
        loop {
            let row: Option<(String, i32)> =
                sqlx::query_as("SELECT state, repos_listed FROM github_app_installations WHERE account_login = $1")
                    .bind(org)
                    .fetch_optional(&self.pool)
                    .await
                    .unwrap();
            if let Some((state, listed)) = row {
                if state == "processed" {
                    let elapsed = started.elapsed();
                    let after = self.sim_get("/_sim/state").await;
                    let diff = |key: &str| after[key].as_u64().unwrap() - before[key].as_u64().unwrap();
                    return (elapsed, diff("api_requests"), diff("installation_tokens_issued"), listed.into());
                }
            }
            assert!(started.elapsed() < Duration::from_secs(300), "{org} not processed after 5 minutes");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until no import is in progress (following starts one per repository).
    pub async fn imports_settled(&self) {
        let started = Instant::now();
        loop {
            let busy: i64 = sqlx::query_scalar("SELECT count(*) FROM github_repo_imports WHERE state <> 'up_to_date'")
                .fetch_one(&self.pool)
                .await
                .unwrap();
            if busy == 0 {
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(900), "{busy} imports still running after 15 minutes");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Follows `repo` (of an organization installed from `slug`) in `slug`, and
    /// times its import: (time, GitHub API calls, growth of the process's peak memory).
    pub async fn import(&self, slug: &str, repo: &str) -> (Duration, u64, u64) {
        let before = self.sim_get("/_sim/state").await;
        let peak = peak_rss_kb();
        let started = Instant::now();
        sqlx::query(
            "INSERT INTO project_github_repos (project_id, github_repo_id)
             SELECT p.id, r.id FROM projects p, github_repos r WHERE p.slug = $1 AND r.full_name = $2",
        )
        .bind(slug)
        .bind(repo)
        .execute(&self.pool)
        .await
        .unwrap();
        self.imports_settled().await;
        let elapsed = started.elapsed();
        let after = self.sim_get("/_sim/state").await;
        let calls = after["api_requests"].as_u64().unwrap() - before["api_requests"].as_u64().unwrap();
        (elapsed, calls, peak_rss_kb().saturating_sub(peak))
    }

    /// Changes issue `number` of `repo` on GitHub `changes` times, each once
    /// the last is visible: the times from the change to the open Tasks tab's
    /// live message and its fetch of the page showing it, sorted; `None` when
    /// a live message does not come within 10 s.
    pub async fn live_latencies(
        &self,
        slug: &str,
        owner: &str,
        name: &str,
        number: u64,
        changes: usize,
    ) -> Option<Vec<Duration>> {
        // Read on a thread and runtime of its own, as a browser would: on this process's runtime, busy with
        // forgelink and the simulator, the messages were read late.
        let (url, cookie) = (format!("{}/live/projects/{slug}/tasks", self.app), self.cookie.clone());
        let (messages, mut heard) = tokio::sync::mpsc::unbounded_channel::<()>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let mut stream = reqwest::Client::new().get(url).header("cookie", cookie).send().await.unwrap();
                assert_eq!(stream.status(), 200);
                while let Ok(Some(chunk)) = stream.chunk().await {
                    if String::from_utf8_lossy(&chunk).contains("event: changed") && messages.send(()).is_err() {
                        return;
                    }
                }
            });
        });
        heard.recv().await.unwrap(); // the message every stream starts with
        let (repo_id, user_id) = {
            let world = self.simulator.world();
            let repo = world.repo_by_name(owner, name).unwrap().id;
            (repo, world.account_by_login("octocat").unwrap().id)
        };
        let mut times = Vec::new();
        for n in 0..changes {
            let title = format!("Changed on GitHub, time {n}");
            let started = Instant::now();
            self.simulator.edit_issue(repo_id, number, user_id, Some(&title), None).unwrap();
            loop {
                if !matches!(tokio::time::timeout(Duration::from_secs(10), heard.recv()).await, Ok(Some(()))) {
                    return None;
                }
                // What the open tab then does: fetch the page again (src/app/live.rs).
                let page = self
                    .http
                    .get(format!("{}/projects/{slug}/tasks?state=all", self.app))
                    .header("cookie", &self.cookie)
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                if page.contains(&format!(">{title}<")) {
                    break;
                }
            }
            times.push(started.elapsed());
        }
        times.sort();
        Some(times)
    }

    /// Follows every repository of the project's installations.
    pub async fn follow_all(&self, slug: &str) -> i64 {
        sqlx::query(
            "INSERT INTO project_github_repos (project_id, github_repo_id)
             SELECT a.project_id, r.id FROM project_github_installations a
             JOIN projects p ON p.id = a.project_id AND p.slug = $1
             JOIN github_repos r ON r.installation_id = a.installation_id
             ON CONFLICT DO NOTHING",
        )
        .bind(slug)
        .execute(&self.pool)
        .await
        .unwrap();
        sqlx::query_scalar(
            "SELECT count(*) FROM project_github_repos f JOIN projects p ON p.id = f.project_id WHERE p.slug = $1",
        )
        .bind(slug)
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    /// Server-side render times of a page that must contain `marker`: (p50, p95, bytes).
    pub async fn render(&self, path: &str, marker: &str) -> (Duration, Duration, usize) {
        let url = format!("{}{path}", self.app);
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..WARM_UP {
            self.http.get(&url).header("cookie", &self.cookie).send().await.unwrap().text().await.unwrap();
        }
        for _ in 0..RENDERS {
            let started = Instant::now();
            let response = self.http.get(&url).header("cookie", &self.cookie).send().await.unwrap();
            assert_eq!(response.status(), 200);
            let html = response.text().await.unwrap();
            times.push(started.elapsed());
            assert!(html.contains(marker), "{path} rendered {marker}");
            bytes = html.len();
        }
        times.sort();
        (times[RENDERS / 2], times[RENDERS * 95 / 100], bytes)
    }
}

/// The process's peak resident memory so far (`VmHWM`), in KB.
pub fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
