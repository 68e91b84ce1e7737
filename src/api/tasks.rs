//! A project's tasks and one task, for whoever may see them.

use leptos::{prelude::*, server_fn::codec::Postcard};

use super::error::AppError;
use crate::domain::tasks::{TaskDetail, TaskFilter, TaskPage};

#[server(prefix = "/fn", endpoint = "list_tasks", output = Postcard)]
pub async fn list_tasks(slug: String, filter: TaskFilter) -> Result<TaskPage, AppError> {
    use crate::{api::context, server::tasks};
    let state = context::state()?;
    let viewer = context::current_user().await?.map(|u| u.id);
    Ok(tasks::list(&state.pool, viewer, &slug, &filter).await?)
}

#[server(prefix = "/fn", endpoint = "get_task", output = Postcard)]
pub async fn get_task(slug: String, id: i64) -> Result<TaskDetail, AppError> {
    use crate::{api::context, server::tasks};
    let state = context::state()?;
    let viewer = context::current_user().await?.map(|u| u.id);
    Ok(tasks::one(&state.pool, viewer, &slug, id).await?.without_markdown())
}
