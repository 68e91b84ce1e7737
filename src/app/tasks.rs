//! The Tasks tab (`/projects/{slug}/tasks`) and a task's page
//! (`…/tasks/{id}`): the issues and pull requests of the repositories the
//! project follows, filtered by a GET form (it works before hydration), and
//! kept live (`/live/projects/{slug}/tasks`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::{Form, A},
    hooks::{use_params_map, use_query_map},
};

use super::{
    data_resource,
    live::Live,
    projects::{slug_param, use_project},
    ErrorNote, NotFound,
};
use crate::{
    api::{
        error::AppError,
        tasks::{get_task, list_tasks},
    },
    domain::tasks::{Author, StateFilter, Sync, SyncFilter, TaskFilter, TaskKind, TaskPage, TaskSummary},
};

/// A link or image address from GitHub, if it is a web address (nothing else
/// is rendered into an `href` or `src`).
fn web_url(url: &str) -> Option<String> {
    (url.starts_with("https://") || url.starts_with("http://")).then(|| url.to_owned())
}

#[component]
pub fn TasksTab() -> impl IntoView {
    let slug = slug_param();
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let q = query.read();
        TaskFilter::from_query(|name| q.get(name))
    });
    let tasks = data_resource(
        move || (slug.get(), filter.get()),
        |(slug, filter)| async move {
            match filter {
                Ok(filter) => list_tasks(slug, filter).await,
                Err(message) => Err(AppError::Invalid(message)),
            }
        },
    );
    view! {
        <Live stream=live_stream(&slug.get_untracked())>
        <Transition fallback=|| view! { <p>"Loading tasks…"</p> }>
            {move || Suspend::new(async move {
                match tasks.await {
                    Ok(page) => view! { <TaskList slug=slug.get_untracked() filter=filter.get_untracked().unwrap_or_default() page/> }.into_any(),
                    // The project's layout says it is not found.
                    Err(AppError::NotFound) => ().into_any(),
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                }
            })}
        </Transition>
        </Live>
    }
}

/// The stream that says when a task of the project changes.
fn live_stream(slug: &str) -> String {
    format!("/live/projects/{slug}/tasks")
}

#[component]
fn TaskList(slug: String, filter: TaskFilter, page: TaskPage) -> impl IntoView {
    let pages = (page.total + page.per_page - 1) / page.per_page;
    let current = page.page;
    let (previous, next) = (filter.query(current - 1), filter.query(current.saturating_add(1)));
    let none_followed = page.repositories.is_empty();
    let selected = |value: &str, current: &str| value == current;
    let state = filter.state.as_str();
    let kind = filter.kind.map(TaskKind::as_str).unwrap_or("");
    let sync = filter.sync.map(SyncFilter::as_str).unwrap_or("");
    let repo = filter.repo.clone().unwrap_or_default();
    view! {
        <section class="card tasks">
            <Form method="GET" action="" attr:class="task-filters">
                <label class="field inline">"State"
                    <select name="state">
                        {StateFilter::ALL.iter().map(|s| view! {
                            <option value=s.as_str() selected=selected(s.as_str(), state)>{s.as_str()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label class="field inline">"Kind"
                    <select name="kind">
                        <option value="" selected=kind.is_empty()>"issues and pull requests"</option>
                        <option value="issue" selected=selected("issue", kind)>"issues"</option>
                        <option value="pull_request" selected=selected("pull_request", kind)>"pull requests"</option>
                    </select>
                </label>
                <label class="field inline">"Sync"
                    <select name="sync">
                        <option value="" selected=sync.is_empty()>"all"</option>
                        <option value="synced" selected=selected("synced", sync)>"synced"</option>
                        <option value="not_synced" selected=selected("not_synced", sync)>"no longer synced"</option>
                    </select>
                </label>
                <label class="field inline">"Repository"
                    <select name="repo">
                        <option value="" selected=repo.is_empty()>"all"</option>
                        {page.repositories.iter().map(|r| view! {
                            <option value=r.clone() selected=r.eq_ignore_ascii_case(&repo)>{r.clone()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label class="field inline">"Label" <input type="text" name="label" value=filter.label.clone().unwrap_or_default()/></label>
                <label class="field inline">"Author" <input type="text" name="author" value=filter.author.clone().unwrap_or_default() placeholder="GitHub login"/></label>
                <label class="field inline">"Search" <input type="search" name="q" value=filter.q.clone().unwrap_or_default() placeholder="words in titles and bodies"/></label>
                <button type="submit" class="button subtle">"Filter"</button>
            </Form>
            <p class="muted task-count">{format!("{} task{}", page.total, if page.total == 1 { "" } else { "s" })}</p>
            {match (page.tasks.is_empty(), none_followed) {
                (true, true) => view! { <p class="empty">"This project follows no repository yet: its owner follows repositories on the Integrations tab, and their issues and pull requests appear here."</p> }.into_any(),
                (true, false) => view! { <p class="empty">"No task matches."</p> }.into_any(),
                _ => view! {
                    <ul class="task-list">
                        {page.tasks.into_iter().map(|task| view! { <TaskRow slug=slug.clone() task/> }).collect_view()}
                    </ul>
                }.into_any(),
            }}
            {(pages > 1).then(|| view! {
                <nav class="pager" aria-label="Task pages">
                    {(current > 1).then(|| view! { <a href=format!("?{previous}")>"Previous"</a> })}
                    <span>{format!("Page {current} of {pages}")}</span>
                    {(current < pages).then(|| view! { <a href=format!("?{next}")>"Next"</a> })}
                </nav>
            })}
        </section>
    }
}

#[component]
fn Badge(task: TaskSummary) -> impl IntoView {
    let badge = task.badge().as_str();
    view! { <span class=format!("state-badge {badge}")>{badge}</span> }
}

#[component]
fn AuthorView(author: Option<Author>) -> impl IntoView {
    author.map(|a| {
        let name = a.name.clone().unwrap_or_else(|| a.login.clone());
        view! {
            <span class="author">
                {web_url(&a.avatar_url).map(|src| view! { <img class="avatar" src=src alt="" width="20" height="20" loading="lazy"/> })}
                <span title=a.login.clone()>{name}</span>
            </span>
        }
    })
}

fn sync_note(task: &TaskSummary) -> Option<&'static str> {
    match (task.moved, task.sync) {
        (true, _) => Some("moved to another repository"),
        (false, Sync::RepositoryDeleted) => Some("repository deleted"),
        (false, Sync::NotSynced) => Some("no longer synced"),
        (false, Sync::Synced) => None,
    }
}

#[component]
fn TaskRow(slug: String, task: TaskSummary) -> impl IntoView {
    let href = format!("/projects/{slug}/tasks/{}", task.id);
    let note = sync_note(&task);
    view! {
        <li class="task-row">
            <Badge task=task.clone()/>
            <div class="task-main">
                <A href=href attr:class="task-title">{task.title.clone()}</A>
                <span class="labels">
                    {task.labels.iter().map(|l| view! {
                        <span class="label" style=l.css_color().map(|c| format!("--label: {c}"))>{l.name.clone()}</span>
                    }).collect_view()}
                </span>
                <div class="muted task-meta">
                    <span>{format!("{}#{}", task.repository, task.number)}</span>
                    <AuthorView author=task.author.clone()/>
                    <span>{format!("{} comment{}", task.comments, if task.comments == 1 { "" } else { "s" })}</span>
                    <span title=task.updated_at.clone()>{task.activity.clone()}</span>
                    {note.map(|n| view! { <span class="badge subtle">{n}</span> })}
                    {web_url(&task.html_url).map(|url| view! { <a href=url rel="noopener noreferrer">"on GitHub"</a> })}
                </div>
            </div>
        </li>
    }
}

#[component]
pub fn TaskPage() -> impl IntoView {
    let slug = slug_param();
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").and_then(|id| id.parse::<i64>().ok()));
    let task = data_resource(
        move || (slug.get(), id.get()),
        |(slug, id)| async move {
            match id {
                Some(id) => get_task(slug, id).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    let project = use_project();
    view! {
        <Live stream=live_stream(&slug.get_untracked())>
        <Transition fallback=|| view! { <p>"Loading the task…"</p> }>
            {move || Suspend::new(async move {
                match task.await {
                    Ok(detail) => {
                        let t = detail.task.clone();
                        let note = sync_note(&t);
                        view! {
                            <article class="card task">
                                <Title text=t.title.clone()/>
                                <p><A href=format!("/projects/{}/tasks", slug.get_untracked())>"← All tasks"</A></p>
                                <h2>{t.title.clone()} " " <span class="muted">{format!("{}#{}", t.repository, t.number)}</span></h2>
                                <div class="task-meta">
                                    <Badge task=t.clone()/>
                                    <AuthorView author=t.author.clone()/>
                                    <span class="muted" title=t.updated_at.clone()>{t.activity.clone()}</span>
                                    {note.map(|n| view! { <span class="badge subtle">{n}</span> })}
                                    {t.transferred_to.clone().and_then(|u| web_url(&u)).map(|url| view! { <a href=url rel="noopener noreferrer">"where it went"</a> })}
                                    {web_url(&t.html_url).map(|url| view! { <a href=url rel="noopener noreferrer">"on GitHub"</a> })}
                                </div>
                                // Rendered from Markdown and sanitized on the server (`tasks::markdown`).
                                <div class="markdown" inner_html=detail.body_html.clone()></div>
                                <h3>{format!("{} comment{}", detail.comments.len(), if detail.comments.len() == 1 { "" } else { "s" })}</h3>
                                <ol class="comments">
                                    {detail.comments.into_iter().map(|c| view! {
                                        <li class="comment">
                                            <div class="muted"><AuthorView author=c.author.clone()/> " " <span>{c.created_at.clone()}</span></div>
                                            <div class="markdown" inner_html=c.body_html.clone()></div>
                                        </li>
                                    }).collect_view()}
                                </ol>
                            </article>
                        }.into_any()
                    }
                    // A task of a project that exists: the layout says nothing of it.
                    Err(AppError::NotFound) if project.await.is_ok() => view! { <NotFound/> }.into_any(),
                    Err(AppError::NotFound) => ().into_any(),
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                }
            })}
        </Transition>
        </Live>
    }
}
