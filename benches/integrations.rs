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

mod common;

use std::time::Duration;

use common::{Stack, RENDERS};
use serde_json::json;
use sqlx::PgPool;

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
    let stack = Stack::start("forgelink_bench_integrations").await;

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
            "| webhook, worker, NOTIFY, live message, the page fetched again | {:.0} ms | {:.0} ms |",
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
