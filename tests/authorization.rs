//! The authorization matrix: every route the server has (read from its router,
//! so a route added without an entry here fails) × {anonymous, a signed-in
//! stranger, the project's owner, an operator}, and the status each gets.
#![cfg(feature = "ssr")]

mod support;

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use sqlx::PgPool;
use support::{
    flows::{connect_github, create_project, sign_up, sign_up_operator},
    spawn_stack, test_config, wait_for_events, TestApp,
};

/// `(method, path)` of every route: paths from the router's `Debug` (axum has no
/// API that lists them), methods from the `Allow` header of a 405.
async fn routes(app: &TestApp, pool: &PgPool) -> BTreeSet<(String, String)> {
    let mut config = test_config();
    config.workers.workers = 0;
    config.recovery_interval = None;
    let built = forgelink::startup::Application::build_with_pool(config, pool.clone()).await.unwrap();
    let debug = format!("{:?}", built.router());
    drop(built);
    let mut paths = BTreeSet::new();
    for part in debug.split("RouteId(").skip(1) {
        if let Some(path) = part.split_once("): \"").and_then(|(_, rest)| rest.split_once('"')).map(|(p, _)| p) {
            if !path.contains("__private__axum") {
                paths.insert(path.to_owned());
            }
        }
    }
    assert!(paths.len() > 30, "the router's Debug no longer names its paths: {paths:?}");
    // A browser of its own: the probes must not touch the callers' sessions.
    let app = app.another_browser();
    let mut routes = BTreeSet::new();
    for path in paths {
        let response = app
            .client
            .request(Method::from_bytes(b"PATCH").unwrap(), app.url(&fill(&path, &Values::any())))
            .header("origin", app.url(""))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{path} answers PATCH");
        let allow = response.headers()["allow"].to_str().unwrap().to_owned();
        for method in allow.split(',').map(str::trim).filter(|m| *m != "HEAD") {
            routes.insert((method.to_owned(), path.clone()));
        }
    }
    routes
}

/// The ids the paths and bodies name, written `{slug}`, `{user_id}`, `{id}`
/// (which id depends on the route) and `{installation}`, `{repo}`, `{event}`.
struct Values {
    user: String,
    installation: String,
    repo: String,
    event: String,
    /// A task of a private repository the project follows.
    task: String,
}

impl Values {
    fn any() -> Self {
        Self { user: "1".into(), installation: "1".into(), repo: "1".into(), event: "1".into(), task: "1".into() }
    }

    fn fill(&self, path: &str, text: &str) -> String {
        let id = if path.contains("installations") {
            &self.installation
        } else if path.contains("github-repos") {
            &self.repo
        } else if path.contains("tasks") || path.contains("get_task") {
            &self.task
        } else {
            &self.event
        };
        text.replace("{slug}", "apollo")
            .replace(":slug", "apollo")
            .replace("{user_id}", &self.user)
            .replace("{id}", id)
            .replace(":id", id)
            .replace("{installation}", &self.installation)
            .replace("{repo}", &self.repo)
            .replace("{event}", &self.event)
    }
}

fn fill(path: &str, values: &Values) -> String {
    values.fill(path, path)
}

enum Body {
    None,
    Form(&'static str),
    Json(&'static str),
    /// A server function's arguments in postcard, as the WASM sends them.
    Postcard(fn() -> Vec<u8>),
}

use Body::{Form, Json, None as Empty, Postcard};

fn no_event_filter() -> Vec<u8> {
    postcard::to_allocvec(&forgelink::api::events::ListEvents { filter: Default::default() }).unwrap()
}

/// What each caller must get: a status, and for a redirect the start of where
/// it goes (`{github}`: the simulated GitHub).
type Expected = [&'static str; 4];

/// Every route, in the order they are tried (ending a session last), with what
/// `[anonymous, stranger, owner, operator]` get.
const MATRIX: &[(&str, &str, Body, Expected)] = &[
    // Machines: GitHub, probes, Prometheus.
    ("GET", "/healthz", Empty, ["200", "200", "200", "200"]),
    ("GET", "/readyz", Empty, ["200", "200", "200", "200"]),
    ("GET", "/metrics", Empty, ["200", "200", "200", "200"]),
    ("POST", "/webhooks/github", Json("{}"), ["401", "401", "401", "401"]),
    // Pages anyone may see.
    ("GET", "/", Empty, ["200", "200", "200", "200"]),
    ("GET", "/signin", Empty, ["200", "200", "200", "200"]),
    ("GET", "/signup", Empty, ["200", "200", "200", "200"]),
    ("GET", "/account", Empty, ["200", "200", "200", "200"]),
    ("GET", "/auth/github/problem", Empty, ["200", "200", "200", "200"]),
    ("GET", "/integrations/github/problem", Empty, ["200", "200", "200", "200"]),
    ("GET", "/projects", Empty, ["200", "200", "200", "200"]),
    ("GET", "/projects/new", Empty, ["200", "200", "200", "200"]),
    ("GET", "/projects/{slug}", Empty, ["200", "200", "200", "200"]),
    ("GET", "/projects/{slug}/tasks", Empty, ["200", "200", "200", "200"]),
    ("GET", "/api/projects/{slug}/tasks", Empty, ["200", "200", "200", "200"]),
    ("POST", "/fn/list_tasks", Form("slug=apollo&filter[state]=all&filter[page]=1"), ["200", "200", "200", "200"]),
    // A private repository's task: the owner's only.
    ("GET", "/projects/{slug}/tasks/{id}", Empty, ["404", "404", "200", "404"]),
    ("GET", "/api/projects/{slug}/tasks/{id}", Empty, ["404", "404", "200", "404"]),
    ("POST", "/fn/get_task", Form("slug=apollo&id={id}"), ["404", "404", "200", "404"]),
    // The owner's.
    ("GET", "/projects/{slug}/integrations", Empty, ["404", "404", "200", "404"]),
    ("POST", "/fn/get_integrations", Form("slug=apollo"), ["404", "404", "200", "404"]),
    ("POST", "/fn/set_following", Form("slug=apollo&repo_id={repo}&follow=true"), ["401", "404", "200", "404"]),
    (
        "POST",
        "/fn/attach_installation",
        Form("slug=apollo&installation_id={installation}"),
        ["401", "404", "200", "404"],
    ),
    // Nothing failed to retry: the owner is told so as well.
    ("POST", "/fn/retry_import", Form("slug=apollo&repo_id={repo}"), ["401", "404", "404", "404"]),
    ("GET", "/api/projects/{slug}/github-repos", Empty, ["401", "404", "200", "404"]),
    ("POST", "/api/projects/{slug}/github-repos", Json(r#"{"repo_id": {repo}}"#), ["401", "404", "201", "404"]),
    ("DELETE", "/api/projects/{slug}/github-repos/{id}", Empty, ["401", "404", "204", "404"]),
    ("GET", "/api/github-app-installations/{id}", Empty, ["401", "404", "200", "404"]),
    ("GET", "/api/users/{user_id}/installations", Empty, ["401", "404", "200", "404"]),
    (
        "POST",
        "/integrations/github/install",
        Form("slug=apollo"),
        [
            "303 /signin?next=",
            "303 /integrations/github/problem?reason=not_found",
            "303 {github}/apps/",
            "303 /integrations/github/problem?reason=not_found",
        ],
    ),
    // Anyone signed in, each their own.
    ("GET", "/api/github-app-installations", Empty, ["401", "200", "200", "200"]),
    ("GET", "/live/integrations", Empty, ["401", "200", "200", "200"]),
    ("GET", "/live/projects/{slug}/tasks", Empty, ["401", "200", "200", "200"]),
    (
        "GET",
        "/integrations/github/setup",
        Empty,
        [
            "303 /signin?next=",
            "303 /integrations/github/problem?reason=missing_installation",
            "303 /integrations/github/problem?reason=missing_installation",
            "303 /integrations/github/problem?reason=missing_installation",
        ],
    ),
    (
        "GET",
        "/auth/github/connect",
        Empty,
        [
            "303 /signin?next=",
            "303 {github}/login/oauth/authorize",
            "303 {github}/login/oauth/authorize",
            "303 {github}/login/oauth/authorize",
        ],
    ),
    (
        "GET",
        "/auth/github/callback",
        Empty,
        [
            "303 /signin?next=",
            "303 /auth/github/problem?reason=state",
            "303 /auth/github/problem?reason=state",
            "303 /auth/github/problem?reason=state",
        ],
    ),
    ("POST", "/fn/create_project", Form("name=Apollo&slug=apollo&description="), ["401", "409", "409", "409"]),
    // Server functions anyone may call.
    ("POST", "/fn/current_user", Empty, ["200", "200", "200", "200"]),
    ("POST", "/fn/check_database", Empty, ["200", "200", "200", "200"]),
    ("POST", "/fn/list_projects", Empty, ["200", "200", "200", "200"]),
    ("POST", "/fn/get_project", Form("slug=apollo"), ["200", "200", "200", "200"]),
    ("POST", "/fn/sign_in", Form("email=ada%40example.com&password=wrong+password+here"), ["422", "422", "422", "422"]),
    (
        "POST",
        "/fn/sign_up",
        Form("email=ada%40example.com&display_name=Ada&password=correct+horse+battery"),
        ["409", "409", "409", "409"],
    ),
    // Operators'.
    ("GET", "/admin/events", Empty, ["404", "404", "404", "200"]),
    ("GET", "/admin/events/{id}", Empty, ["404", "404", "404", "200"]),
    ("GET", "/live/events", Empty, ["404", "404", "404", "200"]),
    ("POST", "/fn/list_events", Postcard(no_event_filter), ["401", "404", "404", "200"]),
    ("POST", "/fn/get_event", Form("id={event}"), ["401", "404", "404", "200"]),
    ("POST", "/fn/retry_event", Form("id={event}"), ["401", "404", "404", "409"]),
    ("POST", "/fn/recover_missed_deliveries", Empty, ["401", "404", "404", "200"]),
    // Last: these end what the rows above rely on.
    (
        "POST",
        "/auth/github/disconnect",
        Form("return_to=%2Faccount"),
        ["303 /signin?next=", "303 /account", "303 /account", "303 /account"],
    ),
    ("POST", "/fn/sign_out", Empty, ["200", "200", "200", "200"]),
];

#[sqlx::test]
async fn every_route_answers_each_kind_of_caller_as_it_must(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    let operator = &stack.app;
    sign_up_operator(operator, &pool, "ops@example.com").await;
    let owner = operator.another_browser();
    sign_up(&owner, "ada@example.com").await;
    create_project(&owner, "apollo").await;
    connect_github(&stack, &owner, "octocat").await;
    stack.gh.install("octocat", "octocat", None).await;
    // Its webhook may not be stored yet: wait for it, then for it to be processed.
    wait_for_events(&pool, 1).await;
    let stranger = operator.another_browser();
    sign_up(&stranger, "eve@example.com").await;
    let anonymous = operator.another_browser();

    let id = |sql: &'static str| {
        let pool = pool.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(&pool).await.unwrap().to_string() }
    };
    let values = Values {
        user: id("SELECT id FROM users WHERE email = 'ada@example.com'").await,
        installation: id("SELECT id FROM github_app_installations").await,
        repo: id("SELECT id FROM github_repos ORDER BY id LIMIT 1").await,
        event: id("SELECT id FROM github_events ORDER BY id LIMIT 1").await,
        task: id(r#"WITH repo AS (
                       INSERT INTO github_repos (github_id, owner_login, name, full_name, private, installation_id)
                       SELECT 999999, 'octocat', 'secret', 'octocat/secret', true, id FROM github_app_installations
                       RETURNING id),
                     follow AS (
                       INSERT INTO project_github_repos (project_id, github_repo_id)
                       SELECT p.id, repo.id FROM projects p, repo WHERE p.slug = 'apollo')
                     INSERT INTO tasks (github_repo_id, issue_github_id, number, kind, title, state, html_url,
                                        opened_at, github_updated_at, digest)
                     SELECT id, 1, 1, 'issue', 'A private plan', 'open', 'https://github.com/octocat/secret/issues/1',
                            now(), now(), '' FROM repo
                     RETURNING id"#)
        .await,
    };
    // The owner's installation is attached, the repository followed, so each change is real.
    let added = owner
        .post_form("/fn/attach_installation", &[("slug", "apollo"), ("installation_id", &values.installation)])
        .await;
    assert_eq!(added.status(), 200);

    let listed: BTreeSet<(String, String)> = MATRIX.iter().map(|(m, p, _, _)| (m.to_string(), p.to_string())).collect();
    let served = routes(operator, &pool).await;
    let missing: Vec<_> = served.difference(&listed).collect();
    let gone: Vec<_> = listed.difference(&served).collect();
    assert!(
        missing.is_empty() && gone.is_empty(),
        "routes without an entry: {missing:?}; entries without a route: {gone:?}"
    );

    let mut wrong = Vec::new();
    for (method, path, body, expected) in MATRIX {
        for (who, app, expected) in [
            ("anonymous", &anonymous, expected[0]),
            ("stranger", &stranger, expected[1]),
            ("owner", &owner, expected[2]),
            ("operator", operator, expected[3]),
        ] {
            let mut request = app
                .client
                .request(Method::from_bytes(method.as_bytes()).unwrap(), app.url(&fill(path, &values)))
                .header("origin", app.url(""));
            request = match body {
                Body::None => request,
                Body::Form(form) => {
                    request.header("content-type", "application/x-www-form-urlencoded").body(values.fill(path, form))
                }
                Body::Json(json) => request.header("content-type", "application/json").body(values.fill(path, json)),
                Body::Postcard(arguments) => request.header("content-type", "application/x-postcard").body(arguments()),
            };
            let response = request.send().await.unwrap();
            let status = response.status().as_u16().to_string();
            let to = response.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
            let (want_status, want_to) = expected.split_once(' ').unwrap_or((expected, ""));
            let want_to = want_to.replace("{github}", &stack.gh.web);
            if status != want_status || !to.starts_with(&want_to) {
                wrong.push(format!("{method} {path} as {who}: {status} {to} (must be {want_status} {want_to})"));
            }
            // The WASM decodes server functions' answers as postcard only (src/api/mod.rs).
            let content_type = response.headers().get("content-type").map(|t| t.to_str().unwrap().to_owned());
            if path.starts_with("/fn/") && status == "200" && content_type.as_deref() != Some("application/x-postcard")
            {
                wrong.push(format!("{method} {path} as {who}: answers {content_type:?}, not postcard"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
