//! Importing a followed repository's issues (pull requests among them) and
//! comments from GitHub, and reading them again every interval so a change
//! whose delivery was lost appears (GitHub never retries a delivery).
//!
//! Page by page (100 each, oldest change first, following `Link`), each item
//! applied by the mirror's rule, so webhooks applied meanwhile agree with it;
//! the watermark is saved after every page, so a crash, a restart, an unfollow
//! and a re-follow go on from there. A re-read asks with the ETag of the last
//! first page (a 304 costs no rate limit). A rate limit pauses the repository
//! until GitHub's reset, saying so; a refusal fails it with the reason until
//! someone retries. One repository at a time per instance, each under a lease,
//! for at most `PAGES_PER_TURN` pages before the others get a turn, so neither
//! a failing nor a huge repository holds the others up.

use std::{future::Future, time::Duration};

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use super::{
    mirror::{self, Reader},
    queries::{self, ImportJob},
};
use crate::{
    domain::tasks::ImportState,
    server::{
        github::{
            client::{GitHubError, Listed},
            events::{Issue, IssueComment},
            installation_tokens::TokenError,
        },
        state::AppState,
    },
};

/// Held while a repository is read, renewed after every page.
const LEASE: Duration = Duration::from_secs(120);
/// How long to wait when GitHub does not answer.
const UNREACHABLE_PAUSE_SECS: i64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    GitHub(#[from] TokenError),
    /// The lease ran out and another reader has the repository now.
    #[error("the lease ran out; another reader took the repository over")]
    LeaseLost,
    #[error("the database failed: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<mirror::MirrorError> for ImportError {
    fn from(error: mirror::MirrorError) -> Self {
        match error {
            mirror::MirrorError::GitHub(e) => Self::GitHub(e),
            mirror::MirrorError::Database(e) => Self::Database(e),
        }
    }
}

/// Runs imports and re-reads until the instance stops.
pub fn spawn(state: AppState, interval: Duration) {
    tokio::spawn(async move {
        loop {
            let worked = match run_due(&state, interval).await {
                Ok(worked) => worked,
                Err(error) => {
                    tracing::warn!(%error, "could not look for repositories to import");
                    false
                }
            };
            if !worked {
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    () = state.stopping.begun() => return,
                }
            }
        }
    });
}

/// Tries a failed import again (a repository the project follows); `false` when there is none.
pub async fn retry(pool: &sqlx::PgPool, project_id: i64, repo_id: i64) -> Result<bool, sqlx::Error> {
    queries::retry_import(pool, project_id, repo_id).await
}

/// Imports (or re-reads) one repository that is due, if any; whether there was one.
pub async fn run_due(state: &AppState, interval: Duration) -> Result<bool, sqlx::Error> {
    let Some(job) = queries::claim_import(&state.pool, interval, LEASE, uuid::Uuid::new_v4()).await? else {
        return Ok(false);
    };
    let result = import(state, &job).await;
    if matches!(result, Err(ImportError::LeaseLost)) {
        tracing::warn!(repo = %job.full_name, "an import outlived its lease; its new reader goes on");
        return Ok(true);
    }
    let (end, reason, resume_at) = match &result {
        Ok(Read::Done) => (ImportState::UpToDate, None, None),
        // Its turn is over: still importing, claimed again after the others.
        Ok(Read::TurnOver) => (ImportState::Importing, None, None),
        Err(error) => ended_by(error),
    };
    match &result {
        Err(error) => tracing::warn!(repo = %job.full_name, %error, state = end.as_str(), "repository import stopped"),
        Ok(Read::Done) => tracing::info!(repo = %job.full_name, "repository up to date"),
        Ok(Read::TurnOver) => {}
    }
    queries::import_ended(&state.pool, &job, end, reason.as_deref(), resume_at).await?;
    Ok(true)
}

/// How an import that failed ends: paused (it goes on by itself) or failed (someone must act), and why.
fn ended_by(error: &ImportError) -> (ImportState, Option<String>, Option<DateTime<Utc>>) {
    let pause = |secs: i64, why: &str| {
        (ImportState::Paused, Some(why.to_owned()), Some(Utc::now() + chrono::Duration::seconds(secs)))
    };
    match error {
        ImportError::GitHub(TokenError::GitHub(GitHubError::RateLimited { retry_after_secs })) => {
            pause(i64::try_from(*retry_after_secs).unwrap_or(3600), "GitHub rate limit")
        }
        ImportError::GitHub(TokenError::GitHub(e)) if e.is_transient() => {
            pause(UNREACHABLE_PAUSE_SECS, "GitHub did not answer")
        }
        ImportError::GitHub(TokenError::GitHub(GitHubError::Status { status: 403, .. })) => (
            ImportState::Failed,
            Some(
                "GitHub refused to list this repository's issues: the App needs the Issues and Pull requests \
                 (read) permissions. Accept its new permissions on GitHub (the installation's settings), then Retry."
                    .to_owned(),
            ),
            None,
        ),
        ImportError::GitHub(TokenError::GitHub(GitHubError::Status { status: 404, .. })) => {
            (ImportState::Failed, Some("GitHub no longer shows this repository to the App.".to_owned()), None)
        }
        ImportError::GitHub(TokenError::GitHub(e)) => (ImportState::Failed, Some(format!("GitHub refused: {e}")), None),
        ImportError::GitHub(_) | ImportError::Database(_) | ImportError::LeaseLost => {
            pause(UNREACHABLE_PAUSE_SECS, "forgelink had trouble on its side")
        }
    }
}

/// Pages one claim reads before letting other repositories have a turn (it
/// stays `importing` and is claimed again, from its watermark, after them).
const PAGES_PER_TURN: usize = 20;

/// Whether a list was read to its end or the turn ended first.
#[derive(Debug, PartialEq, Eq)]
enum Read {
    Done,
    TurnOver,
}

/// Imports (or re-reads) a repository; `TurnOver` when it goes on later.
async fn import(state: &AppState, job: &ImportJob) -> Result<Read, ImportError> {
    let reader = Reader { installation_github_id: Some(job.installation_github_id), full_name: &job.full_name };
    let mut pages = 0;
    if !job.comments_phase {
        let read = read_pages(state, job, false, &mut pages, |issues: Vec<Issue>| async move {
            for issue in &issues {
                if let Some((fields, people)) = mirror::issue_fields(job.repo_id, issue) {
                    mirror::apply_task(state, reader, &fields, &people).await?;
                }
            }
            Ok(issues.iter().map(|i| i.updated_at.0).collect())
        })
        .await?;
        if read == Read::TurnOver {
            return Ok(read);
        }
        if !queries::comments_phase(&state.pool, job).await? {
            return Err(ImportError::LeaseLost);
        }
    }
    read_pages(state, job, true, &mut pages, |comments: Vec<IssueComment>| async move {
        for comment in &comments {
            let Some(number) = comment.issue_url.rsplit('/').next().and_then(|n| n.parse::<i32>().ok()) else {
                continue;
            };
            let task = match queries::stored_task(&state.pool, job.repo_id, number).await? {
                Some(task) => Some(task.id),
                // Its issue came after the issues were read (its webhook lost, say): read it now.
                None => mirror::reread_task(state, reader, job.repo_id, number).await?.0,
            };
            if let Some(task) = task {
                mirror::apply_comment(state, reader, task, comment).await?;
            }
        }
        Ok(comments.iter().map(|c| c.updated_at.0).collect())
    })
    .await
}

/// Reads a list (`comments`: the comments, else the issues) from the
/// watermark on, page by page: `apply` stores a page and gives the times of
/// its items; the watermark, count and ETag are saved after each.
///
/// Each next page is asked from the newest time read so far (`since`), not by
/// GitHub's `Link` offsets: an item changed while a page is applied moves to
/// the end of the list, and offsets would then skip one that never changed.
/// Only a full page of one second (bulk changes) goes on by offset.
async fn read_pages<T, F, Fut>(
    state: &AppState,
    job: &ImportJob,
    comments: bool,
    pages: &mut usize,
    apply: F,
) -> Result<Read, ImportError>
where
    T: DeserializeOwned,
    F: Fn(Vec<T>) -> Fut,
    Fut: Future<Output = Result<Vec<DateTime<Utc>>, ImportError>>,
{
    let (what, mut since, etag) = if comments {
        ("issues/comments", job.comments_since, job.comments_etag.clone())
    } else {
        ("issues", job.issues_since, job.issues_etag.clone())
    };
    let mut url = state.github.changes_url(&job.full_name, what, since);
    // Only the first page is asked conditionally (its ETag is the one saved).
    let mut etag = etag;
    let mut first = true;
    loop {
        if *pages == PAGES_PER_TURN {
            return Ok(Read::TurnOver);
        }
        *pages += 1;
        let listed = mirror::read_page::<T>(state, job.installation_github_id, &url, etag.as_deref()).await?;
        let Listed::Page { items, next, etag: page_etag } = listed else {
            return Ok(Read::Done);
        };
        let full = items.len() >= 100;
        let times = apply(items).await?;
        let latest = times.iter().max().copied();
        // Counted once: what sits at the watermark was counted with the page before.
        let new = times.iter().filter(|at| since.is_none_or(|since| **at > since)).count();
        // A full first page changes whatever comes after it: its ETag would hide that.
        let saved = if first && !full { page_etag.as_deref() } else { None };
        let new = i32::try_from(new).unwrap_or(i32::MAX);
        if !queries::page_read(&state.pool, job, comments, new, latest, saved, LEASE).await? {
            return Err(ImportError::LeaseLost);
        }
        (etag, first) = (None, false);
        match (next, latest) {
            (None, _) | (_, None) => return Ok(Read::Done),
            (Some(_), Some(latest)) if since.is_none_or(|since| latest > since) => {
                since = Some(latest);
                url = state.github.changes_url(&job.full_name, what, since);
            }
            (Some(next), Some(_)) => url = next,
        }
    }
}
