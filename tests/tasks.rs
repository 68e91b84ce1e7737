//! The mirror of issues, pull requests and comments, fed GitHub's published
//! example payloads (`@octokit/webhooks-examples`, MIT) and hand-made ones
//! where GitHub publishes none (a merged pull request, a comment on one),
//! through the real intake and workers; and who sees what of it.
#![cfg(feature = "ssr")]

mod support;

use serde_json::{json, Value};
use sqlx::PgPool;
use support::{
    deliveries::{deliver, example, examples},
    flows::{create_project, sign_up},
    spawn_app, spawn_stack, wait_until_settled, TestApp,
};

/// The repository of the published examples.
const HELLO_WORLD: i64 = 186853002;

/// What became of the last delivered event: its status, and why.
async fn process(app: &TestApp, pool: &PgPool, event: &str, payload: &Value) -> (String, Option<String>) {
    assert_eq!(deliver(app, event, payload).await.status(), 202);
    wait_until_settled(pool).await;
    let row = sqlx::query!("SELECT status, failure_reason FROM github_events ORDER BY id DESC LIMIT 1")
        .fetch_one(pool)
        .await
        .unwrap();
    (row.status, row.failure_reason)
}

async fn processed(app: &TestApp, pool: &PgPool, event: &str, payload: &Value) {
    let (status, reason) = process(app, pool, event, payload).await;
    assert_eq!(status, "processed", "{event}.{}: {reason:?}", payload["action"]);
}

/// A repository (GitHub id, `owner/name`) that project `slug` follows.
async fn follow(pool: &PgPool, slug: &str, github_id: i64, full_name: &str) {
    let (owner, name) = full_name.split_once('/').unwrap();
    sqlx::query!(
        r#"INSERT INTO github_repos (github_id, owner_login, name, full_name) VALUES ($1, $2, $3, $4)
           ON CONFLICT (github_id) DO NOTHING"#,
        github_id,
        owner,
        name,
        full_name
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query!(
        r#"INSERT INTO project_github_repos (project_id, github_repo_id)
           SELECT p.id, r.id FROM projects p, github_repos r WHERE p.slug = $1 AND r.github_id = $2"#,
        slug,
        github_id
    )
    .execute(pool)
    .await
    .unwrap();
}

/// forgelink with ada's project apollo following the examples' repository; ada signed in.
async fn apollo(pool: &PgPool) -> TestApp {
    let app = spawn_app(pool.clone()).await;
    sign_up(&app, "ada@example.com").await;
    create_project(&app, "apollo").await;
    follow(pool, "apollo", HELLO_WORLD, "Codertocat/Hello-World").await;
    app
}

#[derive(Debug, PartialEq)]
struct Task {
    title: String,
    state: String,
    kind: String,
    draft: bool,
    merged: bool,
    deleted: bool,
    transferred_to: Option<String>,
}

async fn task(pool: &PgPool, repo: i64, number: i32) -> Task {
    sqlx::query_as!(
        Task,
        r#"SELECT t.title, t.state, t.kind, t.draft, t.merged, t.deleted_at IS NOT NULL AS "deleted!", t.transferred_to
           FROM tasks t JOIN github_repos r ON r.id = t.github_repo_id WHERE r.github_id = $1 AND t.number = $2"#,
        repo,
        number
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(pool).await.unwrap()
}

/// `payload` with its `key` object's `updated_at` moved `seconds` after the
/// example's, and `title` (if given) changed.
fn at(mut payload: Value, key: &str, seconds: i64, title: Option<&str>) -> Value {
    let base: chrono::DateTime<chrono::Utc> = payload[key]["updated_at"].as_str().unwrap().parse().unwrap();
    payload[key]["updated_at"] = json!((base + chrono::Duration::seconds(seconds)).to_rfc3339());
    if let Some(title) = title {
        payload[key]["title"] = json!(title);
    }
    payload
}

#[sqlx::test]
async fn every_published_issues_action_is_the_issue_as_it_is_now(pool: PgPool) {
    let app = apollo(&pool).await;
    processed(&app, &pool, "issues", &example("issues", "opened")).await;
    let row = sqlx::query!(
        r#"SELECT t.title, t.state, t.kind, t.labels, t.html_url, g.login, t.comment_count, t.issue_github_id
           FROM tasks t JOIN github_identities g ON g.github_id = t.author_github_id"#
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (row.title.as_str(), row.state.as_str(), row.kind.as_str()),
        ("Spelling error in the README file", "open", "issue")
    );
    assert_eq!(row.labels, json!([{"name": "bug", "color": "d73a4a"}]));
    assert_eq!((row.login.as_str(), row.issue_github_id), ("Codertocat", Some(444500041)));
    assert_eq!(row.html_url, "https://github.com/Codertocat/Hello-World/issues/1");

    // Each published action of issue 1, a second newer than the last: applied as it says.
    let mut applied = Vec::new();
    for (n, example) in examples()
        .into_iter()
        .filter(|e| e.event == "issues" && e.payload["issue"]["id"] == 444500041)
        .filter(|e| !["deleted", "transferred", "pinned", "unpinned"].contains(&e.payload["action"].as_str().unwrap()))
        .enumerate()
    {
        let action = example.payload["action"].as_str().unwrap().to_owned();
        let title = format!("after {action} #{n}");
        let mut payload = example.payload;
        payload["issue"]["title"] = json!(title);
        payload["issue"]["updated_at"] = json!(format!("2030-01-01T00:{:02}:00Z", n));
        processed(&app, &pool, "issues", &payload).await;
        assert_eq!(task(&pool, HELLO_WORLD, 1).await.title, title, "{action}");
        applied.push(action);
    }
    assert!(applied.len() >= 15, "{applied:?}");
    assert_eq!(count(&pool, "tasks").await, 1, "one issue, one task");

    // An action GitHub adds later means the same, and is applied too.
    let mut new = example("issues", "edited");
    new["issue"]["title"] = json!("after an action new to forgelink");
    new["issue"]["updated_at"] = json!("2031-01-01T00:00:00Z");
    new["action"] = json!("reviewed_by_robots");
    processed(&app, &pool, "issues", &new).await;
    assert_eq!(task(&pool, HELLO_WORLD, 1).await.title, "after an action new to forgelink");
}

#[sqlx::test]
async fn order_never_matters_older_and_repeated_deliveries_change_nothing(pool: PgPool) {
    let app = apollo(&pool).await;
    let closed = {
        let mut p = at(example("issues", "edited"), "issue", 60, Some("Closed as done"));
        p["action"] = json!("closed");
        p["issue"]["state"] = json!("closed");
        p["issue"]["state_reason"] = json!("completed");
        p
    };
    let reopened = {
        let mut p = at(example("issues", "reopened"), "issue", 0, None);
        p["issue"]["updated_at"] = json!("2019-05-15T15:20:30Z");
        p
    };
    // Closed (at +60 s) arrives first; the reopen it followed on GitHub (+12 s) arrives late.
    processed(&app, &pool, "issues", &closed).await;
    let (status, reason) = process(&app, &pool, "issues", &reopened).await;
    assert_eq!(status, "ignored");
    assert!(reason.unwrap().contains("as new or newer is stored"));
    assert_eq!(task(&pool, HELLO_WORLD, 1).await.state, "closed", "the newer close stands");
    let reason: Option<String> = sqlx::query_scalar!("SELECT state_reason FROM tasks").fetch_one(&pool).await.unwrap();
    assert_eq!(reason.as_deref(), Some("completed"));

    // The same delivery again (GitHub's redelivery, or a retry): the same rows.
    let (status, _) = process(&app, &pool, "issues", &closed).await;
    assert_eq!(status, "ignored");
    assert_eq!(count(&pool, "tasks").await, 1);
    assert_eq!(task(&pool, HELLO_WORLD, 1).await.title, "Closed as done");
}

#[sqlx::test]
async fn a_deleted_issue_is_a_tombstone_that_a_late_delivery_does_not_bring_back(pool: PgPool) {
    let app = apollo(&pool).await;
    processed(&app, &pool, "issues", &example("issues", "opened")).await;
    processed(&app, &pool, "issues", &example("issues", "deleted")).await;
    assert!(task(&pool, HELLO_WORLD, 1).await.deleted);
    // An edit made before the deletion, delivered after it, with a newer time than any stored.
    let late = at(example("issues", "edited"), "issue", 100_000_000, Some("Resurrected?"));
    let (status, reason) = process(&app, &pool, "issues", &late).await;
    assert_eq!(status, "ignored");
    assert!(reason.unwrap().contains("deleted or moved"));
    let kept = task(&pool, HELLO_WORLD, 1).await;
    assert!(kept.deleted && kept.title != "Resurrected?");
    let listed = app.get("/api/projects/apollo/tasks?state=all").await.json::<Value>().await.unwrap();
    assert_eq!(listed["total"], 0, "a deleted task is not listed");
    let id: i64 = sqlx::query_scalar!("SELECT id FROM tasks").fetch_one(&pool).await.unwrap();
    assert_eq!(app.get(&format!("/api/projects/apollo/tasks/{id}")).await.status(), 404, "nor shown");

    // A deletion of an issue never seen is a tombstone too.
    sqlx::query!("DELETE FROM tasks").execute(&pool).await.unwrap();
    processed(&app, &pool, "issues", &example("issues", "deleted")).await;
    let (status, _) = process(&app, &pool, "issues", &example("issues", "opened")).await;
    assert_eq!(status, "ignored");
    assert!(task(&pool, HELLO_WORLD, 1).await.deleted);
}

#[sqlx::test]
async fn a_transferred_issue_is_marked_moved_and_arrives_in_its_new_repository(pool: PgPool) {
    let app = apollo(&pool).await;
    let mut transfer = example("issues", "transferred");
    transfer["repository"]["private"] = json!(false); // the example's is private: this is about the transfer
    let (from, from_name) =
        (transfer["repository"]["id"].as_i64().unwrap(), transfer["repository"]["full_name"].as_str().unwrap());
    follow(&pool, "apollo", from, from_name).await;
    processed(&app, &pool, "issues", &transfer).await;
    let moved = task(&pool, from, 1).await;
    assert_eq!(moved.transferred_to.as_deref(), transfer["changes"]["new_issue"]["html_url"].as_str());
    let arrived = task(&pool, HELLO_WORLD, 1).await;
    assert_eq!(arrived.title, transfer["changes"]["new_issue"]["title"].as_str().unwrap());
    assert!(!arrived.deleted && arrived.transferred_to.is_none());
    // The moved one is shown moved, linking to where it went.
    let listed = app.get("/api/projects/apollo/tasks?state=all").await.json::<Value>().await.unwrap();
    assert_eq!(listed["total"], 2);
    let old = listed["tasks"].as_array().unwrap().iter().find(|t| t["repository"] == from_name).unwrap();
    assert_eq!(old["transferred_to"], transfer["changes"]["new_issue"]["html_url"]);
    assert_eq!(old["moved"], true);
    // A visitor is told it moved, not where (the destination may be private).
    let listed: Value = app.another_browser().get("/api/projects/apollo/tasks?state=all").await.json().await.unwrap();
    let old = listed["tasks"].as_array().unwrap().iter().find(|t| t["repository"] == from_name).unwrap();
    assert_eq!((old["moved"].clone(), old["transferred_to"].clone()), (json!(true), Value::Null));
}

#[sqlx::test]
async fn pull_requests_are_tasks_merged_draft_and_one_row_with_their_issue(pool: PgPool) {
    let app = apollo(&pool).await;
    processed(&app, &pool, "pull_request", &example("pull_request", "opened")).await;
    let opened = task(&pool, HELLO_WORLD, 2).await;
    assert_eq!(
        (opened.kind.as_str(), opened.state.as_str(), opened.draft, opened.merged),
        ("pull_request", "open", false, false)
    );

    processed(&app, &pool, "pull_request", &at(example("pull_request", "converted_to_draft"), "pull_request", 1, None))
        .await;
    assert!(task(&pool, HELLO_WORLD, 2).await.draft);
    processed(&app, &pool, "pull_request", &at(example("pull_request", "ready_for_review"), "pull_request", 2, None))
        .await;
    assert!(!task(&pool, HELLO_WORLD, 2).await.draft);

    // Merged: GitHub says `closed` with `merged: true` (it publishes no example of it).
    let mut merged = at(example("pull_request", "closed"), "pull_request", 3, None);
    merged["pull_request"]["merged"] = json!(true);
    merged["pull_request"]["merged_at"] = merged["pull_request"]["closed_at"].clone();
    processed(&app, &pool, "pull_request", &merged).await;
    let done = task(&pool, HELLO_WORLD, 2).await;
    assert_eq!((done.state.as_str(), done.merged), ("closed", true));

    // A comment on it arrives with the pull request as an issue (its own id): the same task.
    let mut comment = at(example("issue_comment", "created"), "issue", 10, None);
    comment["issue"]["number"] = json!(2);
    comment["issue"]["id"] = json!(999_000_002);
    comment["issue"]["state"] = json!("closed");
    comment["issue"]["pull_request"] = json!({"url": "x", "merged_at": merged["pull_request"]["merged_at"]});
    comment["issue"]["updated_at"] = json!("2030-01-01T00:00:00Z");
    processed(&app, &pool, "issue_comment", &comment).await;
    assert_eq!(count(&pool, "tasks").await, 1);
    let ids =
        sqlx::query!("SELECT issue_github_id, pull_github_id, kind, merged FROM tasks").fetch_one(&pool).await.unwrap();
    assert_eq!((ids.issue_github_id, ids.pull_github_id), (Some(999_000_002), Some(279147437)));
    assert_eq!((ids.kind.as_str(), ids.merged), ("pull_request", true), "still a merged pull request");
    let listed =
        app.get("/api/projects/apollo/tasks?state=closed&kind=pull_request").await.json::<Value>().await.unwrap();
    assert_eq!(listed["tasks"][0]["merged"], true);
    assert_eq!(listed["tasks"][0]["comments"].as_i64(), comment["issue"]["comments"].as_i64());
}

#[sqlx::test]
async fn comments_follow_their_own_times_and_stay_deleted(pool: PgPool) {
    let app = apollo(&pool).await;
    processed(&app, &pool, "issue_comment", &example("issue_comment", "created")).await;
    let shown = detail(&app).await;
    assert_eq!(shown["comments"].as_array().unwrap().len(), 1);
    assert_eq!(shown["comments"][0]["author"]["login"], "Codertocat");

    let mut edited = example("issue_comment", "edited");
    edited["comment"]["body"] = json!("Edited later");
    edited["comment"]["updated_at"] = json!("2030-01-01T00:00:00Z");
    processed(&app, &pool, "issue_comment", &edited).await;
    // An older edit arriving after it changes nothing.
    let mut older = example("issue_comment", "edited");
    older["comment"]["body"] = json!("Edited earlier");
    older["comment"]["updated_at"] = json!("2029-01-01T00:00:00Z");
    assert_eq!(process(&app, &pool, "issue_comment", &older).await.0, "ignored");
    assert_eq!(detail(&app).await["comments"][0]["body"], "Edited later");

    processed(&app, &pool, "issue_comment", &example("issue_comment", "deleted")).await;
    assert_eq!(detail(&app).await["comments"].as_array().unwrap().len(), 0);
    let mut late = edited.clone();
    late["comment"]["updated_at"] = json!("2031-01-01T00:00:00Z");
    assert_eq!(process(&app, &pool, "issue_comment", &late).await.0, "ignored", "a deleted comment stays deleted");
    assert_eq!(detail(&app).await["comments"].as_array().unwrap().len(), 0);
}

/// Ada's view of the first task listed, with its comments.
async fn detail(app: &TestApp) -> Value {
    let listed: Value = app.get("/api/projects/apollo/tasks?state=all").await.json().await.unwrap();
    let id = listed["tasks"][0]["id"].as_i64().unwrap();
    app.get(&format!("/api/projects/apollo/tasks/{id}")).await.json().await.unwrap()
}

#[sqlx::test]
async fn events_of_repositories_no_project_follows_are_ignored_saying_so(pool: PgPool) {
    let app = apollo(&pool).await;
    sqlx::query!("UPDATE project_github_repos SET following = false").execute(&pool).await.unwrap();
    let (status, reason) = process(&app, &pool, "issues", &example("issues", "opened")).await;
    assert_eq!((status.as_str(), reason.as_deref()), ("ignored", Some("no project follows Codertocat/Hello-World")));
    let mut elsewhere = example("issues", "opened");
    elsewhere["repository"]["id"] = json!(1);
    elsewhere["repository"]["full_name"] = json!("someone/else");
    let (status, reason) = process(&app, &pool, "issues", &elsewhere).await;
    assert_eq!(
        (status.as_str(), reason.as_deref()),
        ("ignored", Some("someone/else is not a repository forgelink knows"))
    );
    assert_eq!(count(&pool, "tasks").await, 0);
}

/// forgelink and the simulator, with ada's apollo following octocat/hello-world
/// through an installation; the installation's and the repository's GitHub ids.
async fn simulated(pool: &PgPool) -> (support::Stack, u64, u64) {
    let stack = spawn_stack(pool.clone()).await;
    let installation = stack.gh.install("octocat", "octocat", Some(&["hello-world"])).await;
    sign_up(&stack.app, "ada@example.com").await;
    create_project(&stack.app, "apollo").await;
    let repo = stack.gh.sim.sim.world().repo_by_name("octocat", "hello-world").unwrap().id;
    support::until("the repository is listed", 30, async || count(pool, "github_repos").await == 1).await;
    follow(pool, "apollo", repo as i64, "octocat/hello-world").await;
    (stack, installation, repo)
}

#[sqlx::test]
async fn a_tie_with_other_content_is_settled_by_reading_github(pool: PgPool) {
    let (stack, installation, repo) = simulated(&pool).await;
    let octocat = stack.gh.sim.sim.world().account_by_login("octocat").unwrap().id;
    stack.gh.sim.sim.open_issue(repo, octocat, "The real title", Some("as on GitHub")).unwrap();
    wait_until_settled(&pool).await;
    support::until("the opened issue is mirrored", 30, async || count(&pool, "tasks").await == 1).await;

    // Another payload with the same time but other content: only GitHub can say which is true.
    let token = stack.gh.installation_token(installation).await;
    let issue: Value = stack.gh.api_get("/repos/octocat/hello-world/issues/1", &token).await.json().await.unwrap();
    let mut tie = example("issues", "edited");
    tie["issue"] = issue;
    tie["issue"]["title"] = json!("A stale title");
    tie["repository"]["id"] = json!(repo);
    tie["repository"]["full_name"] = json!("octocat/hello-world");
    tie["installation"] = json!({"id": installation});
    processed(&stack.app, &pool, "issues", &tie).await;
    assert_eq!(task(&pool, repo as i64, 1).await.title, "The real title", "read again from GitHub");
}

#[sqlx::test]
async fn a_private_repositorys_tasks_are_for_the_projects_owner_only(pool: PgPool) {
    let app = apollo(&pool).await;
    let mut public = example("issues", "opened");
    public["issue"]["title"] = json!("A public bug");
    processed(&app, &pool, "issues", &public).await;
    follow(&pool, "apollo", 77, "Codertocat/secret").await;
    // Reached through an installation attached to the project.
    sqlx::query!(
        r#"WITH i AS (INSERT INTO github_app_installations (github_id, origin, state) VALUES (7, 'github', 'processed') RETURNING id),
                a AS (INSERT INTO project_github_installations (project_id, installation_id) SELECT p.id, i.id FROM projects p, i)
           UPDATE github_repos SET private = true, installation_id = (SELECT id FROM i) WHERE github_id = 77"#
    )
    .execute(&pool)
    .await
    .unwrap();
    let mut private = example("issues", "opened");
    private["repository"]["id"] = json!(77);
    private["repository"]["full_name"] = json!("Codertocat/secret");
    private["repository"]["private"] = json!(true);
    private["issue"]["id"] = json!(5);
    private["issue"]["title"] = json!("A private plan");
    processed(&app, &pool, "issues", &private).await;
    let private_id: i64 =
        sqlx::query_scalar!("SELECT id FROM tasks WHERE title = 'A private plan'").fetch_one(&pool).await.unwrap();

    // The owner sees both, in the JSON API and the page.
    let listed: Value = app.get("/api/projects/apollo/tasks").await.json().await.unwrap();
    assert_eq!(listed["total"], 2);
    assert_eq!(app.get(&format!("/api/projects/apollo/tasks/{private_id}")).await.status(), 200);
    let page = app.get("/projects/apollo/tasks").await.text().await.unwrap();
    assert!(page.contains("A private plan") && page.contains("A public bug"));

    // A visitor, signed in or not, sees the public one only, everywhere.
    let stranger = app.another_browser();
    sign_up(&stranger, "eve@example.com").await;
    for (who, browser) in [("a signed-in visitor", &stranger), ("an anonymous visitor", &app.another_browser())] {
        let listed: Value = browser.get("/api/projects/apollo/tasks").await.json().await.unwrap();
        assert_eq!(listed["total"], 1, "{who}");
        assert_eq!(listed["tasks"][0]["title"], "A public bug", "{who}");
        let one = browser.get(&format!("/api/projects/apollo/tasks/{private_id}")).await;
        assert_eq!(one.status(), 404, "{who}: as for a task that does not exist");
        let searched: Value = browser.get("/api/projects/apollo/tasks?q=plan").await.json().await.unwrap();
        assert_eq!(searched["total"], 0, "{who}: not even by search");
        let page = browser.get("/projects/apollo/tasks").await.text().await.unwrap();
        assert!(page.contains("A public bug") && !page.contains("A private plan"), "{who}");
        let page = browser.get(&format!("/projects/apollo/tasks/{private_id}")).await.text().await.unwrap();
        assert!(!page.contains("A private plan"), "{who}: the task page");
        let fn_call = browser.post_form("/fn/get_task", &[("slug", "apollo"), ("id", &private_id.to_string())]).await;
        assert_eq!(fn_call.status(), 404, "{who}: the server function");
        let repos: Vec<String> = {
            let listed: Value = browser.get("/api/projects/apollo/tasks").await.json().await.unwrap();
            listed["tasks"].as_array().unwrap().iter().map(|t| t["repository"].as_str().unwrap().to_owned()).collect()
        };
        assert!(!repos.iter().any(|r| r.contains("secret")), "{who}");
    }
    let page = stranger.get("/projects/apollo/tasks").await.text().await.unwrap();
    assert!(!page.contains("Codertocat/secret"), "the private repository is not even offered as a filter");

    // Live: a private change reaches the owner's open page and not the visitor's.
    let mut owner_stream = app.get("/live/projects/apollo/tasks").await;
    let mut visitor_stream = stranger.get("/live/projects/apollo/tasks").await;
    assert_eq!(visitor_stream.status(), 200);
    let quiet = std::time::Duration::from_millis(600);
    assert!(support::next_change(&mut owner_stream, quiet).await, "the first message");
    assert!(support::next_change(&mut visitor_stream, quiet).await, "the first message");
    while support::next_change(&mut owner_stream, quiet).await {}
    while support::next_change(&mut visitor_stream, quiet).await {}
    let edited = at(private.clone(), "issue", 1000, Some("A private plan, revised"));
    processed(&app, &pool, "issues", &edited).await;
    let wait = std::time::Duration::from_secs(3);
    assert!(support::next_change(&mut owner_stream, wait).await, "the owner hears of it");
    assert!(!support::next_change(&mut visitor_stream, wait).await, "the visitor does not");
    let edited = at(public.clone(), "issue", 1000, Some("A public bug, revised"));
    processed(&app, &pool, "issues", &edited).await;
    assert!(support::next_change(&mut visitor_stream, wait).await, "a public change reaches the visitor");

    // The repository leaves the project's installations (another project may
    // keep it mirrored): its private tasks are no longer the owner's to see either.
    sqlx::query!("UPDATE github_repos SET installation_id = NULL WHERE github_id = 77").execute(&pool).await.unwrap();
    let listed: Value = app.get("/api/projects/apollo/tasks").await.json().await.unwrap();
    assert_eq!(listed["total"], 1);
    assert_eq!(app.get(&format!("/api/projects/apollo/tasks/{private_id}")).await.status(), 404);
}

#[sqlx::test]
async fn a_payload_saying_the_repository_is_private_makes_its_tasks_private_at_once(pool: PgPool) {
    let app = apollo(&pool).await;
    let mut opened = example("issues", "opened");
    opened["repository"]["private"] = json!(true);
    processed(&app, &pool, "issues", &opened).await;
    let private: bool = sqlx::query_scalar!("SELECT private FROM github_repos").fetch_one(&pool).await.unwrap();
    assert!(private, "before the repository.privatized event arrives");
    let listed: Value = app.another_browser().get("/api/projects/apollo/tasks").await.json().await.unwrap();
    assert_eq!(listed["total"], 0, "a visitor sees nothing of it");
}

#[sqlx::test]
async fn hostile_markdown_reaches_no_page_or_answer_as_markup(pool: PgPool) {
    let app = apollo(&pool).await;
    let mut opened = example("issues", "opened");
    opened["issue"]["title"] = json!("</title><img src=x onerror=alert(1)>");
    opened["issue"]["body"] = json!("Hello <script>alert(2)</script>\n\n[x](javascript:alert(3)) <iframe src=//evil.example></iframe> <b onmouseover=alert(4)>bold</b>");
    processed(&app, &pool, "issues", &opened).await;
    let listed: Value = app.get("/api/projects/apollo/tasks").await.json().await.unwrap();
    let id = listed["tasks"][0]["id"].as_i64().unwrap();
    let detail: Value = app.get(&format!("/api/projects/apollo/tasks/{id}")).await.json().await.unwrap();
    let html = detail["body_html"].as_str().unwrap();
    for banned in ["<script", "javascript:", "<iframe", "onmouseover"] {
        assert!(!html.contains(banned), "{banned} in {html}");
    }
    assert!(html.contains("<b>bold</b>"), "{html}");
    assert_eq!(detail["body"], opened["issue"]["body"], "the Markdown itself as written");
    let page = app.get(&format!("/projects/apollo/tasks/{id}")).await.text().await.unwrap();
    for banned in ["<script>alert", "javascript:alert", "<iframe", "onmouseover", "<img src=x onerror"] {
        assert!(
            !page.contains(banned),
            "{banned} in the page: {}",
            page.find(banned).map(|i| &page[i.saturating_sub(300)..i + 100]).unwrap_or("")
        );
    }
    assert!(page.contains("&lt;img src=x onerror=alert(1)"), "the title is text");
}

#[sqlx::test]
async fn the_list_filters_and_searches_and_says_what_it_cannot_read(pool: PgPool) {
    let app = apollo(&pool).await;
    for (number, title, state, label) in [
        (11, "Crash on start", "open", "bug"),
        (12, "Docs typo", "closed", "docs"),
        (13, "Crashes when idle", "open", "docs"),
    ] {
        let mut p = example("issues", "opened");
        p["issue"]["id"] = json!(1000 + number);
        p["issue"]["number"] = json!(number);
        p["issue"]["title"] = json!(title);
        p["issue"]["state"] = json!(state);
        p["issue"]["labels"] = json!([{"name": label, "color": "ededed"}]);
        processed(&app, &pool, "issues", &p).await;
    }
    processed(&app, &pool, "pull_request", &example("pull_request", "opened")).await;
    let titles = |query: &'static str| {
        let app = &app;
        async move {
            let listed: Value = app.get(&format!("/api/projects/apollo/tasks?{query}")).await.json().await.unwrap();
            let mut titles: Vec<String> =
                listed["tasks"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap().to_owned()).collect();
            titles.sort();
            titles
        }
    };
    assert_eq!(titles("").await, ["Crash on start", "Crashes when idle", "Update the README with new information."]);
    assert_eq!(titles("state=closed").await, ["Docs typo"]);
    assert_eq!(titles("state=all&kind=issue&label=docs").await, ["Crashes when idle", "Docs typo"]);
    assert_eq!(
        titles("state=all&q=crash").await,
        ["Crash on start", "Crashes when idle"],
        "stemmed: crash finds crashes"
    );
    assert_eq!(titles("state=all&author=codertocat&repo=codertocat/hello-world&kind=pull_request").await.len(), 1);
    assert!(titles("author=nobody").await.is_empty());
    let bad = app.get("/api/projects/apollo/tasks?state=shut").await;
    assert_eq!(bad.status(), 400);
    let message: Value = bad.json().await.unwrap();
    assert!(message["data"]["message"].as_str().unwrap().contains("open, closed or all"));
    assert_eq!(app.get("/api/projects/nowhere/tasks").await.status(), 404);
    let page = app.get("/projects/apollo/tasks?state=all&q=crash").await.text().await.unwrap();
    assert!(page.contains("Crashes when idle") && !page.contains("Docs typo"), "the page filters before hydration");
}

#[sqlx::test]
async fn a_pull_request_opened_commented_on_and_merged_on_github_is_one_merged_task(pool: PgPool) {
    let (stack, installation, _) = simulated(&pool).await;
    let token = stack.gh.installation_token(installation).await;
    let opened = stack
        .gh
        .api_post(
            "/repos/octocat/hello-world/pulls",
            &token,
            json!({"title": "Faster start", "head": "fast", "base": "main", "draft": true}),
        )
        .await;
    assert_eq!(opened.status(), 201);
    let number = opened.json::<Value>().await.unwrap()["number"].as_i64().unwrap();
    let octocat = stack.gh.sim.sim.world().account_by_login("octocat").unwrap().id;
    let repo = stack.gh.sim.sim.world().repo_by_name("octocat", "hello-world").unwrap().id;
    stack.gh.sim.sim.set_draft(repo, number as u64, octocat, false).unwrap();
    let commented = stack
        .gh
        .api_post(
            &format!("/repos/octocat/hello-world/issues/{number}/comments"),
            &token,
            json!({"body": "Looks good"}),
        )
        .await;
    assert_eq!(commented.status(), 201);
    let merged = stack
        .gh
        .http
        .put(format!("{}/repos/octocat/hello-world/pulls/{number}/merge", stack.gh.api))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(merged.status(), 200);
    support::until("the merge is mirrored", 30, async || {
        sqlx::query_scalar!("SELECT merged FROM tasks").fetch_optional(&pool).await.unwrap() == Some(true)
    })
    .await;
    wait_until_settled(&pool).await;
    // Each applied, or found applied already: GitHub's times have one-second
    // steps, so a tie in one second is read again from GitHub, which may
    // already show what a later delivery brings.
    let events =
        sqlx::query!("SELECT event, action, status FROM github_events WHERE event <> 'installation' ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    let actions: Vec<String> =
        events.iter().map(|e| format!("{}.{}", e.event, e.action.as_deref().unwrap_or(""))).collect();
    assert_eq!(
        actions,
        ["pull_request.opened", "pull_request.ready_for_review", "issue_comment.created", "pull_request.closed"]
    );
    let statuses: Vec<&str> = events.iter().map(|e| e.status.as_str()).collect();
    assert!(statuses.iter().all(|s| *s == "processed" || *s == "ignored"), "{statuses:?}");
    let row =
        sqlx::query!("SELECT kind, state, draft, merged, issue_github_id, pull_github_id, comment_count FROM tasks")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((row.kind.as_str(), row.state.as_str(), row.draft, row.merged), ("pull_request", "closed", false, true));
    assert!(row.issue_github_id.is_some() && row.pull_github_id.is_some() && row.issue_github_id != row.pull_github_id);
    assert_eq!(row.comment_count, 1);
    assert_eq!(count(&pool, "task_comments").await, 1);
}

#[sqlx::test]
async fn an_issue_labeled_then_deleted_on_github_shows_its_label_then_is_gone(pool: PgPool) {
    let (stack, _, repo) = simulated(&pool).await;
    let sim = &stack.gh.sim.sim;
    let octocat = sim.world().account_by_login("octocat").unwrap().id;
    sim.open_issue(repo, octocat, "Needs triage", None).unwrap();
    sim.label_issue(repo, 1, octocat, "bug").unwrap();
    support::until("the label is mirrored", 30, async || {
        sqlx::query_scalar!("SELECT labels FROM tasks").fetch_optional(&pool).await.unwrap()
            == Some(json!([{"name": "bug", "color": "ededed"}]))
    })
    .await;
    sim.delete_issue(repo, 1, octocat).unwrap();
    support::until("the deletion is mirrored", 30, async || task(&pool, repo as i64, 1).await.deleted).await;
    let listed: Value = stack.app.get("/api/projects/apollo/tasks?state=all").await.json().await.unwrap();
    assert_eq!(listed["total"], 0);
}

#[sqlx::test]
async fn tasks_no_longer_synced_are_marked_and_filterable(pool: PgPool) {
    let (stack, _, repo) = simulated(&pool).await;
    // Attached to the project, as installing from its integrations tab does.
    sqlx::query!(
        r#"INSERT INTO project_github_installations (project_id, installation_id)
           SELECT p.id, i.id FROM projects p, github_app_installations i"#
    )
    .execute(&pool)
    .await
    .unwrap();
    let octocat = stack.gh.sim.sim.world().account_by_login("octocat").unwrap().id;
    stack.gh.sim.sim.open_issue(repo, octocat, "Kept after unfollowing", None).unwrap();
    support::until("the issue is mirrored", 30, async || count(&pool, "tasks").await == 1).await;
    let listed = |query: &'static str| {
        let app = &stack.app;
        async move {
            let listed: Value = app.get(&format!("/api/projects/apollo/tasks?{query}")).await.json().await.unwrap();
            let synced: Vec<bool> =
                listed["tasks"].as_array().unwrap().iter().map(|t| t["synced"].as_bool().unwrap()).collect();
            synced
        }
    };
    assert_eq!(listed("").await, [true]);
    assert_eq!(listed("sync=synced").await, [true]);
    assert!(listed("sync=not_synced").await.is_empty());

    sqlx::query!("UPDATE project_github_repos SET following = false").execute(&pool).await.unwrap();
    assert_eq!(listed("").await, [false], "kept, marked");
    assert!(listed("sync=synced").await.is_empty());
    assert_eq!(listed("sync=not_synced").await, [false]);
    let page = stack.app.get("/projects/apollo/tasks?sync=not_synced").await.text().await.unwrap();
    assert!(page.contains("Kept after unfollowing") && page.contains("no longer synced"));
    let bad = stack.app.get("/api/projects/apollo/tasks?sync=maybe").await;
    assert_eq!(bad.status(), 400);
    let message: Value = bad.json().await.unwrap();
    assert!(message["data"]["message"].as_str().unwrap().contains("synced or not_synced"));
}

/// The GitHub ids a task is assigned to, as stored.
async fn assignees(pool: &PgPool, number: i32) -> Option<Value> {
    sqlx::query_scalar!("SELECT assignees FROM tasks WHERE number = $1 AND transferred_to IS NULL", number)
        .fetch_optional(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn assignees_set_on_github_are_mirrored_for_issues_and_pull_requests(pool: PgPool) {
    let (stack, installation, repo) = simulated(&pool).await;
    let sim = &stack.gh.sim.sim;
    let octocat = sim.world().account_by_login("octocat").unwrap().id;
    sim.open_issue(repo, octocat, "Who takes this?", None).unwrap();
    sim.open_pull(repo, octocat, "A pull request", None, false).unwrap();
    sim.set_assignee(repo, 1, octocat, "octocat", true).unwrap();
    assert!(sim.set_assignee(repo, 1, octocat, "mona", true).is_err(), "mona has no access to octocat's repository");
    support::until("the issue's assignee is mirrored", 30, async || {
        assignees(&pool, 1).await == Some(json!([octocat]))
    })
    .await;

    // Through the REST API, as an App would: logins that cannot be assigned are passed over.
    let token = stack.gh.installation_token(installation).await;
    let url = |number: u64| format!("{}/repos/octocat/hello-world/issues/{number}/assignees", stack.gh.api);
    let body = json!({"assignees": ["octocat", "mona"]});
    let added = stack.gh.http.post(url(2)).bearer_auth(&token).json(&body).send().await.unwrap();
    assert_eq!(added.status(), 201);
    let added: Value = added.json().await.unwrap();
    assert_eq!(
        (added["assignee"]["login"].clone(), added["assignees"].as_array().unwrap().len()),
        (json!("octocat"), 1)
    );
    let removed = stack.gh.http.delete(url(1)).bearer_auth(&token).json(&body).send().await.unwrap();
    assert_eq!(removed.status(), 200);
    support::until("both changes are mirrored", 30, async || {
        assignees(&pool, 2).await == Some(json!([octocat])) && assignees(&pool, 1).await == Some(json!([]))
    })
    .await;
    wait_until_settled(&pool).await;
    let events =
        sqlx::query!("SELECT event, action, status FROM github_events WHERE action LIKE '%assigned' ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    let events: Vec<String> =
        events.iter().map(|e| format!("{}.{} {}", e.event, e.action.as_deref().unwrap_or(""), e.status)).collect();
    assert_eq!(events, ["issues.assigned processed", "pull_request.assigned processed", "issues.unassigned processed"]);
}

#[sqlx::test]
async fn an_issue_transferred_on_github_is_marked_moved_and_arrives_with_its_comments(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    let installation = stack.gh.install("forge-demo", "octocat", Some(&["api", "web"])).await;
    sign_up(&stack.app, "ada@example.com").await;
    create_project(&stack.app, "apollo").await;
    support::until("the repositories are listed", 30, async || count(&pool, "github_repos").await == 2).await;
    let sim = &stack.gh.sim.sim;
    let (api, web) = {
        let world = sim.world();
        (world.repo_by_name("forge-demo", "api").unwrap().id, world.repo_by_name("forge-demo", "web").unwrap().id)
    };
    follow(&pool, "apollo", api as i64, "forge-demo/api").await;
    follow(&pool, "apollo", web as i64, "forge-demo/web").await;
    let octocat = sim.world().account_by_login("octocat").unwrap().id;
    sim.open_issue(api, octocat, "Belongs in the front end", None).unwrap();
    sim.set_assignee(api, 1, octocat, "mona", true).unwrap();
    let (_, comment) = sim.add_comment(api, 1, octocat, "Moving this to web").unwrap();
    support::until("the comment is mirrored", 30, async || count(&pool, "task_comments").await == 1).await;

    let moved = sim.transfer_issue(api, 1, octocat, "web").unwrap();
    assert!(sim.transfer_issue(web, moved.number, octocat, "nowhere").is_err());
    let there = format!("{}/forge-demo/web/issues/{}", stack.gh.web, moved.number);
    support::until("the old task is marked moved", 30, async || {
        task(&pool, api as i64, 1).await.transferred_to.as_deref() == Some(there.as_str())
    })
    .await;
    support::until("the comment follows the issue", 30, async || {
        sqlx::query_scalar!(
            "SELECT r.github_id FROM task_comments c JOIN tasks t ON t.id = c.task_id JOIN github_repos r ON r.id = t.github_repo_id WHERE c.github_id = $1",
            comment.id as i64
        )
        .fetch_one(&pool)
        .await
        .unwrap()
            == web as i64
    })
    .await;
    wait_until_settled(&pool).await;
    let arrived = task(&pool, web as i64, moved.number as i32).await;
    assert_eq!((arrived.title.as_str(), arrived.transferred_to), ("Belongs in the front end", None));
    let mona = sim.world().account_by_login("mona").unwrap().id;
    assert_eq!(assignees(&pool, moved.number as i32).await, Some(json!([mona])));
    let listed: Value = stack.app.get("/api/projects/apollo/tasks?repo=forge-demo/web").await.json().await.unwrap();
    assert_eq!((listed["total"].clone(), listed["tasks"][0]["comments"].clone()), (json!(1), json!(1)));
    let page = stack.app.get(&format!("/api/projects/apollo/tasks/{}", listed["tasks"][0]["id"])).await;
    let page: Value = page.json().await.unwrap();
    assert_eq!(page["comments"][0]["body"], "Moving this to web");

    // GitHub answers the old address with a redirect to the new one.
    let token = stack.gh.installation_token(installation).await;
    let old = stack.gh.api_get("/repos/forge-demo/api/issues/1", &token).await;
    assert_eq!(old.status(), 301);
    let location = old.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, format!("{}/repos/forge-demo/web/issues/{}", stack.gh.api, moved.number));
}

/// Tasks `from..=to` of the examples' repository, each by an author of its
/// own, labelled, with a comment.
async fn seed_tasks(pool: &PgPool, from: i32, to: i32) {
    sqlx::query(
        "INSERT INTO github_identities (github_id, login) SELECT 900000 + n, 'author-' || n FROM generate_series($1, $2) n",
    )
    .bind(from)
    .bind(to)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        r#"INSERT INTO tasks (github_repo_id, issue_github_id, number, kind, title, state, labels, author_github_id,
                              html_url, comment_count, opened_at, github_updated_at, digest)
           SELECT r.id, 800000 + n, n, 'issue', 'Seeded task ' || n, 'open', '[{"name": "bug", "color": "d73a4a"}]',
                  900000 + n, 'https://github.com/Codertocat/Hello-World/issues/' || n, 1, now(), now(), 'seeded'
           FROM github_repos r, generate_series($1, $2) n WHERE r.github_id = $3"#,
    )
    .bind(from)
    .bind(to)
    .bind(HELLO_WORLD)
    .execute(pool)
    .await
    .unwrap();
}

/// No query per row: the Tasks tab makes as many statements for a page of 50
/// tasks (50 authors, 50 labels) as for a page of 5.
#[sqlx::test]
async fn the_tasks_tab_makes_as_many_queries_for_50_tasks_as_for_5(pool: PgPool) {
    let app = apollo(&pool).await;
    seed_tasks(&pool, 1, 5).await;
    let few = support::statements_for(&app, &pool, "/projects/apollo/tasks").await;
    seed_tasks(&pool, 6, 60).await;
    let many = support::statements_for(&app, &pool, "/projects/apollo/tasks").await;
    assert!(app.get("/projects/apollo/tasks").await.text().await.unwrap().matches("task-row").count() >= 50);
    assert!(many <= few, "{few} statements for a page of 5 tasks, {many} for a page of 50: a query per row");
}
