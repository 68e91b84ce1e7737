//! `GET /api/projects/{slug}/tasks` and `…/tasks/{id}`: a project's tasks and
//! one task with its comments, for whoever may see them (signed in or not:
//! a private repository's tasks only for the project's owner).

use axum::{
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::IntoResponse,
    Json,
};
use serde_json::{json, Value};

use super::{parse_id, ApiError, ApiResult};
use crate::{
    domain::tasks::{Author, TaskFilter, TaskSummary},
    server::{
        accounts::{CurrentUser, NoUser},
        state::AppState,
        tasks::{self, TaskError},
    },
};

impl From<TaskError> for ApiError {
    fn from(error: TaskError) -> Self {
        match error {
            TaskError::NotFound => Self::not_found("Task or project"),
            TaskError::Database(error) => Self::internal(error),
        }
    }
}

/// The signed-in person, or nobody (the API reads public tasks without a session).
fn viewer(user: Result<CurrentUser, NoUser>) -> Result<Option<i64>, ApiError> {
    match user {
        Ok(user) => Ok(Some(user.id)),
        Err(NoUser::SignedOut) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

fn author_json(author: &Option<Author>) -> Value {
    author.as_ref().map_or(Value::Null, |a| json!({"login": a.login, "avatar_url": a.avatar_url, "user_id": a.user_id}))
}

fn task_json(task: &TaskSummary) -> Value {
    json!({
        "id": task.id,
        "github_id": task.github_id.to_string(),
        "number": task.number,
        "title": task.title,
        "state": task.state.as_str(),
        "state_reason": task.state_reason,
        "kind": task.kind.as_str(),
        "draft": task.draft,
        "merged": task.merged,
        "repository": task.repository,
        "html_url": task.html_url,
        "author": author_json(&task.author),
        "labels": task.labels.iter().map(|l| json!({"name": l.name, "color": l.color})).collect::<Vec<_>>(),
        "comments": task.comments,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "closed_at": task.closed_at,
        "moved": task.moved,
        "transferred_to": task.transferred_to,
        "synced": task.sync == crate::domain::tasks::Sync::Synced,
    })
}

pub async fn list(
    State(state): State<AppState>,
    user: Result<CurrentUser, NoUser>,
    Path(slug): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let viewer = viewer(user)?;
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    let filter = TaskFilter::from_query(|name| pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()))
        .map_err(|message| ApiError::new(StatusCode::BAD_REQUEST, message))?;
    let page = tasks::list(&state.pool, viewer, &slug, &filter).await?;
    let body = json!({
        "tasks": page.tasks.iter().map(task_json).collect::<Vec<_>>(),
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
    });
    Ok(Json(body).into_response())
}

pub async fn one(
    State(state): State<AppState>,
    user: Result<CurrentUser, NoUser>,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult {
    let viewer = viewer(user)?;
    let id = parse_id(&id, "id")?;
    let detail = tasks::one(&state.pool, viewer, &slug, id).await?;
    let mut body = task_json(&detail.task);
    body["body"] = json!(detail.body);
    body["body_html"] = json!(detail.body_html);
    body["comments"] = detail
        .comments
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "github_id": c.github_id.to_string(),
                "author": author_json(&c.author),
                "body": c.body,
                "body_html": c.body_html,
                "created_at": c.created_at,
                "updated_at": c.updated_at,
            })
        })
        .collect();
    Ok(Json(body).into_response())
}
