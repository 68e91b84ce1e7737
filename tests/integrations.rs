//! Installing the App from a project and everything after it, end to end over
//! HTTP with the simulator: the setup URL's checks, the installation webhooks
//! and their handlers, follows, and what the integrations tab is given.
#![cfg(feature = "ssr")]

mod support;

use forgelink::domain::integrations::{InstallationState, Integrations, Lifecycle, RepoPage, SyncStatus};
use sqlx::PgPool;
use support::{
    flows::{connect_github, create_project, local, location, query, sign_up},
    spawn_stack, wait_for_events, Stack, TestApp,
};

async fn integrations(stack: &Stack, slug: &str) -> Integrations {
    integrations_in(&stack.app, slug).await
}

async fn integrations_in(app: &TestApp, slug: &str) -> Integrations {
    let response = app.post_form("/fn/get_integrations", &[("slug", slug)]).await;
    assert_eq!(response.status(), 200);
    support::answer(response).await
}

/// An installation's row, as far as a refused link must leave it alone.
#[derive(Debug, PartialEq)]
struct InstallationRow {
    id: i64,
    github_id: Option<i64>,
    user_id: Option<i64>,
    state: String,
}

async fn installation_rows(pool: &PgPool) -> Vec<InstallationRow> {
    sqlx::query!(r#"SELECT id, github_id, user_id, state FROM github_app_installations ORDER BY id"#)
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .map(|r| InstallationRow { id: r.id, github_id: r.github_id, user_id: r.user_id, state: r.state })
        .collect()
}

async fn attachments(pool: &PgPool) -> i64 {
    sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM project_github_installations"#).fetch_one(pool).await.unwrap()
}

/// The first page of the installation's repositories, filtered, as the tab gets it.
async fn repos(stack: &Stack, slug: &str, installation: i64, filter: &str) -> RepoPage {
    repos_page(stack, slug, installation, filter, 1).await
}

async fn repos_page(stack: &Stack, slug: &str, installation: i64, filter: &str, page: i64) -> RepoPage {
    let (id, page) = (installation.to_string(), page.to_string());
    let form = [("slug", slug), ("installation", id.as_str()), ("filter", filter), ("page", page.as_str())];
    let response = stack.app.post_form("/fn/get_integrations", &form).await;
    assert_eq!(response.status(), 200);
    let view: Integrations = support::answer(response).await;
    let shown = view.installations.into_iter().find(|i| i.id == installation).expect("the installation is attached");
    shown.repos.expect("a page of its repositories")
}

fn sim_id(stack: &Stack, login: &str) -> u64 {
    stack.gh.sim.sim.world().account_by_login(login).unwrap().id
}

fn repo_id(stack: &Stack, owner: &str, name: &str) -> u64 {
    stack.gh.sim.sim.world().repo_by_name(owner, name).unwrap().id
}

/// A person (in the browser `app`) with a project and GitHub connected as `login`.
async fn owner(stack: &Stack, app: &TestApp, email: &str, login: &str, slug: &str) {
    sign_up(app, email).await;
    create_project(app, slug).await;
    connect_github(stack, app, login).await;
}

/// Clicks Install in forgelink; returns the `state` GitHub is given.
async fn click_install(stack: &Stack, app: &TestApp, slug: &str) -> String {
    let to_github = location(&app.post_form("/integrations/github/install", &[("slug", slug)]).await);
    assert!(
        to_github.starts_with(&format!("{}/apps/forgelink-test/installations/new?state=", stack.gh.web)),
        "{to_github}"
    );
    query(&to_github)["state"].clone()
}

/// Installs on the simulator's page as `login`, on `account`, with the chosen
/// repositories (`None`: all); returns where GitHub sends the browser.
async fn install_on_github(stack: &Stack, login: &str, account: &str, repos: Option<&[&str]>, state: &str) -> String {
    let cookie = stack.gh.sign_in(login).await;
    let target = sim_id(stack, account).to_string();
    let ids: Vec<String> = repos.unwrap_or_default().iter().map(|r| repo_id(stack, account, r).to_string()).collect();
    let mut form = vec![
        ("target_id", target.as_str()),
        ("state", state),
        ("repository_selection", if repos.is_some() { "selected" } else { "all" }),
    ];
    form.extend(ids.iter().map(|id| ("repository_ids", id.as_str())));
    location(&stack.gh.post_form(&cookie, "/apps/forgelink-test/installations", &form).await)
}

#[sqlx::test]
async fn installing_from_a_project_links_lists_and_follows_the_chosen_repositories(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    owner(&stack, &stack.app, "ada@example.com", "octocat", "apollo").await;
    let state = click_install(&stack, &stack.app, "apollo").await;
    assert!(integrations(&stack, "apollo").await.install_pending);
    assert!(tab_html(&stack.app, "apollo").await.contains("Waiting for GitHub…"));

    let setup = install_on_github(&stack, "octocat", "forge-demo", Some(&["api", "web"]), &state).await;
    assert_eq!(query(&setup)["setup_action"], "install");
    let back = stack.app.get(&local(&setup)).await;
    assert_eq!(location(&back), "/projects/apollo/integrations");
    wait_for_events(&pool, 1).await;

    let tab = integrations(&stack, "apollo").await;
    assert!(!tab.install_pending);
    assert_eq!(tab.installations.len(), 1, "{tab:?}");
    let installation = &tab.installations[0];
    assert_eq!(installation.account_login.as_deref(), Some("forge-demo"));
    assert_eq!(installation.account_type.as_deref(), Some("Organization"));
    assert_eq!(installation.state, InstallationState::Processed);
    assert_eq!(installation.lifecycle, Lifecycle::Installed);
    assert_eq!(installation.repo_count, 2);
    let listed = repos(&stack, "apollo", installation.id, "").await;
    let names: Vec<(&str, bool)> = listed.repos.iter().map(|r| (r.full_name.as_str(), r.following)).collect();
    assert_eq!(names, [("forge-demo/api", true), ("forge-demo/web", true)]);

    // One row per installation, origin app, the pending row consumed.
    let rows = sqlx::query!("SELECT origin, state, github_id, user_id FROM github_app_installations")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].origin, "app");
    assert!(rows[0].github_id.is_some() && rows[0].user_id.is_some());

    // A page number past any end, however large, is an empty page.
    let id = installation.id.to_string();
    let form = [("slug", "apollo"), ("installation", id.as_str()), ("filter", ""), ("page", "9223372036854775807")];
    let far = stack.app.post_form("/fn/get_integrations", &form).await;
    assert_eq!(far.status(), 200);
    let page =
        stack.app.get(&format!("/projects/apollo/integrations?installation={id}&page=9223372036854775807")).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("No repository matches."));

    // The same setup URL again (a reload) changes nothing and lands on the tab.
    let again = stack.app.get(&local(&setup)).await;
    assert_eq!(location(&again), "/projects/apollo/integrations");
    assert_eq!(
        sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM github_app_installations"#).fetch_one(&pool).await.unwrap(),
        1
    );

    // Changed on GitHub later (GitHub's "update" redirect, without a state):
    // back to the project it serves, even with a newer project, nothing changed.
    create_project(&stack.app, "gemini").await;
    let github_id = rows[0].github_id.unwrap();
    let before = installation_rows(&pool).await;
    let updated =
        stack.app.get(&format!("/integrations/github/setup?installation_id={github_id}&setup_action=update")).await;
    assert_eq!(location(&updated), "/projects/apollo/integrations");
    assert_eq!(installation_rows(&pool).await, before);
    assert_eq!(attachments(&pool).await, 1);

    // What the tab says, in words, while a large installation is listed and once it is.
    assert!(tab_html(&stack.app, "apollo").await.contains("Connected · 2 repositories"));
    sqlx::query!("UPDATE github_app_installations SET state = 'processing', repos_listed = 1200, repos_total = 5000")
        .execute(&pool)
        .await
        .unwrap();
    assert!(tab_html(&stack.app, "apollo").await.contains("Listing repositories (1,200 of 5,000)"));
}

/// The integrations tab as the server renders it.
async fn tab_html(app: &TestApp, slug: &str) -> String {
    let page = app.get(&format!("/projects/{slug}/integrations")).await;
    assert_eq!(page.status(), 200);
    page.text().await.unwrap()
}

#[sqlx::test]
async fn the_setup_url_refuses_what_it_cannot_confirm_and_changes_nothing(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    owner(&stack, &stack.app, "ada@example.com", "octocat", "apollo").await;
    // mona installs on her own account: octocat cannot see that installation.
    let monas = stack.gh.install("mona", "mona", None).await;
    wait_for_events(&pool, 1).await;
    let state = click_install(&stack, &stack.app, "apollo").await;
    let before = installation_rows(&pool).await;
    // The very state, signed with the server's key, but past its 24 hours.
    let (message, _signature) = state.rsplit_once('.').unwrap();
    let (named, _expires_at) = message.rsplit_once('.').unwrap();
    let expired = support::test_config().cipher.sign(&format!("{named}.{}", chrono::Utc::now().timestamp() - 1));

    let cases = [
        (format!("installation_id={monas}&setup_action=install&state={state}"), "not_yours"),
        (format!("installation_id={monas}&setup_action=install&state={expired}"), "state"),
        (format!("installation_id={monas}&setup_action=install&state={state}x"), "state"),
        (format!("installation_id={monas}&setup_action=install&state=1.1.1.99999999999.00"), "state"),
        (format!("setup_action=install&state={state}"), "missing_installation"),
        (format!("installation_id=not-a-number&setup_action=install&state={state}"), "missing_installation"),
        (format!("setup_action=request&state={state}"), "request"),
    ];
    for (params, reason) in cases {
        let landed = stack.app.get(&format!("/integrations/github/setup?{params}")).await;
        let to = location(&landed);
        assert!(to.starts_with(&format!("/integrations/github/problem?reason={reason}")), "{params}: {to}");
        assert_eq!(installation_rows(&pool).await, before, "{params} changed installations");
        assert_eq!(attachments(&pool).await, 0, "{params} attached something");
    }
    let page = stack.app.get("/integrations/github/problem?reason=request&return_to=%2Fprojects").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Waiting for an organization owner"));

    // Someone else's session cannot use this person's state.
    let other = stack.app.another_browser();
    sign_up(&other, "eve@example.com").await;
    let landed = other
        .get(&format!("/integrations/github/setup?installation_id={monas}&setup_action=install&state={state}"))
        .await;
    assert!(location(&landed).starts_with("/integrations/github/problem?reason=state"));

    // Signed out: sent to sign in first, and back here after.
    let anonymous = stack.app.another_browser();
    let landed =
        anonymous.get(&format!("/integrations/github/setup?installation_id={monas}&setup_action=install")).await;
    assert!(location(&landed).starts_with("/signin?next=%2Fintegrations%2Fgithub%2Fsetup"));
}

/// GitHub lists an organization's installation to every member; only one who
/// installed it, or owns the organization, may link it to a project.
#[sqlx::test]
async fn a_member_who_does_not_own_the_organization_cannot_link_its_installation(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    // octocat (an owner) installs on forge-demo before connecting: nobody's yet.
    let org = stack.gh.install("forge-demo", "octocat", None).await;
    wait_for_events(&pool, 1).await;
    owner(&stack, &stack.app, "mona@example.com", "mona", "monas").await;
    let state = click_install(&stack, &stack.app, "monas").await;
    let before = installation_rows(&pool).await;

    // Through the setup URL, with her project's state or without one.
    for params in [
        format!("installation_id={org}&setup_action=install&state={state}"),
        format!("installation_id={org}&setup_action=install"),
    ] {
        let to = location(&stack.app.get(&format!("/integrations/github/setup?{params}")).await);
        assert!(to.starts_with("/integrations/github/problem?reason=not_owner"), "{params}: {to}");
        assert_eq!(query(&to)["account"], "forge-demo");
        assert_eq!(installation_rows(&pool).await, before, "{params} changed installations");
        assert_eq!(attachments(&pool).await, 0, "{params} attached something");
        let page = stack.app.get(&to).await.text().await.unwrap();
        assert!(page.contains("Ask an owner of forge-demo to add it"), "{page}");
    }
    // Not offered, not attachable by id, and its repositories not followable.
    let offered = integrations(&stack, "monas").await.offered;
    assert!(offered.is_empty(), "{offered:?}");
    let id = sqlx::query_scalar!("SELECT id FROM github_app_installations WHERE github_id = $1", org as i64)
        .fetch_one(&pool)
        .await
        .unwrap()
        .to_string();
    let attach = stack.app.post_form("/fn/attach_installation", &[("slug", "monas"), ("installation_id", &id)]).await;
    assert_eq!(attach.status(), 404);
    let docs = sqlx::query_scalar!("SELECT id FROM github_repos WHERE full_name = 'forge-demo/docs'")
        .fetch_one(&pool)
        .await
        .unwrap();
    let follow = stack
        .app
        .post_form("/fn/set_following", &[("slug", "monas"), ("repo_id", &docs.to_string()), ("follow", "true")])
        .await;
    assert_eq!(follow.status(), 404);
    assert_eq!(installation_rows(&pool).await, before);

    // An owner of forge-demo who did not install it may: GitHub says so.
    {
        let mut world = stack.gh.sim.sim.world();
        let (org_id, hubot) =
            (world.account_by_login("forge-demo").unwrap().id, world.account_by_login("hubot").unwrap().id);
        world.add_member(org_id, hubot, true);
    }
    let hubot = stack.app.another_browser();
    owner(&stack, &hubot, "hubot@example.com", "hubot", "robots").await;
    let state = click_install(&stack, &hubot, "robots").await;
    let back = hubot
        .get(&format!("/integrations/github/setup?installation_id={org}&setup_action=install&state={state}"))
        .await;
    assert_eq!(location(&back), "/projects/robots/integrations");
    let tab = integrations_in(&hubot, "robots").await;
    assert_eq!(tab.installations.first().and_then(|i| i.account_login.as_deref()), Some("forge-demo"), "{tab:?}");
}

/// An owner approving a member's request installs it for the member: it joins
/// the member's project, not one the owner has an install pending for.
#[sqlx::test]
async fn an_approved_request_joins_the_requesters_project(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    owner(&stack, &stack.app, "mona@example.com", "mona", "monas").await;
    let asked = click_install(&stack, &stack.app, "monas").await;
    let to = install_on_github(&stack, "mona", "forge-demo", None, &asked).await;
    assert!(stack.app.get(&local(&to)).await.headers()["location"].to_str().unwrap().contains("reason=request"));
    let octocat = stack.app.another_browser();
    owner(&stack, &octocat, "ada@example.com", "octocat", "apollo").await;
    click_install(&stack, &octocat, "apollo").await;

    stack.gh.install_requested("forge-demo", "octocat", Some("mona"), Some(&["docs"])).await;
    wait_for_events(&pool, 1).await;
    let monas = integrations(&stack, "monas").await;
    assert_eq!(monas.installations.first().and_then(|i| i.account_login.as_deref()), Some("forge-demo"), "{monas:?}");
    assert!(!monas.install_pending);
    let apollo = integrations_in(&octocat, "apollo").await;
    assert!(apollo.installations.is_empty(), "{apollo:?}");
    assert!(apollo.install_pending, "octocat's own install is still to come");
    let requester =
        sqlx::query_scalar!("SELECT requester_github_id FROM github_app_installations WHERE github_id IS NOT NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(requester, Some(sim_id(&stack, "mona") as i64));
}

#[sqlx::test]
async fn an_install_started_on_github_is_offered_and_can_be_added(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    owner(&stack, &stack.app, "ada@example.com", "octocat", "apollo").await;
    let github_id = stack.gh.install("octocat", "octocat", None).await;
    wait_for_events(&pool, 1).await;
    // GitHub sends the installer to the setup URL without a state: to where it is offered.
    let back =
        stack.app.get(&format!("/integrations/github/setup?installation_id={github_id}&setup_action=install")).await;
    assert_eq!(location(&back), "/projects/apollo/integrations");

    let tab = integrations(&stack, "apollo").await;
    assert_eq!(tab.installations.len(), 0);
    assert_eq!(tab.offered.len(), 1, "{tab:?}");
    let offered = &tab.offered[0];
    assert_eq!(offered.state, InstallationState::InitiatedOnGithub);
    assert_eq!(offered.account_login.as_deref(), Some("octocat"));
    let id = offered.id.to_string();

    // Only the owner of a project can add it there.
    let eve = stack.app.another_browser();
    sign_up(&eve, "eve@example.com").await;
    create_project(&eve, "eves").await;
    let refused = eve.post_form("/fn/attach_installation", &[("slug", "eves"), ("installation_id", &id)]).await;
    assert_eq!(refused.status(), 404);

    let added = stack.app.post_form("/fn/attach_installation", &[("slug", "apollo"), ("installation_id", &id)]).await;
    assert!(added.status().is_success(), "{}", added.status());
    let tab = integrations(&stack, "apollo").await;
    assert_eq!(tab.offered.len(), 0);
    let installation = &tab.installations[0];
    assert_eq!(installation.state, InstallationState::Processed);
    assert_eq!(installation.repo_count, 2, "hello-world and dotfiles");
    // Nothing is followed until the owner says so.
    let listed = repos(&stack, "apollo", installation.id, "").await;
    assert!(listed.repos.iter().all(|r| !r.following));
}

/// An installation's repositories come 50 a page, however many it has.
#[sqlx::test]
async fn repositories_are_shown_fifty_a_page(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    owner(&stack, &stack.app, "ada@example.com", "octocat", "apollo").await;
    {
        let mut world = stack.gh.sim.sim.world();
        let octocat = world.account_by_login("octocat").unwrap().id;
        world.add_large_org("big-corp", 120, &[octocat]);
    }
    stack.gh.install("big-corp", "octocat", None).await;
    wait_for_events(&pool, 1).await;
    let id = integrations(&stack, "apollo").await.offered[0].id;
    let added = stack
        .app
        .post_form("/fn/attach_installation", &[("slug", "apollo"), ("installation_id", &id.to_string())])
        .await;
    assert!(added.status().is_success(), "{}", added.status());
    let mut pages = Vec::new();
    for page in 1..=3 {
        pages.push(repos_page(&stack, "apollo", id, "", page).await);
    }
    assert_eq!(pages.iter().map(|p| p.repos.len()).collect::<Vec<_>>(), [50, 50, 20]);
    assert!(pages.iter().all(|p| p.total == 120 && p.per_page == 50));
    assert_eq!(pages[2].repos.last().unwrap().full_name, "big-corp/repo-00120");
    let filtered = repos(&stack, "apollo", id, "repo-0011").await;
    assert_eq!((filtered.total, filtered.repos.len()), (10, 10), "the filter counts what it matches");
}

#[sqlx::test]
async fn an_install_by_someone_not_yet_connected_is_theirs_once_they_connect(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    stack.gh.install("mona", "mona", None).await;
    wait_for_events(&pool, 1).await;
    let row = sqlx::query!("SELECT state, user_id FROM github_app_installations").fetch_one(&pool).await.unwrap();
    assert_eq!((row.state.as_str(), row.user_id), ("unmatched_user", None));

    owner(&stack, &stack.app, "mona@example.com", "mona", "sketchbook").await;
    let tab = integrations(&stack, "sketchbook").await;
    assert_eq!(tab.offered.first().and_then(|i| i.account_login.as_deref()), Some("mona"), "{tab:?}");
    let row = sqlx::query!("SELECT state, user_id FROM github_app_installations").fetch_one(&pool).await.unwrap();
    assert_eq!(row.state, "initiated_on_github");
    assert!(row.user_id.is_some());
}

#[sqlx::test]
async fn follows_change_and_survive_the_installation_changing_on_github(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    owner(&stack, &stack.app, "ada@example.com", "octocat", "apollo").await;
    let state = click_install(&stack, &stack.app, "apollo").await;
    let setup = install_on_github(&stack, "octocat", "forge-demo", Some(&["api", "web"]), &state).await;
    stack.app.get(&local(&setup)).await;
    wait_for_events(&pool, 1).await;
    let tab = integrations(&stack, "apollo").await;
    let installation = tab.installations[0].id;
    let github_id = tab.installations[0].github_id.unwrap();
    let listed = repos(&stack, "apollo", installation, "web").await;
    assert_eq!(listed.total, 1, "the filter matches by name");
    let web = listed.repos[0].id.to_string();

    // Before the page is hydrated the button is a plain form post: back to the tab.
    let tab_url = stack.app.url("/projects/apollo/integrations");
    let plain = stack
        .app
        .client
        .post(stack.app.url("/fn/set_following"))
        .header("origin", format!("http://{}", stack.app.addr))
        .header("referer", &tab_url)
        .header("accept", "text/html,application/xhtml+xml")
        .form(&[("slug", "apollo"), ("repo_id", web.as_str()), ("follow", "false")])
        .send()
        .await
        .unwrap();
    assert!(plain.status().is_redirection(), "{}", plain.status());
    assert!(location(&plain).starts_with(&tab_url), "{}", location(&plain));
    assert!(!repos(&stack, "apollo", installation, "web").await.repos[0].following);

    // Unfollow, and follow again.
    for (follow, expected) in [("false", false), ("true", true), ("false", false)] {
        let response = stack
            .app
            .post_form("/fn/set_following", &[("slug", "apollo"), ("repo_id", &web), ("follow", follow)])
            .await;
        assert!(response.status().is_success());
        assert_eq!(repos(&stack, "apollo", installation, "web").await.repos[0].following, expected);
    }

    // On GitHub: add docs to the selection → it appears, not followed.
    let cookie = stack.gh.sign_in("octocat").await;
    let ids: Vec<String> =
        ["api", "web", "docs"].iter().map(|r| repo_id(&stack, "forge-demo", r).to_string()).collect();
    let mut form = vec![("repository_selection", "selected")];
    form.extend(ids.iter().map(|id| ("repository_ids", id.as_str())));
    stack.gh.post_form(&cookie, &format!("/settings/installations/{github_id}"), &form).await;
    wait_for_events(&pool, 2).await;
    let all = repos(&stack, "apollo", installation, "").await;
    let docs = all.repos.iter().find(|r| r.full_name == "forge-demo/docs").expect("docs listed");
    assert_eq!((docs.private, docs.following), (true, false));

    // Suspend: paused; unsuspend: receiving again.
    stack.gh.post_form(&cookie, &format!("/settings/installations/{github_id}/suspend"), &[]).await;
    wait_for_events(&pool, 3).await;
    assert_eq!(integrations(&stack, "apollo").await.installations[0].lifecycle, Lifecycle::Suspended);
    let api = repos(&stack, "apollo", installation, "api").await;
    assert_eq!(api.repos[0].sync_status, SyncStatus::Paused);
    // A change missed meanwhile (docs no longer recorded as reached) is healed:
    // unsuspending lists the installation's repositories again.
    sqlx::query!("UPDATE github_repos SET installation_id = NULL WHERE full_name = 'forge-demo/docs'")
        .execute(&pool)
        .await
        .unwrap();
    assert!(repos(&stack, "apollo", installation, "docs").await.repos.is_empty());
    stack.gh.post_form(&cookie, &format!("/settings/installations/{github_id}/unsuspend"), &[]).await;
    wait_for_events(&pool, 4).await;
    assert_eq!(repos(&stack, "apollo", installation, "api").await.repos[0].sync_status, SyncStatus::Receiving);
    assert_eq!(repos(&stack, "apollo", installation, "docs").await.repos.len(), 1, "listed again");

    // Uninstall: the installation says so; the follow of api is kept, unavailable.
    stack.gh.post_form(&cookie, &format!("/settings/installations/{github_id}/delete"), &[]).await;
    wait_for_events(&pool, 5).await;
    let tab = integrations(&stack, "apollo").await;
    assert_eq!(tab.installations[0].lifecycle, Lifecycle::Uninstalled);
    assert_eq!(tab.installations[0].repo_count, 0);
    let unavailable: Vec<&str> = tab.unavailable.iter().map(|r| r.full_name.as_str()).collect();
    assert_eq!(unavailable, ["forge-demo/api"]);
    let follows: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM project_github_repos WHERE following"#)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(follows, 1, "the follow is kept as history");
    let statuses = sqlx::query_scalar!("SELECT DISTINCT status FROM github_events").fetch_all(&pool).await.unwrap();
    assert_eq!(statuses, ["processed"]);
}

#[sqlx::test]
async fn only_the_owner_sees_or_changes_a_projects_integrations(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    owner(&stack, &stack.app, "ada@example.com", "octocat", "apollo").await;
    let eve = stack.app.another_browser();
    sign_up(&eve, "eve@example.com").await;
    for (path, form) in [
        ("/fn/get_integrations", vec![("slug", "apollo")]),
        ("/fn/get_integrations", vec![("slug", "apollo"), ("installation", "1"), ("filter", ""), ("page", "1")]),
        ("/fn/set_following", vec![("slug", "apollo"), ("repo_id", "1"), ("follow", "true")]),
    ] {
        assert_eq!(eve.post_form(path, &form).await.status(), 404, "{path}");
    }
    let refused = eve.post_form("/integrations/github/install", &[("slug", "apollo")]).await;
    assert!(location(&refused).starts_with("/integrations/github/problem?reason=not_found"));
    assert_eq!(
        sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM github_app_installations"#).fetch_one(&pool).await.unwrap(),
        0
    );
}

#[sqlx::test]
async fn a_new_install_click_replaces_the_pending_one(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    owner(&stack, &stack.app, "ada@example.com", "octocat", "apollo").await;
    create_project(&stack.app, "gemini").await;
    let first = click_install(&stack, &stack.app, "apollo").await;
    let second = click_install(&stack, &stack.app, "gemini").await;
    assert_ne!(first, second);
    let pending = sqlx::query_scalar!("SELECT originating_project_id FROM github_app_installations")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(pending.len(), 1, "at most one pending install per person");
    assert!(integrations(&stack, "gemini").await.install_pending);
    assert!(!integrations(&stack, "apollo").await.install_pending);
}

/// A pending install lives as long as its signed state (24 h): an install
/// GitHub reports later, even by the same person, is not taken for it.
#[sqlx::test]
async fn a_pending_install_expires_and_never_captures_a_later_one(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    owner(&stack, &stack.app, "ada@example.com", "octocat", "apollo").await;
    click_install(&stack, &stack.app, "apollo").await;
    sqlx::query!("UPDATE github_app_installations SET created_at = now() - interval '25 hours'")
        .execute(&pool)
        .await
        .unwrap();
    assert!(!integrations(&stack, "apollo").await.install_pending);
    // Installed on GitHub a day later, never coming back through the setup URL.
    stack.gh.install("octocat", "octocat", None).await;
    wait_for_events(&pool, 1).await;
    support::wait_until_settled(&pool).await;
    assert_eq!(attachments(&pool).await, 0, "not added to apollo by itself");
}

/// An event that meets GitHub's rate limit waits for the reset and does not
/// spend an attempt, so an hour-long limit never leaves it for an operator.
#[sqlx::test]
async fn a_rate_limited_event_waits_for_the_reset_without_spending_attempts(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    let faults = format!("{}/_sim/faults", stack.gh.web);
    stack
        .gh
        .http
        .put(&faults)
        .json(&serde_json::json!({"rate_limit_next": 1000, "reset_after_secs": 1800}))
        .send()
        .await
        .unwrap();
    stack.gh.install("forge-demo", "octocat", None).await;
    let postponed = support::until_some("the installation event to be postponed", 10, async || {
        sqlx::query!(
            r#"SELECT attempts, failure_reason, extract(epoch FROM next_attempt_at - now())::float8 AS "wait!"
               FROM github_events WHERE event = 'installation' AND status = 'errored'"#
        )
        .fetch_optional(&pool)
        .await
        .unwrap()
    })
    .await;
    assert_eq!(postponed.failure_reason.as_deref(), Some("github_rate_limited"));
    assert_eq!(postponed.attempts, 0, "not counted against its budget");
    assert!(postponed.wait > 1500.0, "tried again at the reset, not after a backoff: {}", postponed.wait);
}

#[sqlx::test]
async fn live_changes_reach_only_the_people_concerned(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    owner(&stack, &stack.app, "ada@example.com", "octocat", "apollo").await;
    stack.gh.install("forge-demo", "octocat", None).await;
    wait_for_events(&pool, 1).await;
    let id = integrations(&stack, "apollo").await.offered[0].id.to_string();

    let eve = stack.app.another_browser();
    sign_up(&eve, "eve@example.com").await;
    let open = |app: &support::TestApp| app.client.get(app.url("/live/integrations")).send();
    let mut adas = open(&stack.app).await.unwrap();
    let mut eves = open(&eve).await.unwrap();
    assert_eq!(adas.status(), 200);
    // Waited for up to 10 s when it must come; 2 s of quiet when it must not.
    let (wait, quiet) = (std::time::Duration::from_secs(10), std::time::Duration::from_secs(2));
    // One at once on connecting (what changed since the page rendered).
    assert!(support::next_change(&mut adas, wait).await);
    assert!(support::next_change(&mut eves, wait).await);

    // Ada adds the installation to her project: her tab hears it, Eve's does not.
    let added = stack.app.post_form("/fn/attach_installation", &[("slug", "apollo"), ("installation_id", &id)]).await;
    assert!(added.status().is_success());
    assert!(support::next_change(&mut adas, wait).await, "the owner's tab is told");
    assert!(!support::next_change(&mut eves, quiet).await, "someone else's tab is not");
    // Her tab open on another instance is told too (by PostgreSQL's NOTIFY).
    let other_instance = support::spawn_app(pool.clone()).await;
    other_instance.set_cookie("forgelink_session", &stack.app.cookie("/", "forgelink_session").unwrap());
    let mut elsewhere = open(&other_instance).await.unwrap();
    assert_eq!(elsewhere.status(), 200);
    assert!(support::next_change(&mut elsewhere, wait).await, "on connecting");
    // Quiet first: a new instance's listener, once connected, tells every open
    // stream it may have missed something, which must not pass for the change.
    while support::next_change(&mut elsewhere, std::time::Duration::from_millis(500)).await {}
    let repo = &repos(&stack, "apollo", id.parse().unwrap(), "").await.repos[0];
    let (repo_id, follow) = (repo.id.to_string(), (!repo.following).to_string());
    let changed = stack
        .app
        .post_form("/fn/set_following", &[("slug", "apollo"), ("repo_id", &repo_id), ("follow", &follow)])
        .await;
    assert!(changed.status().is_success(), "{}", changed.status());
    assert!(support::next_change(&mut elsewhere, wait).await, "a change made through another instance");

    let anonymous = stack.app.another_browser();
    assert_eq!(open(&anonymous).await.unwrap().status(), 401);
}

/// However many changes arrive, an open page is told at most about four
/// times a second (each message makes it reload what it shows).
#[sqlx::test]
async fn live_changes_are_coalesced(pool: PgPool) {
    let app = &support::spawn_app(pool.clone()).await;
    sign_up(app, "ada@example.com").await;
    let user_id: i64 = sqlx::query_scalar!("SELECT id FROM users").fetch_one(&pool).await.unwrap();
    let mut stream = app.client.get(app.url("/live/integrations")).send().await.unwrap();
    assert!(support::next_change(&mut stream, std::time::Duration::from_secs(10)).await, "on connecting");
    let audience = format!("u{user_id}");
    let notify = async {
        for _ in 0..20 {
            sqlx::query!("SELECT pg_notify($1, $2)", forgelink::server::live::INTEGRATIONS_CHANNEL, audience)
                .execute(&pool)
                .await
                .unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    };
    // Twenty changes over a second or more; messages counted for two seconds from the first.
    let count = async {
        let mut messages = 0;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
        while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(deadline, stream.chunk()).await {
            messages += String::from_utf8_lossy(&chunk).matches("event: changed").count();
        }
        messages
    };
    let ((), messages) = tokio::join!(notify, count);
    assert!((1..=8).contains(&messages), "{messages} messages for 20 changes");
}

/// A closed page lets go of its live stream at once, not at the next change that
/// concerns it (which may never come): open streams do not pile up.
#[sqlx::test]
async fn a_closed_page_lets_go_of_its_live_stream(pool: PgPool) {
    let app = &support::spawn_app(pool).await;
    sign_up(app, "ada@example.com").await;
    let mut stream = app.client.get(app.url("/live/integrations")).send().await.unwrap();
    assert!(support::next_change(&mut stream, std::time::Duration::from_secs(10)).await);
    assert_eq!(support::gauge(app, "live_streams").await, 1);
    drop(stream);
    support::wait_for_gauge(app, "live_streams", 0).await;
}

/// One person holds at most 16 live streams open (a tab each); closing one
/// makes room again.
#[sqlx::test]
async fn one_person_holds_a_bounded_number_of_live_streams(pool: PgPool) {
    let app = &support::spawn_app(pool).await;
    sign_up(app, "ada@example.com").await;
    let open = || app.client.get(app.url("/live/integrations")).send();
    let mut streams = Vec::new();
    for _ in 0..16 {
        let stream = open().await.unwrap();
        assert_eq!(stream.status(), 200);
        streams.push(stream);
    }
    let refused = open().await.unwrap();
    assert_eq!(refused.status(), 429);
    assert!(refused.text().await.unwrap().contains("Too many live pages open"));
    // Someone else is not affected.
    let other = app.another_browser();
    sign_up(&other, "grace@example.com").await;
    let theirs = other.client.get(other.url("/live/integrations")).send().await.unwrap();
    assert_eq!(theirs.status(), 200);
    drop(streams.pop());
    support::wait_for_gauge(app, "live_streams", 16).await;
    assert_eq!(open().await.unwrap().status(), 200);
}

/// States are read as the enums they are: a spelling the code does not know
/// (a newer release's, say) is an error, never taken for some other state.
#[sqlx::test]
async fn a_state_the_code_does_not_know_is_an_error_not_a_default(pool: PgPool) {
    use forgelink::domain::integrations::{InstallationState, Lifecycle};
    let known: InstallationState = sqlx::query_scalar("SELECT 'processed'::text").fetch_one(&pool).await.unwrap();
    assert_eq!(known, InstallationState::Processed);
    let unknown = sqlx::query_scalar::<_, InstallationState>("SELECT 'teleported'::text").fetch_one(&pool).await;
    assert!(matches!(unknown, Err(sqlx::Error::ColumnDecode { .. })), "{unknown:?}");
    let unknown = sqlx::query_scalar::<_, Lifecycle>("SELECT 'paused'::text").fetch_one(&pool).await;
    assert!(matches!(unknown, Err(sqlx::Error::ColumnDecode { .. })), "{unknown:?}");
}

/// Installs on a new organization of `repos` repositories, adds it to apollo
/// and follows them all; returns once their imports are done.
async fn followed_org(stack: &Stack, pool: &PgPool, org: &str, repos: usize) {
    {
        let mut world = stack.gh.sim.sim.world();
        let octocat = world.account_by_login("octocat").unwrap().id;
        world.add_large_org(org, repos, &[octocat]);
    }
    stack.gh.install(org, "octocat", None).await;
    let offered = support::until_some("the installation offered", 10, async || {
        integrations(stack, "apollo").await.offered.into_iter().find(|i| i.account_login.as_deref() == Some(org))
    })
    .await;
    let id = offered.id.to_string();
    let added = stack.app.post_form("/fn/attach_installation", &[("slug", "apollo"), ("installation_id", &id)]).await;
    assert!(added.status().is_success(), "{}", added.status());
    sqlx::query(
        "INSERT INTO project_github_repos (project_id, github_repo_id)
         SELECT p.id, r.id FROM projects p, github_repos r WHERE p.slug = 'apollo' AND r.owner_login = $1",
    )
    .bind(org)
    .execute(pool)
    .await
    .unwrap();
    support::until("every import done", 30, async || {
        let busy: i64 = sqlx::query_scalar("SELECT count(*) FROM github_repo_imports WHERE state <> 'up_to_date'")
            .fetch_one(pool)
            .await
            .unwrap();
        busy == 0
    })
    .await;
}

/// No query per row: the integrations tab makes as many statements for 50
/// followed repositories (each with its import's progress) as for 5.
#[sqlx::test]
async fn the_integrations_tab_makes_as_many_queries_for_50_repositories_as_for_5(pool: PgPool) {
    let stack = spawn_stack(pool.clone()).await;
    owner(&stack, &stack.app, "ada@example.com", "octocat", "apollo").await;
    followed_org(&stack, &pool, "small-corp", 5).await;
    let few = support::statements_for(&stack.app, &pool, "/projects/apollo/integrations").await;
    // One installation at a time: what is counted is rows, not installations.
    sqlx::query("DELETE FROM project_github_installations").execute(&pool).await.unwrap();
    followed_org(&stack, &pool, "big-corp", 50).await;
    let many = support::statements_for(&stack.app, &pool, "/projects/apollo/integrations").await;
    assert!(tab_html(&stack.app, "apollo").await.contains("big-corp/repo-00050"));
    assert!(many <= few, "{few} statements for 5 repositories, {many} for 50: a query per row");
}
