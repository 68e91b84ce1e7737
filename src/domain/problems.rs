//! Why a GitHub flow stopped, as the route that redirects names it (`reason`
//! in the query) and the page that explains it reads it back.

use super::spelled;

/// Why connecting a GitHub account failed (`/auth/github/problem`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectProblem {
    Cancelled,
    /// The OAuth state was missing, expired or used already.
    State,
    AlreadyLinked,
    GitHubDown,
    Refused,
    Unavailable,
}

spelled!(ConnectProblem {
    Cancelled = "cancelled",
    State = "state",
    AlreadyLinked = "already_linked",
    GitHubDown = "github_down",
    Refused = "refused",
    Unavailable = "unavailable",
});

/// Why an install, or the setup redirect after it, linked nothing
/// (`/integrations/github/problem`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallProblem {
    /// An organization owner was asked to approve it.
    Request,
    MissingInstallation,
    State,
    NotYours,
    NotOwner,
    NotConnected,
    GitHubDown,
    NotFound,
    Unavailable,
}

spelled!(InstallProblem {
    Request = "request",
    MissingInstallation = "missing_installation",
    State = "state",
    NotYours = "not_yours",
    NotOwner = "not_owner",
    NotConnected = "not_connected",
    GitHubDown = "github_down",
    NotFound = "not_found",
    Unavailable = "unavailable",
});
