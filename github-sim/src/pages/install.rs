//! Installing the App on an account, configuring, suspending or uninstalling it, and redelivering webhooks.

use std::collections::{BTreeSet, HashMap};

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use maud::{html, Markup};

use super::{account_label, refused, render, repo_badges, require_user, signed_in, with_query, FormPairs};
use crate::{
    actions::InstallationAction,
    html::url_encode,
    world::{Id, Selection},
    Simulator,
};

pub(super) async fn app_page(State(sim): State<Simulator>, headers: HeaderMap, Path(slug): Path<String>) -> Response {
    let user = signed_in(&sim, &headers);
    if slug != sim.config().app.slug {
        return refused(&sim, user.as_ref(), StatusCode::NOT_FOUND, "No App has this name.");
    }
    let body = html! {
        section.card {
            p { "Connects GitHub repositories to forgelink projects." }
            p { a.button.primary href={ "/apps/" (slug) "/installations/new" } { "Install" } }
        }
    };
    render(&sim, &sim.config().app.name, user.as_ref(), body)
}

pub(super) async fn choose_account(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let state = url_encode(query.get("state").map_or("", String::as_str));
    let user = match require_user(&sim, &headers, &format!("/apps/{slug}/installations/new?state={state}")) {
        Ok(user) => user,
        Err(redirect) => return redirect,
    };
    if slug != sim.config().app.slug {
        return refused(&sim, Some(&user), StatusCode::NOT_FOUND, "No App has this name.");
    }
    let world = sim.world();
    let body = html! {
        p { "Where do you want to install " strong { (sim.config().app.name) } "?" }
        ul.plain {
            @for account in world.accounts_of(user.id) {
                li.row {
                    (account_label(&sim.urls().web, account)) " "
                    @if let Some(installation) = world.installation_for_account(account.id) {
                        a.button href={ "/settings/installations/" (installation.id) "?state=" (state) } { "Configure" }
                        " " span.muted { "Installed" }
                    } @else {
                        a.button.primary href={
                            "/apps/" (slug) "/installations/new/permissions?target_id=" (account.id) "&state=" (state)
                        } {
                            (if sim.can_administer(&world, user.id, account.id) { "Install" } else { "Request" })
                            " on " (account.login)
                        }
                    }
                }
            }
        }
    };
    drop(world);
    render(&sim, &format!("Install {}", sim.config().app.name), Some(&user), body)
}

/// The repository picker shared by the install and configure pages.
fn repository_picker(sim: &Simulator, account_id: Id, selection: Selection, chosen: &BTreeSet<Id>) -> Markup {
    let world = sim.world();
    let repos = world.repos_of(account_id);
    html! {
        fieldset {
            legend { "Repository access" }
            p {
                label {
                    input type="radio" name="repository_selection" value="all" checked[selection == Selection::All];
                    " All repositories (" (repos.len()) ")"
                }
            }
            p {
                label {
                    input type="radio" name="repository_selection" value="selected"
                        checked[selection == Selection::Selected];
                    " Only select repositories"
                }
            }
            ul.plain aria-label="Repositories" {
                @for repo in &repos {
                    li {
                        label {
                            input type="checkbox" name="repository_ids" value=(repo.id)
                                checked[chosen.contains(&repo.id)];
                            " " (world.full_name(repo))
                        }
                        (repo_badges(repo))
                    }
                }
            }
        }
    }
}

pub(super) async fn choose_repositories(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let state = query.get("state").cloned().unwrap_or_default();
    let target = query.get("target_id").and_then(|t| t.parse::<Id>().ok());
    let here = format!(
        "/apps/{slug}/installations/new/permissions?target_id={}&state={}",
        target.unwrap_or_default(),
        url_encode(&state)
    );
    let user = match require_user(&sim, &headers, &here) {
        Ok(user) => user,
        Err(redirect) => return redirect,
    };
    let (account, admin) = {
        let world = sim.world();
        let account = target.and_then(|id| world.accounts_of(user.id).into_iter().find(|a| a.id == id).cloned());
        let admin = account.as_ref().is_some_and(|a| sim.can_administer(&world, user.id, a.id));
        (account, admin)
    };
    let Some(account) = account else {
        return refused(&sim, Some(&user), StatusCode::NOT_FOUND, "You cannot install the App on that account.");
    };
    let verb = if admin { "Install" } else { "Request" };
    let body = html! {
        p { (verb) " on " (account_label(&sim.urls().web, &account)) }
        @if !admin {
            p.muted { "You are not an owner of this organization: an owner must approve your request." }
        }
        form method="post" action={ "/apps/" (slug) "/installations" } {
            input type="hidden" name="target_id" value=(account.id);
            input type="hidden" name="state" value=(state);
            (repository_picker(&sim, account.id, Selection::All, &BTreeSet::new()))
            p { button.primary type="submit" { (verb) } }
        }
    };
    render(&sim, &format!("{verb} {}", sim.config().app.name), Some(&user), body)
}

/// The repositories chosen in a picker form: `None` means all.
fn chosen_repositories(form: &FormPairs) -> Result<Option<BTreeSet<Id>>, &'static str> {
    match form.get("repository_selection") {
        Some("selected") => {
            let ids: BTreeSet<Id> = form.all("repository_ids").filter_map(|id| id.parse().ok()).collect();
            if ids.is_empty() {
                Err("Choose at least one repository, or all repositories.")
            } else {
                Ok(Some(ids))
            }
        }
        _ => Ok(None),
    }
}

pub(super) async fn install(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    body: Bytes,
) -> Response {
    let form = FormPairs::parse(&body);
    let user = match require_user(&sim, &headers, &format!("/apps/{slug}/installations/new")) {
        Ok(user) => user,
        Err(redirect) => return redirect,
    };
    let state = form.get("state").unwrap_or_default().to_owned();
    let Some(target) = form.get("target_id").and_then(|t| t.parse::<Id>().ok()) else {
        return refused(&sim, Some(&user), StatusCode::UNPROCESSABLE_ENTITY, "Choose an account to install on.");
    };
    let repo_ids = match chosen_repositories(&form) {
        Ok(ids) => ids,
        Err(message) => return refused(&sim, Some(&user), StatusCode::UNPROCESSABLE_ENTITY, message),
    };
    let setup_url = sim.config().setup_url.clone();
    let is_member = sim.world().reaches_account(user.id, target);
    let is_admin = sim.can_administer(&sim.world(), user.id, target);
    if is_member && !is_admin {
        // An owner has to approve; GitHub sends the requester back without an installation.
        return Redirect::to(&with_query(&setup_url, &[("setup_action", "request"), ("state", &state)]))
            .into_response();
    }
    match sim.install(target, user.id, None, repo_ids) {
        Ok(id) => Redirect::to(&with_query(
            &setup_url,
            &[("installation_id", &id.to_string()), ("setup_action", "install"), ("state", &state)],
        ))
        .into_response(),
        Err(message) => refused(&sim, Some(&user), StatusCode::UNPROCESSABLE_ENTITY, &message),
    }
}

pub(super) async fn configure_page_in_org(
    state: State<Simulator>,
    headers: HeaderMap,
    Path((_org, id)): Path<(String, Id)>,
    query: Query<HashMap<String, String>>,
) -> Response {
    configure_page(state, headers, Path(id), query).await
}

pub(super) async fn configure_page(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(id): Path<Id>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let user = match require_user(&sim, &headers, &format!("/settings/installations/{id}")) {
        Ok(user) => user,
        Err(redirect) => return redirect,
    };
    let found = {
        let world = sim.world();
        world
            .installations
            .get(&id)
            .filter(|i| sim.can_administer(&world, user.id, i.account_id))
            .cloned()
            .and_then(|i| world.accounts.get(&i.account_id).cloned().map(|a| (i, a)))
    };
    let Some((installation, account)) = found else {
        return refused(&sim, Some(&user), StatusCode::NOT_FOUND, "No installation you can configure has this id.");
    };
    let state = query.get("state").cloned().unwrap_or_default();
    let suspended = installation.suspended_at.is_some();
    let (toggle, toggle_label) = if suspended { ("unsuspend", "Unsuspend") } else { ("suspend", "Suspend") };
    let body = html! {
        p {
            "Installed on " (account_label(&sim.urls().web, &account))
            @if suspended { " " span.badge { "Suspended" } }
        }
        form method="post" action={ "/settings/installations/" (id) } {
            input type="hidden" name="state" value=(state);
            (repository_picker(&sim, account.id, installation.selection, &installation.repo_ids))
            p { button.primary type="submit" { "Save" } }
        }
        section.card aria-labelledby="danger-h" {
            h2 #danger-h { "Danger zone" }
            div.row {
                form method="post" action={ "/settings/installations/" (id) "/" (toggle) } {
                    button type="submit" { (toggle_label) }
                }
                form method="post" action={ "/settings/installations/" (id) "/delete" } {
                    button.danger type="submit" { "Uninstall" }
                }
            }
        }
    };
    render(&sim, &format!("Configure {}", sim.config().app.name), Some(&user), body)
}

pub(super) async fn configure(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(id): Path<Id>,
    body: Bytes,
) -> Response {
    let form = FormPairs::parse(&body);
    let user = match require_user(&sim, &headers, &format!("/settings/installations/{id}")) {
        Ok(user) => user,
        Err(redirect) => return redirect,
    };
    let repo_ids = match chosen_repositories(&form) {
        Ok(ids) => ids,
        Err(message) => return refused(&sim, Some(&user), StatusCode::UNPROCESSABLE_ENTITY, message),
    };
    match sim.change_repositories(id, user.id, repo_ids) {
        Ok(()) => {
            let mut params = vec![("installation_id", id.to_string()), ("setup_action", "update".to_owned())];
            if let Some(state) = form.get("state").filter(|s| !s.is_empty()) {
                params.push(("state", state.to_owned()));
            }
            let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            Redirect::to(&with_query(&sim.config().setup_url, &params)).into_response()
        }
        Err(message) => refused(&sim, Some(&user), StatusCode::UNPROCESSABLE_ENTITY, &message),
    }
}

pub(super) async fn change_installation(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((id, action)): Path<(Id, String)>,
) -> Response {
    let user = match require_user(&sim, &headers, &format!("/settings/installations/{id}")) {
        Ok(user) => user,
        Err(redirect) => return redirect,
    };
    let action = match action.as_str() {
        "suspend" => InstallationAction::Suspend,
        "unsuspend" => InstallationAction::Unsuspend,
        "delete" => InstallationAction::Delete,
        _ => return refused(&sim, Some(&user), StatusCode::NOT_FOUND, "No such action."),
    };
    match sim.change_installation(id, user.id, action) {
        Ok(()) if action == InstallationAction::Delete => Redirect::to("/").into_response(),
        Ok(()) => Redirect::to(&format!("/settings/installations/{id}")).into_response(),
        Err(message) => refused(&sim, Some(&user), StatusCode::UNPROCESSABLE_ENTITY, &message),
    }
}

pub(super) async fn redeliver(State(sim): State<Simulator>, Path(id): Path<Id>) -> Response {
    match sim.redeliver(id).await {
        Some(_) => Redirect::to("/").into_response(),
        None => refused(&sim, None, StatusCode::NOT_FOUND, "No such delivery."),
    }
}
