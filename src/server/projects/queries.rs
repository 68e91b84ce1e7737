//! The projects domain's SQL.

use sqlx::PgPool;

use super::Project;

pub async fn insert(
    pool: &PgPool,
    owner_id: i64,
    name: &str,
    slug: &str,
    description: &str,
) -> Result<Project, sqlx::Error> {
    sqlx::query_as!(
        Project,
        r#"WITH inserted AS (
               INSERT INTO projects (owner_id, name, slug, description) VALUES ($1, $2, $3, $4)
               RETURNING id, slug, name, description, owner_id)
           SELECT i.id, i.slug, i.name, i.description, u.display_name AS owner_name, true AS "is_owner!"
           FROM inserted i JOIN users u ON u.id = i.owner_id"#,
        owner_id,
        name,
        slug,
        description,
    )
    .fetch_one(pool)
    .await
}

pub async fn list(pool: &PgPool, viewer: Option<i64>, limit: i64, offset: i64) -> Result<Vec<Project>, sqlx::Error> {
    sqlx::query_as!(
        Project,
        r#"SELECT p.id, p.slug, p.name, p.description, u.display_name AS owner_name,
                  (p.owner_id = $1) IS TRUE AS "is_owner!"
           FROM projects p JOIN users u ON u.id = p.owner_id
           ORDER BY (p.owner_id = $1) IS TRUE DESC, p.created_at DESC, p.id DESC
           LIMIT $2 OFFSET $3"#,
        viewer,
        limit,
        offset,
    )
    .fetch_all(pool)
    .await
}

pub async fn by_slug(pool: &PgPool, slug: &str, viewer: Option<i64>) -> Result<Option<Project>, sqlx::Error> {
    sqlx::query_as!(
        Project,
        r#"SELECT p.id, p.slug, p.name, p.description, u.display_name AS owner_name,
                  (p.owner_id = $2) IS TRUE AS "is_owner!"
           FROM projects p JOIN users u ON u.id = p.owner_id
           WHERE p.slug = $1"#,
        slug,
        viewer,
    )
    .fetch_optional(pool)
    .await
}

pub async fn latest_owned_slug(pool: &PgPool, owner_id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT slug FROM projects WHERE owner_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
        owner_id
    )
    .fetch_optional(pool)
    .await
}

pub async fn slug_of_owned(pool: &PgPool, id: i64, owner_id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT slug FROM projects WHERE id = $1 AND owner_id = $2", id, owner_id)
        .fetch_optional(pool)
        .await
}
