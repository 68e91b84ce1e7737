//! `github_app_installations`: installations of the App, from the install
//! started here (or on GitHub) through linking, listing and their lifecycle.
//! Long because it is every statement on one table, kept together on purpose.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor, PgPool};

use crate::{
    domain::integrations::{InstallOrigin, InstallationState, Lifecycle, RepositorySelection},
    server::integrations::authority::Target,
};

/// An installation as the handlers and the setup flow need it.
#[derive(Debug, Clone)]
pub struct InstallationRow {
    pub id: i64,
    pub originating_project_id: Option<i64>,
    pub state: InstallationState,
    pub lifecycle: Lifecycle,
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
    pub repository_selection: Option<RepositorySelection>,
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
        r#"SELECT i.id, i.originating_project_id, i.state AS "state: InstallationState", i.lifecycle AS "lifecycle: Lifecycle",
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
        r#"SELECT i.id, i.originating_project_id, i.state AS "state: InstallationState", i.lifecycle AS "lifecycle: Lifecycle",
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
    origin: InstallOrigin,
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
        origin.as_str(),
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
        account.repository_selection.map(RepositorySelection::as_str),
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
        r#"UPDATE github_app_installations SET lifecycle = $2, lifecycle_at = COALESCE($3, lifecycle_at)
           WHERE id = $1 AND ($3::timestamptz IS NULL OR lifecycle_at IS NULL OR lifecycle_at <= $3)"#,
        id,
        lifecycle.as_str(),
        at as _ // chrono's; with time's feature on (tower-sessions), the macro expects time's
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
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

/// An installation as people see it.
#[derive(Debug, Clone)]
pub struct InstallationSummary {
    pub id: i64,
    pub github_id: Option<i64>,
    pub user_id: Option<i64>,
    pub account_login: Option<String>,
    pub account_type: Option<String>,
    pub account_avatar_url: Option<String>,
    pub origin: InstallOrigin,
    pub state: InstallationState,
    pub lifecycle: Lifecycle,
    pub repository_selection: Option<RepositorySelection>,
    pub repos_listed: i32,
    pub repos_total: Option<i32>,
    pub sync_error: Option<String>,
    pub repo_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which installations `summaries` lists.
#[derive(Debug, Clone, Copy)]
pub enum Listing {
    /// Attached to the project, in the order they were attached.
    AttachedTo { project_id: i64 },
    /// Those a person may attach to their projects: started by them, installed
    /// by their GitHub account, or on it; less those attached to `except_project`.
    AttachableBy { user_id: i64, github_user_id: Option<i64>, except_project: Option<i64> },
    /// Started by or linked to a user (the JSON API).
    OfUser { user_id: i64 },
}

/// The installations `listing` names, as people see them, oldest first.
pub async fn summaries(pool: &PgPool, listing: Listing) -> Result<Vec<InstallationSummary>, sqlx::Error> {
    let (attached_to, attachable_by, github_user_id, except_project, of_user) = match listing {
        Listing::AttachedTo { project_id } => (Some(project_id), None, None, None, None),
        Listing::AttachableBy { user_id, github_user_id, except_project } => {
            (None, Some(user_id), github_user_id, except_project, None)
        }
        Listing::OfUser { user_id } => (None, None, None, None, Some(user_id)),
    };
    sqlx::query_as!(
        InstallationSummary,
        r#"SELECT i.id, i.github_id, i.user_id, i.account_login, i.account_type, i.account_avatar_url,
                  i.origin AS "origin: InstallOrigin", i.state AS "state: InstallationState",
                  i.lifecycle AS "lifecycle: Lifecycle",
                  i.repository_selection AS "repository_selection: RepositorySelection", i.repos_listed, i.repos_total,
                  i.sync_error, (SELECT count(*) FROM github_repos r WHERE r.installation_id = i.id) AS "repo_count!",
                  i.created_at AS "created_at: DateTime<Utc>", i.updated_at AS "updated_at: DateTime<Utc>"
           FROM github_app_installations i
           LEFT JOIN project_github_installations a ON a.installation_id = i.id AND a.project_id = $1
           WHERE ($1::int8 IS NULL OR a.project_id IS NOT NULL)
             AND ($2::int8 IS NULL
                  OR (i.github_id IS NOT NULL
                      AND (i.user_id = $2 OR (i.user_id IS NULL AND $3::int8 IS NOT NULL
                                              AND (i.sender_github_id = $3 OR i.account_github_id = $3)))
                      AND NOT EXISTS (SELECT 1 FROM project_github_installations p
                                      WHERE p.installation_id = i.id AND p.project_id = $4)))
             AND ($5::int8 IS NULL OR i.user_id = $5)
           ORDER BY a.created_at, i.created_at, i.id"#,
        attached_to,
        attachable_by,
        github_user_id,
        except_project,
        of_user
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
