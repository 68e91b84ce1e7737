//! Projects: create, list, show; and the owner-only integrations view.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub owner_name: String,
    /// Whether the signed-in person owns it (and so sees Integrations).
    pub is_owner: bool,
}

pub const PROJECTS_PER_PAGE: i64 = 50;

/// A page of the projects list (pages from 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectPage {
    pub projects: Vec<Project>,
    pub page: i64,
    pub has_more: bool,
}

#[server(endpoint = "list_projects")]
pub async fn list_projects(page: Option<i64>) -> Result<ProjectPage, AppError> {
    use crate::server::{context, projects};
    let state = context::state()?;
    let viewer = context::current_user().await?.map(|u| u.id);
    projects::list(&state.pool, viewer, page.unwrap_or(1)).await.map_err(context::internal)
}

#[server(endpoint = "create_project")]
pub async fn create_project(name: String, slug: String, description: String) -> Result<(), AppError> {
    use crate::server::{context, projects};
    let state = context::state()?;
    let user = context::require_user().await?;
    let project =
        projects::create(&state.pool, user.id, &name, &slug, &description).await.map_err(context::project_error)?;
    leptos_axum::redirect(&format!("/projects/{}", project.slug));
    Ok(())
}

#[server(endpoint = "get_project")]
pub async fn get_project(slug: String) -> Result<Project, AppError> {
    use crate::server::{context, projects};
    let state = context::state()?;
    let viewer = context::current_user().await?.map(|u| u.id);
    let project = projects::by_slug(&state.pool, &slug, viewer).await.map_err(context::internal)?;
    project.ok_or_else(|| context::fail(AppError::NotFound))
}
