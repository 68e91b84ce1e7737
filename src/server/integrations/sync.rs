//! Listing an installation's repositories from GitHub: every page (100 each,
//! following the `Link` header) upserted by GitHub id as it arrives, progress
//! recorded for the tab to show, and what was not listed detached at the end.

use super::queries::{
    installations,
    repositories::{self, RepoFields},
};
use crate::server::{
    github::{
        client::RepositoryPage,
        events::{GitHubInstallation, Repository},
        installation_tokens::TokenError,
    },
    state::AppState,
};

/// The account an installation is on, as GitHub describes it.
pub fn account_fields(installation: &GitHubInstallation) -> installations::AccountFields {
    let account = installation.account.as_ref();
    installations::AccountFields {
        github_id: account.map(|a| a.id),
        login: account.map(|a| a.login.clone()),
        kind: account.map(|a| a.kind.clone()),
        avatar_url: account.map(|a| a.avatar_url.clone()).filter(|u| !u.is_empty()),
        repository_selection: Some(installation.repository_selection),
    }
}

pub fn repo_fields(repo: &Repository) -> RepoFields {
    RepoFields {
        github_id: repo.id,
        owner_login: repo.owner.login.clone(),
        name: repo.name.clone(),
        full_name: repo.full_name.clone(),
        private: repo.private,
        archived: Some(repo.archived),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("the database failed: {0}")]
    Database(#[from] sqlx::Error),
}

/// Lists every repository of the installation (row `id`, GitHub `github_id`);
/// returns how many. A failure is recorded on the installation for the tab.
pub async fn list_repositories(state: &AppState, id: i64, github_id: i64) -> Result<usize, SyncError> {
    let result = list_all(state, id, github_id).await;
    if let Err(error) = &result {
        let message = match error {
            SyncError::Token(TokenError::GitHub(e)) if e.is_transient() => {
                "GitHub did not answer while listing repositories; forgelink keeps trying.".to_owned()
            }
            SyncError::Token(TokenError::GitHub(e)) => {
                format!("GitHub refused to list the repositories ({e}); forgelink keeps trying.")
            }
            _ => "Listing the repositories failed on our side; forgelink keeps trying.".to_owned(),
        };
        installations::listing_failed(&state.pool, id, &message).await?;
    }
    result
}

async fn list_all(state: &AppState, id: i64, github_id: i64) -> Result<usize, SyncError> {
    installations::begin_listing(&state.pool, id).await?;
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page: RepositoryPage = state
            .installation_tokens
            .with_token(github_id, |token| {
                let (github, url) = (state.github.clone(), next.clone());
                async move { github.installation_repositories(&token, url.as_deref()).await }
            })
            .await?;
        let fields: Vec<RepoFields> = page.repositories.iter().map(repo_fields).collect();
        repositories::upsert_repos(&state.pool, Some(id), &fields).await?;
        seen.extend(fields.iter().map(|r| r.github_id));
        let total = i32::try_from(page.total_count).unwrap_or(i32::MAX);
        installations::listing_progress(&state.pool, id, i32::try_from(seen.len()).unwrap_or(i32::MAX), total).await?;
        match page.next {
            Some(url) if !page.repositories.is_empty() => next = Some(url),
            _ => break,
        }
    }
    installations::finish_listing(&state.pool, id, &seen).await?;
    tracing::info!(installation = github_id, repos = seen.len(), "repositories listed");
    Ok(seen.len())
}
