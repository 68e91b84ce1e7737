//! `project_github_installations` and `project_github_repos`: which
//! installations a project has attached and which repositories it follows.

use sqlx::{PgExecutor, PgPool};

use super::repositories::ProjectRepo;
use chrono::{DateTime, Utc};

use crate::domain::{integrations::Lifecycle, tasks::ImportState};

pub async fn attach(conn: impl PgExecutor<'_>, project_id: i64, installation_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO project_github_installations (project_id, installation_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        project_id,
        installation_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Follows repositories (by GitHub id) in a project.
pub async fn follow_github_ids(
    conn: impl PgExecutor<'_>,
    project_id: i64,
    github_ids: &[i64],
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        r#"INSERT INTO project_github_repos (project_id, github_repo_id, following)
           SELECT $1, r.id, true FROM github_repos r WHERE r.github_id = ANY($2)
           ON CONFLICT (project_id, github_repo_id) DO UPDATE SET following = true"#,
        project_id,
        github_ids
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// The repositories the project follows (`only_unavailable`: only those no
/// installation of the project reaches any more), with where each stands now.
pub async fn project_follows(
    pool: &PgPool,
    project_id: i64,
    only_unavailable: bool,
) -> Result<Vec<ProjectRepo>, sqlx::Error> {
    sqlx::query_as!(
        ProjectRepo,
        r#"SELECT r.id, r.github_id, r.full_name, r.private, r.archived, f.following,
                  a.installation_id AS "installation_id?", i.lifecycle AS "installation_lifecycle?: Lifecycle",
                  r.deleted_at IS NOT NULL AS "deleted!",
                  m.state AS "import_state?: ImportState", m.phase = 'comments' AS "import_comments_phase?",
                  m.issues_read AS "issues_read?", m.comments_read AS "comments_read?", m.reason AS "import_reason?",
                  m.resume_at AS "import_resume_at?: DateTime<Utc>",
                  CASE WHEN f.following THEN (SELECT count(*) FROM tasks t WHERE t.github_repo_id = r.id AND t.deleted_at IS NULL) END
                      AS "task_count?"
           FROM project_github_repos f
           JOIN github_repos r ON r.id = f.github_repo_id
           LEFT JOIN github_repo_imports m ON m.github_repo_id = r.id
           LEFT JOIN project_github_installations a ON a.installation_id = r.installation_id AND a.project_id = f.project_id
           LEFT JOIN github_app_installations i ON i.id = a.installation_id
           WHERE f.project_id = $1 AND f.following
             AND (NOT $2 OR r.deleted_at IS NOT NULL OR a.installation_id IS NULL OR i.lifecycle = 'uninstalled')
           ORDER BY lower(r.full_name), r.id"#,
        project_id,
        only_unavailable
    )
    .fetch_all(pool)
    .await
}

/// Follows a repository reachable through an installation attached to the
/// project; `false` when it is not.
pub async fn follow(pool: &PgPool, project_id: i64, repo_id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"INSERT INTO project_github_repos (project_id, github_repo_id, following)
           SELECT $1, r.id, true FROM github_repos r
           JOIN project_github_installations a ON a.installation_id = r.installation_id AND a.project_id = $1
           JOIN github_app_installations i ON i.id = r.installation_id AND i.lifecycle <> 'uninstalled'
           WHERE r.id = $2
           ON CONFLICT (project_id, github_repo_id) DO UPDATE SET following = true"#,
        project_id,
        repo_id
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Stops following; the row stays as history. `false` when the project never followed it.
pub async fn unfollow(pool: &PgPool, project_id: i64, repo_id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE project_github_repos SET following = false WHERE project_id = $1 AND github_repo_id = $2",
        project_id,
        repo_id
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A project of `owner_id` this installation is attached to, if any.
pub async fn project_slug_with(
    pool: &PgPool,
    installation_id: i64,
    owner_id: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT p.slug FROM projects p JOIN project_github_installations a ON a.project_id = p.id
           WHERE a.installation_id = $1 AND p.owner_id = $2 ORDER BY a.created_at LIMIT 1"#,
        installation_id,
        owner_id
    )
    .fetch_optional(pool)
    .await
}
