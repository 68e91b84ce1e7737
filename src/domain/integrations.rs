//! GitHub installations, their repositories and the projects' follows: their
//! states, and what the integrations tab shows of them.

use serde::{Deserialize, Serialize};

use super::{accounts::GitHubIdentity, projects::Project, spelled, tasks::ImportStatus};

/// Repositories shown per page of an installation.
pub const REPOS_PER_PAGE: i64 = 50;

/// How far linking an installation to a person and a project got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstallationState {
    /// The owner clicked Install here; GitHub has not confirmed yet.
    InitiatedOnApp,
    /// Installed on GitHub by a forgelink user, not yet added to a project.
    InitiatedOnGithub,
    /// Installed on GitHub by someone who has not connected a forgelink account.
    UnmatchedUser,
    /// Linked; repositories being listed.
    Processing,
    /// Linked, repositories listed.
    Processed,
}

/// Where the installation stands on GitHub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    Installed,
    Suspended,
    Uninstalled,
}

/// Where a repository stands for a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    /// Followed and reachable: its updates arrive.
    Receiving,
    NotFollowed,
    /// Its installation is suspended on GitHub.
    Paused,
    /// No installation of the project reaches it any more (removed, deleted, uninstalled).
    Unavailable,
}

spelled!(stored InstallationState {
    InitiatedOnApp = "initiated_on_app",
    InitiatedOnGithub = "initiated_on_github",
    UnmatchedUser = "unmatched_user",
    Processing = "processing",
    Processed = "processed",
});
spelled!(stored Lifecycle { Installed = "installed", Suspended = "suspended", Uninstalled = "uninstalled" });

/// Which of the account's repositories an installation reaches, as chosen on GitHub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepositorySelection {
    All,
    Selected,
}

spelled!(stored RepositorySelection { All = "all", Selected = "selected" });

/// Where an installation began: Install clicked in forgelink, or on GitHub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstallOrigin {
    App,
    Github,
}

spelled!(stored InstallOrigin { App = "app", Github = "github" });

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallationOverview {
    pub id: i64,
    pub github_id: Option<i64>,
    pub account_login: Option<String>,
    /// `User` or `Organization`.
    pub account_type: Option<String>,
    pub account_avatar_url: Option<String>,
    pub state: InstallationState,
    pub lifecycle: Lifecycle,
    pub repository_selection: Option<RepositorySelection>,
    pub repos_listed: i32,
    pub repos_total: Option<i32>,
    pub sync_error: Option<String>,
    pub repo_count: i64,
    /// The installation's settings page on GitHub (repositories, suspend, uninstall).
    pub configure_url: Option<String>,
    /// The page of its repositories the tab shows (none once uninstalled).
    pub repos: Option<RepoPage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repo {
    pub id: i64,
    pub github_id: i64,
    pub full_name: String,
    pub private: bool,
    pub archived: bool,
    pub following: bool,
    pub sync_status: SyncStatus,
    /// Its import from GitHub, when followed.
    pub import: Option<ImportStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoPage {
    /// The filter applied (by name).
    pub filter: String,
    pub repos: Vec<Repo>,
    /// Repositories matching the filter.
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Everything the integrations tab shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Integrations {
    pub project: Project,
    pub github: Option<GitHubIdentity>,
    /// An install started from this project that GitHub has not confirmed yet.
    pub install_pending: bool,
    pub installations: Vec<InstallationOverview>,
    /// The owner's installations not attached to this project.
    pub offered: Vec<InstallationOverview>,
    /// Followed repositories no installation of this project reaches any more.
    pub unavailable: Vec<Repo>,
}

/// Which page of which installation's repositories to show, and filtered how
/// (the others show their first page, unfiltered).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoBrowse {
    pub installation: Option<i64>,
    pub filter: String,
    pub page: i64,
}
