//! What owners see and do on the integrations tab (and through the JSON API):
//! the installations of a project, their repositories, follows, attaching.
//! Only a project's owner gets anywhere; anyone else is told it does not exist.

use sqlx::PgPool;

use super::{
    authority,
    queries::{
        follows,
        installations::{self, Listing},
        repositories,
    },
    IntegrationError,
};
use crate::{
    domain::{
        accounts::User,
        integrations::{
            InstallationOverview, Integrations, Lifecycle, Repo, RepoBrowse, RepoPage, SyncStatus, REPOS_PER_PAGE,
        },
        tasks::ImportStatus,
    },
    server::{
        projects::{self, Project},
        state::AppState,
        tasks,
    },
};

/// The project, if `user_id` owns it.
pub async fn owned_project(pool: &PgPool, user_id: i64, slug: &str) -> Result<Project, IntegrationError> {
    match projects::by_slug(pool, slug, Some(user_id)).await? {
        Some(project) if project.is_owner => Ok(project),
        _ => Err(IntegrationError::NotFound),
    }
}

/// GitHub's settings page for an installation: under the organization for an
/// organization's, under the person's settings otherwise.
fn configure_url(web_url: &str, row: &installations::InstallationSummary) -> Option<String> {
    let id = row.github_id?;
    Some(match (row.account_type.as_deref(), row.account_login.as_deref()) {
        (Some("Organization"), Some(login)) => format!("{web_url}/organizations/{login}/settings/installations/{id}"),
        _ => format!("{web_url}/settings/installations/{id}"),
    })
}

fn installation_view(web_url: &str, row: installations::InstallationSummary) -> InstallationOverview {
    InstallationOverview {
        configure_url: configure_url(web_url, &row),
        repos: None,
        id: row.id,
        github_id: row.github_id,
        account_login: row.account_login,
        account_type: row.account_type,
        account_avatar_url: row.account_avatar_url,
        // The CHECK constraints admit no other spellings.
        state: row.state,
        lifecycle: row.lifecycle,
        repository_selection: row.repository_selection,
        repos_listed: row.repos_listed,
        repos_total: row.repos_total,
        sync_error: row.sync_error,
        repo_count: row.repo_count,
    }
}

/// Where a repository stands for the project.
fn sync_status(repo: &repositories::ProjectRepo) -> SyncStatus {
    match (repo.installation_id, repo.installation_lifecycle) {
        _ if repo.deleted => SyncStatus::Unavailable,
        (None, _) | (_, Some(Lifecycle::Uninstalled)) => SyncStatus::Unavailable,
        (_, Some(Lifecycle::Suspended)) => SyncStatus::Paused,
        _ if !repo.following => SyncStatus::NotFollowed,
        _ => SyncStatus::Receiving,
    }
}

fn repo_view(row: repositories::ProjectRepo) -> Repo {
    let import = row.import_state.map(|state| ImportStatus {
        state,
        comments_phase: row.import_comments_phase.unwrap_or(false),
        issues_read: row.issues_read.map_or(0, i64::from),
        comments_read: row.comments_read.map_or(0, i64::from),
        tasks: row.task_count.unwrap_or(0),
        reason: row.import_reason.clone(),
        resume_at: row.import_resume_at.map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
    });
    Repo {
        import,
        sync_status: sync_status(&row),
        id: row.id,
        github_id: row.github_id,
        full_name: row.full_name,
        private: row.private,
        archived: row.archived,
        following: row.following,
    }
}

pub async fn integrations(
    pool: &PgPool,
    web_url: &str,
    user: &User,
    slug: &str,
    browse: &RepoBrowse,
) -> Result<Integrations, IntegrationError> {
    let project = owned_project(pool, user.id, slug).await?;
    let mut installations: Vec<InstallationOverview> =
        installations::summaries(pool, Listing::AttachedTo { project_id: project.id })
            .await?
            .into_iter()
            .map(|i| installation_view(web_url, i))
            .collect();
    for installation in installations.iter_mut().filter(|i| i.lifecycle != Lifecycle::Uninstalled) {
        let (filter, page) = match browse.installation {
            Some(id) if id == installation.id => (browse.filter.as_str(), browse.page),
            _ => ("", 1),
        };
        installation.repos = Some(page_of(pool, project.id, installation.id, filter, page).await?);
    }
    let github_id = user.github.as_ref().map(|g| g.id);
    let offered = installations::summaries(
        pool,
        Listing::AttachableBy { user_id: user.id, github_user_id: github_id, except_project: Some(project.id) },
    )
    .await?;
    let pending = installations::pending_project_of_user(pool, user.id).await?;
    let unavailable = follows::project_follows(pool, project.id, true).await?.into_iter().map(repo_view).collect();
    Ok(Integrations {
        install_pending: pending == Some(project.id),
        installations,
        offered: offered
            .into_iter()
            .filter(|i| i.lifecycle != Lifecycle::Uninstalled)
            .map(|i| installation_view(web_url, i))
            .collect(),
        unavailable,
        github: user.github.clone(),
        project,
    })
}

/// A page (from 1) of an installation's repositories as the project sees them.
async fn page_of(
    pool: &PgPool,
    project_id: i64,
    installation_id: i64,
    filter: &str,
    page: i64,
) -> Result<RepoPage, IntegrationError> {
    let page = page.max(1);
    let filter: String = filter.trim().chars().take(100).collect();
    let (repos, total) = repositories::installation_repos(
        pool,
        project_id,
        installation_id,
        &filter,
        REPOS_PER_PAGE,
        (page - 1).saturating_mul(REPOS_PER_PAGE),
    )
    .await?;
    Ok(RepoPage { filter, repos: repos.into_iter().map(repo_view).collect(), total, page, per_page: REPOS_PER_PAGE })
}

/// Follows or unfollows; a repository the project cannot reach cannot be followed.
pub async fn set_following(
    pool: &PgPool,
    user_id: i64,
    slug: &str,
    repo_id: i64,
    follow: bool,
) -> Result<(), IntegrationError> {
    let project = owned_project(pool, user_id, slug).await?;
    let changed = if follow {
        follows::follow(pool, project.id, repo_id).await?
    } else {
        follows::unfollow(pool, project.id, repo_id).await?
    };
    if changed {
        tracing::info!(project = %project.slug, repo_id, follow, "follow changed");
        Ok(())
    } else {
        Err(IntegrationError::NotFound)
    }
}

/// Tries the failed import of a followed repository again.
pub async fn retry_import(pool: &PgPool, user_id: i64, slug: &str, repo_id: i64) -> Result<(), IntegrationError> {
    let project = owned_project(pool, user_id, slug).await?;
    if tasks::import::retry(pool, project.id, repo_id).await? {
        Ok(())
    } else {
        Err(IntegrationError::NotFound)
    }
}

/// Attaches one of the owner's installations (offered to them, and theirs to
/// link: see `authority`) to their project.
pub async fn attach(state: &AppState, user: &User, slug: &str, installation_id: i64) -> Result<(), IntegrationError> {
    let pool = &state.pool;
    let project = owned_project(pool, user.id, slug).await?;
    let github_id = user.github.as_ref().map(|g| g.id);
    let visible = installations::summaries(
        pool,
        Listing::AttachableBy { user_id: user.id, github_user_id: github_id, except_project: None },
    )
    .await?;
    if !visible.iter().any(|i| i.id == installation_id && i.lifecycle != Lifecycle::Uninstalled) {
        return Err(IntegrationError::NotFound);
    }
    let row = installations::by_id(pool, installation_id).await?.ok_or(IntegrationError::NotFound)?;
    let authority = authority::authority(state, user, &row.target(), None).await?;
    let mut tx = pool.begin().await?;
    follows::attach(&mut *tx, project.id, installation_id).await?;
    installations::mark_linked(&mut *tx, installation_id, user.id).await?;
    tx.commit().await?;
    tracing::info!(project = %project.slug, installation_id, ?authority, "installation attached");
    Ok(())
}

/// Repositories the project follows, for the JSON API.
pub async fn followed(pool: &PgPool, user_id: i64, slug: &str) -> Result<Vec<Repo>, IntegrationError> {
    let project = owned_project(pool, user_id, slug).await?;
    Ok(follows::project_follows(pool, project.id, false).await?.into_iter().map(repo_view).collect())
}

/// The installations a person started or was matched to, for the JSON API.
pub async fn installations_of_user(
    pool: &PgPool,
    user_id: i64,
) -> Result<Vec<installations::InstallationSummary>, IntegrationError> {
    Ok(installations::summaries(pool, Listing::OfUser { user_id }).await?)
}

/// The installations a person may attach to their projects, for the JSON API.
pub async fn installations_visible_to(
    pool: &PgPool,
    user: &User,
) -> Result<Vec<installations::InstallationSummary>, IntegrationError> {
    Ok(installations::summaries(
        pool,
        Listing::AttachableBy {
            user_id: user.id,
            github_user_id: user.github.as_ref().map(|g| g.id),
            except_project: None,
        },
    )
    .await?)
}
