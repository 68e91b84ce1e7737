//! `tasks`, `task_comments` and `github_identities`: the mirror's rows, and
//! the reads of the Tasks tab (joined with the follows that decide who sees what).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgExecutor, PgPool};

use crate::domain::tasks::{ImportState, StateFilter, SyncFilter, TaskFilter, TaskKind, TaskState, TASKS_PER_PAGE};

/// A GitHub account as a payload names it.
#[derive(Debug, Clone)]
pub struct Identity {
    pub github_id: i64,
    pub login: String,
    pub avatar_url: String,
}

/// Records who these accounts are now (the latest login and avatar win).
pub async fn upsert_identities(conn: impl PgExecutor<'_>, identities: &[Identity]) -> Result<(), sqlx::Error> {
    let ids: Vec<i64> = identities.iter().map(|i| i.github_id).collect();
    let logins: Vec<&str> = identities.iter().map(|i| i.login.as_str()).collect();
    let avatars: Vec<&str> = identities.iter().map(|i| i.avatar_url.as_str()).collect();
    sqlx::query!(
        r#"INSERT INTO github_identities (github_id, login, avatar_url)
           SELECT DISTINCT ON (g) g, l, a FROM UNNEST($1::int8[], $2::text[], $3::text[]) AS u(g, l, a)
           ON CONFLICT (github_id) DO UPDATE SET login = EXCLUDED.login, avatar_url = EXCLUDED.avatar_url
           WHERE (github_identities.login, github_identities.avatar_url) IS DISTINCT FROM (EXCLUDED.login, EXCLUDED.avatar_url)"#,
        &ids,
        &logins as &[&str],
        &avatars as &[&str],
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A repository as the mirror needs it.
#[derive(Debug, Clone)]
pub struct MirroredRepo {
    pub id: i64,
    pub full_name: String,
    /// Some project follows it: its changes are applied.
    pub followed: bool,
}

pub async fn repo_by_github_id(conn: impl PgExecutor<'_>, github_id: i64) -> Result<Option<MirroredRepo>, sqlx::Error> {
    sqlx::query_as!(
        MirroredRepo,
        r#"SELECT r.id, r.full_name,
                  EXISTS (SELECT 1 FROM project_github_repos f WHERE f.github_repo_id = r.id AND f.following) AS "followed!"
           FROM github_repos r WHERE r.github_id = $1"#,
        github_id
    )
    .fetch_optional(conn)
    .await
}

pub async fn mark_private(conn: impl PgExecutor<'_>, github_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE github_repos SET private = true WHERE github_id = $1 AND NOT private", github_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// An issue or pull request as stored.
#[derive(Debug, Clone)]
pub struct TaskFields {
    pub repo_id: i64,
    pub issue_github_id: Option<i64>,
    pub pull_github_id: Option<i64>,
    pub number: i32,
    pub kind: TaskKind,
    pub title: String,
    pub body: String,
    pub state: TaskState,
    pub state_reason: Option<String>,
    /// `None`: this representation does not say; what is stored is kept.
    pub draft: Option<bool>,
    pub merged: bool,
    pub labels: Value,
    pub assignees: Value,
    pub author_github_id: Option<i64>,
    pub html_url: String,
    pub comment_count: i32,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub updated: DateTime<Utc>,
    pub digest: String,
}

/// Stores the task if GitHub's time for it is newer than what is stored (or,
/// with `tie`, equal: a fresh read from GitHub settles a tie), unless it is a
/// tombstone. Its row id when it was stored.
pub async fn upsert_task(conn: impl PgExecutor<'_>, t: &TaskFields, tie: bool) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"INSERT INTO tasks (github_repo_id, issue_github_id, pull_github_id, number, kind, title, body, state,
                              state_reason, draft, merged, labels, assignees, author_github_id, html_url,
                              comment_count, opened_at, closed_at, github_updated_at, digest)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, COALESCE($10, false), $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
           ON CONFLICT (github_repo_id, number) DO UPDATE SET
               issue_github_id = COALESCE(EXCLUDED.issue_github_id, tasks.issue_github_id),
               pull_github_id = COALESCE(EXCLUDED.pull_github_id, tasks.pull_github_id),
               kind = EXCLUDED.kind, title = EXCLUDED.title, body = EXCLUDED.body, state = EXCLUDED.state,
               state_reason = EXCLUDED.state_reason,
               draft = CASE WHEN $10::bool IS NULL THEN tasks.draft ELSE EXCLUDED.draft END,
               -- Merging cannot be undone.
               merged = EXCLUDED.merged OR tasks.merged,
               labels = EXCLUDED.labels, assignees = EXCLUDED.assignees,
               author_github_id = COALESCE(EXCLUDED.author_github_id, tasks.author_github_id),
               html_url = EXCLUDED.html_url, comment_count = EXCLUDED.comment_count,
               opened_at = EXCLUDED.opened_at, closed_at = EXCLUDED.closed_at,
               github_updated_at = EXCLUDED.github_updated_at, digest = EXCLUDED.digest
           WHERE tasks.deleted_at IS NULL AND tasks.transferred_to IS NULL
             AND (EXCLUDED.github_updated_at > tasks.github_updated_at
                  OR ($21 AND EXCLUDED.github_updated_at = tasks.github_updated_at))
           RETURNING id"#,
        t.repo_id,
        t.issue_github_id,
        t.pull_github_id,
        t.number,
        t.kind as TaskKind,
        t.title,
        t.body,
        t.state as TaskState,
        t.state_reason,
        t.draft,
        t.merged,
        t.labels,
        t.assignees,
        t.author_github_id,
        t.html_url,
        t.comment_count,
        t.opened_at as _,
        t.closed_at as _,
        t.updated as _,
        t.digest,
        tie,
    )
    .fetch_optional(conn)
    .await
}

/// What is stored of a task, to tell why a change was not applied.
#[derive(Debug, Clone)]
pub struct Stored {
    pub id: i64,
    pub updated: DateTime<Utc>,
    pub digest: String,
    pub tombstone: bool,
}

pub async fn stored_task(conn: impl PgExecutor<'_>, repo_id: i64, number: i32) -> Result<Option<Stored>, sqlx::Error> {
    sqlx::query_as!(
        Stored,
        r#"SELECT id, github_updated_at AS "updated: DateTime<Utc>", digest,
                  (deleted_at IS NOT NULL OR transferred_to IS NOT NULL) AS "tombstone!"
           FROM tasks WHERE github_repo_id = $1 AND number = $2"#,
        repo_id,
        number
    )
    .fetch_optional(conn)
    .await
}

/// Records GitHub ids of a task not known yet (a pull request's other half),
/// whether or not the rest of the change was newer.
pub async fn adopt_ids(
    conn: impl PgExecutor<'_>,
    id: i64,
    issue_github_id: Option<i64>,
    pull_github_id: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"UPDATE tasks SET issue_github_id = COALESCE(issue_github_id, $2), pull_github_id = COALESCE(pull_github_id, $3)
           WHERE id = $1 AND ((issue_github_id IS NULL AND $2::int8 IS NOT NULL) OR (pull_github_id IS NULL AND $3::int8 IS NOT NULL))"#,
        id,
        issue_github_id,
        pull_github_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Makes the task a tombstone: deleted on GitHub, or moved (`transferred_to`: where).
pub async fn bury_task(
    conn: impl PgExecutor<'_>,
    repo_id: i64,
    number: i32,
    transferred_to: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"UPDATE tasks SET deleted_at = CASE WHEN $3::text IS NULL THEN COALESCE(deleted_at, now()) ELSE deleted_at END,
                            transferred_to = COALESCE($3, transferred_to)
           WHERE github_repo_id = $1 AND number = $2
             AND ((deleted_at IS NULL AND $3::text IS NULL) OR transferred_to IS DISTINCT FROM COALESCE($3, transferred_to))"#,
        repo_id,
        number,
        transferred_to
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A comment as stored.
#[derive(Debug, Clone)]
pub struct CommentFields {
    pub github_id: i64,
    pub task_id: i64,
    pub author_github_id: Option<i64>,
    pub body: String,
    pub html_url: String,
    pub commented_at: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub digest: String,
}

/// As `upsert_task`, for a comment.
pub async fn upsert_comment(
    conn: impl PgExecutor<'_>,
    c: &CommentFields,
    tie: bool,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"INSERT INTO task_comments (github_id, task_id, author_github_id, body, html_url, commented_at, github_updated_at, digest)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (github_id) DO UPDATE SET
               task_id = EXCLUDED.task_id,
               author_github_id = COALESCE(EXCLUDED.author_github_id, task_comments.author_github_id),
               body = EXCLUDED.body, html_url = EXCLUDED.html_url, commented_at = EXCLUDED.commented_at,
               github_updated_at = EXCLUDED.github_updated_at, digest = EXCLUDED.digest
           WHERE task_comments.deleted_at IS NULL
             AND (EXCLUDED.github_updated_at > task_comments.github_updated_at
                  OR ($9 AND EXCLUDED.github_updated_at = task_comments.github_updated_at)
                  -- A transferred issue's comment follows it to its new task.
                  OR (EXCLUDED.github_updated_at = task_comments.github_updated_at
                      AND EXCLUDED.task_id <> task_comments.task_id
                      AND EXISTS (SELECT 1 FROM tasks m WHERE m.id = task_comments.task_id AND m.transferred_to IS NOT NULL)))
           RETURNING id"#,
        c.github_id,
        c.task_id,
        c.author_github_id,
        c.body,
        c.html_url,
        c.commented_at as _,
        c.updated as _,
        c.digest,
        tie,
    )
    .fetch_optional(conn)
    .await
}

pub async fn stored_comment(conn: impl PgExecutor<'_>, github_id: i64) -> Result<Option<Stored>, sqlx::Error> {
    sqlx::query_as!(
        Stored,
        r#"SELECT id, github_updated_at AS "updated: DateTime<Utc>", digest, deleted_at IS NOT NULL AS "tombstone!"
           FROM task_comments WHERE github_id = $1"#,
        github_id
    )
    .fetch_optional(conn)
    .await
}

pub async fn bury_comment(conn: impl PgExecutor<'_>, github_id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE task_comments SET deleted_at = now() WHERE github_id = $1 AND deleted_at IS NULL",
        github_id
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A task as the list shows it, with the repository's standing for the project.
#[derive(Debug, Clone)]
pub struct TaskRow {
    pub id: i64,
    pub issue_github_id: Option<i64>,
    pub pull_github_id: Option<i64>,
    pub number: i32,
    pub title: String,
    pub state: TaskState,
    pub state_reason: Option<String>,
    pub kind: TaskKind,
    pub draft: bool,
    pub merged: bool,
    pub repository: String,
    pub html_url: String,
    pub labels: Value,
    pub comment_count: i32,
    pub opened_at: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub transferred_to: Option<String>,
    pub deleted: bool,
    pub following: bool,
    pub reachable: bool,
    pub repo_deleted: bool,
    pub author_login: Option<String>,
    pub author_avatar: Option<String>,
    pub author_user_id: Option<i64>,
    pub author_name: Option<String>,
}

/// A page of the project's tasks that `owner` (whether the viewer owns the
/// project) may see, newest activity first, and how many match in all.
/// Tasks of private repositories are for the owner only, and only while an
/// installation attached to the project reaches the repository.
pub async fn list(
    pool: &PgPool,
    project_id: i64,
    owner: bool,
    filter: &TaskFilter,
) -> Result<(Vec<TaskRow>, i64), sqlx::Error> {
    let state = match filter.state {
        StateFilter::Open => Some(TaskState::Open),
        StateFilter::Closed => Some(TaskState::Closed),
        StateFilter::All => None,
    };
    let offset = (filter.page.max(1) - 1).saturating_mul(TASKS_PER_PAGE);
    let label = filter.label.as_ref().map(|name| serde_json::json!([{ "name": name }]));
    let synced = filter.sync.map(|s| s == SyncFilter::Synced);
    let rows = sqlx::query_as!(
        TaskRow,
        r#"SELECT t.id, t.issue_github_id, t.pull_github_id, t.number, t.title,
                  t.state AS "state: TaskState", t.state_reason, t.kind AS "kind: TaskKind", t.draft, t.merged,
                  r.full_name AS repository, t.html_url, t.labels, t.comment_count, t.opened_at AS "opened_at: DateTime<Utc>",
                  t.github_updated_at AS "updated: DateTime<Utc>", t.closed_at AS "closed_at: DateTime<Utc>", t.transferred_to, t.deleted_at IS NOT NULL AS "deleted!",
                  f.following, project_reaches_repo(f.project_id, r.installation_id) AS "reachable!", r.deleted_at IS NOT NULL AS "repo_deleted!",
                  g.login AS "author_login?", g.avatar_url AS "author_avatar?", u.id AS "author_user_id?",
                  u.display_name AS "author_name?"
           FROM project_github_repos f
           JOIN github_repos r ON r.id = f.github_repo_id
           JOIN tasks t ON t.github_repo_id = r.id
           LEFT JOIN github_identities g ON g.github_id = t.author_github_id
           LEFT JOIN users u ON u.github_id = t.author_github_id
           WHERE f.project_id = $1 AND (NOT r.private OR ($2 AND project_reaches_repo(f.project_id, r.installation_id)))
             AND t.deleted_at IS NULL
             AND ($3::text IS NULL OR t.state = $3)
             AND ($4::text IS NULL OR t.kind = $4)
             AND ($5::text IS NULL OR lower(r.full_name) = lower($5))
             AND ($6::jsonb IS NULL OR t.labels @> $6)
             AND ($7::text IS NULL OR lower(g.login) = lower($7))
             AND ($8::text IS NULL OR t.search @@ websearch_to_tsquery('english', $8))
             AND ($11::bool IS NULL
                  OR (f.following AND project_reaches_repo(f.project_id, r.installation_id) AND r.deleted_at IS NULL) = $11)
           ORDER BY t.github_updated_at DESC, t.id DESC
           LIMIT $9 OFFSET $10"#,
        project_id,
        owner,
        state.map(TaskState::as_str),
        filter.kind.map(TaskKind::as_str),
        filter.repo,
        label,
        filter.author,
        filter.q,
        TASKS_PER_PAGE,
        offset,
        synced,
    )
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!"
           FROM project_github_repos f
           JOIN github_repos r ON r.id = f.github_repo_id
           JOIN tasks t ON t.github_repo_id = r.id
           LEFT JOIN github_identities g ON g.github_id = t.author_github_id
           WHERE f.project_id = $1 AND (NOT r.private OR ($2 AND project_reaches_repo(f.project_id, r.installation_id)))
             AND t.deleted_at IS NULL
             AND ($3::text IS NULL OR t.state = $3)
             AND ($4::text IS NULL OR t.kind = $4)
             AND ($5::text IS NULL OR lower(r.full_name) = lower($5))
             AND ($6::jsonb IS NULL OR t.labels @> $6)
             AND ($7::text IS NULL OR lower(g.login) = lower($7))
             AND ($8::text IS NULL OR t.search @@ websearch_to_tsquery('english', $8))
             AND ($9::bool IS NULL
                  OR (f.following AND project_reaches_repo(f.project_id, r.installation_id) AND r.deleted_at IS NULL) = $9)"#,
        project_id,
        owner,
        state.map(TaskState::as_str),
        filter.kind.map(TaskKind::as_str),
        filter.repo,
        label,
        filter.author,
        filter.q,
        synced,
    )
    .fetch_one(pool)
    .await?;
    Ok((rows, total))
}

/// The project's repositories whose tasks `owner` may see, for the filter.
pub async fn repositories(pool: &PgPool, project_id: i64, owner: bool) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT r.full_name FROM project_github_repos f JOIN github_repos r ON r.id = f.github_repo_id
           WHERE f.project_id = $1 AND (NOT r.private OR ($2 AND project_reaches_repo(f.project_id, r.installation_id)))
           ORDER BY lower(r.full_name)"#,
        project_id,
        owner
    )
    .fetch_all(pool)
    .await
}

/// One task of the project, if `owner` may see it, and its Markdown body.
pub async fn one(
    pool: &PgPool,
    project_id: i64,
    owner: bool,
    id: i64,
) -> Result<Option<(TaskRow, String)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT t.id, t.issue_github_id, t.pull_github_id, t.number, t.title,
                  t.state AS "state: TaskState", t.state_reason, t.kind AS "kind: TaskKind", t.draft, t.merged,
                  r.full_name AS repository, t.html_url, t.labels, t.comment_count, t.opened_at AS "opened_at: DateTime<Utc>",
                  t.github_updated_at AS "updated: DateTime<Utc>", t.closed_at AS "closed_at: DateTime<Utc>", t.transferred_to, t.deleted_at IS NOT NULL AS "deleted!",
                  f.following, project_reaches_repo(f.project_id, r.installation_id) AS "reachable!", r.deleted_at IS NOT NULL AS "repo_deleted!",
                  g.login AS "author_login?", g.avatar_url AS "author_avatar?", u.id AS "author_user_id?",
                  u.display_name AS "author_name?", t.body
           FROM project_github_repos f
           JOIN github_repos r ON r.id = f.github_repo_id
           JOIN tasks t ON t.github_repo_id = r.id
           LEFT JOIN github_identities g ON g.github_id = t.author_github_id
           LEFT JOIN users u ON u.github_id = t.author_github_id
           WHERE f.project_id = $1 AND (NOT r.private OR ($2 AND project_reaches_repo(f.project_id, r.installation_id)))
             AND t.id = $3 AND t.deleted_at IS NULL"#,
        project_id,
        owner,
        id
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| {
        let task = TaskRow {
            id: r.id,
            issue_github_id: r.issue_github_id,
            pull_github_id: r.pull_github_id,
            number: r.number,
            title: r.title,
            state: r.state,
            state_reason: r.state_reason,
            kind: r.kind,
            draft: r.draft,
            merged: r.merged,
            repository: r.repository,
            html_url: r.html_url,
            labels: r.labels,
            comment_count: r.comment_count,
            opened_at: r.opened_at,
            updated: r.updated,
            closed_at: r.closed_at,
            transferred_to: r.transferred_to,
            deleted: r.deleted,
            following: r.following,
            reachable: r.reachable,
            repo_deleted: r.repo_deleted,
            author_login: r.author_login,
            author_avatar: r.author_avatar,
            author_user_id: r.author_user_id,
            author_name: r.author_name,
        };
        (task, r.body)
    }))
}

#[derive(Debug, Clone)]
pub struct CommentRow {
    pub id: i64,
    pub github_id: i64,
    pub body: String,
    pub commented_at: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub author_login: Option<String>,
    pub author_avatar: Option<String>,
    pub author_user_id: Option<i64>,
    pub author_name: Option<String>,
}

/// A task's comments, oldest first (deleted ones left out).
pub async fn comments(pool: &PgPool, task_id: i64) -> Result<Vec<CommentRow>, sqlx::Error> {
    sqlx::query_as!(
        CommentRow,
        r#"SELECT c.id, c.github_id, c.body, c.commented_at AS "commented_at: DateTime<Utc>", c.github_updated_at AS "updated: DateTime<Utc>",
                  g.login AS "author_login?", g.avatar_url AS "author_avatar?", u.id AS "author_user_id?",
                  u.display_name AS "author_name?"
           FROM task_comments c
           LEFT JOIN github_identities g ON g.github_id = c.author_github_id
           LEFT JOIN users u ON u.github_id = c.author_github_id
           WHERE c.task_id = $1 AND c.deleted_at IS NULL
           ORDER BY c.commented_at, c.id"#,
        task_id
    )
    .fetch_all(pool)
    .await
}

/// A repository whose import (or re-read) this instance holds the lease of.
#[derive(Debug, Clone)]
pub struct ImportJob {
    pub repo_id: i64,
    pub full_name: String,
    pub installation_github_id: i64,
    pub comments_phase: bool,
    pub issues_since: Option<DateTime<Utc>>,
    pub comments_since: Option<DateTime<Utc>>,
    pub issues_etag: Option<String>,
    pub comments_etag: Option<String>,
    /// Names this claim in every write (see `lease_token`).
    pub lease: uuid::Uuid,
}

/// Takes the lease of one followed, reachable repository whose import is due:
/// importing, paused until a time now past, or read longer than `interval` ago.
pub async fn claim_import(
    pool: &PgPool,
    interval: std::time::Duration,
    lease: std::time::Duration,
    token: uuid::Uuid,
) -> Result<Option<ImportJob>, sqlx::Error> {
    sqlx::query_as!(
        ImportJob,
        r#"WITH due AS (
               SELECT s.github_repo_id FROM github_repo_imports s
               JOIN github_repos r ON r.id = s.github_repo_id AND r.deleted_at IS NULL
               JOIN github_app_installations i ON i.id = r.installation_id AND i.lifecycle = 'installed'
                                                AND i.github_id IS NOT NULL
               WHERE (s.lease_until IS NULL OR s.lease_until < now())
                 AND EXISTS (SELECT 1 FROM project_github_repos f WHERE f.github_repo_id = r.id AND f.following)
                 AND (s.state = 'importing' OR (s.state = 'paused' AND s.resume_at <= now())
                      OR (s.state = 'up_to_date' AND s.synced_at < now() - make_interval(secs => $1)))
               ORDER BY s.state = 'up_to_date', s.updated_at
               LIMIT 1 FOR UPDATE OF s SKIP LOCKED)
           UPDATE github_repo_imports s SET lease_until = now() + make_interval(secs => $2), lease_token = $3
           FROM due, github_repos r, github_app_installations i
           WHERE s.github_repo_id = due.github_repo_id AND r.id = s.github_repo_id AND i.id = r.installation_id
           RETURNING s.github_repo_id AS repo_id, r.full_name, i.github_id AS "installation_github_id!",
                     s.phase = 'comments' AS "comments_phase!",
                     s.issues_since AS "issues_since: DateTime<Utc>", s.comments_since AS "comments_since: DateTime<Utc>",
                     s.issues_etag, s.comments_etag, s.lease_token AS "lease!""#,
        interval.as_secs_f64(),
        lease.as_secs_f64(),
        token,
    )
    .fetch_optional(pool)
    .await
}

/// Records a page read: how many items, the watermark it reached, the list's
/// ETag when it was the first page, and the lease renewed; `false` when the
/// claim no longer holds the lease.
#[allow(clippy::too_many_arguments)]
pub async fn page_read(
    pool: &PgPool,
    job: &ImportJob,
    comments: bool,
    read: i32,
    latest: Option<DateTime<Utc>>,
    etag: Option<&str>,
    lease: std::time::Duration,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"UPDATE github_repo_imports SET
               issues_read = issues_read + CASE WHEN $2 THEN 0 ELSE $3 END,
               comments_read = comments_read + CASE WHEN $2 THEN $3 ELSE 0 END,
               issues_since = CASE WHEN $2 THEN issues_since ELSE GREATEST(issues_since, $4) END,
               comments_since = CASE WHEN $2 THEN GREATEST(comments_since, $4) ELSE comments_since END,
               issues_etag = CASE WHEN NOT $2 AND $5::text IS NOT NULL THEN $5 ELSE issues_etag END,
               comments_etag = CASE WHEN $2 AND $5::text IS NOT NULL THEN $5 ELSE comments_etag END,
               lease_until = now() + make_interval(secs => $6)
           WHERE github_repo_id = $1 AND lease_token = $7"#,
        job.repo_id,
        comments,
        read,
        latest as _,
        etag,
        lease.as_secs_f64(),
        job.lease,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The issues are read; `false` when the claim no longer holds the lease.
pub async fn comments_phase(pool: &PgPool, job: &ImportJob) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE github_repo_imports SET phase = 'comments' WHERE github_repo_id = $1 AND lease_token = $2",
        job.repo_id,
        job.lease
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The read ended: up to date (`Ok`), paused until `resume_at`, or failed; the lease let go.
pub async fn import_ended(
    pool: &PgPool,
    job: &ImportJob,
    state: ImportState,
    reason: Option<&str>,
    resume_at: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"UPDATE github_repo_imports SET state = $2, reason = $3, resume_at = $4, lease_until = NULL, lease_token = NULL,
               phase = CASE WHEN $2 = 'up_to_date' THEN 'issues' ELSE phase END,
               synced_at = CASE WHEN $2 = 'up_to_date' THEN now() ELSE synced_at END
           WHERE github_repo_id = $1 AND lease_token = $5"#,
        job.repo_id,
        state as ImportState,
        reason,
        resume_at as _,
        job.lease,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Asks for the failed import of a repository the project follows to be tried again.
pub async fn retry_import(pool: &PgPool, project_id: i64, repo_id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"UPDATE github_repo_imports SET state = 'importing', reason = NULL, resume_at = NULL
           WHERE github_repo_id = $2 AND state = 'failed'
             AND EXISTS (SELECT 1 FROM project_github_repos f WHERE f.project_id = $1 AND f.github_repo_id = $2 AND f.following)"#,
        project_id,
        repo_id
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}
