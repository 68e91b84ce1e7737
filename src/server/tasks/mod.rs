//! Tasks: the issues and pull requests of the repositories projects follow,
//! mirrored from GitHub (`mirror`, fed by `webhook_handlers`), and what people
//! see of them. Who sees what: a task of a private repository only the
//! project's owner, in every path (pages, server functions, the JSON API,
//! live updates); a public repository's tasks anyone who can see the project.

pub mod import;
pub mod markdown;
pub mod mirror;
mod queries;
pub mod webhook_handlers;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::{
    domain::tasks::{Author, Label, Sync, TaskComment, TaskDetail, TaskFilter, TaskPage, TaskSummary, TASKS_PER_PAGE},
    server::projects,
};

#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// No such project, or no such task the person may see: the same answer.
    #[error("There is nothing here.")]
    NotFound,
    #[error("the database failed: {0}")]
    Database(#[from] sqlx::Error),
}

/// The project by slug, and whether `viewer` owns it.
async fn project(pool: &PgPool, slug: &str, viewer: Option<i64>) -> Result<(i64, bool), TaskError> {
    let project = projects::by_slug(pool, slug, viewer).await?.ok_or(TaskError::NotFound)?;
    Ok((project.id, project.is_owner))
}

/// A page of the project's tasks that `viewer` may see, as `filter` asks.
pub async fn list(pool: &PgPool, viewer: Option<i64>, slug: &str, filter: &TaskFilter) -> Result<TaskPage, TaskError> {
    let (project_id, owner) = project(pool, slug, viewer).await?;
    let (rows, total) = queries::list(pool, project_id, owner, filter).await?;
    let now = Utc::now();
    Ok(TaskPage {
        tasks: rows.into_iter().map(|row| summary(row, owner, now)).collect(),
        page: filter.page.max(1),
        per_page: TASKS_PER_PAGE,
        total,
        repositories: queries::repositories(pool, project_id, owner).await?,
    })
}

/// One task of the project with its comments, if `viewer` may see it.
pub async fn one(pool: &PgPool, viewer: Option<i64>, slug: &str, id: i64) -> Result<TaskDetail, TaskError> {
    let (project_id, owner) = project(pool, slug, viewer).await?;
    let (row, body) = queries::one(pool, project_id, owner, id).await?.ok_or(TaskError::NotFound)?;
    let comments = queries::comments(pool, row.id)
        .await?
        .into_iter()
        .map(|c| TaskComment {
            id: c.id,
            github_id: c.github_id,
            author: author(c.author_login, c.author_avatar, c.author_user_id, c.author_name),
            body_html: markdown::to_safe_html(&c.body),
            body: c.body,
            created_at: timestamp(c.commented_at),
            updated_at: timestamp(c.updated),
        })
        .collect();
    Ok(TaskDetail { task: summary(row, owner, Utc::now()), body_html: markdown::to_safe_html(&body), body, comments })
}

fn author(login: Option<String>, avatar: Option<String>, user_id: Option<i64>, name: Option<String>) -> Option<Author> {
    Some(Author { login: login?, avatar_url: avatar.unwrap_or_default(), user_id, name })
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn summary(row: queries::TaskRow, owner: bool, now: DateTime<Utc>) -> TaskSummary {
    let labels = serde_json::from_value::<Vec<Label>>(row.labels).unwrap_or_default();
    let sync = match (row.repo_deleted, row.following && row.reachable) {
        (true, _) => Sync::RepositoryDeleted,
        (false, true) => Sync::Synced,
        (false, false) => Sync::NotSynced,
    };
    TaskSummary {
        id: row.id,
        // The issue's id; a pull request known so far only from its own events has only that one.
        github_id: row.issue_github_id.or(row.pull_github_id).unwrap_or_default(),
        number: i64::from(row.number),
        title: row.title,
        state: row.state,
        state_reason: row.state_reason,
        kind: row.kind,
        draft: row.draft,
        merged: row.merged,
        repository: row.repository,
        html_url: row.html_url,
        author: author(row.author_login, row.author_avatar, row.author_user_id, row.author_name),
        labels,
        comments: i64::from(row.comment_count),
        created_at: timestamp(row.opened_at),
        updated_at: timestamp(row.updated),
        closed_at: row.closed_at.map(timestamp),
        activity: ago(row.updated, now),
        moved: row.transferred_to.is_some(),
        transferred_to: row.transferred_to.filter(|_| owner),
        deleted: row.deleted,
        sync,
    }
}

/// How long ago, in words a person says.
pub fn ago(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - at).num_seconds().max(0);
    let plural = |n: i64, unit: &str| if n == 1 { format!("1 {unit} ago") } else { format!("{n} {unit}s ago") };
    match seconds {
        0..=59 => "just now".to_owned(),
        60..=3599 => plural(seconds / 60, "minute"),
        3600..=86_399 => plural(seconds / 3600, "hour"),
        86_400..=172_799 => "yesterday".to_owned(),
        172_800..=2_591_999 => plural(seconds / 86_400, "day"),
        _ if now.signed_duration_since(at).num_days() < 365 => at.format("on %-d %b").to_string(),
        _ => at.format("on %-d %b %Y").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn activity_reads_as_a_person_says_it() {
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 12, 0, 0).unwrap();
        let ago = |d: Duration| super::ago(now - d, now);
        assert_eq!(ago(Duration::seconds(5)), "just now");
        assert_eq!(ago(Duration::seconds(-30)), "just now", "a clock ahead of ours");
        assert_eq!(ago(Duration::minutes(1)), "1 minute ago");
        assert_eq!(ago(Duration::minutes(59)), "59 minutes ago");
        assert_eq!(ago(Duration::hours(3)), "3 hours ago");
        assert_eq!(ago(Duration::hours(30)), "yesterday");
        assert_eq!(ago(Duration::days(12)), "12 days ago");
        assert_eq!(ago(Duration::days(40)), "on 23 Oct");
        assert_eq!(ago(Duration::days(400)), "on 28 Oct 2025");
    }
}
