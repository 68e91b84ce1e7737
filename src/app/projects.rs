//! Projects: the list, the new-project form, and a project's pages (overview,
//! tasks and, for its owner only, integrations).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::{Outlet, A},
    hooks::{use_params_map, use_query_map},
};

use super::{data_resource, use_session, DataResource, ErrorNote, NotFound};
use crate::{
    api::{
        error::AppError,
        projects::{get_project, list_projects, CreateProject},
    },
    domain::projects::Project,
};

#[component]
pub fn ProjectListPage() -> impl IntoView {
    let query = use_query_map();
    let page =
        Memo::new(move |_| query.read().get("page").and_then(|p| p.trim().parse::<i64>().ok()).unwrap_or(1).max(1));
    let projects = data_resource(move || page.get(), |page| list_projects(Some(page)));
    view! {
        <Title text="Projects"/>
        <div class="page-heading">
            <h1>"Projects"</h1>
            <A href="/projects/new" attr:class="button">"New project"</A>
        </div>
        <Suspense fallback=|| view! { <p>"Loading projects…"</p> }>
            {move || Suspend::new(async move {
                match projects.await {
                    Ok(list) if list.projects.is_empty() && list.page == 1 => view! {
                        <p class="empty">"No projects yet. Create the first one."</p>
                    }.into_any(),
                    Ok(list) if list.projects.is_empty() => view! {
                        <p class="empty">"No projects on this page. " <A href="/projects">"Back to the first page"</A></p>
                    }.into_any(),
                    Ok(list) => view! {
                        <ul class="project-list">
                            {list.projects.into_iter().map(|p| view! {
                                <li class="card">
                                    <A href=format!("/projects/{}", p.slug)>{p.name}</A>
                                    {p.is_owner.then(|| view! { <span class="badge">"Yours"</span> })}
                                    <p class="muted">{p.description}</p>
                                </li>
                            }).collect_view()}
                        </ul>
                        {(list.page > 1 || list.has_more).then(|| view! {
                            <nav class="pager" aria-label="Project pages">
                                {(list.page > 1).then(|| view! { <a href=format!("/projects?page={}", list.page - 1)>"Previous"</a> })}
                                <span>{format!("Page {}", list.page)}</span>
                                {list.has_more.then(|| view! { <a href=format!("/projects?page={}", list.page.saturating_add(1))>"Next"</a> })}
                            </nav>
                        })}
                    }.into_any(),
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn NewProjectPage() -> impl IntoView {
    let create = ServerAction::<CreateProject>::new();
    let session = use_session();
    view! {
        <Title text="New project"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match session.user.await {
                    Ok(Some(_)) => view! {
                        <section class="card narrow">
                            <h1>"New project"</h1>
                            <ActionForm action=create>
                                <label class="field">"Name" <input type="text" name="name" required maxlength="100"/></label>
                                <label class="field">
                                    "Address"
                                    <span class="input-prefix">"/projects/" <input type="text" name="slug" pattern="[a-z0-9]+(-[a-z0-9]+)*" maxlength="60" placeholder="from the name"/></span>
                                    <span class="hint">"Lower-case letters, digits and hyphens. Leave empty to derive it from the name."</span>
                                </label>
                                <label class="field">"Description" <textarea name="description" rows="3" maxlength="2000"></textarea></label>
                                <button type="submit" class="button">"Create project"</button>
                            </ActionForm>
                            {move || create.value().get().and_then(Result::err).map(|error| view! { <ErrorNote error/> })}
                        </section>
                    }.into_any(),
                    _ => view! {
                        <section class="card narrow">
                            <h1>"Sign in to create a project"</h1>
                            <A href="/signin?next=/projects/new" attr:class="button">"Sign in"</A>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

pub(super) fn slug_param() -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.read().get("slug").unwrap_or_default())
}

/// The project of a project page, read once by its layout for the heading and
/// shared with the tabs.
#[derive(Clone, Copy)]
struct ProjectResource(DataResource<Result<Project, AppError>>);

pub(super) fn use_project() -> DataResource<Result<Project, AppError>> {
    expect_context::<ProjectResource>().0
}

/// The project's name and its tabs; the tab's page renders below.
///
/// The tab is outside the heading's Suspense on purpose: on the server a
/// Suspense calls its children again once their reads resolve (to find reads
/// nested behind them), so a tab inside it made its resource twice (and, when
/// pages were hydrated, the browser panicked on the two reads' differences).
/// No resource is made inside a Suspense.
#[component]
pub fn ProjectLayout() -> impl IntoView {
    let slug = slug_param();
    let project = data_resource(move || slug.get(), get_project);
    provide_context(ProjectResource(project));
    view! {
        <Suspense fallback=|| view! { <p>"Loading project…"</p> }>
            {move || Suspend::new(async move {
                match project.await {
                    Ok(project) => view! { <ProjectHeading project/> }.into_any(),
                    Err(AppError::NotFound) => view! { <NotFound/> }.into_any(),
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                }
            })}
        </Suspense>
        <Outlet/>
    }
}

#[component]
fn ProjectHeading(project: Project) -> impl IntoView {
    let base = format!("/projects/{}", project.slug);
    view! {
        <Title text=project.name.clone()/>
        <div class="project-heading">
            <h1>{project.name.clone()}</h1>
            <p class="muted">"Owned by " {project.owner_name.clone()}</p>
        </div>
        <nav class="tabs" aria-label="Project">
            <A href=base.clone() exact=true>"Overview"</A>
            <A href=format!("{base}/tasks")>"Tasks"</A>
            {project.is_owner.then(|| view! { <A href=format!("{base}/integrations")>"Integrations"</A> })}
        </nav>
    }
}

/// A tab's content, shown once its project is known to exist (the layout says
/// when it does not).
#[component]
fn ProjectTab<V: IntoView + 'static>(content: fn(Project) -> V) -> impl IntoView {
    let project = use_project();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move { project.await.ok().map(content) })}
        </Suspense>
    }
}

#[component]
pub fn OverviewTab() -> impl IntoView {
    view! {
        <ProjectTab content=|p| view! {
            <section class="card">
                <h2>"About"</h2>
                <p>{if p.description.is_empty() { "No description yet.".to_owned() } else { p.description }}</p>
            </section>
        }/>
    }
}
