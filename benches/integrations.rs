//! Installations at scale, in one run (numbers, not pass/fail), forgelink and
//! the GitHub simulator in this process over real HTTP:
//!
//! 1. An install on an organization with 5,000 repositories (and, for the
//!    ratio, one with 100) from the webhook to `processed`: time, GitHub API
//!    calls, installation tokens minted.
//! 2. The integrations tab of a project following 1,000 repositories (and, for
//!    the ratio, 10) rendered on the server: p50/p95 time and page size.
//! 3. Following a repository of 10,000 issues and 30,000 comments (and, for
//!    the ratio, one of 1,000 and 3,000): the import's time, GitHub API calls
//!    and the process's peak memory growth.
//! 4. A change on GitHub → visible in an open Tasks tab (its live message,
//!    then the list it fetches): p50/p99.
//! 5. The Tasks tab of the project of 10,000 tasks (and of 1,000) rendered on
//!    the server, and the plan of its list query.
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
    simulator: github_sim::Simulator,
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
        let simulator = github_sim::serve(sim_listener, sim_config).unwrap().sim;
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let mut stack = Self { app, sim, simulator, pool, http, cookie: String::new() };
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

    /// Waits until no import is in progress (following starts one per repository).
    async fn imports_settled(&self) {
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
    async fn import(&self, slug: &str, repo: &str) -> (Duration, u64, u64) {
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
    /// live message and its fetch of the list showing it, sorted; `None` when
    /// a live message does not come within 10 s.
    async fn live_latencies(
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
                let listed = self
                    .http
                    .post(format!("{}/fn/list_tasks", self.app))
                    .header("cookie", &self.cookie)
                    .header("origin", &self.app)
                    .form(&[("slug", slug), ("filter[state]", "all"), ("filter[page]", "1")])
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                if listed.contains(&title) {
                    break;
                }
            }
            times.push(started.elapsed());
        }
        times.sort();
        Some(times)
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

    /// Server-side render times of a page that must contain `marker`: (p50, p95, bytes).
    async fn render(&self, path: &str, marker: &str) -> (Duration, Duration, usize) {
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
fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The plan of the Tasks tab's list query (`tasks::queries::list`, its filters unset) for `slug`.
async fn list_plan(pool: &PgPool, slug: &str) -> String {
    let rows: Vec<(String,)> = sqlx::query_as(
        "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
         SELECT t.id FROM project_github_repos f
         JOIN github_repos r ON r.id = f.github_repo_id
         JOIN tasks t ON t.github_repo_id = r.id
         LEFT JOIN github_identities g ON g.github_id = t.author_github_id
         LEFT JOIN users u ON u.github_id = t.author_github_id
         WHERE f.project_id = (SELECT id FROM projects WHERE slug = $1) AND (true OR NOT r.private)
           AND t.deleted_at IS NULL AND t.state = 'open'
         ORDER BY t.github_updated_at DESC, t.id DESC LIMIT 50 OFFSET 0",
    )
    .bind(slug)
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter().map(|(line,)| line).collect::<Vec<_>>().join("\n")
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
        stack.imports_settled().await;
        let (p50, p95, bytes) = stack.render(&format!("/projects/{slug}/integrations"), "Connected ·").await;
        let kb = bytes.div_ceil(1024);
        println!("| project following {followed} repositories | {:.2} ms | {:.2} ms | {kb} KB |", ms(p50), ms(p95));
        p50s.push(p50.as_secs_f64());
    }
    println!("\nrender time, 1,000 vs 10 followed repositories: {:.2}×\n", p50s[1] / p50s[0]);

    // Tasks: two repositories with histories, each followed by a project of its own.
    stack.create_project("history").await;
    stack.install("history-corp", 2, "history").await;
    stack.create_project("history-small").await;
    sqlx::query(
        "INSERT INTO project_github_installations (project_id, installation_id)
         SELECT p.id, i.id FROM projects p, github_app_installations i
         WHERE p.slug = 'history-small' AND i.account_login = 'history-corp'",
    )
    .execute(&stack.pool)
    .await
    .unwrap();
    println!("| import of a followed repository | issues | comments | time | GitHub API calls | peak memory growth |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let mut per_item = Vec::new();
    for (slug, name, issues) in [("history-small", "repo-00001", 1_000u64), ("history", "repo-00002", 10_000)] {
        let seeded = json!({ "issues": issues, "comments_per_issue": 3, "author": "octocat" });
        stack.sim_post(&format!("/_sim/repos/history-corp/{name}/seed"), seeded).await;
        let (elapsed, calls, grown) = stack.import(slug, &format!("history-corp/{name}")).await;
        println!(
            "| history-corp/{name} | {issues} | {} | {:.1} s | {calls} | {} MB |",
            issues * 3,
            elapsed.as_secs_f64(),
            grown / 1024
        );
        per_item.push(elapsed.as_secs_f64() / issues as f64);
    }
    println!("\nimport time per issue, 10,000 vs 1,000: {:.2}×", per_item[1] / per_item[0]);

    println!("\n| a change on GitHub → visible in an open Tasks tab (100 changes) | p50 | p99 |");
    println!("| --- | ---: | ---: |");
    match stack.live_latencies("history", "history-corp", "repo-00002", 1, 100).await {
        Some(latencies) => println!(
            "| webhook, worker, NOTIFY, live message, the list fetched again | {:.0} ms | {:.0} ms |",
            ms(latencies[49]),
            ms(latencies[98])
        ),
        None => println!("| not measured: no live message came within 10 s | — | — |"),
    }
    println!("\n| Tasks tab, server-side render ({RENDERS} renders, 50 tasks a page) | p50 | p95 | HTML |");
    println!("| --- | ---: | ---: | ---: |");
    let mut p50s = Vec::new();
    for slug in ["history-small", "history"] {
        let tasks: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM tasks t JOIN project_github_repos f ON f.github_repo_id = t.github_repo_id
             JOIN projects p ON p.id = f.project_id WHERE p.slug = $1",
        )
        .bind(slug)
        .fetch_one(&stack.pool)
        .await
        .unwrap();
        let (p50, p95, bytes) = stack.render(&format!("/projects/{slug}/tasks"), "task-row").await;
        println!("| project of {tasks} tasks | {:.2} ms | {:.2} ms | {} KB |", ms(p50), ms(p95), bytes.div_ceil(1024));
        p50s.push(p50.as_secs_f64());
    }
    println!("\nrender time, 10,000 vs 1,000 tasks: {:.2}×", p50s[1] / p50s[0]);
    println!(
        "\nThe list query's plan (10,000 tasks, open ones, first page):\n\n```\n{}\n```\n",
        list_plan(&stack.pool, "history").await
    );
}
