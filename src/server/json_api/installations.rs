//! `GET /api/users/{user_id}/installations`, `GET /api/github-app-installations[/{id}]`.

use super::{parse_id, timestamp, ApiError, ApiResult};
use crate::server::{
    accounts::{CurrentUser, NoUser},
    integrations::{service, InstallationSummary},
    state::AppState,
};
use axum::{
    extract::{Path, State},
    response::IntoResponse,
    Json,
};
use serde_json::{json, Value};

fn brief(i: &InstallationSummary) -> Value {
    json!({
        "id": i.id,
        "user_id": i.user_id,
        "github_installation_id": i.github_id.map(|id| id.to_string()),
        "created_at": timestamp(i.created_at),
        "updated_at": timestamp(i.updated_at),
    })
}

fn detailed(i: &InstallationSummary) -> Value {
    let mut value = brief(i);
    value.as_object_mut().expect("brief is an object").extend([
        ("account_login".to_owned(), json!(i.account_login)),
        ("account_type".to_owned(), json!(i.account_type)),
        ("account_avatar_url".to_owned(), json!(i.account_avatar_url)),
        ("origin".to_owned(), json!(i.origin)),
        ("state".to_owned(), json!(i.state)),
        ("lifecycle".to_owned(), json!(i.lifecycle)),
        ("repository_selection".to_owned(), json!(i.repository_selection)),
        ("repository_count".to_owned(), json!(i.repo_count)),
    ]);
    value
}

/// The user's installations GitHub has confirmed. Another user's list is a 404
/// like an unknown user's, so ids cannot be probed.
pub async fn of_user(
    State(state): State<AppState>,
    user: Result<CurrentUser, NoUser>,
    Path(user_id): Path<String>,
) -> ApiResult {
    let user = user?;
    let user_id = parse_id(&user_id, "user_id")?;
    if user_id != user.id {
        return Err(ApiError::not_found("User"));
    }
    let installations = service::installations_of_user(&state.pool, user.id).await?;
    Ok(Json(installations.iter().filter(|i| i.github_id.is_some()).map(brief).collect::<Vec<_>>()).into_response())
}

/// Every installation the signed-in user may attach to their projects.
pub async fn list(State(state): State<AppState>, user: Result<CurrentUser, NoUser>) -> ApiResult {
    let user = user?;
    let installations = service::installations_visible_to(&state.pool, &user).await?;
    Ok(Json(installations.iter().map(detailed).collect::<Vec<_>>()).into_response())
}

pub async fn one(
    State(state): State<AppState>,
    user: Result<CurrentUser, NoUser>,
    Path(id): Path<String>,
) -> ApiResult {
    let user = user?;
    let id = parse_id(&id, "id")?;
    let installations = service::installations_visible_to(&state.pool, &user).await?;
    let found = installations.iter().find(|i| i.id == id).ok_or_else(|| ApiError::not_found("Installation"))?;
    Ok(Json(detailed(found)).into_response())
}
