//! Typed webhook events: the fields forgelink acts on, parsed from GitHub's
//! payloads. Unknown fields are ignored, so GitHub adding fields breaks nothing;
//! a missing field we rely on is a parse error naming it.

use serde::Deserialize;

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
pub struct Installation {
    pub id: i64,
    /// Absent for enterprise-wide installations.
    pub account: Option<Account>,
    pub repository_selection: String,
    pub app_id: i64,
    pub target_type: String,
    pub suspended_at: Option<String>,
    pub created_at: serde_json::Value,
    pub updated_at: serde_json::Value,
}

/// The `installation` reference carried by repository-level events.
#[derive(Debug, Clone, Deserialize)]
pub struct InstallationRef {
    pub id: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct InstallationEvent {
    pub action: String,
    pub installation: Installation,
    pub repositories: Option<Vec<RepositoryRef>>,
    /// Who asked an organization owner to approve the install, when someone did.
    #[serde(default)]
    pub requester: Option<Account>,
    pub sender: Account,
}

#[derive(Debug, Clone, Deserialize)]
pub struct InstallationRepositoriesEvent {
    pub action: String,
    pub installation: Installation,
    pub repository_selection: String,
    pub repositories_added: Vec<RepositoryRef>,
    pub repositories_removed: Vec<RepositoryRef>,
    pub sender: Account,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Issue {
    pub id: i64,
    pub number: i64,
    pub title: String,
    pub body: Option<String>,
    /// `open` or `closed`; GitHub's own examples of `pinned` leave it out.
    pub state: Option<String>,
    pub user: Account,
    pub updated_at: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IssuesEvent {
    pub action: String,
    pub issue: Issue,
    pub repository: Repository,
    pub installation: Option<InstallationRef>,
    pub sender: Account,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IssueComment {
    pub id: i64,
    pub body: String,
    pub user: Account,
    pub updated_at: String,
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

#[derive(Debug, Clone)]
pub enum Event {
    Ping(PingEvent),
    Installation(InstallationEvent),
    InstallationRepositories(InstallationRepositoriesEvent),
    InstallationTarget(InstallationTargetEvent),
    Repository(RepositoryEvent),
    Issues(IssuesEvent),
    IssueComment(IssueCommentEvent),
    GithubAppAuthorization(AppAuthorizationEvent),
    /// An event forgelink does not act on; kept by name.
    Other(String),
}

#[derive(Debug, thiserror::Error)]
#[error("cannot read the {event} event: {source}")]
pub struct ParseError {
    pub event: String,
    #[source]
    pub source: serde_json::Error,
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

/// Parses a webhook body by its `X-GitHub-Event` name.
pub fn parse(event: &str, body: &[u8]) -> Result<Event, ParseError> {
    fn typed<T: serde::de::DeserializeOwned>(event: &str, body: &[u8]) -> Result<T, ParseError> {
        serde_json::from_slice(body).map_err(|source| ParseError { event: event.to_owned(), source })
    }
    Ok(match event {
        "ping" => Event::Ping(typed(event, body)?),
        "installation" => Event::Installation(typed(event, body)?),
        "installation_repositories" => Event::InstallationRepositories(typed(event, body)?),
        "installation_target" => Event::InstallationTarget(typed(event, body)?),
        "repository" => Event::Repository(typed(event, body)?),
        "issues" => Event::Issues(typed(event, body)?),
        "issue_comment" => Event::IssueComment(typed(event, body)?),
        "github_app_authorization" => Event::GithubAppAuthorization(typed(event, body)?),
        other => Event::Other(other.to_owned()),
    })
}
