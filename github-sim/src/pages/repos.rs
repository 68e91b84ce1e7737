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
    // Where an issue may be transferred: the owner's other repositories.
    let destinations: Vec<String> = world
        .repos_of(repo.owner_id)
        .into_iter()
        .filter(|r| r.id != repo.id && !r.archived && (r.private || !repo.private))
        .map(|r| r.name.clone())
        .collect();
    let body = html! {
        p { (repo.description.as_deref().unwrap_or("")) (repo_badges(&repo)) }
        section.card aria-labelledby="issues-h" {
            h2 #issues-h { "Issues" }
            @if issues.is_empty() { p.muted { "No issues yet." } }
            @for issue in issues {
                @let n = issue.number;
                @let (toggle, toggle_label) =
                    if issue.open { ("closed", "Close issue") } else { ("open", "Reopen issue") };
                @let kind = if issue.pull.is_some() { "Pull request" } else { "Issue" };
                @let badge = match &issue.pull {
                    Some(pull) if pull.merged_at.is_some() => "Merged",
                    Some(pull) if pull.draft && issue.open => "Draft",
                    _ if issue.open => "Open",
                    _ => "Closed",
                };
                article.card aria-label={ (kind) " #" (n) } {
                    h3 { "#" (n) " " (issue.title) " " span.badge { (badge) } }
                    @if let Some(pull) = issue.pull.as_ref().filter(|_| issue.open) {
                        @if pull.draft {
                            form method="post" action={ (base) "/pull/" (n) "/draft" } {
                                input type="hidden" name="draft" value="false";
                                button type="submit" { "Ready for review #" (n) }
                            }
                        } @else {
                            form method="post" action={ (base) "/pull/" (n) "/merge" } {
                                button.primary type="submit" { "Merge pull request #" (n) }
                            }
                            form method="post" action={ (base) "/pull/" (n) "/draft" } {
                                input type="hidden" name="draft" value="true";
                                button type="submit" { "Convert to draft #" (n) }
                            }
                        }
                    }
                    p { (issue.body.as_deref().unwrap_or("")) }
                    ul.plain {
                        @for comment in &issue.comments {
                            li {
                                strong { (world.accounts.get(&comment.user_id).map_or("ghost", |a| a.login.as_str())) }
                                ": " (comment.body)
                            }
                        }
                    }
                    @if !issue.labels.is_empty() {
                        p { @for label in &issue.labels { span.badge { (label.name) } " " } }
                    }
                    @for assignee in issue.assignee_ids.iter().filter_map(|id| world.accounts.get(id)) {
                        form method="post" action={ (base) "/issues/" (n) "/assignees" } {
                            input type="hidden" name="login" value=(assignee.login);
                            input type="hidden" name="remove" value="true";
                            button type="submit" { "Unassign " (assignee.login) " from #" (n) }
                        }
                    }
                    form method="post" action={ (base) "/issues/" (n) "/assignees" } {
                        label { "Assignee " input type="text" name="login" required; }
                        " " button type="submit" { "Assign #" (n) }
                    }
                    form method="post" action={ (base) "/issues/" (n) "/labels" } {
                        label { "Label " input type="text" name="name" required; }
                        " " button type="submit" { "Add label to #" (n) }
                    }
                    @if issue.pull.is_none() {
                        form method="post" action={ (base) "/issues/" (n) "/delete" } {
                            button type="submit" { "Delete issue #" (n) }
                        }
                        @if !destinations.is_empty() {
                            form method="post" action={ (base) "/issues/" (n) "/transfer" } {
                                label { "Move to "
                                    select name="repository" {
                                        @for destination in &destinations { option value=(destination) { (destination) } }
                                    }
                                }
                                " " button type="submit" { "Transfer issue #" (n) }
                            }
                        }
                    }
                    form method="post" action={ (base) "/issues/" (n) "/comments" } {
                        label { "Comment " input type="text" name="body" required; }
                        " " button type="submit" { "Comment on #" (n) }
                    }
                    @if issue.pull.as_ref().is_none_or(|p| p.merged_at.is_none()) {
                        form method="post" action={ (base) "/issues/" (n) "/state" } {
                            input type="hidden" name="state" value=(toggle);
                            button type="submit" { (toggle_label) " #" (n) }
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="new-pull-h" {
            h2 #new-pull-h { "New pull request" }
            form method="post" action={ (base) "/pulls" } {
                p { label { "Pull request title " input type="text" name="title" required; } }
                p { label { input type="checkbox" name="draft" value="true"; " Draft" } }
                button.primary type="submit" { "Create pull request" }
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

pub(super) async fn new_pull(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((owner, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let form = FormPairs::parse(&body);
    let draft = form.get("draft") == Some("true");
    issue_form(&sim, &headers, (&owner, &name), StatusCode::UNPROCESSABLE_ENTITY, |repo_id, user| {
        sim.open_pull(repo_id, user.id, form.get("title").unwrap_or_default(), form.get("body"), draft).map(|_| ())
    })
}

pub(super) async fn merge_pull(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((owner, name, number)): Path<(String, String, u64)>,
) -> Response {
    issue_form(&sim, &headers, (&owner, &name), StatusCode::METHOD_NOT_ALLOWED, |repo_id, user| {
        sim.merge_pull(repo_id, number, user.id).map(|_| ())
    })
}

pub(super) async fn pull_draft(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((owner, name, number)): Path<(String, String, u64)>,
    body: Bytes,
) -> Response {
    let draft = FormPairs::parse(&body).get("draft") == Some("true");
    issue_form(&sim, &headers, (&owner, &name), StatusCode::NOT_FOUND, |repo_id, user| {
        sim.set_draft(repo_id, number, user.id, draft).map(|_| ())
    })
}

pub(super) async fn add_label(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((owner, name, number)): Path<(String, String, u64)>,
    body: Bytes,
) -> Response {
    let form = FormPairs::parse(&body);
    issue_form(&sim, &headers, (&owner, &name), StatusCode::UNPROCESSABLE_ENTITY, |repo_id, user| {
        sim.label_issue(repo_id, number, user.id, form.get("name").unwrap_or_default()).map(|_| ())
    })
}

pub(super) async fn delete_issue(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((owner, name, number)): Path<(String, String, u64)>,
) -> Response {
    issue_form(&sim, &headers, (&owner, &name), StatusCode::NOT_FOUND, |repo_id, user| {
        sim.delete_issue(repo_id, number, user.id)
    })
}

pub(super) async fn assignees(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((owner, name, number)): Path<(String, String, u64)>,
    body: Bytes,
) -> Response {
    let form = FormPairs::parse(&body);
    let assign = form.get("remove") != Some("true");
    issue_form(&sim, &headers, (&owner, &name), StatusCode::UNPROCESSABLE_ENTITY, |repo_id, user| {
        sim.set_assignee(repo_id, number, user.id, form.get("login").unwrap_or_default(), assign).map(|_| ())
    })
}

pub(super) async fn transfer_issue(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path((owner, name, number)): Path<(String, String, u64)>,
    body: Bytes,
) -> Response {
    let form = FormPairs::parse(&body);
    issue_form(&sim, &headers, (&owner, &name), StatusCode::UNPROCESSABLE_ENTITY, |repo_id, user| {
        sim.transfer_issue(repo_id, number, user.id, form.get("repository").unwrap_or_default()).map(|_| ())
    })
}
