//! Projects: create, list, show; and the owner-only integrations view.

use leptos::{prelude::*, server_fn::codec::Postcard};

use super::error::AppError;
use crate::domain::projects::{Project, ProjectPage};

#[server(prefix = "/fn", endpoint = "list_projects", output = Postcard)]
pub async fn list_projects(page: Option<i64>) -> Result<ProjectPage, AppError> {
    use crate::{api::context, server::projects};
    let state = context::state()?;
    let viewer = context::current_user().await?.map(|u| u.id);
    projects::list(&state.pool, viewer, page.unwrap_or(1)).await.map_err(context::internal)
}

#[server(prefix = "/fn", endpoint = "create_project", output = Postcard)]
pub async fn create_project(name: String, slug: String, description: String) -> Result<(), AppError> {
    use crate::{api::context, server::projects};
    let state = context::state()?;
    let user = context::require_user().await?;
    let project = projects::create(&state.pool, user.id, &name, &slug, &description).await?;
    leptos_axum::redirect(&format!("/projects/{}", project.slug));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "get_project", output = Postcard)]
pub async fn get_project(slug: String) -> Result<Project, AppError> {
    use crate::{api::context, server::projects};
    let state = context::state()?;
    let viewer = context::current_user().await?.map(|u| u.id);
    let project = projects::by_slug(&state.pool, &slug, viewer).await.map_err(context::internal)?;
    project.ok_or_else(|| context::fail(AppError::NotFound))
}
