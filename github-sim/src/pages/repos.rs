//! A repository's page: its issues and their comments, opened, closed and commented on by the signed-in user.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use maud::html;

use super::{refused, render, repo_badges, require_user, signed_in, FormPairs};
use crate::{
    world::{Account, Id},
    Simulator,
};

pub(super) async fn repo_page(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((owner, name)): Path<(String, String)>,
) -> Response {
    let user = signed_in(&sim, &headers);
    let world = sim.world();
    let Some(repo) = world.repo_by_name(&owner, &name).cloned() else {
        drop(world);
        return refused(&sim, user.as_ref(), StatusCode::NOT_FOUND, "This is not the web page you are looking for.");
    };
    let full_name = world.full_name(&repo);
    let base = format!("/{full_name}");
    let mut issues: Vec<_> = world.issues.values().filter(|i| i.repo_id == repo.id).collect();
    issues.sort_by_key(|i| std::cmp::Reverse(i.number));
    let body = html! {
        p { (repo.description.as_deref().unwrap_or("")) (repo_badges(&repo)) }
        section.card aria-labelledby="issues-h" {
            h2 #issues-h { "Issues" }
            @if issues.is_empty() { p.muted { "No issues yet." } }
            @for issue in issues {
                @let n = issue.number;
                @let (toggle, toggle_label) =
                    if issue.open { ("closed", "Close issue") } else { ("open", "Reopen issue") };
                article.card aria-label={ "Issue #" (n) } {
                    h3 { "#" (n) " " (issue.title) " " span.badge { (if issue.open { "Open" } else { "Closed" }) } }
                    p { (issue.body.as_deref().unwrap_or("")) }
                    ul.plain {
                        @for comment in &issue.comments {
                            li {
                                strong { (world.accounts.get(&comment.user_id).map_or("ghost", |a| a.login.as_str())) }
                                ": " (comment.body)
                            }
                        }
                    }
                    form method="post" action={ (base) "/issues/" (n) "/comments" } {
                        label { "Comment " input type="text" name="body" required; }
                        " " button type="submit" { "Comment on #" (n) }
                    }
                    form method="post" action={ (base) "/issues/" (n) "/state" } {
                        input type="hidden" name="state" value=(toggle);
                        button type="submit" { (toggle_label) " #" (n) }
                    }
                }
            }
        }
        section.card aria-labelledby="new-issue-h" {
            h2 #new-issue-h { "New issue" }
            form method="post" action={ (base) "/issues" } {
                p { label { "Title " input type="text" name="title" required; } }
                p { label { "Description " textarea name="body" rows="3" {} } }
                button.primary type="submit" { "Submit new issue" }
            }
        }
    };
    drop(world);
    render(&sim, &full_name, user.as_ref(), body)
}

/// Runs an issue form's action for the signed-in user on the repository, then
/// returns to the repository page, or shows why it could not be done (with `refusal`).
fn issue_form(
    sim: &Simulator,
    headers: &HeaderMap,
    (owner, name): (&str, &str),
    refusal: StatusCode,
    action: impl FnOnce(Id, &Account) -> Result<(), String>,
) -> Response {
    let here = format!("/{owner}/{name}");
    let user = match require_user(sim, headers, &here) {
        Ok(user) => user,
        Err(redirect) => return redirect,
    };
    let Some(repo_id) = sim.world().repo_by_name(owner, name).map(|r| r.id) else {
        return refused(sim, Some(&user), StatusCode::NOT_FOUND, "No such repository.");
    };
    match action(repo_id, &user) {
        Ok(()) => Redirect::to(&here).into_response(),
        Err(message) => refused(sim, Some(&user), refusal, &message),
    }
}

pub(super) async fn new_issue(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((owner, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let form = FormPairs::parse(&body);
    issue_form(&sim, &headers, (&owner, &name), StatusCode::UNPROCESSABLE_ENTITY, |repo_id, user| {
        sim.open_issue(repo_id, user.id, form.get("title").unwrap_or_default(), form.get("body")).map(|_| ())
    })
}

pub(super) async fn issue_state(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((owner, name, number)): Path<(String, String, u64)>,
    body: Bytes,
) -> Response {
    let open = FormPairs::parse(&body).get("state") == Some("open");
    issue_form(&sim, &headers, (&owner, &name), StatusCode::NOT_FOUND, |repo_id, user| {
        sim.set_issue_state(repo_id, number, user.id, open).map(|_| ())
    })
}

pub(super) async fn new_comment(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((owner, name, number)): Path<(String, String, u64)>,
    body: Bytes,
) -> Response {
    let form = FormPairs::parse(&body);
    issue_form(&sim, &headers, (&owner, &name), StatusCode::UNPROCESSABLE_ENTITY, |repo_id, user| {
        sim.add_comment(repo_id, number, user.id, form.get("body").unwrap_or_default()).map(|_| ())
    })
}
