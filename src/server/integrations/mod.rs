//! Integrations: GitHub App installations, their repositories, and which
//! projects follow them. The install flow (out to GitHub and back through the
//! setup URL), the webhook handlers that keep the rows true, the repository
//! listing, and what owners see and do on the integrations tab.

pub mod authority;
pub mod install_flow;
mod queries;
pub mod routes;
pub mod service;
pub mod sync;
pub mod webhook_handlers;

use sqlx::PgPool;

use queries::installations;
pub use queries::installations::InstallationSummary;

#[derive(Debug, thiserror::Error)]
pub enum IntegrationError {
    /// No such project, or not the person's: the same answer either way.
    #[error("There is nothing here.")]
    NotFound,
    #[error("Connect your GitHub account first.")]
    NotConnected,
    /// Visible to the person on GitHub, but not theirs to link.
    #[error("Only an owner of {0} can add its installation to a project. Ask an owner of {0} to add it.")]
    NotAnOwner(String),
    #[error("GitHub did not answer. Nothing was changed; try again in a moment.")]
    GitHubDown(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the database failed: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Internal(String),
}

impl From<authority::AuthorityError> for IntegrationError {
    fn from(error: authority::AuthorityError) -> Self {
        use authority::AuthorityError as E;
        match error {
            E::NotAnOwner(login) => Self::NotAnOwner(login),
            E::NotConnected => Self::NotConnected,
            E::GitHubDown(message) => Self::GitHubDown(message),
            E::Failed(message) => Self::Internal(message),
        }
    }
}

/// Installations this GitHub user made before connecting their account: theirs now.
pub async fn claim_unmatched(pool: &PgPool, user_id: i64, github_user_id: i64) -> Result<u64, sqlx::Error> {
    installations::claim_unmatched(pool, user_id, github_user_id).await
}
