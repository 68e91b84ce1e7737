//! Each installation and repository handler, fed GitHub's published example
//! payloads (`@octokit/webhooks-examples`, MIT) through the real intake and
//! workers, with the rows it must leave.
#![cfg(feature = "ssr")]

mod support;

use serde_json::{json, Value};
use sqlx::PgPool;
use support::{
    deliveries::{deliver, example},
    flows::{create_project, sign_up},
    spawn_app, spawn_stack, wait_for_events, wait_until_settled, TestApp,
};

/// What became of a delivered event.
#[derive(Debug, PartialEq)]
struct Outcome {
    status: String,
    failure_reason: Option<String>,
}

/// Delivers and waits for processing; what became of the event.
async fn process(app: &TestApp, pool: &PgPool, event: &str, payload: &Value) -> Outcome {
    assert_eq!(deliver(app, event, payload).await.status(), 202);
    wait_until_settled(pool).await;
    let row = sqlx::query!("SELECT status, failure_reason FROM github_events ORDER BY id DESC LIMIT 1")
        .fetch_one(pool)
        .await
        .unwrap();
    Outcome { status: row.status, failure_reason: row.failure_reason }
}

/// An installation forgelink already knows, with repositories `(github id, full name)`; returns its row id.
async fn known_installation(pool: &PgPool, github_id: i64, repos: &[(i64, &str)]) -> i64 {
    let id = sqlx::query_scalar!(
        r#"INSERT INTO github_app_installations (github_id, origin, state, account_login, repository_selection)
           VALUES ($1, 'github', 'processed', 'octocat', 'selected') RETURNING id"#,
        github_id
    )
    .fetch_one(pool)
    .await
    .unwrap();
    for (repo, full_name) in repos {
        let (owner, name) = full_name.split_once('/').unwrap();
        sqlx::query!(
            "INSERT INTO github_repos (github_id, owner_login, name, full_name, installation_id) VALUES ($1, $2, $3, $4, $5)",
            repo,
            owner,
            name,
            full_name,
            id
        )
        .execute(pool)
        .await
        .unwrap();
    }
    id
}

/// What forgelink knows of an installation.
struct Installation {
    lifecycle: String,
    account_login: Option<String>,
}

async fn installation(pool: &PgPool, github_id: i64) -> Installation {
    let row = sqlx::query!(
        "SELECT state, lifecycle, account_login FROM github_app_installations WHERE github_id = $1",
        github_id
    )
    .fetch_one(pool)
    .await
    .unwrap();
    Installation { lifecycle: row.lifecycle, account_login: row.account_login }
}

/// What forgelink knows of a repository.
#[derive(Debug, PartialEq)]
struct Repo {
    full_name: String,
    /// The row id of the installation it is reached through, if any.
    installation_id: Option<i64>,
    archived: bool,
}

async fn repo(pool: &PgPool, github_id: i64) -> Repo {
    let row =
        sqlx::query!("SELECT full_name, installation_id, archived FROM github_repos WHERE github_id = $1", github_id)
            .fetch_one(pool)
            .await
            .unwrap();
    Repo { full_name: row.full_name, installation_id: row.installation_id, archived: row.archived }
}

#[sqlx::test]
async fn installation_created_matches_the_pending_install_lists_and_follows(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    let sim_installation = stack.gh.install("octocat", "octocat", Some(&["hello-world"])).await;
    // Wait for the simulator's own delivery, then start from GitHub's published example.
    wait_for_events(&pool, 1).await;
    sqlx::query!("DELETE FROM github_app_installations").execute(&pool).await.unwrap();
    sign_up(&stack.app, "ada@example.com").await;
    create_project(&stack.app, "apollo").await;
    // Ada is Codertocat (the example's sender) and clicked Install on apollo.
    sqlx::query!("UPDATE users SET github_id = 21031067, github_login = 'Codertocat'").execute(&pool).await.unwrap();
    sqlx::query!(
        r#"INSERT INTO github_app_installations (user_id, originating_project_id, origin, state)
           SELECT u.id, p.id, 'app', 'initiated_on_app' FROM users u, projects p"#
    )
    .execute(&pool)
    .await
    .unwrap();

    let mut payload = example("installation", "created");
    payload["installation"]["id"] = json!(sim_installation);
    let hello_world = stack.gh.sim.sim.world().repo_by_name("octocat", "hello-world").unwrap().id;
    payload["repositories"] =
        json!([{ "id": hello_world, "name": "hello-world", "full_name": "octocat/hello-world", "private": false }]);
    let processed = Outcome { status: "processed".into(), failure_reason: None };
    assert_eq!(process(&stack.app, &pool, "installation", &payload).await, processed);

    let row = sqlx::query!(
        r#"SELECT origin, state, account_login, account_type, sender_github_id, repos_listed, repos_total,
                  (SELECT count(*) FROM project_github_installations) AS "attached!",
                  (SELECT count(*) FROM project_github_repos WHERE following) AS "followed!"
           FROM github_app_installations"#
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((row.origin.as_str(), row.state.as_str()), ("app", "processed"));
    assert_eq!(row.account_login.as_deref(), Some("Codertocat"), "the account as the payload names it");
    assert_eq!(row.account_type.as_deref(), Some("User"));
    assert_eq!(row.sender_github_id, Some(21031067));
    assert_eq!((row.repos_listed, row.repos_total), (1, Some(1)));
    assert_eq!((row.attached, row.followed), (1, 1));

    // Delivered again (GitHub's redelivery has the same id; a retry re-runs): nothing doubles.
    assert_eq!(process(&stack.app, &pool, "installation", &payload).await.status, "processed");
    let counts = sqlx::query!(
        r#"SELECT (SELECT count(*) FROM github_app_installations) AS "i!", (SELECT count(*) FROM github_repos) AS "r!",
                  (SELECT count(*) FROM project_github_repos) AS "f!""#
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((counts.i, counts.r, counts.f), (1, 1, 1));
}

#[sqlx::test]
async fn installation_deleted_uninstalls_detaches_and_keeps_follows(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let id = known_installation(&pool, 2, &[(1296269, "octocat/Hello-World")]).await;
    sign_up(&app, "ada@example.com").await;
    create_project(&app, "apollo").await;
    sqlx::query!(
        "INSERT INTO project_github_installations (project_id, installation_id) SELECT id, $1 FROM projects",
        id
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query!("INSERT INTO project_github_repos (project_id, github_repo_id) SELECT p.id, r.id FROM projects p, github_repos r")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query!("INSERT INTO github_installation_tokens (installation_github_id, token, expires_at) VALUES (2, '\\x00', now() + interval '1 hour')")
        .execute(&pool)
        .await
        .unwrap();

    assert_eq!(process(&app, &pool, "installation", &example("installation", "deleted")).await.status, "processed");
    assert_eq!(installation(&pool, 2).await.lifecycle, "uninstalled");
    assert_eq!(repo(&pool, 1296269).await.installation_id, None, "the repository is detached");
    let kept: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM project_github_repos WHERE following"#)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(kept, 1, "the follow is kept as history");
    let tokens: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM github_installation_tokens"#)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(tokens, 0, "the cached token is dropped");
}

#[sqlx::test]
async fn suspend_is_applied_unless_a_newer_change_was(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let id = known_installation(&pool, 16598467, &[]).await;
    let suspend = example("installation", "suspend");
    assert_eq!(process(&app, &pool, "installation", &suspend).await.status, "processed");
    assert_eq!(installation(&pool, 16598467).await.lifecycle, "suspended");

    // A later unsuspend was applied already; this older suspend arrives late.
    sqlx::query!(
        "UPDATE github_app_installations SET lifecycle = 'installed', lifecycle_at = '2030-01-01' WHERE id = $1",
        id
    )
    .execute(&pool)
    .await
    .unwrap();
    let late = process(&app, &pool, "installation", &suspend).await;
    assert_eq!(late.status, "ignored");
    assert!(late.failure_reason.unwrap().contains("newer change"));
    assert_eq!(installation(&pool, 16598467).await.lifecycle, "installed");
}

#[sqlx::test]
async fn new_permissions_accepted_drops_the_token_minted_with_the_old_ones(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    known_installation(&pool, 957387, &[]).await;
    sqlx::query!("INSERT INTO github_installation_tokens (installation_github_id, token, expires_at) VALUES (957387, '\\x00', now() + interval '1 hour')")
        .execute(&pool)
        .await
        .unwrap();
    let payload = example("installation", "new_permissions_accepted");
    assert_eq!(process(&app, &pool, "installation", &payload).await.status, "processed");
    let tokens: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM github_installation_tokens"#)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(tokens, 0);
    assert_eq!(installation(&pool, 957387).await.account_login.as_deref(), Some("Codertocat"));
}

#[sqlx::test]
async fn repositories_added_and_removed_keep_the_installation_true(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let codertocat = known_installation(&pool, 957387, &[]).await;
    assert_eq!(
        process(&app, &pool, "installation_repositories", &example("installation_repositories", "added")).await.status,
        "processed"
    );
    let space = Repo { full_name: "Codertocat/Space".into(), installation_id: Some(codertocat), archived: false };
    assert_eq!(repo(&pool, 186853007).await, space);

    known_installation(&pool, 2, &[(1296269, "octocat/Hello-World")]).await;
    assert_eq!(
        process(&app, &pool, "installation_repositories", &example("installation_repositories", "removed"))
            .await
            .status,
        "processed"
    );
    assert_eq!(repo(&pool, 1296269).await.installation_id, None);
    assert_eq!(repo(&pool, 186853007).await, space, "another installation's repositories stay where they were");
}

#[sqlx::test]
async fn repositories_are_keyed_by_id_through_renames_and_transfers(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let id = known_installation(&pool, 1, &[(186853261, "Octocoders/Old-Name")]).await;
    assert_eq!(process(&app, &pool, "repository", &example("repository", "renamed")).await.status, "processed");
    let renamed = Repo { full_name: "Octocoders/Hello-World".into(), installation_id: Some(id), archived: false };
    assert_eq!(repo(&pool, 186853261).await, renamed);

    sqlx::query!("UPDATE github_repos SET owner_login = 'octocat', full_name = 'octocat/Hello-World'")
        .execute(&pool)
        .await
        .unwrap();
    let mut payload = example("repository", "transferred");
    payload["installation"] = json!({ "id": 1 });
    assert_eq!(process(&app, &pool, "repository", &payload).await.status, "processed");
    assert_eq!(repo(&pool, 186853261).await.full_name, "Octocoders/Hello-World");

    // Archived and deleted (GitHub publishes no example of these: the renamed one, re-actioned).
    let mut archived = example("repository", "renamed");
    archived["action"] = json!("archived");
    archived["repository"]["archived"] = json!(true);
    assert_eq!(process(&app, &pool, "repository", &archived).await.status, "processed");
    assert!(repo(&pool, 186853261).await.archived);
    archived["action"] = json!("deleted");
    assert_eq!(process(&app, &pool, "repository", &archived).await.status, "processed");
    assert_eq!(repo(&pool, 186853261).await.installation_id, None, "a deleted repository is detached");

    // Without an installation forgelink knows, nothing is recorded.
    assert_eq!(process(&app, &pool, "repository", &example("repository", "publicized")).await.status, "ignored");
}

/// A repository created, edited, made private or unarchived is recorded as
/// the payload has it, reached through the installation that delivered it.
#[sqlx::test]
async fn repositories_created_edited_privatized_and_unarchived_are_recorded(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let id = known_installation(&pool, 1, &[(186853002, "Codertocat/Hello-World")]).await;
    let of_installation = |mut payload: Value| {
        payload["installation"] = json!({ "id": 1 });
        payload
    };
    let private = async |github_id: i64| {
        sqlx::query_scalar!("SELECT private FROM github_repos WHERE github_id = $1", github_id)
            .fetch_one(&pool)
            .await
            .unwrap()
    };

    let created = of_installation(example("repository", "created"));
    assert_eq!(process(&app, &pool, "repository", &created).await.status, "processed");
    let new = Repo { full_name: "Octocoders/Hello-World".into(), installation_id: Some(id), archived: false };
    assert_eq!(repo(&pool, 186853261).await, new);

    let mut edited = of_installation(example("repository", "edited"));
    edited["repository"]["name"] = json!("Hello-Universe");
    edited["repository"]["full_name"] = json!("Octocoders/Hello-Universe");
    assert_eq!(process(&app, &pool, "repository", &edited).await.status, "processed");
    assert_eq!(repo(&pool, 186853261).await.full_name, "Octocoders/Hello-Universe");

    assert!(!private(186853002).await);
    let privatized = of_installation(example("repository", "privatized"));
    assert_eq!(process(&app, &pool, "repository", &privatized).await.status, "processed");
    assert!(private(186853002).await, "privatized");

    // GitHub publishes no example of unarchived: the edited one, re-actioned.
    sqlx::query!("UPDATE github_repos SET archived = true WHERE github_id = 186853261").execute(&pool).await.unwrap();
    let mut unarchived = edited.clone();
    unarchived["action"] = json!("unarchived");
    unarchived["repository"]["archived"] = json!(false);
    assert_eq!(process(&app, &pool, "repository", &unarchived).await.status, "processed");
    assert!(!repo(&pool, 186853261).await.archived, "unarchived");
}

#[sqlx::test]
async fn installation_target_renamed_renames_the_account_and_its_repositories(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    known_installation(&pool, 77, &[(501, "octocat/api"), (502, "octocat/web")]).await;
    // GitHub publishes no example of this event; its documented shape:
    let payload = json!({
        "action": "renamed",
        "account": { "id": 583231, "login": "octocat-renamed", "type": "User", "avatar_url": "https://avatars.githubusercontent.com/u/583231" },
        "changes": { "login": { "from": "octocat" } },
        "installation": { "id": 77 },
        "target_type": "User",
        "sender": { "id": 583231, "login": "octocat-renamed", "type": "User" },
    });
    assert_eq!(process(&app, &pool, "installation_target", &payload).await.status, "processed");
    assert_eq!(installation(&pool, 77).await.account_login.as_deref(), Some("octocat-renamed"));
    assert_eq!(repo(&pool, 502).await.full_name, "octocat-renamed/web");
}

#[sqlx::test]
async fn a_revoked_authorization_forgets_the_users_tokens(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    sign_up(&app, "ada@example.com").await;
    sqlx::query!(
        r#"UPDATE users SET github_id = 1, github_login = 'octocat', github_access_token = '\x01',
                  github_refresh_token = '\x02'"#
    )
    .execute(&pool)
    .await
    .unwrap();
    let payload = example("github_app_authorization", "revoked");
    assert_eq!(process(&app, &pool, "github_app_authorization", &payload).await.status, "processed");
    let row = sqlx::query!("SELECT github_access_token, github_refresh_token, github_reconnect_needed FROM users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(row.github_access_token.is_none() && row.github_refresh_token.is_none());
    assert!(row.github_reconnect_needed);
}
