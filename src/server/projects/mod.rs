//! Projects and who owns them. Anyone may see a project; only its owner sees
//! and changes its integrations.

mod queries;

use sqlx::PgPool;

pub use crate::domain::projects::{Project, ProjectPage, PROJECTS_PER_PAGE};

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("{0}")]
    Invalid(String),
    #[error("The address /projects/{0} is taken. Choose another.")]
    SlugTaken(String),
    #[error("the database failed: {0}")]
    Database(#[from] sqlx::Error),
}

const MAX_SLUG: usize = 60;

/// A URL-safe name: lower-case letters and digits in words joined by hyphens.
pub fn slugify(text: &str) -> String {
    let mut slug = String::new();
    for c in text.trim().to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.truncate(MAX_SLUG);
    slug.trim_end_matches('-').to_owned()
}

/// Creates a project owned by `owner_id`. An empty `slug` is derived from the name.
pub async fn create(
    pool: &PgPool,
    owner_id: i64,
    name: &str,
    slug: &str,
    description: &str,
) -> Result<Project, ProjectError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ProjectError::Invalid("Give the project a name (up to 100 characters).".into()));
    }
    let slug = if slug.trim().is_empty() { slugify(name) } else { slug.trim().to_owned() };
    if slug.is_empty() || slug.len() > MAX_SLUG || slugify(&slug) != slug {
        return Err(ProjectError::Invalid(
            "The address may use lower-case letters, digits and single hyphens (up to 60).".into(),
        ));
    }
    let description = description.trim();
    if description.chars().count() > 2000 {
        return Err(ProjectError::Invalid("Keep the description under 2,000 characters.".into()));
    }
    match queries::insert(pool, owner_id, name, &slug, description).await {
        Ok(project) => Ok(project),
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Err(ProjectError::SlugTaken(slug)),
        Err(error) => Err(error.into()),
    }
}

/// A page (from 1) of projects, the viewer's own first. A page past the end,
/// however far, is empty.
pub async fn list(pool: &PgPool, viewer: Option<i64>, page: i64) -> Result<ProjectPage, sqlx::Error> {
    let page = page.max(1);
    let offset = (page - 1).saturating_mul(PROJECTS_PER_PAGE);
    let mut projects = queries::list(pool, viewer, PROJECTS_PER_PAGE + 1, offset).await?;
    let has_more = projects.len() as i64 > PROJECTS_PER_PAGE;
    projects.truncate(PROJECTS_PER_PAGE as usize);
    Ok(ProjectPage { projects, page, has_more })
}

pub async fn by_slug(pool: &PgPool, slug: &str, viewer: Option<i64>) -> Result<Option<Project>, sqlx::Error> {
    queries::by_slug(pool, slug, viewer).await
}

/// The slug of the project `owner_id` created last, if any.
pub async fn latest_owned_slug(pool: &PgPool, owner_id: i64) -> Result<Option<String>, sqlx::Error> {
    queries::latest_owned_slug(pool, owner_id).await
}

/// The slug of a project `owner_id` owns.
pub async fn slug_of_owned(pool: &PgPool, id: i64, owner_id: i64) -> Result<Option<String>, sqlx::Error> {
    queries::slug_of_owned(pool, id, owner_id).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs_are_lower_case_words_joined_by_hyphens() {
        assert_eq!(super::slugify("  My Great Project! "), "my-great-project");
        assert_eq!(super::slugify("Ünïcode & co"), "n-code-co");
        assert_eq!(super::slugify("---"), "");
    }
}
