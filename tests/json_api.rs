//! The JSON API: status codes and bodies, the error shape
//! `{"statusCode", "statusMessage", "data": {"message"}}`, and the same
//! authorization rules as the pages.
#![cfg(feature = "ssr")]

mod support;

use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{
    flows::{connect_github, create_project, sign_up},
    spawn_app, spawn_stack, wait_for_events, TestApp,
};

/// A request as a script with the session cookie would send it (with the
/// site's Origin, which changes require).
async fn call(app: &TestApp, method: Method, path: &str, body: Option<&str>) -> (u16, Value) {
    let mut request = app.client.request(method, app.url(path)).header("origin", format!("http://{}", app.addr));
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_owned());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
        },
    )
}

fn error(status: u16, reason: &str, message: &str) -> Value {
    json!({ "statusCode": status, "statusMessage": reason, "data": { "message": message } })
}

async fn user_id(pool: &PgPool, email: &str) -> i64 {
    sqlx::query_scalar!("SELECT id FROM users WHERE email = $1", email).fetch_one(pool).await.unwrap()
}

fn is_rfc3339(value: &Value) -> bool {
    value.as_str().is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok())
}

#[sqlx::test]
async fn user_installations_answer_each_case_in_the_documented_shape(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    let app = &stack.app;

    let anonymous = app.another_browser();
    let (status, body) = call(&anonymous, Method::GET, "/api/users/1/installations", None).await;
    assert_eq!(status, 401);
    assert_eq!(body["statusCode"], 401);
    assert_eq!(body["statusMessage"], "Unauthorized");
    assert!(body["data"]["message"].as_str().unwrap().contains("Sign in"));

    sign_up(app, "ada@example.com").await;
    let ada = user_id(&pool, "ada@example.com").await;
    let (status, body) = call(app, Method::GET, &format!("/api/users/{ada}/installations"), None).await;
    assert_eq!((status, body), (200, json!([])));

    assert_eq!(
        call(app, Method::GET, "/api/users/999999/installations", None).await,
        (404, error(404, "Not Found", "User not found"))
    );
    let (status, body) = call(app, Method::GET, "/api/users/ada/installations", None).await;
    assert_eq!((status, body["statusCode"].as_i64()), (400, Some(400)));

    // Another user's installations: the same 404 as an unknown user's.
    let eve = app.another_browser();
    sign_up(&eve, "eve@example.com").await;
    assert_eq!(
        call(&eve, Method::GET, &format!("/api/users/{ada}/installations"), None).await,
        (404, error(404, "Not Found", "User not found"))
    );

    connect_github(&stack, app, "octocat").await;
    let github_id = stack.gh.install("octocat", "octocat", None).await;
    wait_for_events(&pool, 1).await;
    let (status, body) = call(app, Method::GET, &format!("/api/users/{ada}/installations"), None).await;
    assert_eq!(status, 200);
    let list = body.as_array().unwrap();
    assert_eq!(list.len(), 1, "{body}");
    let item = list[0].as_object().unwrap();
    let mut keys: Vec<&str> = item.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["created_at", "github_installation_id", "id", "updated_at", "user_id"]);
    assert_eq!(item["github_installation_id"], github_id.to_string());
    assert_eq!(item["user_id"], ada);
    assert!(is_rfc3339(&item["created_at"]) && is_rfc3339(&item["updated_at"]));

    // A server fault: 500 in the same shape, nothing leaked.
    sqlx::query!("ALTER TABLE github_app_installations RENAME TO moved_away").execute(&pool).await.unwrap();
    let (status, body) = call(app, Method::GET, &format!("/api/users/{ada}/installations"), None).await;
    sqlx::query!("ALTER TABLE moved_away RENAME TO github_app_installations").execute(&pool).await.unwrap();
    assert_eq!(status, 500);
    assert_eq!(body["statusMessage"], "Internal Server Error");
    assert!(!body.to_string().contains("moved_away"), "{body}");
}

#[sqlx::test]
async fn installations_and_follows_through_the_api(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    let app = &stack.app;
    sign_up(app, "ada@example.com").await;
    create_project(app, "apollo").await;
    connect_github(&stack, app, "octocat").await;
    stack.gh.install("forge-demo", "octocat", None).await;
    wait_for_events(&pool, 1).await;

    let (status, list) = call(app, Method::GET, "/api/github-app-installations", None).await;
    assert_eq!(status, 200);
    assert_eq!(list[0]["account_login"], "forge-demo");
    assert_eq!(list[0]["state"], "initiated_on_github");
    assert_eq!(list[0]["repository_count"], 5);
    let id = list[0]["id"].as_i64().unwrap();
    let (status, one) = call(app, Method::GET, &format!("/api/github-app-installations/{id}"), None).await;
    assert_eq!((status, &one), (200, &list[0]));
    assert_eq!(call(app, Method::GET, "/api/github-app-installations/999999", None).await.0, 404);

    let attach =
        app.post_form("/fn/attach_installation", &[("slug", "apollo"), ("installation_id", &id.to_string())]).await;
    assert!(attach.status().is_success());
    assert_eq!(call(app, Method::GET, "/api/projects/apollo/github-repos", None).await, (200, json!([])));

    let repo: i64 = sqlx::query_scalar!("SELECT id FROM github_repos WHERE full_name = 'forge-demo/api'")
        .fetch_one(&pool)
        .await
        .unwrap();
    let (status, followed) =
        call(app, Method::POST, "/api/projects/apollo/github-repos", Some(&json!({ "repo_id": repo }).to_string()))
            .await;
    assert_eq!(status, 201);
    assert_eq!(followed["full_name"], "forge-demo/api");
    assert_eq!(followed["following"], true);
    assert_eq!(followed["sync_status"], "receiving");
    assert!(followed["github_id"].is_string());
    let (_, listed) = call(app, Method::GET, "/api/projects/apollo/github-repos", None).await;
    assert_eq!(listed, json!([followed]));

    // Bad input: each a clear error, nothing changed.
    let (status, body) = call(app, Method::POST, "/api/projects/apollo/github-repos", Some("{not json")).await;
    assert_eq!((status, body["statusCode"].as_i64()), (400, Some(400)));
    assert!(body["data"]["message"].as_str().unwrap().contains("repo_id"));
    assert_eq!(
        call(app, Method::POST, "/api/projects/apollo/github-repos", Some(r#"{"repo_id": 999999}"#)).await,
        (404, error(404, "Not Found", "Repository not found"))
    );
    assert_eq!(call(app, Method::DELETE, "/api/projects/apollo/github-repos/abc", None).await.0, 400);
    assert_eq!(
        call(app, Method::GET, "/api/projects/nope/github-repos", None).await,
        (404, error(404, "Not Found", "Project not found"))
    );

    // Without the site's Origin a change is refused (a cross-site form cannot use the cookie).
    let forged = app.client.delete(app.url(&format!("/api/projects/apollo/github-repos/{repo}"))).send().await.unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(forged.json::<Value>().await.unwrap()["statusCode"], 403);

    // Someone else: the project does not exist for them.
    let eve = app.another_browser();
    sign_up(&eve, "eve@example.com").await;
    assert_eq!(call(&eve, Method::GET, "/api/projects/apollo/github-repos", None).await.0, 404);
    assert_eq!(call(&eve, Method::DELETE, &format!("/api/projects/apollo/github-repos/{repo}"), None).await.0, 404);
    assert_eq!(call(&eve, Method::GET, &format!("/api/github-app-installations/{id}"), None).await.0, 404);
    assert_eq!(call(&eve, Method::GET, "/api/github-app-installations", None).await, (200, json!([])));

    assert_eq!(
        call(app, Method::DELETE, &format!("/api/projects/apollo/github-repos/{repo}"), None).await,
        (204, Value::Null)
    );
    assert_eq!(call(app, Method::GET, "/api/projects/apollo/github-repos", None).await, (200, json!([])));
}

#[sqlx::test]
async fn api_paths_without_a_session_are_401_in_the_error_shape(pool: PgPool) {
    let app = spawn_app(pool).await;
    for (method, path) in [
        (Method::GET, "/api/github-app-installations"),
        (Method::GET, "/api/github-app-installations/1"),
        (Method::GET, "/api/projects/apollo/github-repos"),
        (Method::POST, "/api/projects/apollo/github-repos"),
        (Method::DELETE, "/api/projects/apollo/github-repos/1"),
    ] {
        let (status, body) = call(&app, method.clone(), path, Some("{}")).await;
        assert_eq!((status, body["statusCode"].as_i64()), (401, Some(401)), "{method} {path}");
    }
}
