//! Webhook handlers that keep installations and repositories true: created,
//! deleted, suspended, renamed, repositories added and removed, repositories
//! renamed, transferred, archived, deleted; and a revoked authorization.
//! Each is idempotent (a retried event changes nothing twice) and keyed on
//! GitHub ids, never names.

use super::{
    queries::{follows, installations, repositories},
    sync,
};
use crate::domain::integrations::{InstallOrigin, InstallationState, Lifecycle, RepositorySelection};
use crate::server::{
    accounts,
    github::events::{
        self, Account, AppAuthorizationEvent, GitHubInstallation, InstallationEvent, InstallationRepositoriesEvent,
        InstallationTargetEvent, RepositoryEvent, RepositoryRef,
    },
    state::AppState,
    webhooks::{
        dispatcher::{Handled, HandlerError},
        Dispatcher, Outcome,
    },
};

/// Registers every handler of this domain.
pub fn register(dispatcher: Dispatcher) -> Dispatcher {
    dispatcher
        .on("installation", &["created"], |s, p| async move { installation_created(&s, p).await })
        .on("installation", &["deleted"], |s, p| async move { installation_deleted(&s, p).await })
        .on("installation", &["suspend"], |s, p| async move { installation_suspended(&s, p, true).await })
        .on("installation", &["unsuspend"], |s, p| async move { installation_suspended(&s, p, false).await })
        .on("installation", &["new_permissions_accepted"], |s, p| async move { permissions_accepted(&s, p).await })
        .on("installation_repositories", &["added", "removed"], |s, p| async move { repositories_changed(&s, p).await })
        .on("installation_target", &["renamed"], |s, p| async move { target_renamed(&s, p).await })
        .on("github_app_authorization", &["revoked"], |s, p| async move { authorization_revoked(&s, p).await })
        .on("repository", events::actions("repository").unwrap_or_default(), |s, p| async move {
            repository_changed(&s, p).await
        })
}

impl From<sync::SyncError> for HandlerError {
    fn from(error: sync::SyncError) -> Self {
        match error {
            sync::SyncError::Token(error) => error.into(),
            sync::SyncError::Database(error) => error.into(),
        }
    }
}

/// Finds or creates the row for a GitHub installation: by its id; else the
/// pending install of the person who installed it (or who asked an owner to);
/// else that person's forgelink account (`initiated_on_github`); else nobody
/// yet (`unmatched_user`, claimed when they connect GitHub). Attaches the
/// originating project, and marks a linked installation `processing`.
/// Returns the row id and the project the install was started from, if any.
async fn match_installation(
    state: &AppState,
    installation: &GitHubInstallation,
    sender: &Account,
    requester: Option<&Account>,
) -> Result<(i64, Option<i64>), sqlx::Error> {
    let mut tx = state.pool.begin().await?;
    installations::lock_github_installation(&mut tx, installation.id).await?;
    let id = if let Some(row) = installations::by_github_id(&mut *tx, installation.id).await? {
        row.id
    } else {
        // An approved request is the requester's install, whatever the
        // approving owner may have pending themselves.
        let mut pending = match requester {
            Some(requester) => installations::pending_of_github_user(&mut tx, requester.id).await?,
            None => None,
        };
        if pending.is_none() {
            pending = installations::pending_of_github_user(&mut tx, sender.id).await?;
        }
        match pending {
            Some(pending) => {
                installations::assign_github_id(&mut tx, pending, installation.id).await?;
                pending
            }
            None => {
                let user = installations::user_id_by_github_id(&mut *tx, sender.id).await?;
                let state = if user.is_some() {
                    InstallationState::InitiatedOnGithub
                } else {
                    InstallationState::UnmatchedUser
                };
                installations::upsert_by_github_id(
                    &mut tx,
                    installation.id,
                    InstallOrigin::Github,
                    state,
                    user,
                    None,
                    Some(sender.id),
                )
                .await?
            }
        }
    };
    installations::set_installer(&mut *tx, id, sender.id, requester.map(|r| r.id)).await?;
    installations::set_account(&mut *tx, id, &sync::account_fields(installation)).await?;
    let lifecycle = if installation.suspended_at.is_some() { Lifecycle::Suspended } else { Lifecycle::Installed };
    installations::set_lifecycle(&mut *tx, id, lifecycle, installation.updated_at.map(|t| t.0)).await?;
    let row = installations::by_id(&mut *tx, id).await?.ok_or(sqlx::Error::RowNotFound)?;
    if let Some(project) = row.originating_project_id {
        follows::attach(&mut *tx, project, id).await?;
    }
    let linked = row.attached || row.originating_project_id.is_some();
    if linked && row.state != InstallationState::Processed {
        installations::set_state(&mut *tx, id, InstallationState::Processing).await?;
    }
    tx.commit().await?;
    Ok((id, row.originating_project_id))
}

async fn installation_created(state: &AppState, payload: InstallationEvent) -> Handled {
    let (id, project) =
        match_installation(state, &payload.installation, &payload.sender, payload.requester.as_ref()).await?;
    if payload.installation.suspended_at.is_none() {
        sync::list_repositories(state, id, payload.installation.id).await?;
    }
    // The repositories chosen on GitHub during an install started from a
    // project are followed there (choosing "all" follows nothing by itself).
    if let (Some(project), RepositorySelection::Selected, Some(chosen)) =
        (project, payload.installation.repository_selection, &payload.repositories)
    {
        let ids: Vec<i64> = chosen.iter().map(|r| r.id).collect();
        follows::follow_github_ids(&state.pool, project, &ids).await?;
    }
    Ok(Outcome::Processed)
}

/// The installation's row, or `None` when forgelink never heard of it.
async fn known(state: &AppState, github_id: i64) -> Result<Option<installations::InstallationRow>, sqlx::Error> {
    installations::by_github_id(&state.pool, github_id).await
}

fn unknown_installation(github_id: i64) -> Handled {
    Ok(Outcome::Ignored(format!("installation {github_id} is unknown to forgelink")))
}

async fn installation_deleted(state: &AppState, payload: InstallationEvent) -> Handled {
    let Some(row) = known(state, payload.installation.id).await? else {
        return unknown_installation(payload.installation.id);
    };
    let mut tx = state.pool.begin().await?;
    // Follows stay (as history); the repositories are no longer reachable.
    if installations::set_lifecycle(
        &mut *tx,
        row.id,
        Lifecycle::Uninstalled,
        payload.installation.updated_at.map(|t| t.0),
    )
    .await?
    {
        repositories::detach_all_repos(&mut *tx, row.id).await?;
    }
    tx.commit().await?;
    state.installation_tokens.forget(payload.installation.id).await?;
    Ok(Outcome::Processed)
}

async fn installation_suspended(state: &AppState, payload: InstallationEvent, suspended: bool) -> Handled {
    let Some(row) = known(state, payload.installation.id).await? else {
        return unknown_installation(payload.installation.id);
    };
    let lifecycle = if suspended { Lifecycle::Suspended } else { Lifecycle::Installed };
    let applied =
        installations::set_lifecycle(&state.pool, row.id, lifecycle, payload.installation.updated_at.map(|t| t.0))
            .await?;
    if !applied {
        return Ok(Outcome::Ignored("a newer change of this installation was applied already".into()));
    }
    if suspended {
        state.installation_tokens.forget(payload.installation.id).await?;
    } else {
        // GitHub sends nothing for a suspended installation: catch up on what changed.
        sync::list_repositories(state, row.id, payload.installation.id).await?;
    }
    Ok(Outcome::Processed)
}

async fn permissions_accepted(state: &AppState, payload: InstallationEvent) -> Handled {
    let Some(row) = known(state, payload.installation.id).await? else {
        return unknown_installation(payload.installation.id);
    };
    installations::set_account(&state.pool, row.id, &sync::account_fields(&payload.installation)).await?;
    // Tokens minted before carry the old permissions.
    state.installation_tokens.forget(payload.installation.id).await?;
    Ok(Outcome::Processed)
}

fn ref_fields(repo: &RepositoryRef) -> repositories::RepoFields {
    let (owner, _) = repo.full_name.split_once('/').unwrap_or((&repo.full_name, ""));
    repositories::RepoFields {
        github_id: repo.id,
        owner_login: owner.to_owned(),
        name: repo.name.clone(),
        full_name: repo.full_name.clone(),
        private: repo.private,
        archived: None,
    }
}

async fn repositories_changed(state: &AppState, payload: InstallationRepositoriesEvent) -> Handled {
    let row = match known(state, payload.installation.id).await? {
        Some(row) => row,
        None => {
            // The created event never reached us: start from here, with a full listing.
            let (id, _) = match_installation(state, &payload.installation, &payload.sender, None).await?;
            sync::list_repositories(state, id, payload.installation.id).await?;
            return Ok(Outcome::Processed);
        }
    };
    let mut tx = state.pool.begin().await?;
    installations::set_account(&mut *tx, row.id, &sync::account_fields(&payload.installation)).await?;
    let added: Vec<_> = payload.repositories_added.iter().map(ref_fields).collect();
    if !added.is_empty() {
        repositories::upsert_repos(&mut *tx, Some(row.id), &added).await?;
    }
    let removed: Vec<i64> = payload.repositories_removed.iter().map(|r| r.id).collect();
    repositories::detach_repos(&mut *tx, row.id, &removed).await?;
    tx.commit().await?;
    Ok(Outcome::Processed)
}

async fn target_renamed(state: &AppState, payload: InstallationTargetEvent) -> Handled {
    let Some(row) = known(state, payload.installation.id).await? else {
        return unknown_installation(payload.installation.id);
    };
    let mut tx = state.pool.begin().await?;
    installations::rename_account(&mut tx, row.id, &payload.account.login, &payload.account.avatar_url).await?;
    tx.commit().await?;
    Ok(Outcome::Processed)
}

async fn repository_changed(state: &AppState, payload: RepositoryEvent) -> Handled {
    if payload.action == "deleted" {
        let known = repositories::mark_repo_deleted(&state.pool, payload.repository.id).await?;
        return Ok(if known { Outcome::Processed } else { Outcome::Ignored("repository unknown to forgelink".into()) });
    }
    // The installation that delivered it reaches it now (a transfer may move it between installations).
    let installation = match payload.installation.as_ref() {
        Some(i) => known(state, i.id).await?.filter(|row| row.lifecycle != Lifecycle::Uninstalled).map(|row| row.id),
        None => None,
    };
    if installation.is_none() {
        return Ok(Outcome::Ignored("no installation of this App that forgelink knows reaches this repository".into()));
    }
    repositories::upsert_repos(&state.pool, installation, &[sync::repo_fields(&payload.repository)]).await?;
    Ok(Outcome::Processed)
}

async fn authorization_revoked(state: &AppState, payload: AppAuthorizationEvent) -> Handled {
    let forgot = accounts::github_link::authorization_revoked(&state.pool, payload.sender.id).await?;
    Ok(if forgot { Outcome::Processed } else { Outcome::Ignored("no forgelink user has this GitHub account".into()) })
}
