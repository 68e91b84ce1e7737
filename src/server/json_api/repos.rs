//! `GET/POST /api/projects/{slug}/github-repos`, `DELETE …/github-repos/{id}`:
//! the repositories a project follows; follow; unfollow. Owner only.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::IntoResponse,
    Json,
};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{parse_id, ApiError, ApiResult};
use crate::{
    domain::integrations::Repo,
    server::{
        accounts::{CurrentUser, NoUser},
        integrations::service,
        state::AppState,
    },
};

fn repo_json(repo: &Repo) -> Value {
    json!({
        "id": repo.id,
        "github_id": repo.github_id.to_string(),
        "full_name": repo.full_name,
        "private": repo.private,
        "archived": repo.archived,
        "following": repo.following,
        "sync_status": repo.sync_status,
        "import": repo.import.as_ref().map(|i| json!({
            "state": i.state.as_str(),
            "phase": if i.comments_phase { "comments" } else { "issues" },
            "issues_read": i.issues_read,
            "comments_read": i.comments_read,
            "tasks": i.tasks,
            "reason": i.reason,
            "resume_at": i.resume_at,
        })),
    })
}

pub async fn list(
    State(state): State<AppState>,
    user: Result<CurrentUser, NoUser>,
    Path(slug): Path<String>,
) -> ApiResult {
    let user = user?;
    let repos = service::followed(&state.pool, user.id, &slug).await?;
    Ok(Json(repos.iter().map(repo_json).collect::<Vec<_>>()).into_response())
}

#[derive(Deserialize)]
struct FollowBody {
    repo_id: i64,
}

pub async fn follow(
    State(state): State<AppState>,
    user: Result<CurrentUser, NoUser>,
    Path(slug): Path<String>,
    body: Bytes,
) -> ApiResult {
    let user = user?;
    let body: FollowBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, format!("Send a JSON body like {{\"repo_id\": 42}}: {e}"))
    })?;
    service::owned_project(&state.pool, user.id, &slug).await?;
    match service::set_following(&state.pool, user.id, &slug, body.repo_id, true).await {
        Ok(()) => {}
        Err(crate::server::integrations::IntegrationError::NotFound) => {
            return Err(ApiError::not_found("Repository"));
        }
        Err(error) => return Err(error.into()),
    }
    let repos = service::followed(&state.pool, user.id, &slug).await?;
    let repo = repos.iter().find(|r| r.id == body.repo_id).ok_or_else(|| ApiError::not_found("Repository"))?;
    Ok((StatusCode::CREATED, Json(repo_json(repo))).into_response())
}

pub async fn unfollow(
    State(state): State<AppState>,
    user: Result<CurrentUser, NoUser>,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult {
    let user = user?;
    let id = parse_id(&id, "id")?;
    service::owned_project(&state.pool, user.id, &slug).await?;
    match service::set_following(&state.pool, user.id, &slug, id, false).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(crate::server::integrations::IntegrationError::NotFound) => Err(ApiError::not_found("Repository")),
        Err(error) => Err(error.into()),
    }
}
