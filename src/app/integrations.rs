//! The integrations tab (owner only): the GitHub connection, installing the
//! App, each installation with its repositories (filter, pages, follow and
//! unfollow), installations to add, and followed repositories no longer
//! reachable. It follows changes live (`/live/integrations`): whatever a
//! worker on any instance changes appears without a reload.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Form, hooks::use_query_map};

use super::{
    data_resource,
    github::GitHubConnection,
    live::Live,
    projects::{slug_param, use_project},
    ErrorNote, NotFound,
};
use crate::paths::{encode_query, local_path};
use crate::{
    api::{
        error::AppError,
        integrations::{get_integrations, AttachInstallation, RetryImport, SetFollowing},
    },
    domain::{
        integrations::{InstallationOverview, InstallationState, Lifecycle, Repo, RepoBrowse, RepoPage, SyncStatus},
        problems::InstallProblem,
        tasks::ImportState,
    },
};

/// What the tab's parts share: the project, and its forms' actions.
#[derive(Clone, Copy)]
struct TabContext {
    slug: Memo<String>,
    follow: ServerAction<SetFollowing>,
    attach: ServerAction<AttachInstallation>,
    retry: ServerAction<RetryImport>,
}

#[component]
pub fn IntegrationsTab() -> impl IntoView {
    let tab = TabContext {
        slug: slug_param(),
        follow: ServerAction::<SetFollowing>::new(),
        attach: ServerAction::<AttachInstallation>::new(),
        retry: ServerAction::<RetryImport>::new(),
    };
    provide_context(tab);
    let project = use_project();
    // The repository page and filter in the address apply to the installation they name.
    let query = use_query_map();
    let browse = Memo::new(move |_| {
        let q = query.read();
        RepoBrowse {
            installation: q.get("installation").and_then(|v| v.parse().ok()),
            filter: q.get("q").unwrap_or_default(),
            page: q.get("page").and_then(|v| v.parse().ok()).unwrap_or(1),
        }
    });
    let integrations = data_resource(
        move || (tab.slug.get(), browse.get()),
        |(slug, browse)| get_integrations(slug, browse.installation, Some(browse.filter), Some(browse.page)),
    );
    view! {
        <Live stream="/live/integrations".to_owned()>
        <Transition fallback=|| view! { <p>"Loading integrations…"</p> }>
            {move || Suspend::new(async move {
                match integrations.await {
                    Ok(view) => {
                        let slug = view.project.slug.clone();
                        let return_to = format!("/projects/{slug}/integrations");
                        let connected = view.github.as_ref().is_some_and(|g| !g.reconnect_needed);
                        let has_installations = !view.installations.is_empty();
                        view! {
                            <div class="integrations">
                            <Title text=format!("Integrations · {}", view.project.name)/>
                            <section class="card" aria-labelledby="github-heading">
                                <h2 id="github-heading">"GitHub"</h2>
                                <GitHubConnection github=view.github.clone() return_to/>
                                {connected.then(|| view! {
                                    <InstallButton slug=slug.clone() pending=view.install_pending again=has_installations/>
                                })}
                            </section>
                            {view.installations.into_iter().map(|installation| view! {
                                <InstallationCard installation/>
                            }).collect_view()}
                            {(!view.offered.is_empty()).then(|| view! { <Offered installations=view.offered.clone()/> })}
                            {(!view.unavailable.is_empty()).then(|| view! { <Unavailable repos=view.unavailable.clone()/> })}
                            {move || tab.follow.value().get().and_then(Result::err).map(|error| view! { <ErrorNote error/> })}
                            </div>
                        }.into_any()
                    }
                    // Of a project that exists: not its owner. Otherwise the layout says so.
                    Err(AppError::NotFound) => project.await.is_ok().then(|| view! { <NotFound/> }).into_any(),
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                }
            })}
        </Transition>
        </Live>
    }
}

/// A plain form: GitHub's install page is a full navigation anyway.
#[component]
fn InstallButton(slug: String, pending: bool, again: bool) -> impl IntoView {
    let label = if again { "Add another account" } else { "Install on GitHub" };
    view! {
        <div class="install">
            {pending.then(|| view! {
                <p class="note" role="status">
                    "Waiting for GitHub… Finish installing there; this page updates by itself once GitHub confirms."
                </p>
            })}
            <form method="post" action="/integrations/github/install">
                <input type="hidden" name="slug" value=slug/>
                <button type="submit" class="button">{label}</button>
            </form>
            <p class="hint">"Installs the forgelink App on your GitHub account or an organization, and lets you choose repositories."</p>
        </div>
    }
}

/// The installation's state and lifecycle in words, with the next step.
fn status_words(i: &InstallationOverview) -> String {
    match (i.lifecycle, i.state) {
        (Lifecycle::Uninstalled, _) => "Uninstalled on GitHub. Its repositories are no longer available; the ones this project followed are kept below.".into(),
        (Lifecycle::Suspended, _) => "Suspended on GitHub. Nothing syncs until it is unsuspended there.".into(),
        (_, InstallationState::InitiatedOnApp) => "Waiting for GitHub…".into(),
        (_, InstallationState::Processing) => match i.repos_total {
            Some(total) => format!("Listing repositories ({} of {})", thousands(i.repos_listed.into()), thousands(total.into())),
            None => "Listing repositories…".into(),
        },
        (_, InstallationState::Processed) => format!("Connected · {} repositories", thousands(i.repo_count)),
        (_, InstallationState::InitiatedOnGithub) => "Installed on GitHub; add it to a project to follow its repositories.".into(),
        (_, InstallationState::UnmatchedUser) => "Installed on GitHub by someone who has not connected a forgelink account.".into(),
    }
}

/// 5000 → "5,000".
fn thousands(n: i64) -> String {
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

#[component]
fn AccountLabel(installation: InstallationOverview) -> impl IntoView {
    let login = installation.account_login.clone().unwrap_or_else(|| "GitHub account".into());
    let kind = match installation.account_type.as_deref() {
        Some("Organization") => "Organization",
        Some("User") => "Personal account",
        _ => "",
    };
    view! {
        {installation.account_avatar_url.clone().map(|src| view! { <img class="avatar" src=src alt="" width="40" height="40"/> })}
        <div>
            <h3 class="installation-name">{login}</h3>
            <p class="muted">{kind}</p>
        </div>
    }
}

#[component]
fn InstallationCard(installation: InstallationOverview) -> impl IntoView {
    let status = status_words(&installation);
    let listing = installation.state == InstallationState::Processing && installation.lifecycle == Lifecycle::Installed;
    let label = installation.account_login.clone().unwrap_or_default();
    let repos = installation.repos.clone().filter(|_| installation.repo_count > 0);
    view! {
        <section class="card installation" aria-label=label.clone()>
            <div class="installation-head">
                <AccountLabel installation=installation.clone()/>
                {installation.configure_url.clone().filter(|_| installation.lifecycle != Lifecycle::Uninstalled).map(|href| view! {
                    <a class="button subtle" href=href rel="external">"Configure on GitHub"</a>
                })}
            </div>
            <p class="status" role="status" aria-live="polite" aria-label=format!("Status of {label}")>
                {status}
            </p>
            {listing.then(|| view! {
                <progress max=installation.repos_total.unwrap_or(0).max(1) value=installation.repos_listed></progress>
            })}
            {installation.sync_error.clone().map(|error| view! { <p class="note error">{error}</p> })}
            {repos.map(|page| view! { <RepoList installation_id=installation.id total=installation.repo_count page/> })}
        </section>
    }
}

/// The installation's repositories: a filter (a GET form, so it works before
/// the page is hydrated), pages of 50, and Follow/Unfollow on each.
#[component]
fn RepoList(installation_id: i64, total: i64, page: RepoPage) -> impl IntoView {
    let pages = (page.total + page.per_page - 1) / page.per_page;
    let current = page.page;
    let page_href =
        move |n: i64, filter: &str| format!("?installation={installation_id}&q={}&page={n}", encode_query(filter));
    let (previous, next) = (page_href(current - 1, &page.filter), page_href(current.saturating_add(1), &page.filter));
    view! {
        <div class="repo-browser">
            {(total > 10).then(|| view! {
                <Form method="GET" action="" attr:class="repo-filter">
                    <input type="hidden" name="installation" value=installation_id.to_string()/>
                    <label class="field inline">
                        "Filter repositories"
                        <input type="search" name="q" value=page.filter.clone() placeholder="name"/>
                    </label>
                    <button type="submit" class="button subtle">"Filter"</button>
                </Form>
            })}
            {page.repos.is_empty().then(|| view! { <p class="empty">"No repository matches."</p> })}
            <ul class="repo-list">
                {page.repos.into_iter().map(|repo| view! { <RepoRow repo/> }).collect_view()}
            </ul>
            {(pages > 1).then(|| view! {
                <nav class="pager" aria-label="Repository pages">
                    {(current > 1).then(|| view! { <a href=previous>"Previous"</a> })}
                    <span>{format!("Page {current} of {pages} · {} repositories", thousands(page.total))}</span>
                    {(current < pages).then(|| view! { <a href=next>"Next"</a> })}
                </nav>
            })}
        </div>
    }
}

fn sync_words(status: SyncStatus) -> &'static str {
    match status {
        SyncStatus::Receiving => "Following · receiving updates",
        SyncStatus::Paused => "Paused while the installation is suspended",
        SyncStatus::Unavailable => "Unavailable: no longer reachable through an installation",
        SyncStatus::NotFollowed => "Not followed",
    }
}

#[component]
fn RepoRow(repo: Repo) -> impl IntoView {
    let tab = expect_context::<TabContext>();
    let verb = if repo.following { "Unfollow" } else { "Follow" };
    let reachable = repo.sync_status != SyncStatus::Unavailable;
    let button_label = format!("{verb} {}", repo.full_name);
    view! {
        <li class="repo" data-repo=repo.full_name.clone()>
            <div>
                <span class="repo-name">{repo.full_name.clone()}</span>
                {repo.private.then(|| view! { <span class="badge">"Private"</span> })}
                {repo.archived.then(|| view! { <span class="badge">"Archived"</span> })}
                <p class="muted small">{sync_words(repo.sync_status)}</p>
                {repo.import.clone().filter(|_| repo.following).map(|import| {
                    let failed = import.state == ImportState::Failed;
                    view! {
                        <p class="small import-status" data-import=import.state.as_str()>{import.words()}</p>
                        {failed.then(|| view! {
                            <ActionForm action=tab.retry>
                                <input type="hidden" name="slug" value=move || tab.slug.get()/>
                                <input type="hidden" name="repo_id" value=repo.id.to_string()/>
                                <button type="submit" class="button subtle">"Retry"</button>
                            </ActionForm>
                        })}
                    }
                })}
            </div>
            {(reachable || repo.following).then(|| view! {
                <ActionForm action=tab.follow>
                    <input type="hidden" name="slug" value=move || tab.slug.get()/>
                    <input type="hidden" name="repo_id" value=repo.id.to_string()/>
                    <input type="hidden" name="follow" value=(!repo.following).to_string()/>
                    <button type="submit" class=if repo.following { "button subtle" } else { "button" }
                        aria-label=button_label.clone()>{verb}</button>
                </ActionForm>
            })}
        </li>
    }
}

#[component]
fn Offered(installations: Vec<InstallationOverview>) -> impl IntoView {
    let tab = expect_context::<TabContext>();
    view! {
        <section class="card" aria-labelledby="offered-heading">
            <h2 id="offered-heading">"Your other installations"</h2>
            <p class="muted">"Installed by you or on your GitHub account, not yet part of this project."</p>
            <ul class="plain">
                {installations.into_iter().map(|installation| {
                    let login = installation.account_login.clone().unwrap_or_default();
                    let status = status_words(&installation);
                    view! {
                        <li class="row offered">
                            <AccountLabel installation=installation.clone()/>
                            <p class="muted small">{status}</p>
                            <ActionForm action=tab.attach>
                                <input type="hidden" name="slug" value=move || tab.slug.get()/>
                                <input type="hidden" name="installation_id" value=installation.id.to_string()/>
                                <button type="submit" class="button" aria-label=format!("Add {login} to this project")>
                                    "Add to this project"
                                </button>
                            </ActionForm>
                        </li>
                    }
                }).collect_view()}
            </ul>
            {move || tab.attach.value().get().and_then(Result::err).map(|error| view! { <ErrorNote error/> })}
        </section>
    }
}

#[component]
fn Unavailable(repos: Vec<Repo>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="unavailable-heading">
            <h2 id="unavailable-heading">"Followed, no longer available"</h2>
            <p class="muted">"Removed from the installation, deleted, or its installation was uninstalled. Kept so nothing is lost; install again or unfollow."</p>
            <ul class="repo-list">
                {repos.into_iter().map(|repo| view! { <RepoRow repo/> }).collect_view()}
            </ul>
        </section>
    }
}

/// Where a setup redirect that linked nothing lands: what happened, what next.
#[component]
pub fn InstallProblemPage() -> impl IntoView {
    let query = use_query_map();
    let reason = move || {
        query.read().get("reason").as_deref().and_then(InstallProblem::parse).unwrap_or(InstallProblem::Unavailable)
    };
    let return_to = move || local_path(query.read().get("return_to").as_deref(), "/projects");
    let account = query.read_untracked().get("account").unwrap_or_else(|| "the organization".to_owned());
    let words = |title: &'static str, message: &str| (title, message.to_owned());
    let (title, message) = match reason() {
        InstallProblem::Request => words(
            "Waiting for an organization owner",
            "You asked an owner of the organization to approve the installation. Once they approve it on GitHub, it appears in your project's integrations tab by itself.",
        ),
        InstallProblem::MissingInstallation => words("GitHub sent no installation", "GitHub came back without saying which installation was made. Nothing was changed; start the install again from your project's integrations tab."),
        InstallProblem::State => words("This install link is not valid", "It expired, was already used, or belongs to another person. Nothing was changed; start the install again from your project's integrations tab."),
        InstallProblem::NotYours => words("This installation is not yours", "GitHub does not show that installation to your GitHub account, so it was not linked. Nothing was changed."),
        InstallProblem::NotOwner => words(
            "Only an owner can add this installation",
            &format!("GitHub shows you this installation, but only an owner of {account} can add it to a project. Ask an owner of {account} to add it. Nothing was changed."),
        ),
        InstallProblem::NotConnected => words("Connect your GitHub account", "forgelink needs your GitHub account connected to confirm the installation is yours. Connect it, then come back."),
        InstallProblem::GitHubDown => words("GitHub did not answer", "Nothing was changed. Try again in a moment."),
        InstallProblem::NotFound => words("No such project", "That project does not exist or is not yours."),
        InstallProblem::Unavailable => words("Something went wrong", "Something went wrong on our side. Nothing was changed; try again in a moment."),
    };
    let connect = move || format!("/auth/github/connect?return_to={}", encode_query(&return_to()));
    view! {
        <Title text=title/>
        <section class="card narrow" role="alert">
            <h1>{title}</h1>
            <p>{message}</p>
            <p class="actions">
                {(reason() == InstallProblem::NotConnected).then(|| view! { <a class="button" href=connect rel="external">"Connect GitHub account"</a> })}
                <a href=move || if reason() == InstallProblem::NotConnected { "/projects".to_owned() } else { return_to() }>"Go back"</a>
            </p>
        </section>
    }
}
