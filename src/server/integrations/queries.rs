//! The integrations domain's SQL: installations, their repositories, and the
//! projects that follow them.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor, PgPool};

use super::authority::Target;
use crate::domain::integrations::{InstallationState, Lifecycle};

/// An installation as the handlers and the setup flow need it.
#[derive(Debug, Clone)]
pub struct InstallationRow {
    pub id: i64,
    pub originating_project_id: Option<i64>,
    pub state: String,
    pub lifecycle: String,
    /// Whether some project has it attached.
    pub attached: bool,
    pub account_github_id: Option<i64>,
    pub account_login: Option<String>,
    pub account_type: Option<String>,
    pub sender_github_id: Option<i64>,
    pub requester_github_id: Option<i64>,
}

impl InstallationRow {
    /// What deciding who may link it needs.
    pub fn target(&self) -> Target<'_> {
        Target {
            account_github_id: self.account_github_id,
            account_login: self.account_login.as_deref(),
            account_type: self.account_type.as_deref(),
            sender_github_id: self.sender_github_id,
            requester_github_id: self.requester_github_id,
        }
    }
}

/// The account an installation is on, as GitHub reports it.
#[derive(Debug, Clone, Default)]
pub struct AccountFields {
    pub github_id: Option<i64>,
    pub login: Option<String>,
    pub kind: Option<String>,
    pub avatar_url: Option<String>,
    pub repository_selection: Option<String>,
}

/// Serializes everything done to one GitHub installation (webhook handlers on
/// any instance, the setup redirect) until the transaction ends.
pub async fn lock_github_installation(conn: &mut PgConnection, github_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended('installation:' || $1::text, 0))",
        github_id.to_string()
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn by_github_id(conn: impl PgExecutor<'_>, github_id: i64) -> Result<Option<InstallationRow>, sqlx::Error> {
    sqlx::query_as!(
        InstallationRow,
        r#"SELECT i.id, i.originating_project_id, i.state, i.lifecycle,
                  EXISTS (SELECT 1 FROM project_github_installations p WHERE p.installation_id = i.id) AS "attached!",
                  i.account_github_id, i.account_login, i.account_type, i.sender_github_id, i.requester_github_id
           FROM github_app_installations i WHERE i.github_id = $1"#,
        github_id
    )
    .fetch_optional(conn)
    .await
}

pub async fn by_id(conn: impl PgExecutor<'_>, id: i64) -> Result<Option<InstallationRow>, sqlx::Error> {
    sqlx::query_as!(
        InstallationRow,
        r#"SELECT i.id, i.originating_project_id, i.state, i.lifecycle,
                  EXISTS (SELECT 1 FROM project_github_installations p WHERE p.installation_id = i.id) AS "attached!",
                  i.account_github_id, i.account_login, i.account_type, i.sender_github_id, i.requester_github_id
           FROM github_app_installations i WHERE i.id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await
}

/// Replaces the person's pending install (if any) with a new one for `project_id`.
pub async fn replace_pending(pool: &PgPool, user_id: i64, project_id: i64) -> Result<i64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "DELETE FROM github_app_installations WHERE user_id = $1 AND state = 'initiated_on_app' AND github_id IS NULL",
        user_id
    )
    .execute(&mut *tx)
    .await?;
    let id = sqlx::query_scalar!(
        r#"INSERT INTO github_app_installations (user_id, originating_project_id, origin, state)
           VALUES ($1, $2, 'app', 'initiated_on_app') RETURNING id"#,
        user_id,
        project_id
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The pending install of the forgelink user linked to this GitHub account, locked.
pub async fn pending_of_github_user(conn: &mut PgConnection, github_user_id: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT i.id FROM github_app_installations i JOIN users u ON u.id = i.user_id
           WHERE u.github_id = $1 AND i.state = 'initiated_on_app' AND i.github_id IS NULL
             AND i.created_at > now() - interval '24 hours' -- as long as its signed state lives
           FOR UPDATE OF i"#,
        github_user_id
    )
    .fetch_optional(conn)
    .await
}

/// Removes a pending install the setup redirect consumed (its row is replaced
/// by the one keyed on GitHub's id).
pub async fn delete_pending(conn: &mut PgConnection, id: i64, user_id: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"DELETE FROM github_app_installations
           WHERE id = $1 AND user_id = $2 AND state = 'initiated_on_app' AND github_id IS NULL
           RETURNING originating_project_id"#,
        id,
        user_id
    )
    .fetch_optional(conn)
    .await
    .map(Option::flatten)
}

pub async fn user_id_by_github_id(conn: impl PgExecutor<'_>, github_user_id: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!("SELECT id FROM users WHERE github_id = $1", github_user_id).fetch_optional(conn).await
}

/// Gives a pending install GitHub's id.
pub async fn assign_github_id(conn: &mut PgConnection, id: i64, github_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE github_app_installations SET github_id = $2 WHERE id = $1", id, github_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Inserts the installation keyed on GitHub's id, or completes the row that
/// exists: a person or project already recorded is kept.
#[allow(clippy::too_many_arguments)]
pub async fn upsert_by_github_id(
    conn: &mut PgConnection,
    github_id: i64,
    origin: &str,
    state: InstallationState,
    user_id: Option<i64>,
    project_id: Option<i64>,
    sender_github_id: Option<i64>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"INSERT INTO github_app_installations
               (github_id, origin, state, user_id, originating_project_id, sender_github_id)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (github_id) DO UPDATE SET
               user_id = COALESCE(github_app_installations.user_id, EXCLUDED.user_id),
               originating_project_id = COALESCE(github_app_installations.originating_project_id, EXCLUDED.originating_project_id),
               sender_github_id = COALESCE(github_app_installations.sender_github_id, EXCLUDED.sender_github_id),
               state = CASE WHEN github_app_installations.state = 'unmatched_user' AND EXCLUDED.user_id IS NOT NULL
                            THEN 'initiated_on_github' ELSE github_app_installations.state END
           RETURNING id"#,
        github_id,
        origin,
        state.as_str(),
        user_id,
        project_id,
        sender_github_id
    )
    .fetch_one(conn)
    .await
}

pub async fn set_account(conn: impl PgExecutor<'_>, id: i64, account: &AccountFields) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"UPDATE github_app_installations SET
               account_github_id = COALESCE($2, account_github_id),
               account_login = COALESCE($3, account_login),
               account_type = COALESCE($4, account_type),
               account_avatar_url = COALESCE($5, account_avatar_url),
               repository_selection = COALESCE($6, repository_selection)
           WHERE id = $1"#,
        id,
        account.github_id,
        account.login,
        account.kind,
        account.avatar_url,
        account.repository_selection,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records who installed it (and who asked an owner to, if anyone did).
pub async fn set_installer(
    conn: impl PgExecutor<'_>,
    id: i64,
    sender_github_id: i64,
    requester_github_id: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE github_app_installations SET sender_github_id = $2, requester_github_id = $3 WHERE id = $1",
        id,
        sender_github_id,
        requester_github_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_state(conn: impl PgExecutor<'_>, id: i64, state: InstallationState) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE github_app_installations SET state = $2 WHERE id = $1", id, state.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Applies a lifecycle change unless a newer one (by GitHub's timestamp) was applied already.
pub async fn set_lifecycle(
    conn: impl PgExecutor<'_>,
    id: i64,
    lifecycle: Lifecycle,
    at: Option<DateTime<Utc>>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"UPDATE github_app_installations SET lifecycle = $2, lifecycle_at = COALESCE(to_timestamp($3), lifecycle_at)
           WHERE id = $1 AND ($3::float8 IS NULL OR lifecycle_at IS NULL OR lifecycle_at <= to_timestamp($3))"#,
        id,
        lifecycle.as_str(),
        at.map(|t| t.timestamp_micros() as f64 / 1e6)
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

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

/// Once attached, an installation whose repositories are listed is `processed`;
/// one whose listing has not finished is `processing`.
/// The person attaching it becomes its user if it had none.
pub async fn mark_linked(conn: impl PgExecutor<'_>, id: i64, user_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"UPDATE github_app_installations
           SET user_id = COALESCE(user_id, $2),
               state = CASE WHEN state NOT IN ('initiated_on_github', 'unmatched_user') THEN state
                            WHEN repos_synced_at IS NOT NULL THEN 'processed' ELSE 'processing' END
           WHERE id = $1"#,
        id,
        user_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Installations started on GitHub by this GitHub user before they connected:
/// theirs now.
pub async fn claim_unmatched(pool: &PgPool, user_id: i64, github_user_id: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        r#"UPDATE github_app_installations SET user_id = $1, state = 'initiated_on_github'
           WHERE state = 'unmatched_user' AND user_id IS NULL AND sender_github_id = $2"#,
        user_id,
        github_user_id
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

// --- repository listing -------------------------------------------------------------------

pub async fn begin_listing(pool: &PgPool, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE github_app_installations SET repos_listed = 0, repos_total = NULL, sync_error = NULL WHERE id = $1",
        id
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn listing_progress(pool: &PgPool, id: i64, listed: i32, total: i32) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE github_app_installations SET repos_listed = $2, repos_total = $3 WHERE id = $1",
        id,
        listed,
        total
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn listing_failed(pool: &PgPool, id: i64, error: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE github_app_installations SET sync_error = $2 WHERE id = $1", id, error).execute(pool).await?;
    Ok(())
}

/// Ends a full listing: repositories not seen left the installation; an
/// attached installation is now `processed`.
pub async fn finish_listing(pool: &PgPool, id: i64, seen_github_ids: &[i64]) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "UPDATE github_repos SET installation_id = NULL WHERE installation_id = $1 AND github_id <> ALL($2)",
        id,
        seen_github_ids
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        r#"UPDATE github_app_installations SET repos_synced_at = now(), sync_error = NULL,
               state = CASE WHEN state IN ('processing', 'initiated_on_app')
                             OR EXISTS (SELECT 1 FROM project_github_installations p WHERE p.installation_id = $1)
                            THEN 'processed' ELSE state END
           WHERE id = $1"#,
        id
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

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

/// The account was renamed: its login, and the full names of its repositories.
pub async fn rename_account(
    conn: &mut PgConnection,
    id: i64,
    login: &str,
    avatar_url: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"UPDATE github_app_installations SET account_login = $2,
               account_avatar_url = COALESCE(NULLIF($3, ''), account_avatar_url)
           WHERE id = $1"#,
        id,
        login,
        avatar_url
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE github_repos SET owner_login = $2, full_name = $2 || '/' || name WHERE installation_id = $1",
        id,
        login
    )
    .execute(&mut *conn)
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

// --- what the integrations tab and the JSON API read -----------------------------------

/// An installation as people see it.
#[derive(Debug, Clone)]
pub struct InstallationSummary {
    pub id: i64,
    pub github_id: Option<i64>,
    pub user_id: Option<i64>,
    pub account_login: Option<String>,
    pub account_type: Option<String>,
    pub account_avatar_url: Option<String>,
    pub origin: String,
    pub state: String,
    pub lifecycle: String,
    pub repository_selection: Option<String>,
    pub repos_listed: i32,
    pub repos_total: Option<i32>,
    pub sync_error: Option<String>,
    pub repo_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Installations attached to the project, oldest first.
pub async fn attached_to_project(pool: &PgPool, project_id: i64) -> Result<Vec<InstallationSummary>, sqlx::Error> {
    sqlx::query_as!(
        InstallationSummary,
        r#"SELECT i.id, i.github_id, i.user_id, i.account_login, i.account_type, i.account_avatar_url, i.origin,
                  i.state, i.lifecycle, i.repository_selection, i.repos_listed, i.repos_total, i.sync_error,
                  (SELECT count(*) FROM github_repos r WHERE r.installation_id = i.id) AS "repo_count!",
                  i.created_at AS "created_at: DateTime<Utc>", i.updated_at AS "updated_at: DateTime<Utc>"
           FROM github_app_installations i
           JOIN project_github_installations p ON p.installation_id = i.id AND p.project_id = $1
           ORDER BY p.created_at, i.id"#,
        project_id
    )
    .fetch_all(pool)
    .await
}

/// Installations a person may attach to their projects: started by them,
/// installed by their GitHub account, or on it. `exclude_project` leaves out
/// those already attached to that project.
pub async fn visible_to_user(
    pool: &PgPool,
    user_id: i64,
    github_user_id: Option<i64>,
    exclude_project: Option<i64>,
) -> Result<Vec<InstallationSummary>, sqlx::Error> {
    sqlx::query_as!(
        InstallationSummary,
        r#"SELECT i.id, i.github_id, i.user_id, i.account_login, i.account_type, i.account_avatar_url, i.origin,
                  i.state, i.lifecycle, i.repository_selection, i.repos_listed, i.repos_total, i.sync_error,
                  (SELECT count(*) FROM github_repos r WHERE r.installation_id = i.id) AS "repo_count!",
                  i.created_at AS "created_at: DateTime<Utc>", i.updated_at AS "updated_at: DateTime<Utc>"
           FROM github_app_installations i
           WHERE i.github_id IS NOT NULL
             AND (i.user_id = $1 OR (i.user_id IS NULL AND $2::int8 IS NOT NULL
                                     AND (i.sender_github_id = $2 OR i.account_github_id = $2)))
             AND NOT EXISTS (SELECT 1 FROM project_github_installations p
                             WHERE p.installation_id = i.id AND p.project_id = $3)
           ORDER BY i.created_at, i.id"#,
        user_id,
        github_user_id,
        exclude_project
    )
    .fetch_all(pool)
    .await
}

/// The project of the person's install started here and not yet heard of from GitHub.
pub async fn pending_project_of_user(pool: &PgPool, user_id: i64) -> Result<Option<i64>, sqlx::Error> {
    let project = sqlx::query_scalar!(
        r#"SELECT originating_project_id FROM github_app_installations
           WHERE user_id = $1 AND state = 'initiated_on_app' AND github_id IS NULL
             AND created_at > now() - interval '24 hours'"#,
        user_id
    )
    .fetch_optional(pool)
    .await?;
    Ok(project.flatten())
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
    pub installation_lifecycle: Option<String>,
    pub deleted: bool,
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
                  r.installation_id, i.lifecycle AS "installation_lifecycle?", r.deleted_at IS NOT NULL AS "deleted!"
           FROM github_repos r
           JOIN github_app_installations i ON i.id = r.installation_id
           LEFT JOIN project_github_repos f ON f.github_repo_id = r.id AND f.project_id = $1
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
                  a.installation_id AS "installation_id?", i.lifecycle AS "installation_lifecycle?",
                  r.deleted_at IS NOT NULL AS "deleted!"
           FROM project_github_repos f
           JOIN github_repos r ON r.id = f.github_repo_id
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

/// Installations of a user, for the JSON API (`user_id` is theirs or they started it).
pub async fn of_user(pool: &PgPool, user_id: i64) -> Result<Vec<InstallationSummary>, sqlx::Error> {
    sqlx::query_as!(
        InstallationSummary,
        r#"SELECT i.id, i.github_id, i.user_id, i.account_login, i.account_type, i.account_avatar_url, i.origin,
                  i.state, i.lifecycle, i.repository_selection, i.repos_listed, i.repos_total, i.sync_error,
                  (SELECT count(*) FROM github_repos r WHERE r.installation_id = i.id) AS "repo_count!",
                  i.created_at AS "created_at: DateTime<Utc>", i.updated_at AS "updated_at: DateTime<Utc>"
           FROM github_app_installations i WHERE i.user_id = $1
           ORDER BY i.created_at, i.id"#,
        user_id
    )
    .fetch_all(pool)
    .await
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
