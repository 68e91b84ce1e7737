//! The dashboard, the generated avatars, and signing in and out as a simulated user.

use std::collections::HashMap;

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use maud::{html, Markup};

use super::{account_label, own_path, refused, render, signed_in, FormPairs, USER_COOKIE};
use crate::{
    html::{avatar_img, avatar_svg},
    payloads,
    world::{Account, AccountKind, World},
    Simulator,
};

/// "1 repository", "3 repositories".
fn repositories(count: usize) -> String {
    format!("{count} {}", if count == 1 { "repository" } else { "repositories" })
}

/// Items separated by commas.
fn comma_separated(items: impl IntoIterator<Item = Markup>) -> Markup {
    html! {
        @for (i, item) in items.into_iter().enumerate() {
            @if i > 0 { ", " }
            (item)
        }
    }
}

pub(super) async fn dashboard(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    let user = signed_in(&sim, &headers);
    let world = sim.world();
    let config = sim.config();
    let app = &config.app;
    let web = &sim.urls().web;
    let body = html! {
        section.card aria-labelledby="app-h" {
            h2 #app-h { "The App: " (app.name) }
            p { "App ID " code { (app.id) } " · slug " code { (app.slug) } " · client ID " code { (app.client_id) } }
            p.muted {
                "Webhooks go to " code { (config.webhook_url) } "; installers return to " code { (config.setup_url) }
                "; OAuth returns to " code { (config.callback_url) } "."
            }
            p { a.button.primary href={ "/apps/" (app.slug) "/installations/new" } { "Install " (app.name) } }
        }
        (accounts(web, &world))
        (installations(web, &world))
        @if let Some(user) = user.as_ref().filter(|u| world.authorized_users.contains(&u.id)) {
            section.card aria-labelledby="auth-h" {
                h2 #auth-h { "Authorized GitHub Apps" }
                form.row method="post" action={ "/settings/applications/" (user.id) "/revoke" } {
                    span { (app.name) }
                    button.danger type="submit" { "Revoke access of " (app.name) }
                }
            }
        }
        (deliveries(&world))
    };
    drop(world);
    render(&sim, "GitHub simulator", user.as_ref(), body)
}

/// How many of an account's repositories the dashboard names.
const REPOS_SHOWN: usize = 12;

/// Every user and organization, with its first repositories and an organization's members.
fn accounts(web: &str, world: &World) -> Markup {
    html! {
        section.card aria-labelledby="acc-h" {
            h2 #acc-h { "Accounts" }
            ul.plain {
                @for account in world.accounts.values().filter(|a| a.kind != AccountKind::Bot) {
                    (account_item(web, world, account))
                }
            }
        }
    }
}

fn account_item(web: &str, world: &World, account: &Account) -> Markup {
    let repos = world.repos_of(account.id);
    let members = account.members.iter().filter_map(|id| world.accounts.get(id)).map(|member| {
        html! { (member.login) @if account.admins.contains(&member.id) { " (owner)" } }
    });
    let shown =
        repos.iter().take(REPOS_SHOWN).map(|repo| html! { a href={ "/" (world.full_name(repo)) } { (repo.name) } });
    html! {
        li {
            (account_label(web, account)) " · " (repositories(repos.len()))
            @if account.kind == AccountKind::Organization {
                div.muted { "Members: " (comma_separated(members)) }
            }
            div {
                (comma_separated(shown))
                @if repos.len() > REPOS_SHOWN { " and " (repos.len() - REPOS_SHOWN) " more" }
            }
        }
    }
}

fn installations(web: &str, world: &World) -> Markup {
    let installed =
        world.installations.values().filter_map(|i| world.accounts.get(&i.account_id).map(|account| (i, account)));
    html! {
        section.card aria-labelledby="inst-h" {
            h2 #inst-h { "Installations" }
            @if world.installations.is_empty() {
                p.muted { "The App is not installed anywhere yet." }
            } @else {
                ul.plain {
                    @for (installation, account) in installed {
                        li {
                            (account_label(web, account)) " · " (installation.selection.as_str()) " · "
                            (repositories(world.installation_repos(installation).len()))
                            @if installation.suspended_at.is_some() { " · " span.badge { "suspended" } }
                            " · "
                            a href={ "/settings/installations/" (installation.id) } {
                                "Configure installation " (installation.id)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The latest webhook deliveries, newest first, each with a button to send it again.
fn deliveries(world: &World) -> Markup {
    html! {
        section.card aria-labelledby="del-h" {
            h2 #del-h { "Recent deliveries" }
            @if world.deliveries.is_empty() {
                p.muted { "No webhook has been delivered yet." }
            } @else {
                table {
                    thead { tr { th { "Event" } th { "Status" } th { "Delivered" } th { "GUID" } th {} } }
                    tbody {
                        @for delivery in world.deliveries.iter().rev().take(25) {
                            tr {
                                td { (delivery.event) @if let Some(action) = &delivery.action { "." (action) } }
                                td { (delivery.status) }
                                td {
                                    (payloads::timestamp(delivery.delivered_at))
                                    @if delivery.redelivery { " (redelivery)" }
                                }
                                td { code { (delivery.guid) } }
                                td {
                                    form method="post" action={ "/deliveries/" (delivery.id) "/redeliver" } {
                                        button type="submit" { "Redeliver" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub(super) async fn avatar(Path(file): Path<String>) -> Response {
    let login = file.strip_suffix(".svg").unwrap_or(&file);
    let svg = avatar_svg(login).into_string();
    ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")], svg).into_response()
}

pub(super) async fn login_page(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let return_to = own_path(&sim, query.get("return_to").map(String::as_str));
    let world = sim.world();
    let body = html! {
        section.card aria-labelledby="pick-h" {
            h2 #pick-h { "Sign in as" }
            ul.plain {
                @for user in world.users() {
                    li {
                        form.row method="post" action="/login" {
                            input type="hidden" name="return_to" value=(return_to);
                            input type="hidden" name="login" value=(user.login);
                            (avatar_img(&sim.urls().web, &user.login, 24))
                            button type="submit" { "Continue as " (user.login) }
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="new-h" {
            h2 #new-h { "Create a simulated user" }
            form method="post" action="/login" {
                input type="hidden" name="return_to" value=(return_to);
                p {
                    label {
                        "Username "
                        // The browser's check of `valid_login`.
                        input type="text" name="new_login" required
                            pattern=r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,37}[A-Za-z0-9])?" autocomplete="off";
                    }
                }
                p {
                    label {
                        input type="checkbox" name="join_org" value="forge-demo" checked;
                        " Make them an owner of forge-demo"
                    }
                }
                button.primary type="submit" { "Create and sign in" }
            }
        }
    };
    drop(world);
    render(&sim, "Sign in to GitHub", signed_in(&sim, &headers).as_ref(), body)
}

fn valid_login(login: &str) -> bool {
    !login.is_empty()
        && login.len() <= 39
        && login.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !login.starts_with('-')
        && !login.ends_with('-')
}

pub(super) async fn login(State(sim): State<Simulator>, body: Bytes) -> Response {
    let form = FormPairs::parse(&body);
    let return_to = own_path(&sim, form.get("return_to"));
    let mut world = sim.world();
    let user_id = if let Some(new_login) = form.get("new_login").map(str::trim) {
        if !valid_login(new_login) {
            drop(world);
            return refused(&sim, None, StatusCode::UNPROCESSABLE_ENTITY, "A username may only contain letters, digits and single hyphens, and cannot begin or end with a hyphen.");
        }
        if world.account_by_login(new_login).is_some() {
            drop(world);
            return refused(
                &sim,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("The username {new_login} is already taken."),
            );
        }
        let id = world.add_account(new_login, AccountKind::User, None);
        world.add_repo(id, "hello-world", false, false, Some("My first repository"));
        if let Some(org) = form.get("join_org").and_then(|login| world.account_by_login(login)).map(|a| a.id) {
            world.add_member(org, id, true);
        }
        sim.persist(&world);
        id
    } else {
        match form.get("login").and_then(|l| world.account_by_login(l)).filter(|a| a.kind == AccountKind::User) {
            Some(user) => user.id,
            None => {
                drop(world);
                return refused(&sim, None, StatusCode::UNPROCESSABLE_ENTITY, "No such user.");
            }
        }
    };
    drop(world);
    let cookie = format!("{USER_COOKIE}={user_id}; Path=/; HttpOnly; SameSite=Lax");
    ([(header::SET_COOKIE, cookie)], Redirect::to(&return_to)).into_response()
}

pub(super) async fn logout() -> Response {
    let cookie = format!("{USER_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}
