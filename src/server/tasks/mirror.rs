//! Applying what GitHub says of an issue, pull request or comment to the
//! mirror: a change is stored only when GitHub's `updated_at` for it is newer
//! than what is stored, so deliveries arriving late, twice, or during an
//! import end in the same rows. The same time with other content is a tie
//! only GitHub can settle: the object is read again from GitHub and stored as
//! it is now. Deleted and transferred issues stay as tombstones that nothing
//! older brings back.

use serde_json::json;
use sha2::{Digest, Sha256};

use super::queries::{self, CommentFields, Identity, MirroredRepo, TaskFields};
use crate::{
    domain::tasks::{TaskKind, TaskState},
    server::{
        github::{
            client::{GitHubError, Listed},
            events::{Account, Issue, IssueComment, Label, PullRequest, Repository},
            installation_tokens::TokenError,
        },
        state::AppState,
    },
};

#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    #[error(transparent)]
    GitHub(#[from] TokenError),
    #[error("the database failed: {0}")]
    Database(#[from] sqlx::Error),
}

/// What became of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Stored,
    /// What is stored is as new or newer.
    Stale,
    /// Deleted or moved on GitHub; kept so.
    Tombstone,
    /// A tie (or a payload that is not the whole object) settled by reading GitHub.
    Reread,
}

/// The GitHub installation a re-read goes through, and the repository's name.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    pub installation_github_id: Option<i64>,
    pub full_name: &'a str,
}

fn identity(account: &Account) -> Identity {
    Identity { github_id: account.id, login: account.login.clone(), avatar_url: account.avatar_url.clone() }
}

fn digest(parts: serde_json::Value) -> String {
    hex::encode(Sha256::digest(parts.to_string().as_bytes()))
}

/// What a task says, from the fields an issue and its pull request both carry
/// (so the two halves of one pull request at one time are no tie; a change of
/// `state_reason` alone in the same second goes unseen until the next one).
#[allow(clippy::too_many_arguments)]
fn content_digest(
    title: &str,
    body: &str,
    state: TaskState,
    draft: bool,
    merged: bool,
    labels: &serde_json::Value,
    assignees: &serde_json::Value,
    comments: i64,
    closed_at: Option<chrono::DateTime<chrono::Utc>>,
) -> String {
    digest(json!([title, body, state.as_str(), draft, merged, labels, assignees, comments, closed_at]))
}

/// A number or count from GitHub as stored (`INTEGER`).
pub fn count(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Labels and assignees as stored: `[{"name", "color"}]` and `[github id]`.
fn labels_and_assignees(labels: &[Label], assignees: &[Account]) -> (serde_json::Value, serde_json::Value) {
    (
        json!(labels.iter().map(|l| json!({"name": l.name, "color": l.color})).collect::<Vec<_>>()),
        json!(assignees.iter().map(|a| a.id).collect::<Vec<_>>()),
    )
}

/// The task an issue describes, with the accounts it names; `None` when the
/// payload is not the whole issue (no `state`: GitHub's `pinned` examples).
pub fn issue_fields(repo_id: i64, issue: &Issue) -> Option<(TaskFields, Vec<Identity>)> {
    let state = TaskState::parse(issue.state.as_deref()?)?;
    let merged = issue.pull_request.as_ref().is_some_and(|p| p.merged_at.is_some());
    let kind = if issue.pull_request.is_some() { TaskKind::PullRequest } else { TaskKind::Issue };
    let (labels, assignees) = labels_and_assignees(&issue.labels, &issue.assignees);
    let body = issue.body.clone().unwrap_or_default();
    let closed_at = issue.closed_at.map(|t| t.0);
    let draft = issue.draft.unwrap_or(false);
    let digest =
        content_digest(&issue.title, &body, state, draft, merged, &labels, &assignees, issue.comments, closed_at);
    let people: Vec<Identity> = issue.user.iter().chain(&issue.assignees).map(identity).collect();
    let fields = TaskFields {
        repo_id,
        issue_github_id: Some(issue.id),
        pull_github_id: None,
        number: count(issue.number),
        kind,
        title: issue.title.clone(),
        body,
        state,
        state_reason: issue.state_reason.clone(),
        draft: issue.draft,
        merged,
        labels,
        assignees,
        author_github_id: issue.user.as_ref().map(|u| u.id),
        html_url: issue.html_url.clone(),
        comment_count: count(issue.comments),
        opened_at: issue.created_at.0,
        closed_at,
        updated: issue.updated_at.0,
        digest,
    };
    Some((fields, people))
}

/// The task a pull request describes, with the accounts it names.
pub fn pull_fields(repo_id: i64, pull: &PullRequest) -> Option<(TaskFields, Vec<Identity>)> {
    let state = TaskState::parse(&pull.state)?;
    let merged = pull.merged.unwrap_or(false) || pull.merged_at.is_some();
    let (labels, assignees) = labels_and_assignees(&pull.labels, &pull.assignees);
    let body = pull.body.clone().unwrap_or_default();
    let closed_at = pull.closed_at.map(|t| t.0);
    let digest =
        content_digest(&pull.title, &body, state, pull.draft, merged, &labels, &assignees, pull.comments, closed_at);
    let people: Vec<Identity> = pull.user.iter().chain(&pull.assignees).map(identity).collect();
    let fields = TaskFields {
        repo_id,
        issue_github_id: None,
        pull_github_id: Some(pull.id),
        number: count(pull.number),
        kind: TaskKind::PullRequest,
        title: pull.title.clone(),
        body,
        state,
        state_reason: None,
        draft: Some(pull.draft),
        merged,
        labels,
        assignees,
        author_github_id: pull.user.as_ref().map(|u| u.id),
        html_url: pull.html_url.clone(),
        comment_count: count(pull.comments),
        opened_at: pull.created_at.0,
        closed_at,
        updated: pull.updated_at.0,
        digest,
    };
    Some((fields, people))
}

/// Applies a task's new version; its row id (once it has one) and what became of it.
pub async fn apply_task(
    state: &AppState,
    reader: Reader<'_>,
    fields: &TaskFields,
    people: &[Identity],
) -> Result<(Option<i64>, Applied), MirrorError> {
    queries::upsert_identities(&state.pool, people).await?;
    if let Some(id) = queries::upsert_task(&state.pool, fields, false).await? {
        return Ok((Some(id), Applied::Stored));
    }
    let Some(stored) = queries::stored_task(&state.pool, fields.repo_id, fields.number).await? else {
        return Ok((None, Applied::Stale));
    };
    queries::adopt_ids(&state.pool, stored.id, fields.issue_github_id, fields.pull_github_id).await?;
    if stored.tombstone {
        return Ok((Some(stored.id), Applied::Tombstone));
    }
    if stored.updated == fields.updated && stored.digest != fields.digest {
        tracing::debug!(repo = reader.full_name, number = fields.number, "a tie: reading the issue from GitHub");
        return reread_task(state, reader, fields.repo_id, fields.number).await;
    }
    tracing::debug!(repo = reader.full_name, number = fields.number, stored = %stored.updated, got = %fields.updated, "older or the same");
    Ok((Some(stored.id), Applied::Stale))
}

/// Reads the issue from GitHub and stores it as it is now (a tie, or a
/// payload that is not the whole issue). Without an installation to read
/// through, what is stored stays.
pub async fn reread_task(
    state: &AppState,
    reader: Reader<'_>,
    repo_id: i64,
    number: i32,
) -> Result<(Option<i64>, Applied), MirrorError> {
    let stored =
        || async { Ok::<_, MirrorError>(queries::stored_task(&state.pool, repo_id, number).await?.map(|s| s.id)) };
    let Some(installation) = reader.installation_github_id else {
        return Ok((stored().await?, Applied::Stale));
    };
    let read = state
        .installation_tokens
        .with_token(installation, |token| {
            let (github, full_name) = (state.github.clone(), reader.full_name.to_owned());
            async move { github.issue(&token, &full_name, i64::from(number)).await }
        })
        .await;
    let issue = match read {
        Ok(issue) => issue,
        // Deleted since (or moved: GitHub's 301 leads elsewhere, below).
        Err(TokenError::GitHub(GitHubError::Status { status: 404 | 410, .. })) => {
            queries::bury_task(&state.pool, repo_id, number, None).await?;
            return Ok((stored().await?, Applied::Tombstone));
        }
        Err(error) => return Err(error.into()),
    };
    // A transferred issue's old address redirects to its new one: that issue
    // is another repository's (maybe a private one's), never this one's.
    let here = format!("/{}/", reader.full_name.to_lowercase());
    if issue.number != i64::from(number) || !issue.html_url.to_lowercase().contains(&here) {
        return Ok((stored().await?, Applied::Stale));
    }
    let Some((fields, people)) = issue_fields(repo_id, &issue) else {
        return Ok((stored().await?, Applied::Stale));
    };
    queries::upsert_identities(&state.pool, &people).await?;
    match queries::upsert_task(&state.pool, &fields, true).await? {
        Some(id) => Ok((Some(id), Applied::Reread)),
        None => Ok((stored().await?, Applied::Stale)),
    }
}

/// Deleted on GitHub (`transferred_to`: moved there): a tombstone from now on.
pub async fn bury_task(
    state: &AppState,
    repo_id: i64,
    number: i32,
    transferred_to: Option<&str>,
) -> Result<bool, MirrorError> {
    Ok(queries::bury_task(&state.pool, repo_id, number, transferred_to).await?)
}

fn comment_fields(task_id: i64, comment: &IssueComment) -> CommentFields {
    CommentFields {
        github_id: comment.id,
        task_id,
        author_github_id: comment.user.as_ref().map(|u| u.id),
        body: comment.body.clone(),
        html_url: comment.html_url.clone(),
        commented_at: comment.created_at.0,
        updated: comment.updated_at.0,
        digest: digest(json!([comment.body])),
    }
}

/// Applies a comment's new version, as `apply_task` does a task's.
pub async fn apply_comment(
    state: &AppState,
    reader: Reader<'_>,
    task_id: i64,
    comment: &IssueComment,
) -> Result<Applied, MirrorError> {
    let people: Vec<Identity> = comment.user.iter().map(identity).collect();
    queries::upsert_identities(&state.pool, &people).await?;
    let fields = comment_fields(task_id, comment);
    if queries::upsert_comment(&state.pool, &fields, false).await?.is_some() {
        return Ok(Applied::Stored);
    }
    let Some(stored) = queries::stored_comment(&state.pool, comment.id).await? else {
        return Ok(Applied::Stale);
    };
    if stored.tombstone {
        return Ok(Applied::Tombstone);
    }
    let (true, Some(installation)) =
        (stored.updated == fields.updated && stored.digest != fields.digest, reader.installation_github_id)
    else {
        return Ok(Applied::Stale);
    };
    let read = state
        .installation_tokens
        .with_token(installation, |token| {
            let (github, full_name) = (state.github.clone(), reader.full_name.to_owned());
            async move { github.issue_comment(&token, &full_name, comment.id).await }
        })
        .await;
    let fresh = match read {
        Ok(fresh) => fresh,
        Err(TokenError::GitHub(GitHubError::Status { status: 404 | 410, .. })) => {
            queries::bury_comment(&state.pool, comment.id).await?;
            return Ok(Applied::Tombstone);
        }
        Err(error) => return Err(error.into()),
    };
    let people: Vec<Identity> = fresh.user.iter().map(identity).collect();
    queries::upsert_identities(&state.pool, &people).await?;
    let stored = queries::upsert_comment(&state.pool, &comment_fields(task_id, &fresh), true).await?;
    Ok(if stored.is_some() { Applied::Reread } else { Applied::Stale })
}

/// One page of a list (`GitHubClient::list_page`), read as the installation.
pub async fn read_page<T: serde::de::DeserializeOwned>(
    state: &AppState,
    installation_github_id: i64,
    url: &str,
    etag: Option<&str>,
) -> Result<Listed<T>, TokenError> {
    state
        .installation_tokens
        .with_token(installation_github_id, |token| {
            let github = state.github.clone();
            async move { github.list_page::<T>(&token, url, etag).await }
        })
        .await
}

/// Reads every comment of issue `number` from GitHub and applies it: an issue
/// that arrives with a history (transferred here) brings no comment events.
pub async fn read_issue_comments(
    state: &AppState,
    reader: Reader<'_>,
    task_id: i64,
    number: i64,
) -> Result<(), MirrorError> {
    let Some(installation) = reader.installation_github_id else { return Ok(()) };
    let mut url = Some(state.github.issue_comments_url(reader.full_name, number));
    while let Some(page) = url.take() {
        let (comments, next) = match read_page::<IssueComment>(state, installation, &page, None).await {
            Ok(Listed::Page { items, next, .. }) => (items, next),
            // Gone again since: its comments go with it.
            Ok(Listed::NotModified) | Err(TokenError::GitHub(GitHubError::Status { status: 404 | 410, .. })) => {
                return Ok(())
            }
            Err(error) => return Err(error.into()),
        };
        for comment in &comments {
            apply_comment(state, reader, task_id, comment).await?;
        }
        url = next;
    }
    Ok(())
}

/// Deleted on GitHub: a tombstone from now on.
pub async fn bury_comment(state: &AppState, github_id: i64) -> Result<bool, MirrorError> {
    Ok(queries::bury_comment(&state.pool, github_id).await?)
}

/// The repository as the mirror knows it, by the payload's. A payload saying
/// it is private makes it so at once: the `privatized` event may be late or
/// lost, and its tasks must not stay public meanwhile.
pub async fn repo(state: &AppState, repository: &Repository) -> Result<Option<MirroredRepo>, MirrorError> {
    if repository.private {
        queries::mark_private(&state.pool, repository.id).await?;
    }
    Ok(queries::repo_by_github_id(&state.pool, repository.id).await?)
}
