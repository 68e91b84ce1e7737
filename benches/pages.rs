//! Pages as a person on a phone gets them, two builds side by side in one run
//! (numbers, not pass/fail). Seeds one database through forgelink and the
//! simulator in this process (a project following 1,000 repositories, one of
//! 10,000 tasks), serves it with the release binary of each build (the build
//! before, `BENCH_BEFORE_BIN` with its site `BENCH_BEFORE_SITE`, and this one),
//! then has `end2end/bench/pages.mjs` load the home page, the integrations tab
//! and the Tasks tab from each in throttled Chromium, cold and warm.
//!
//! Both builds serve the same database, so they must share its migrations.
//! Run it with `scripts/bench pages`.

mod common;

use std::process::{Child, Command, Stdio};

use common::{database_url, free_port, wait_for, Stack};
use serde_json::json;

const DATABASE: &str = "forgelink_bench_pages";

/// A forgelink binary serving the seeded database, its GitHub the simulator.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    async fn start(bin: &str, site: &str, sim: &str) -> Self {
        let port = free_port();
        let child = Command::new(bin)
            .env("DATABASE_URL", database_url(DATABASE))
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_SITE_ROOT", site)
            .env("LEPTOS_ENV", "PROD")
            .env("GITHUB_API_URL", format!("{sim}/api/v3"))
            .env("GITHUB_WEB_URL", sim)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{bin}: {e}"));
        let url = format!("http://127.0.0.1:{port}");
        // The database is seeded and migrated already: listening is ready.
        wait_for(&format!("{url}/readyz")).await;
        Self { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::main]
async fn main() {
    let stack = Stack::start(DATABASE).await;
    stack.create_project("thousand").await;
    stack.install("thousand-corp", 1000, "thousand").await;
    stack.follow_all("thousand").await;
    stack.create_project("history").await;
    stack.install("history-corp", 1, "history").await;
    let seeded = json!({ "issues": 10_000, "comments_per_issue": 0, "author": "octocat" });
    stack.sim_post("/_sim/repos/history-corp/repo-00001/seed", seeded).await;
    stack.import("history", "history-corp/repo-00001").await;
    stack.imports_settled().await;

    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} (scripts/bench pages sets it)"));
    let before = Server::start(&var("BENCH_BEFORE_BIN"), &var("BENCH_BEFORE_SITE"), &stack.sim).await;
    let now = Server::start(&var("FORGELINK_BIN"), &var("LEPTOS_SITE_ROOT"), &stack.sim).await;
    let targets = json!([{ "label": "before", "url": before.url }, { "label": "now", "url": now.url }]);
    let pages = json!([
        { "name": "home page", "path": "/" },
        { "name": "integrations tab, 1,000 repositories", "path": "/projects/thousand/integrations" },
        { "name": "Tasks tab, 10,000 tasks", "path": "/projects/history/tasks" },
    ]);
    let status = Command::new("node")
        .arg("bench/pages.mjs")
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/end2end"))
        .env("BENCH_TARGETS", targets.to_string())
        .env("BENCH_PAGES", pages.to_string())
        .env("BENCH_COOKIE", &stack.cookie)
        .status()
        .expect("node runs");
    assert!(status.success(), "the browser measurements failed");
}
