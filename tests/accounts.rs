//! Accounts, sessions and projects: the rules a person relies on.
#![cfg(feature = "ssr")]

mod support;

use forgelink::domain::{accounts::User, projects::ProjectPage};
use sqlx::PgPool;
use support::{answer, spawn_app, spawn_app_with, TestApp};

pub async fn sign_up(app: &TestApp, email: &str) -> reqwest::Response {
    app.post_form(
        "/fn/sign_up",
        &[("email", email), ("display_name", "Ada Lovelace"), ("password", "correct horse battery"), ("next", "")],
    )
    .await
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.post_form("/fn/sign_in", &[("email", email), ("password", password), ("next", "")]).await
}

/// Who is signed in in this browser, if anyone.
async fn current_user(app: &TestApp) -> Option<User> {
    let response = app.post_form("/fn/current_user", &[]).await;
    assert_eq!(response.status(), 200);
    answer(response).await
}

/// Who is signed in in this browser; the test fails if nobody is.
async fn signed_in(app: &TestApp) -> User {
    current_user(app).await.expect("someone is signed in")
}

/// A refused request's status and what it said.
#[derive(Debug, PartialEq)]
struct Refusal {
    status: u16,
    message: String,
}

async fn error_message(response: reqwest::Response) -> Refusal {
    let status = response.status().as_u16();
    Refusal { status, message: response.text().await.unwrap() }
}

#[sqlx::test]
async fn signing_up_starts_a_session_kept_in_postgres(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let response = sign_up(&app, "Ada@Example.com ").await;
    assert!(response.status().is_redirection() || response.status().is_success(), "{}", response.status());
    let set_cookie: Vec<String> =
        response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let session_cookie = set_cookie.iter().find(|c| c.starts_with("forgelink_session=")).expect("a session cookie");
    assert!(session_cookie.contains("HttpOnly"), "{session_cookie}");
    assert!(session_cookie.contains("SameSite=Lax"), "{session_cookie}");
    assert!(!session_cookie.contains("Secure"), "not over plain http");

    let user = signed_in(&app).await;
    assert_eq!(user.email, "ada@example.com");
    assert!(!user.is_admin, "being the first account makes nobody an operator");
    let sessions: i64 =
        sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM tower_sessions.session"#).fetch_one(&pool).await.unwrap();
    assert_eq!(sessions, 1);
}

/// `forgelink admin …` against this test's database, as run on the server.
fn admin_command(pool: &PgPool, args: &[&str]) -> Ran {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_forgelink"))
        .arg("admin")
        .args(args)
        .env("DATABASE_URL", support::database_url(pool))
        .output()
        .unwrap();
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    Ran { status: output.status, out: text(output.stdout), err: text(output.stderr) }
}

/// How a command ended, and what it wrote to stdout and stderr.
struct Ran {
    status: std::process::ExitStatus,
    out: String,
    err: String,
}

/// Operators are named on the server, never by being first or by an address
/// typed into the sign-up form.
#[sqlx::test]
async fn operators_are_named_on_the_server_only(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    sign_up(&app, "ada@example.com").await;
    assert!(!signed_in(&app).await.is_admin);
    assert_eq!(app.get("/admin/events").await.status(), 404);
    let Ran { status, out, .. } = admin_command(&pool, &["list"]);
    assert!(status.success() && out.contains("No operators yet"), "{out}");

    let Ran { status, out, err } = admin_command(&pool, &["grant", " ADA@example.com"]);
    assert!(status.success(), "{err}");
    assert!(out.contains("ada@example.com is an operator."), "{out}");
    assert!(signed_in(&app).await.is_admin, "at once, in the session already open");
    assert_eq!(app.get("/admin/events").await.status(), 200);
    let Ran { out, .. } = admin_command(&pool, &["list"]);
    assert!(out.contains("ada@example.com"), "{out}");

    // Mistakes say what is wrong and change nothing.
    let Ran { status, err, .. } = admin_command(&pool, &["grant", "eve@example.com"]);
    assert!(!status.success());
    assert!(err.contains("No account has the email eve@example.com."), "{err}");
    let Ran { status, err, .. } = admin_command(&pool, &["promote", "ada@example.com"]);
    assert_eq!(status.code(), Some(2));
    assert!(err.contains("usage: forgelink admin grant EMAIL"), "{err}");

    let Ran { status, out, err } = admin_command(&pool, &["revoke", "ada@example.com"]);
    assert!(status.success(), "{err}");
    assert!(out.contains("ada@example.com is no longer an operator."), "{out}");
    assert!(!signed_in(&app).await.is_admin);
}

#[sqlx::test]
async fn a_taken_email_gets_a_clear_message(pool: PgPool) {
    let app = spawn_app(pool).await;
    sign_up(&app, "ada@example.com").await;
    let other = app.another_browser();
    let Refusal { status, message } = error_message(sign_up(&other, "ADA@example.com").await).await;
    assert_eq!(status, 409);
    assert!(message.contains("already exists"), "{message}");
}

#[sqlx::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer(pool: PgPool) {
    let app = spawn_app(pool).await;
    sign_up(&app, "ada@example.com").await;
    let stranger = app.another_browser();
    let wrong_password = error_message(sign_in(&stranger, "ada@example.com", "not the password").await).await;
    let unknown_email = error_message(sign_in(&stranger, "nobody@example.com", "not the password").await).await;
    assert_eq!(wrong_password, unknown_email);
    assert_eq!(wrong_password.status, 422);
    assert!(wrong_password.message.contains("do not match"), "{}", wrong_password.message);
}

#[sqlx::test]
async fn repeated_failures_slow_down_even_the_right_password(pool: PgPool) {
    let app = spawn_app(pool).await;
    sign_up(&app, "ada@example.com").await;
    let attacker = app.another_browser();
    for _ in 0..5 {
        assert_eq!(sign_in(&attacker, "ada@example.com", "guess guess guess").await.status(), 422);
    }
    let Refusal { status, message } =
        error_message(sign_in(&attacker, "ada@example.com", "correct horse battery").await).await;
    assert_eq!(status, 429);
    assert!(message.contains("Too many attempts. Wait 1 second, then try again."), "{message}");
}

/// Moves the throttles' clock on: their last attempts happened `secs` earlier.
async fn time_passes(pool: &PgPool, secs: f64) {
    sqlx::query!("UPDATE auth_throttles SET last_at = last_at - make_interval(secs => $1)", secs)
        .execute(pool)
        .await
        .unwrap();
}

/// Past five failures each attempt waits twice as long as the one before (up
/// to 15 minutes), and the right password gets in once the wait is over.
#[sqlx::test]
async fn the_wait_doubles_and_never_locks_anyone_out_for_good(pool: PgPool) {
    let app = spawn_app_with(pool.clone(), behind_a_proxy).await;
    sign_up(&app, "ada@example.com").await;
    let attacker = app.another_browser();
    let guess = || sign_in_from(&attacker, "198.51.100.1", "ada@example.com", "guess guess guess");
    for _ in 0..5 {
        assert_eq!(guess().await, 422);
    }
    let waits = ["1 second", "2 seconds", "4 seconds", "8 seconds", "16 seconds", "32 seconds", "64 seconds"];
    for wait in waits.into_iter().chain(["3 minutes", "5 minutes", "9 minutes", "15 minutes", "15 minutes"]) {
        let refused = attacker
            .post_form_with(
                "/fn/sign_in",
                &[("email", "ada@example.com"), ("password", "guess guess guess"), ("next", "")],
                &[("x-forwarded-for", "198.51.100.1")],
            )
            .await;
        let Refusal { status, message } = error_message(refused).await;
        assert_eq!(status, 429, "{message}");
        assert!(message.contains(&format!("Wait {wait},")), "{wait}: {message}");
        // A refused attempt is not counted: waiting is what lets the next one in.
        time_passes(&pool, 900.0).await;
        assert_eq!(guess().await, 422);
    }
    time_passes(&pool, 900.0).await;
    let status = sign_in_from(&attacker, "198.51.100.1", "ada@example.com", "correct horse battery").await;
    assert!(status < 400, "{status}");
    // Signing in forgives the account's failures.
    let other = app.another_browser();
    for _ in 0..5 {
        assert_eq!(sign_in_from(&other, "198.51.100.2", "ada@example.com", "guess guess guess").await, 422);
    }
}

/// Attempts are counted before any is checked, in one statement, so parallel
/// guesses get no more tries than guesses one after another: of 20 at once,
/// the free five. (Counted at the throttle itself: over HTTP, hashing 20
/// passwords on two cores can take longer than the one second after which a
/// sixth try is rightly let through.)
#[sqlx::test]
async fn parallel_guesses_get_no_more_tries_than_one_after_another(pool: PgPool) {
    use forgelink::server::accounts::throttle;
    let mut guesses = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let pool = pool.clone();
        guesses
            .spawn(async move { throttle::claim(&pool, "account:ada@example.com", &throttle::ACCOUNT).await.is_ok() });
    }
    let allowed = guesses.join_all().await.into_iter().filter(|ok| *ok).count();
    assert_eq!(allowed, 5);
}

/// A browser that has signed in to the account answers only for its own
/// failures: someone guessing elsewhere never slows the owner down.
#[sqlx::test]
async fn guessing_from_elsewhere_never_slows_the_owner_down(pool: PgPool) {
    let app = spawn_app(pool).await;
    sign_up(&app, "ada@example.com").await;
    assert!(app.cookie("/fn/sign_in", "forgelink_device").is_some(), "the browser that signed up is known");
    app.post_form("/fn/sign_out", &[]).await;
    let attacker = app.another_browser();
    for _ in 0..5 {
        sign_in(&attacker, "ada@example.com", "guess guess guess").await;
    }
    assert_eq!(sign_in(&attacker, "ada@example.com", "correct horse battery").await.status(), 429);
    let response = sign_in(&app, "ada@example.com", "correct horse battery").await;
    assert!(response.status().is_redirection() || response.status().is_success(), "{}", response.status());
    assert_eq!(signed_in(&app).await.email, "ada@example.com");

    // Its own failures still count, and a forged device cookie is just a stranger.
    app.post_form("/fn/sign_out", &[]).await;
    for _ in 0..5 {
        assert_eq!(sign_in(&app, "ada@example.com", "a typo a typo").await.status(), 422);
    }
    assert_eq!(sign_in(&app, "ada@example.com", "correct horse battery").await.status(), 429);
    attacker.set_cookie("forgelink_device", &"0".repeat(64));
    assert_eq!(sign_in(&attacker, "ada@example.com", "correct horse battery").await.status(), 429);
}

/// The test client is a proxy forgelink trusts.
fn behind_a_proxy(config: &mut forgelink::server::config::Config) {
    config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
}

async fn sign_in_from(app: &TestApp, forwarded_for: &str, email: &str, password: &str) -> u16 {
    let form = [("email", email), ("password", password), ("next", "")];
    app.post_form_with("/fn/sign_in", &form, &[("x-forwarded-for", forwarded_for)]).await.status().as_u16()
}

/// Behind a trusted proxy each client is throttled by its own address, so one
/// attacker cannot lock out everyone who comes through the proxy; without one,
/// `X-Forwarded-For` is the client's say-so and is ignored.
#[sqlx::test]
async fn each_client_behind_a_trusted_proxy_has_its_own_limit(pool: PgPool) {
    let app = spawn_app_with(pool.clone(), behind_a_proxy).await;
    sign_up(&app, "ada@example.com").await;
    let attacker = app.another_browser();
    for n in 0..20 {
        assert_eq!(
            sign_in_from(&attacker, "198.51.100.1", &format!("guess{n}@example.com"), "guess guess guess").await,
            422
        );
    }
    assert_eq!(sign_in_from(&attacker, "198.51.100.1", "guess@example.com", "guess guess guess").await, 429);
    let owner = app.another_browser();
    let status = sign_in_from(&owner, "198.51.100.2", "ada@example.com", "correct horse battery").await;
    assert!(status < 400, "{status}");

    let direct = spawn_app(pool).await;
    let attacker = direct.another_browser();
    for n in 0..20 {
        sign_in_from(&attacker, &format!("198.51.100.{n}"), &format!("guess{n}@example.com"), "guess guess guess")
            .await;
    }
    assert_eq!(sign_in_from(&attacker, "198.51.100.99", "guess@example.com", "guess guess guess").await, 429);
}

#[sqlx::test]
async fn sign_ups_from_one_address_are_throttled(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    for round in 0..2 {
        for n in 0..10 {
            let response = sign_up(&app.another_browser(), &format!("user{round}-{n}@example.com")).await;
            assert!(response.status().as_u16() < 400, "{}", response.status());
        }
        let Refusal { status, message } =
            error_message(sign_up(&app.another_browser(), "one-more@example.com").await).await;
        assert_eq!(status, 429);
        assert!(message.contains("Too many attempts. Wait 1 second"), "{message}");
        // An hour without sign-ups from the address: ten more are free again.
        time_passes(&pool, 3601.0).await;
    }
}

/// Throttles quiet for a day and devices unused for 400 days are deleted.
#[sqlx::test]
async fn old_throttles_and_devices_are_swept(pool: PgPool) {
    sqlx::query!(
        "INSERT INTO auth_throttles (key, attempts, last_at) VALUES
           ('account:old@example.com', 9, now() - interval '25 hours'), ('account:new@example.com', 3, now() - interval '1 hour')"
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query!(
        "INSERT INTO sign_in_devices (token_hash, email, last_used_at) VALUES
           ('\\x01', 'old@example.com', now() - interval '401 days'), ('\\x02', 'new@example.com', now())"
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(forgelink::server::accounts::throttle::sweep(&pool).await.unwrap(), 2);
    let keys: Vec<String> = sqlx::query_scalar!("SELECT key FROM auth_throttles").fetch_all(&pool).await.unwrap();
    assert_eq!(keys, ["account:new@example.com"]);
    let devices: Vec<String> = sqlx::query_scalar!("SELECT email FROM sign_in_devices").fetch_all(&pool).await.unwrap();
    assert_eq!(devices, ["new@example.com"]);
}

#[sqlx::test]
async fn signing_in_issues_a_new_session_id_and_signing_out_ends_it(pool: PgPool) {
    let app = spawn_app(pool).await;
    sign_up(&app, "ada@example.com").await;
    app.post_form("/fn/sign_out", &[]).await;
    assert_eq!(current_user(&app).await, None);

    // Fixation: an attacker plants a session id they hold (a live one: the
    // store adopts no id it did not issue) in the victim's browser. Signing in
    // must leave the attacker's id without the victim's account.
    let attacker = app.another_browser();
    sign_up(&attacker, "mallory@example.com").await;
    let planted = attacker.cookie("/", "forgelink_session").expect("attacker's session");
    app.set_cookie("forgelink_session", &planted);
    assert_eq!(signed_in(&app).await.email, "mallory@example.com", "the planted id is live");
    let response = sign_in(&app, "ada@example.com", "correct horse battery").await;
    assert!(response.status().is_success() || response.status().is_redirection(), "{}", response.status());
    assert_eq!(signed_in(&app).await.email, "ada@example.com");
    assert_ne!(app.cookie("/", "forgelink_session").expect("signed in"), planted);
    assert_eq!(current_user(&attacker).await, None, "the planted id no longer names anyone");
}

#[sqlx::test]
async fn a_session_survives_a_server_restart(pool: PgPool) {
    let first = spawn_app(pool.clone()).await;
    sign_up(&first, "ada@example.com").await;
    let session = first.cookie("/", "forgelink_session").expect("signed in");
    first.stop().await.unwrap();

    let second = spawn_app(pool).await;
    second.set_cookie("forgelink_session", &session);
    assert_eq!(signed_in(&second).await.email, "ada@example.com");
}

#[sqlx::test]
async fn state_changing_requests_from_another_origin_are_refused(pool: PgPool) {
    let app = spawn_app(pool).await;
    let forged = app
        .client
        .post(app.url("/fn/sign_up"))
        .header("origin", "http://evil.example")
        .form(&[("email", "a@example.com"), ("display_name", "A"), ("password", "0123456789"), ("next", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let no_origin = app
        .client
        .post(app.url("/fn/sign_up"))
        .form(&[("email", "a@example.com"), ("display_name", "A"), ("password", "0123456789"), ("next", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_origin.status(), 403);
    // Without an Origin (some browsers omit it), the Referer's origin decides.
    let from_referer = |referer: String, email: &'static str| {
        app.client
            .post(app.url("/fn/sign_up"))
            .header("referer", referer)
            .form(&[("email", email), ("display_name", "A"), ("password", "0123456789"), ("next", "")])
            .send()
    };
    let elsewhere = from_referer("http://evil.example/signup".into(), "a@example.com").await.unwrap();
    assert_eq!(elsewhere.status(), 403);
    let ours = from_referer(app.url("/signup"), "b@example.com").await.unwrap();
    assert!(ours.status().is_success() || ours.status().is_redirection(), "{}", ours.status());
    // Webhooks are exempt (their signature is their proof), so they are not refused for lacking an Origin.
    let hook = app.client.post(app.url("/webhooks/github")).body("{}").send().await.unwrap();
    assert_ne!(hook.status(), 403);
}

/// With `FORGELINK_PUBLIC_URL` set, a change must come from exactly that
/// origin (scheme, host and port), whatever host the request was sent to.
#[sqlx::test]
async fn changes_must_come_from_the_public_origin(pool: PgPool) {
    let app = spawn_app_with(pool, |config| config.public_url = Some("https://forgelink.example.com".into())).await;
    let sign_up_from = |origin: String| {
        app.client
            .post(app.url("/fn/sign_up"))
            .header("origin", origin)
            .form(&[("email", "a@example.com"), ("display_name", "A"), ("password", "0123456789"), ("next", "")])
            .send()
    };
    for (origin, why) in [
        ("http://forgelink.example.com".to_owned(), "another scheme"),
        ("https://forgelink.example.com:8443".to_owned(), "another port"),
        (format!("http://{}", app.addr), "the address it listens on"),
    ] {
        assert_eq!(sign_up_from(origin).await.unwrap().status(), 403, "{why}");
    }
    let signed_up = sign_up_from("https://forgelink.example.com".to_owned()).await.unwrap();
    let status = signed_up.status();
    assert!(status.is_success() || status.is_redirection(), "{status}");
    // Served over https: its cookies are never sent over plain http.
    let cookies: Vec<_> = signed_up.headers().get_all("set-cookie").iter().map(|c| c.to_str().unwrap()).collect();
    assert!(cookies.iter().any(|c| c.starts_with("forgelink_session=")), "{cookies:?}");
    assert!(cookies.iter().all(|c| c.contains("; Secure")), "{cookies:?}");
}

#[sqlx::test]
async fn projects_are_created_with_unique_slugs_and_only_owners_see_integrations(pool: PgPool) {
    let owner = spawn_app(pool).await;
    sign_up(&owner, "owner@example.com").await;
    let created = owner
        .post_form("/fn/create_project", &[("name", "Apollo Guidance"), ("slug", ""), ("description", "Lunar")])
        .await;
    assert!(!created.status().is_client_error(), "{}", created.status());
    let taken = owner
        .post_form("/fn/create_project", &[("name", "Another"), ("slug", "apollo-guidance"), ("description", "")])
        .await;
    assert_eq!(taken.status(), 409);
    let bad =
        owner.post_form("/fn/create_project", &[("name", "Bad"), ("slug", "Not A Slug"), ("description", "")]).await;
    assert_eq!(bad.status(), 422);

    let page = owner.get("/projects/apollo-guidance/integrations").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Connect GitHub account"), "the owner sees the GitHub section");

    let visitor = owner.another_browser();
    sign_up(&visitor, "visitor@example.com").await;
    let overview = visitor.get("/projects/apollo-guidance").await;
    assert_eq!(overview.status(), 200);
    assert!(!overview.text().await.unwrap().contains("/projects/apollo-guidance/integrations"), "no Integrations tab");
    assert_eq!(visitor.get("/projects/apollo-guidance/integrations").await.status(), 404);
    assert_eq!(visitor.get("/projects/no-such-project/integrations").await.status(), 404);
    let anonymous = owner.another_browser();
    assert_eq!(anonymous.get("/projects/apollo-guidance/integrations").await.status(), 404);
}

/// A project page is the server's HTML and nothing more: no data serialized
/// for hydration (only islands run in the browser, `app`), bytes no one uses.
#[sqlx::test]
async fn each_project_page_carries_no_data_for_the_browser_and_says_once_what_is_not_found(pool: PgPool) {
    let owner = spawn_app(pool).await;
    sign_up(&owner, "owner@example.com").await;
    let created = owner.post_form("/fn/create_project", &[("name", "Apollo"), ("slug", ""), ("description", "")]).await;
    assert!(!created.status().is_client_error(), "{}", created.status());
    for path in ["/projects/apollo", "/projects/apollo/tasks", "/projects/apollo/integrations"] {
        let html = owner.get(path).await.text().await.unwrap();
        assert!(html.contains("<h1>Apollo</h1>"), "{path}: {html}");
        assert!(!html.contains("__RESOLVED_RESOURCES["), "{path}: {html}");
    }

    for path in ["/projects/gone", "/projects/gone/tasks", "/projects/gone/integrations"] {
        let page = owner.get(path).await;
        assert_eq!(page.status(), 404, "{path}");
        let html = page.text().await.unwrap();
        assert_eq!(html.matches("Page not found").count(), 1, "{path}");
        assert!(
            !html.contains("<h2>Tasks</h2>") && !html.contains("<h2>About</h2>"),
            "{path}: no tab of a missing project"
        );
    }
    // Someone else's project: its heading, and no integrations.
    let visitor = owner.another_browser();
    sign_up(&visitor, "visitor@example.com").await;
    let page = visitor.get("/projects/apollo/integrations").await;
    assert_eq!(page.status(), 404);
    let html = page.text().await.unwrap();
    assert!(html.contains("<h1>Apollo</h1>"), "{html}");
    assert_eq!(html.matches("Page not found").count(), 1);
}

/// Signing in goes on to `next` only if it is a path on this site: a crafted
/// link cannot send someone elsewhere with their fresh session.
#[sqlx::test]
async fn signing_in_never_redirects_to_another_site(pool: PgPool) {
    let server = spawn_app(pool).await;
    let app = &server;
    sign_up(app, "ada@example.com").await;
    // A plain form post, as the sign-in page makes before hydration, from a browser not signed in yet.
    let sign_in_then = |next: &'static str| async move {
        let form = [("email", "ada@example.com"), ("password", "correct horse battery"), ("next", next)];
        let browser = app.another_browser();
        let request =
            browser.client.post(app.url("/fn/sign_in")).header("origin", app.url("")).header("accept", "text/html");
        support::flows::location(&request.form(&form).send().await.unwrap())
    };
    assert_eq!(sign_in_then("/projects/new").await, "/projects/new");
    for next in
        ["/\t/evil.example", "/\\evil.example", "//evil.example", "%2F%2Fevil", "https:evil", "/\n/evil.example"]
    {
        assert_eq!(sign_in_then(next).await, "/projects", "{next:?}");
    }
}

/// A problem page's "Go back" link is a path on this site whatever `return_to` says.
#[sqlx::test]
async fn problem_pages_go_back_only_to_this_site(pool: PgPool) {
    let app = spawn_app(pool).await;
    for (page, fallback) in [
        ("/auth/github/problem?reason=cancelled", "/account"),
        ("/integrations/github/problem?reason=state", "/projects"),
    ] {
        for crafted in ["/%09/evil.example", "/%5Cevil.example", "//evil.example", "https:evil.example"] {
            let html = app.get(&format!("{page}&return_to={crafted}")).await.text().await.unwrap();
            assert!(!html.contains("evil.example"), "{page} {crafted}");
            assert!(html.contains(&format!(r#"<a href="{fallback}">Go back</a>"#)), "{page} {crafted}: {html}");
        }
    }
}

/// The projects list comes 50 to a page, the viewer's own first; a page past
/// the end, however far, is an empty page with a way back.
#[sqlx::test]
async fn the_projects_list_comes_in_pages(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    sign_up(&app, "ada@example.com").await;
    sqlx::query!(
        "INSERT INTO projects (owner_id, name, slug)
         SELECT u.id, 'Project ' || n, 'project-' || n FROM users u, generate_series(1, 120) n"
    )
    .execute(&pool)
    .await
    .unwrap();
    let page = |n: &str| {
        let n = n.to_owned();
        let app = &app;
        async move {
            let response = app.post_form("/fn/list_projects", &[("page", &n)]).await;
            assert_eq!(response.status(), 200);
            answer::<ProjectPage>(response).await
        }
    };
    let first = page("1").await;
    assert_eq!(first.projects.len(), 50);
    assert!(first.has_more);
    let last = page("3").await;
    assert_eq!(last.projects.len(), 20);
    assert!(!last.has_more);
    let slugs = |page: &ProjectPage| page.projects.iter().map(|p| p.slug.clone()).collect::<Vec<_>>();
    let mut all = slugs(&first);
    all.extend(slugs(&page("2").await));
    all.extend(slugs(&last));
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 120, "every project once");

    let html = app.get("/projects").await.text().await.unwrap();
    assert!(html.contains("<a href=\"/projects?page=2\">Next</a>"), "{html}");
    let far = app.get("/projects?page=9223372036854775807").await;
    assert_eq!(far.status(), 200);
    assert!(far.text().await.unwrap().contains("No projects on this page."));
    let past_the_end = page("9223372036854775807").await.projects;
    assert!(past_the_end.is_empty(), "{past_the_end:?}");
}
