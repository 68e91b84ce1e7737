//! Typed webhook events: the fields forgelink acts on, parsed from GitHub's
//! payloads. Unknown fields are ignored, so GitHub adding fields breaks nothing;
//! a missing field we rely on is a parse error naming it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};

use crate::domain::integrations::RepositorySelection;

/// A time as GitHub writes it: RFC 3339 text, or epoch seconds (installations
/// in some payloads). The one reader of GitHub's times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub DateTime<Utc>);

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Text(DateTime<Utc>),
            Seconds(i64),
        }
        match Written::deserialize(deserializer)? {
            Written::Text(at) => Ok(Self(at)),
            Written::Seconds(seconds) => DateTime::from_timestamp(seconds, 0)
                .map(Self)
                .ok_or_else(|| serde::de::Error::custom(format!("{seconds} seconds is no time"))),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    pub id: i64,
    pub login: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub avatar_url: String,
}

/// A repository as installation events list it (`repositories`, `repositories_added`).
#[derive(Debug, Clone, Deserialize)]
pub struct RepositoryRef {
    pub id: i64,
    pub name: String,
    pub full_name: String,
    pub private: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Repository {
    pub id: i64,
    pub name: String,
    pub full_name: String,
    pub private: bool,
    #[serde(default)]
    pub archived: bool,
    pub owner: Account,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GitHubInstallation {
    pub id: i64,
    /// Absent for enterprise-wide installations.
    pub account: Option<Account>,
    pub repository_selection: RepositorySelection,
    pub app_id: i64,
    pub target_type: String,
    pub suspended_at: Option<Timestamp>,
    pub created_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
}

/// The `installation` reference carried by repository-level events.
#[derive(Debug, Clone, Deserialize)]
pub struct InstallationRef {
    pub id: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct InstallationEvent {
    pub action: String,
    pub installation: GitHubInstallation,
    pub repositories: Option<Vec<RepositoryRef>>,
    /// Who asked an organization owner to approve the install, when someone did.
    #[serde(default)]
    pub requester: Option<Account>,
    pub sender: Account,
}

#[derive(Debug, Clone, Deserialize)]
pub struct InstallationRepositoriesEvent {
    pub action: String,
    pub installation: GitHubInstallation,
    pub repository_selection: RepositorySelection,
    pub repositories_added: Vec<RepositoryRef>,
    pub repositories_removed: Vec<RepositoryRef>,
    pub sender: Account,
}

/// A label as issues and pull requests carry it.
#[derive(Debug, Clone, Deserialize)]
pub struct Label {
    pub name: String,
    #[serde(default)]
    pub color: String,
}

/// What an issue says of the pull request it is, when it is one.
#[derive(Debug, Clone, Deserialize)]
pub struct IssuePullRequest {
    #[serde(default)]
    pub merged_at: Option<Timestamp>,
}

/// An issue (or a pull request seen as an issue: in comments' events and the
/// issues list) as GitHub describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct Issue {
    pub id: i64,
    pub number: i64,
    pub title: String,
    pub body: Option<String>,
    /// `open` or `closed`; GitHub's own examples of `pinned` leave it out
    /// (such a payload is not the whole issue: it is read again from GitHub).
    pub state: Option<String>,
    #[serde(default)]
    pub state_reason: Option<String>,
    /// `null` for an account GitHub no longer has.
    pub user: Option<Account>,
    #[serde(default)]
    pub labels: Vec<Label>,
    #[serde(default)]
    pub assignees: Vec<Account>,
    pub html_url: String,
    #[serde(default)]
    pub comments: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    #[serde(default)]
    pub draft: Option<bool>,
    #[serde(default)]
    pub pull_request: Option<IssuePullRequest>,
}

/// Where a transferred issue went (`changes` of `issues.transferred`).
#[derive(Debug, Clone, Deserialize)]
pub struct IssueTransfer {
    pub new_issue: Issue,
    pub new_repository: Repository,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IssuesEvent {
    pub action: String,
    pub issue: Issue,
    /// Only `transferred` reads it; other actions' `changes` say what was edited.
    #[serde(default, deserialize_with = "transfer_only")]
    pub changes: Option<IssueTransfer>,
    pub repository: Repository,
    pub installation: Option<InstallationRef>,
    pub sender: Account,
}

/// `changes` as a transfer, or nothing when it is not one (an edit's changes).
fn transfer_only<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<IssueTransfer>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(deserializer)?;
    match value {
        Some(value) if value.get("new_issue").is_some() => {
            IssueTransfer::deserialize(value).map(Some).map_err(serde::de::Error::custom)
        }
        _ => Ok(None),
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct PullRequest {
    pub id: i64,
    pub number: i64,
    pub title: String,
    pub body: Option<String>,
    pub state: String,
    pub user: Option<Account>,
    #[serde(default)]
    pub labels: Vec<Label>,
    #[serde(default)]
    pub assignees: Vec<Account>,
    pub html_url: String,
    #[serde(default)]
    pub comments: i64,
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub merged: Option<bool>,
    #[serde(default)]
    pub merged_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub closed_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PullRequestEvent {
    pub action: String,
    pub pull_request: PullRequest,
    pub repository: Repository,
    pub installation: Option<InstallationRef>,
    pub sender: Account,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IssueComment {
    pub id: i64,
    pub body: String,
    pub user: Option<Account>,
    pub html_url: String,
    /// The API URL of its issue, ending in the issue's number.
    #[serde(default)]
    pub issue_url: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IssueCommentEvent {
    pub action: String,
    pub issue: Issue,
    pub comment: IssueComment,
    pub repository: Repository,
    pub installation: Option<InstallationRef>,
    pub sender: Account,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RepositoryEvent {
    pub action: String,
    pub repository: Repository,
    pub installation: Option<InstallationRef>,
    pub sender: Account,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AppAuthorizationEvent {
    pub action: String,
    pub sender: Account,
}

#[derive(Debug, Clone, Deserialize)]
pub struct InstallationTargetEvent {
    pub action: String,
    pub account: Account,
    pub installation: InstallationRef,
    pub target_type: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PingEvent {
    pub zen: String,
    pub hook_id: Option<i64>,
}

/// The events forgelink's App subscribes to, each with the actions GitHub
/// documents for it: the one list. A handler may be registered only for these
/// (`Dispatcher::on`); an action not listed is new to forgelink (`unhandled`).
pub const SUBSCRIBED: &[(&str, &[&str])] = &[
    ("ping", &[]),
    ("installation", &["created", "deleted", "suspend", "unsuspend", "new_permissions_accepted"]),
    ("installation_repositories", &["added", "removed"]),
    ("installation_target", &["renamed"]),
    ("github_app_authorization", &["revoked"]),
    (
        "repository",
        &[
            "created",
            "deleted",
            "archived",
            "unarchived",
            "edited",
            "renamed",
            "transferred",
            "publicized",
            "privatized",
        ],
    ),
    (
        "issues",
        &[
            "opened",
            "edited",
            "deleted",
            "transferred",
            "pinned",
            "unpinned",
            "closed",
            "reopened",
            "assigned",
            "unassigned",
            "labeled",
            "unlabeled",
            "locked",
            "unlocked",
            "milestoned",
            "demilestoned",
            "typed",
            "untyped",
        ],
    ),
    ("issue_comment", &["created", "edited", "deleted", "pinned", "unpinned"]),
    (
        "pull_request",
        &[
            "opened",
            "edited",
            "closed",
            "reopened",
            "assigned",
            "unassigned",
            "labeled",
            "unlabeled",
            "locked",
            "unlocked",
            "milestoned",
            "demilestoned",
            "synchronize",
            "converted_to_draft",
            "ready_for_review",
            "review_requested",
            "review_request_removed",
            "auto_merge_enabled",
            "auto_merge_disabled",
            "enqueued",
            "dequeued",
        ],
    ),
];

/// The actions GitHub documents for an event forgelink subscribes to (empty
/// for one without actions), or `None` for an event it does not subscribe to.
pub fn actions(event: &str) -> Option<&'static [&'static str]> {
    SUBSCRIBED.iter().find(|(name, _)| *name == event).map(|(_, actions)| *actions)
}

/// Event names GitHub sends an App that forgelink counts by name; any other
/// `X-GitHub-Event` (anyone may send one) counts as `other`, so the metrics'
/// labels stay few whatever arrives.
pub const KNOWN_EVENTS: &[&str] = &[
    "ping",
    "installation",
    "installation_repositories",
    "installation_target",
    "github_app_authorization",
    "repository",
    "issues",
    "issue_comment",
    "pull_request",
    "pull_request_review",
    "pull_request_review_comment",
    "pull_request_review_thread",
    "label",
    "milestone",
    "member",
    "membership",
    "organization",
    "push",
    "meta",
];
