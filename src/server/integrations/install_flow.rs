//! Installing the App from a project: a pending installation and a signed
//! `state` on the way out to GitHub; on the way back (the setup URL) the state
//! is verified, the `installation_id` confirmed with the person's own token
//! through `GET /user/installations` (the query alone can be forged), and the
//! person must be one who may link it (`authority`).

use super::{
    authority::{self, Authority, AuthorityError, Target},
    queries::{follows, installations},
    service, sync, IntegrationError,
};
use crate::{
    domain::{
        accounts::User,
        integrations::{InstallOrigin, InstallationState},
        problems::InstallProblem,
    },
    server::{github::events::GitHubInstallation, projects, state::AppState},
};

/// How long an install link stays good (choosing repositories can take a while).
const STATE_LIFETIME_SECS: i64 = 24 * 3600;

/// What the signed `state` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstallState {
    pub user_id: i64,
    pub project_id: i64,
    pub pending_id: i64,
    pub expires_at: i64,
}

impl InstallState {
    pub fn encode(&self, state: &AppState) -> String {
        state.cipher.sign(&format!("{}.{}.{}.{}", self.user_id, self.project_id, self.pending_id, self.expires_at))
    }

    /// The state, if its signature holds and it has not expired.
    pub fn decode(state: &AppState, text: &str) -> Option<Self> {
        let message = state.cipher.verify(text)?;
        let mut parts = message.split('.').map(str::parse::<i64>);
        let mut next = || parts.next()?.ok();
        let decoded = Self { user_id: next()?, project_id: next()?, pending_id: next()?, expires_at: next()? };
        (decoded.expires_at > chrono::Utc::now().timestamp()).then_some(decoded)
    }
}

/// Records a pending install for the project (replacing the person's previous
/// one) and returns where to send the browser on GitHub.
pub async fn begin(state: &AppState, user: &User, slug: &str) -> Result<String, IntegrationError> {
    let project = service::owned_project(&state.pool, user.id, slug).await?;
    if user.github.as_ref().is_none_or(|g| g.reconnect_needed) {
        return Err(IntegrationError::NotConnected);
    }
    let pending_id = installations::replace_pending(&state.pool, user.id, project.id).await?;
    let signed = InstallState {
        user_id: user.id,
        project_id: project.id,
        pending_id,
        expires_at: chrono::Utc::now().timestamp() + STATE_LIFETIME_SECS,
    }
    .encode(state);
    let config = state.github.config();
    let mut url = url::Url::parse(&format!("{}/apps/{}/installations/new", config.web_url, config.app_slug))
        .map_err(|e| IntegrationError::Invalid(e.to_string()))?;
    url.query_pairs_mut().append_pair("state", &signed);
    tracing::info!(user_id = user.id, project = %project.slug, pending_id, "install started");
    Ok(url.into())
}

/// Why a setup redirect linked nothing; each gets its own page.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("an organization owner must approve the installation")]
    ApprovalRequested,
    #[error("GitHub sent no installation")]
    MissingInstallation,
    #[error("the install link is invalid, expired or someone else's")]
    BadState,
    #[error("GitHub does not show this installation to you")]
    NotYours,
    /// Not theirs to link, not connected, or GitHub not answering.
    #[error(transparent)]
    Authority(#[from] AuthorityError),
}

impl SetupError {
    /// The reason the problem page words out.
    pub fn reason(&self) -> InstallProblem {
        match self {
            Self::ApprovalRequested => InstallProblem::Request,
            Self::MissingInstallation => InstallProblem::MissingInstallation,
            Self::BadState => InstallProblem::State,
            Self::NotYours => InstallProblem::NotYours,
            Self::Authority(AuthorityError::NotAnOwner(_)) => InstallProblem::NotOwner,
            Self::Authority(AuthorityError::NotConnected) => InstallProblem::NotConnected,
            Self::Authority(AuthorityError::GitHubDown(_)) => InstallProblem::GitHubDown,
            Self::Authority(AuthorityError::Failed(_)) => InstallProblem::Unavailable,
        }
    }
}

impl From<sqlx::Error> for SetupError {
    fn from(error: sqlx::Error) -> Self {
        Self::Authority(AuthorityError::Failed(error.to_string()))
    }
}

/// What GitHub's redirect to the setup URL carries.
#[derive(Debug, Default, serde::Deserialize)]
pub struct SetupQuery {
    pub installation_id: Option<String>,
    pub setup_action: Option<String>,
    pub state: Option<String>,
}

/// Handles the return from GitHub; `Ok` is the path to send the person to.
/// Nothing changes unless the installation is confirmed as theirs.
pub async fn complete(state: &AppState, user: &User, query: &SetupQuery) -> Result<String, SetupError> {
    let signed = match query.state.as_deref().filter(|s| !s.is_empty()) {
        Some(text) => {
            let decoded = InstallState::decode(state, text).filter(|s| s.user_id == user.id);
            Some(decoded.ok_or(SetupError::BadState)?)
        }
        None => None,
    };
    if query.setup_action.as_deref() == Some("request") {
        return Err(SetupError::ApprovalRequested);
    }
    let github_id = query
        .installation_id
        .as_deref()
        .and_then(|id| id.trim().parse::<i64>().ok())
        .ok_or(SetupError::MissingInstallation)?;
    let (installation, token) = confirm(state, user, github_id).await?;
    let authority = authorize(state, user, &installation, &token).await?;

    let mut tx = state.pool.begin().await?;
    installations::lock_github_installation(&mut tx, github_id).await?;
    let project_id = match signed {
        Some(signed) => {
            installations::delete_pending(&mut tx, signed.pending_id, user.id).await?;
            Some(signed.project_id)
        }
        None => None,
    };
    let (origin, initial) = if signed.is_some() {
        (InstallOrigin::App, InstallationState::InitiatedOnApp)
    } else {
        (InstallOrigin::Github, InstallationState::InitiatedOnGithub)
    };
    let id = installations::upsert_by_github_id(&mut tx, github_id, origin, initial, Some(user.id), project_id, None)
        .await?;
    installations::set_account(&mut *tx, id, &sync::account_fields(&installation)).await?;
    if let Some(project_id) = project_id {
        follows::attach(&mut *tx, project_id, id).await?;
        installations::mark_linked(&mut *tx, id, user.id).await?;
    }
    tx.commit().await?;
    tracing::info!(
        user_id = user.id,
        installation = github_id,
        ?project_id,
        ?authority,
        "installation linked from the setup URL"
    );

    // Back to the project it was installed for, or one it belongs to; an
    // install made on GitHub lands where it is offered ("Add to this project").
    let slug = match project_id {
        Some(project_id) => projects::slug_of_owned(&state.pool, project_id, user.id).await?,
        None => match follows::project_slug_with(&state.pool, id, user.id).await? {
            Some(slug) => Some(slug),
            None => projects::latest_owned_slug(&state.pool, user.id).await?,
        },
    };
    Ok(match slug {
        Some(slug) => format!("/projects/{slug}/integrations"),
        None => "/projects/new".to_owned(),
    })
}

/// The installation, if GitHub lists it among those the person can see, and
/// their token (to ask GitHub more).
async fn confirm(state: &AppState, user: &User, github_id: i64) -> Result<(GitHubInstallation, String), SetupError> {
    let token = authority::user_token(state, user).await?;
    let visible = state.github.user_installations(&token).await.map_err(|error| {
        SetupError::Authority(if error.is_transient() {
            AuthorityError::GitHubDown(error.to_string())
        } else {
            AuthorityError::NotConnected
        })
    })?;
    let installation = visible.into_iter().find(|i| i.id == github_id).ok_or_else(|| {
        tracing::warn!(
            user_id = user.id,
            installation = github_id,
            "setup URL named an installation the user cannot see"
        );
        SetupError::NotYours
    })?;
    Ok((installation, token))
}

/// Refuses unless the person may link it: GitHub's word on its account, and
/// who installed it if its webhook came already.
async fn authorize(
    state: &AppState,
    user: &User,
    installation: &GitHubInstallation,
    token: &str,
) -> Result<Authority, SetupError> {
    let row = installations::by_github_id(&state.pool, installation.id).await?;
    let account = installation.account.as_ref();
    let target = Target {
        account_github_id: account.map(|a| a.id),
        account_login: account.map(|a| a.login.as_str()),
        account_type: account.map(|a| a.kind.as_str()),
        ..row.as_ref().map(installations::InstallationRow::target).unwrap_or_default()
    };
    Ok(authority::authority(state, user, &target, Some(token)).await?)
}
