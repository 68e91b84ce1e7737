//! `github_repos`: the repositories installations reach, as GitHub lists them,
//! and as a project sees them.

use sqlx::{PgExecutor, PgPool};

use chrono::{DateTime, Utc};

use crate::domain::{integrations::Lifecycle, tasks::ImportState};

/// A repository as GitHub describes it.
#[derive(Debug, Clone)]
pub struct RepoFields {
    pub github_id: i64,
    pub owner_login: String,
    pub name: String,
    pub full_name: String,
    pub private: bool,
    /// `None`: this payload does not say (installation events list repositories
    /// without it); the stored value is kept.
    pub archived: Option<bool>,
}

/// Inserts or updates repositories by GitHub id, as part of `installation_id`
/// (`None` leaves which installation they belong to unchanged).
pub async fn upsert_repos(
    conn: impl PgExecutor<'_>,
    installation_id: Option<i64>,
    repos: &[RepoFields],
) -> Result<(), sqlx::Error> {
    let archived_known = repos.iter().all(|r| r.archived.is_some());
    let ids: Vec<i64> = repos.iter().map(|r| r.github_id).collect();
    let owners: Vec<&str> = repos.iter().map(|r| r.owner_login.as_str()).collect();
    let names: Vec<&str> = repos.iter().map(|r| r.name.as_str()).collect();
    let full_names: Vec<&str> = repos.iter().map(|r| r.full_name.as_str()).collect();
    let private: Vec<bool> = repos.iter().map(|r| r.private).collect();
    let archived: Vec<Option<bool>> = repos.iter().map(|r| r.archived).collect();
    sqlx::query!(
        r#"INSERT INTO github_repos (github_id, owner_login, name, full_name, private, archived, installation_id)
           SELECT g, o, n, f, p, COALESCE(a, false), $7
           FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::text[], $5::bool[], $6::bool[]) AS u(g, o, n, f, p, a)
           ON CONFLICT (github_id) DO UPDATE SET
               owner_login = EXCLUDED.owner_login, name = EXCLUDED.name, full_name = EXCLUDED.full_name,
               private = EXCLUDED.private,
               archived = CASE WHEN $8 THEN EXCLUDED.archived ELSE github_repos.archived END,
               installation_id = COALESCE($7, github_repos.installation_id),
               deleted_at = NULL"#,
        &ids,
        &owners as &[&str],
        &names as &[&str],
        &full_names as &[&str],
        &private,
        &archived as &[Option<bool>],
        installation_id,
        archived_known,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Repositories that left this installation (removed from its selection).
pub async fn detach_repos(
    conn: impl PgExecutor<'_>,
    installation_id: i64,
    github_ids: &[i64],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE github_repos SET installation_id = NULL WHERE installation_id = $1 AND github_id = ANY($2)",
        installation_id,
        github_ids
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Every repository of an uninstalled installation becomes unavailable.
pub async fn detach_all_repos(conn: impl PgExecutor<'_>, installation_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE github_repos SET installation_id = NULL WHERE installation_id = $1", installation_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn mark_repo_deleted(conn: impl PgExecutor<'_>, github_id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE github_repos SET installation_id = NULL, deleted_at = now() WHERE github_id = $1",
        github_id
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A repository as a project sees it.
#[derive(Debug, Clone)]
pub struct ProjectRepo {
    pub id: i64,
    pub github_id: i64,
    pub full_name: String,
    pub private: bool,
    pub archived: bool,
    pub following: bool,
    /// The installation it is reachable through now (attached to the project), if any.
    pub installation_id: Option<i64>,
    pub installation_lifecycle: Option<Lifecycle>,
    pub deleted: bool,
    /// Its import, when followed.
    pub import_state: Option<ImportState>,
    pub import_comments_phase: Option<bool>,
    pub issues_read: Option<i32>,
    pub comments_read: Option<i32>,
    pub import_reason: Option<String>,
    pub import_resume_at: Option<DateTime<Utc>>,
    pub task_count: Option<i64>,
}

/// One page of an installation's repositories (filtered by name), with
/// whether the project follows each, and how many match.
pub async fn installation_repos(
    pool: &PgPool,
    project_id: i64,
    installation_id: i64,
    filter: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ProjectRepo>, i64), sqlx::Error> {
    let pattern = format!("%{}%", filter.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let mut tx = pool.begin().await?;
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM github_repos WHERE installation_id = $1 AND lower(full_name) LIKE $2"#,
        installation_id,
        pattern
    )
    .fetch_one(&mut *tx)
    .await?;
    let repos = sqlx::query_as!(
        ProjectRepo,
        r#"SELECT r.id, r.github_id, r.full_name, r.private, r.archived,
                  COALESCE(f.following, false) AS "following!",
                  r.installation_id, i.lifecycle AS "installation_lifecycle?: Lifecycle", r.deleted_at IS NOT NULL AS "deleted!",
                  m.state AS "import_state?: ImportState", m.phase = 'comments' AS "import_comments_phase?",
                  m.issues_read AS "issues_read?", m.comments_read AS "comments_read?", m.reason AS "import_reason?",
                  m.resume_at AS "import_resume_at?: DateTime<Utc>",
                  CASE WHEN f.following THEN (SELECT count(*) FROM tasks t WHERE t.github_repo_id = r.id AND t.deleted_at IS NULL) END
                      AS "task_count?"
           FROM github_repos r
           JOIN github_app_installations i ON i.id = r.installation_id
           LEFT JOIN project_github_repos f ON f.github_repo_id = r.id AND f.project_id = $1
           LEFT JOIN github_repo_imports m ON m.github_repo_id = r.id AND f.following
           WHERE r.installation_id = $2 AND lower(r.full_name) LIKE $3
           ORDER BY lower(r.full_name), r.id
           LIMIT $4 OFFSET $5"#,
        project_id,
        installation_id,
        pattern,
        limit,
        offset
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((repos, total))
}
