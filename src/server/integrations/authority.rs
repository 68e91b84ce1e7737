//! Who may link an installation to a project. Seeing an installation is not
//! enough: GitHub lists an organization's installation to every member who can
//! read one of its repositories. A person may link it if they installed it (the
//! `sender` of `installation.created`, or the `requester` an owner approved),
//! if it is on their own account, or if GitHub says they own the organization.

use crate::{
    domain::accounts::User,
    server::{
        accounts::github_link::{self, LinkError},
        state::AppState,
    },
};

/// What is known of an installation when deciding.
#[derive(Debug, Default, Clone, Copy)]
pub struct Target<'a> {
    pub account_github_id: Option<i64>,
    pub account_login: Option<&'a str>,
    pub account_type: Option<&'a str>,
    pub sender_github_id: Option<i64>,
    pub requester_github_id: Option<i64>,
}

/// Why the person may link it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authority {
    Installer,
    OwnAccount,
    OrganizationOwner,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthorityError {
    /// The account's login, for "ask an owner of … to add it".
    #[error("only an owner of {0} may link its installation")]
    NotAnOwner(String),
    #[error("no usable GitHub connection")]
    NotConnected,
    #[error("GitHub did not answer: {0}")]
    GitHubDown(String),
    #[error("{0}")]
    Failed(String),
}

/// The person's user access token, refreshed if need be.
pub async fn user_token(state: &AppState, user: &User) -> Result<String, AuthorityError> {
    github_link::user_access_token(&state.pool, &state.github, &state.cipher, user.id).await.map_err(
        |error| match error {
            LinkError::NotConnected | LinkError::ReconnectNeeded | LinkError::GitHubRefused(_) => {
                AuthorityError::NotConnected
            }
            LinkError::GitHubDown(e) => AuthorityError::GitHubDown(e.to_string()),
            other => AuthorityError::Failed(other.to_string()),
        },
    )
}

/// Decides, asking GitHub only when what forgelink knows does not settle it
/// (`token`: the person's user token if the caller holds one already).
pub async fn authority(
    state: &AppState,
    user: &User,
    target: &Target<'_>,
    token: Option<&str>,
) -> Result<Authority, AuthorityError> {
    let github_id = match &user.github {
        Some(github) if !github.reconnect_needed => github.id,
        _ => return Err(AuthorityError::NotConnected),
    };
    if [target.sender_github_id, target.requester_github_id].contains(&Some(github_id)) {
        return Ok(Authority::Installer);
    }
    if target.account_github_id == Some(github_id) {
        return Ok(Authority::OwnAccount);
    }
    let login = target.account_login.unwrap_or("its account");
    let refused = || AuthorityError::NotAnOwner(login.to_owned());
    if target.account_type != Some("Organization") || target.account_login.is_none() {
        return Err(refused());
    }
    let token = match token {
        Some(token) => token.to_owned(),
        None => user_token(state, user).await?,
    };
    let membership = state.github.own_membership(&token, login).await.map_err(|error| {
        if error.is_transient() {
            AuthorityError::GitHubDown(error.to_string())
        } else {
            tracing::warn!(%error, org = login, "GitHub refused the membership check");
            AuthorityError::NotConnected
        }
    })?;
    if membership.is_some_and(|m| m.is_admin()) {
        Ok(Authority::OrganizationOwner)
    } else {
        tracing::warn!(
            user_id = user.id,
            org = login,
            "refused to link an installation of an organization the person does not own"
        );
        Err(refused())
    }
}
