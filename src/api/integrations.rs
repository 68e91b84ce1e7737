//! The integrations tab's GitHub section: installations, their repositories,
//! follows; and the actions on them. Owner only: anyone else gets a 404.

use leptos::{prelude::*, server_fn::codec::Postcard};

use super::error::AppError;
use crate::domain::integrations::Integrations;

/// Everything the tab shows, in one answer (no resource is created while the
/// page hydrates). Owner only: anyone else gets the 404 a missing project gets.
#[server(prefix = "/fn", endpoint = "get_integrations", output = Postcard)]
pub async fn get_integrations(
    slug: String,
    installation: Option<i64>,
    filter: Option<String>,
    page: Option<i64>,
) -> Result<Integrations, AppError> {
    use crate::{api::context, domain::integrations::RepoBrowse, server::integrations};
    let state = context::state()?;
    let user = context::require_user().await.map_err(|_| context::fail(AppError::NotFound))?;
    let browse = RepoBrowse { installation, filter: filter.unwrap_or_default(), page: page.unwrap_or(1) };
    integrations::service::integrations(&state.pool, &state.github.config().web_url, &user, &slug, &browse)
        .await
        .map_err(AppError::from)
}

/// Follow (`follow = true`) or unfollow a repository in the project.
#[server(prefix = "/fn", endpoint = "set_following", output = Postcard)]
pub async fn set_following(slug: String, repo_id: i64, follow: bool) -> Result<(), AppError> {
    use crate::{api::context, server::integrations};
    let state = context::state()?;
    let user = context::require_user().await?;
    integrations::service::set_following(&state.pool, user.id, &slug, repo_id, follow).await.map_err(AppError::from)
}

/// Tries a followed repository's failed import again.
#[server(prefix = "/fn", endpoint = "retry_import", output = Postcard)]
pub async fn retry_import(slug: String, repo_id: i64) -> Result<(), AppError> {
    use crate::{api::context, server::integrations};
    let state = context::state()?;
    let user = context::require_user().await?;
    integrations::service::retry_import(&state.pool, user.id, &slug, repo_id).await.map_err(AppError::from)
}

/// Attaches one of the owner's installations to the project.
#[server(prefix = "/fn", endpoint = "attach_installation", output = Postcard)]
pub async fn attach_installation(slug: String, installation_id: i64) -> Result<(), AppError> {
    use crate::{api::context, server::integrations};
    let state = context::state()?;
    let user = context::require_user().await?;
    integrations::service::attach(&state, &user, &slug, installation_id).await.map_err(AppError::from)
}
