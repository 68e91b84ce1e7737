//! Installations at scale, in one run (numbers, not pass/fail), forgelink and
//! the GitHub simulator in this process over real HTTP:
//!
//! 1. An install on an organization with 5,000 repositories (and, for the
//!    ratio, one with 100) from the webhook to `processed`: time, GitHub API
//!    calls, installation tokens minted.
//! 2. The integrations tab of a project following 1,000 repositories (and, for
//!    the ratio, 10) rendered on the server: p50/p95 time and page size.
//!
//! Run it with `scripts/bench`.

use std::time::{Duration, Instant};

use forgelink::{
    server::{config::Config, db},
    startup::Application,
};
use serde_json::{json, Value};
use sqlx::PgPool;

const RENDERS: usize = 100;
const WARM_UP: usize = 10;

fn database_url(name: &str) -> String {
    let mut url =
        url::Url::parse(&std::env::var("DATABASE_URL").expect("DATABASE_URL (scripts/bench sets it)")).unwrap();
    url.set_path(name);
    url.to_string()
}

async fn fresh_database(name: &str) -> PgPool {
    let admin = PgPool::connect(&database_url("postgres")).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
    let pool = PgPool::connect(&database_url(name)).await.unwrap();
    db::migrate_at_startup(&pool).await.unwrap();
    pool
}

struct Stack {
    app: String,
    sim: String,
    pool: PgPool,
    http: reqwest::Client,
    cookie: String,
}

impl Stack {
    async fn start() -> Self {
        let pool = fresh_database("forgelink_bench_integrations").await;
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
        github_sim::serve(sim_listener, sim_config).unwrap();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let mut stack = Self { app, sim, pool, http, cookie: String::new() };
        stack.sign_up().await;
        stack
    }

    async fn sign_up(&mut self) {
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

    async fn sim_get(&self, path: &str) -> Value {
        self.http.get(format!("{}{path}", self.sim)).send().await.unwrap().json().await.unwrap()
    }

    async fn sim_post(&self, path: &str, body: Value) -> Value {
        let response = self.http.post(format!("{}{path}", self.sim)).json(&body).send().await.unwrap();
        assert!(response.status().is_success(), "{path}: {}", response.status());
        response.json().await.unwrap()
    }

    async fn create_project(&self, slug: &str) {
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
    async fn install(&self, org: &str, repos: usize, slug: &str) -> (Duration, u64, u64, i64) {
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

    /// Follows every repository of the project's installations.
    async fn follow_all(&self, slug: &str) -> i64 {
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

    /// Server-side render times of the project's integrations tab: (p50, p95, bytes).
    async fn render(&self, slug: &str) -> (Duration, Duration, usize) {
        let url = format!("{}/projects/{slug}/integrations", self.app);
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
            assert!(html.contains("Connected ·"), "the tab rendered its installation");
            bytes = html.len();
        }
        times.sort();
        (times[RENDERS / 2], times[RENDERS * 95 / 100], bytes)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let stack = Stack::start().await;

    // Markdown tables, as the README shows them.
    println!("\nInstall → processed (webhook, token, every page of GET /installation/repositories, upserts)\n");
    println!("| install on | repositories listed | webhook → `processed` | GitHub API calls | tokens minted |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    let mut per_repo = Vec::new();
    for (org, repos, slug) in [("small-corp", 100, "small"), ("mega-corp", 5000, "mega")] {
        stack.create_project(slug).await;
        let (elapsed, calls, tokens, listed) = stack.install(org, repos, slug).await;
        assert_eq!(listed, repos as i64, "every repository listed");
        println!("| an organization of {repos} repositories | {listed} | {:.0} ms | {calls} | {tokens} |", ms(elapsed));
        per_repo.push(elapsed.as_secs_f64() / repos as f64);
    }
    println!("\ntime per repository, 5,000 vs 100: {:.2}×", per_repo[1] / per_repo[0]);

    println!(
        "\n| integrations tab, server-side render ({RENDERS} renders, 50 repositories a page) | p50 | p95 | HTML |"
    );
    println!("| --- | ---: | ---: | ---: |");
    stack.create_project("thousand").await;
    stack.install("thousand-corp", 1000, "thousand").await;
    stack.create_project("ten").await;
    stack.install("ten-corp", 10, "ten").await;
    let mut p50s = Vec::new();
    for slug in ["ten", "thousand"] {
        let followed = stack.follow_all(slug).await;
        let (p50, p95, bytes) = stack.render(slug).await;
        let kb = bytes.div_ceil(1024);
        println!("| project following {followed} repositories | {:.2} ms | {:.2} ms | {kb} KB |", ms(p50), ms(p95));
        p50s.push(p50.as_secs_f64());
    }
    println!("\nrender time, 1,000 vs 10 followed repositories: {:.2}×\n", p50s[1] / p50s[0]);
}
