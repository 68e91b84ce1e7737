//! Tasks: the issues and pull requests of the repositories a project follows,
//! as the Tasks tab, the task page and the JSON API show them.

use serde::{Deserialize, Serialize};

use super::spelled;
use crate::paths::encode_query;

/// Tasks shown per page.
pub const TASKS_PER_PAGE: i64 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    Issue,
    PullRequest,
}

/// Open or closed, as GitHub says (merged and draft are told apart by `TaskSummary::badge`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    Open,
    Closed,
}

spelled!(stored TaskKind { Issue = "issue", PullRequest = "pull_request" });
spelled!(stored TaskState { Open = "open", Closed = "closed" });

/// Where a followed repository's import from GitHub stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportState {
    /// Reading its issues, then its comments.
    Importing,
    /// Waiting until `resume_at` (GitHub's rate limit, or GitHub not answering).
    Paused,
    /// Stopped for a reason only a person can fix; waits for Retry.
    Failed,
    /// Read completely; read again periodically.
    UpToDate,
}

spelled!(stored ImportState { Importing = "importing", Paused = "paused", Failed = "failed", UpToDate = "up_to_date" });

/// A followed repository's import, as the integrations tab and the API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportStatus {
    pub state: ImportState,
    /// Reading comments (issues are done).
    pub comments_phase: bool,
    pub issues_read: i64,
    pub comments_read: i64,
    /// The repository's tasks stored now.
    pub tasks: i64,
    pub reason: Option<String>,
    /// RFC 3339, UTC: when a pause ends.
    pub resume_at: Option<String>,
}

impl ImportStatus {
    /// What the integrations tab says of it: "Importing issues: 1,200 so far".
    pub fn words(&self) -> String {
        match self.state {
            ImportState::Importing if self.comments_phase => {
                format!("Importing comments: {} so far", thousands(self.comments_read))
            }
            ImportState::Importing => format!("Importing issues: {} so far", thousands(self.issues_read)),
            ImportState::Paused => {
                let until = self.resume_at.as_deref().and_then(|at| at.get(11..16)).unwrap_or("later");
                format!("Paused until {until} UTC: {}", self.reason.as_deref().unwrap_or("waiting"))
            }
            ImportState::Failed => format!("Import failed: {}", self.reason.as_deref().unwrap_or("no reason given")),
            ImportState::UpToDate => {
                format!("Up to date · {} task{}", thousands(self.tasks), if self.tasks == 1 { "" } else { "s" })
            }
        }
    }
}

/// 3402 as "3,402".
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

/// Which tasks by state the list shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateFilter {
    #[default]
    Open,
    Closed,
    All,
}

spelled!(StateFilter { Open = "open", Closed = "closed", All = "all" });

/// Tasks still kept in step with GitHub, or those no longer (unfollowed, out
/// of the installations, or their repository deleted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncFilter {
    Synced,
    NotSynced,
}

spelled!(SyncFilter { Synced = "synced", NotSynced = "not_synced" });

/// What the Tasks tab's filters ask for (the query string of its GET form).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskFilter {
    pub state: StateFilter,
    pub kind: Option<TaskKind>,
    pub sync: Option<SyncFilter>,
    /// `owner/name`.
    pub repo: Option<String>,
    pub label: Option<String>,
    /// A GitHub login.
    pub author: Option<String>,
    /// Words searched for in titles and bodies.
    pub q: Option<String>,
    /// From 1.
    pub page: i64,
}

impl TaskFilter {
    /// Reads the filter from query parameters as the form sends them: empty
    /// fields are no filter; what does not read is an error saying so.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let text = |name: &str| get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let state = match text("state") {
            None => StateFilter::Open,
            Some(s) => StateFilter::parse(&s).ok_or_else(|| format!("state must be open, closed or all, not {s:?}"))?,
        };
        let kind = match text("kind") {
            None => None,
            Some(k) => {
                Some(TaskKind::parse(&k).ok_or_else(|| format!("kind must be issue or pull_request, not {k:?}"))?)
            }
        };
        let sync = match text("sync") {
            None => None,
            Some(s) => {
                Some(SyncFilter::parse(&s).ok_or_else(|| format!("sync must be synced or not_synced, not {s:?}"))?)
            }
        };
        let page = match text("page") {
            None => 1,
            Some(p) => p
                .parse::<i64>()
                .ok()
                .filter(|p| *p >= 1)
                .ok_or_else(|| format!("page must be a positive integer, not {p:?}"))?,
        };
        Ok(Self {
            state,
            kind,
            sync,
            repo: text("repo"),
            label: text("label"),
            author: text("author"),
            q: text("q"),
            page,
        })
    }

    /// The query string that asks for this filter on page `page`.
    pub fn query(&self, page: i64) -> String {
        let mut pairs = vec![("state", self.state.as_str().to_owned())];
        if let Some(kind) = self.kind {
            pairs.push(("kind", kind.as_str().to_owned()));
        }
        if let Some(sync) = self.sync {
            pairs.push(("sync", sync.as_str().to_owned()));
        }
        for (name, value) in [("repo", &self.repo), ("label", &self.label), ("author", &self.author), ("q", &self.q)] {
            if let Some(value) = value {
                pairs.push((name, value.clone()));
            }
        }
        if page > 1 {
            pairs.push(("page", page.to_string()));
        }
        pairs.iter().map(|(name, value)| format!("{name}={}", encode_query(value))).collect::<Vec<_>>().join("&")
    }
}

/// Who wrote a task or comment: a GitHub account, and the forgelink person
/// it is when that account is connected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    pub login: String,
    pub avatar_url: String,
    pub user_id: Option<i64>,
    /// The forgelink person's name, when it is one.
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    pub name: String,
    /// Six hex digits, as GitHub gives them.
    pub color: String,
}

impl Label {
    /// The colour as CSS, or none when GitHub's text is not six hex digits.
    pub fn css_color(&self) -> Option<String> {
        (self.color.len() == 6 && self.color.bytes().all(|b| b.is_ascii_hexdigit())).then(|| format!("#{}", self.color))
    }
}

/// What a task's badge says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Badge {
    Open,
    Closed,
    Merged,
    Draft,
}

impl Badge {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
            Self::Merged => "merged",
            Self::Draft => "draft",
        }
    }
}

/// Whether the task's repository is still kept in step with GitHub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sync {
    Synced,
    /// Unfollowed, or out of the project's installations: kept (a public
    /// repository's) as it was last mirrored, maybe updated for other projects.
    NotSynced,
    RepositoryDeleted,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSummary {
    pub id: i64,
    /// The issue's id on GitHub.
    pub github_id: i64,
    pub number: i64,
    pub title: String,
    pub state: TaskState,
    pub state_reason: Option<String>,
    pub kind: TaskKind,
    pub draft: bool,
    pub merged: bool,
    /// `owner/name`.
    pub repository: String,
    pub html_url: String,
    pub author: Option<Author>,
    pub labels: Vec<Label>,
    pub comments: i64,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
    pub closed_at: Option<String>,
    /// The last activity in words ("3 hours ago"), as of the page's rendering.
    pub activity: String,
    /// Transferred to another repository.
    pub moved: bool,
    /// Where it went: for the project's owner only (the destination may be private).
    pub transferred_to: Option<String>,
    pub deleted: bool,
    pub sync: Sync,
}

impl TaskSummary {
    pub fn badge(&self) -> Badge {
        match (self.state, self.merged, self.draft) {
            (_, true, _) => Badge::Merged,
            (TaskState::Closed, _, _) => Badge::Closed,
            (TaskState::Open, _, true) => Badge::Draft,
            (TaskState::Open, _, false) => Badge::Open,
        }
    }
}

/// A page of a project's tasks (pages from 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskPage {
    pub tasks: Vec<TaskSummary>,
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
    /// The project's repositories (`owner/name`), for the filter.
    pub repositories: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskComment {
    pub id: i64,
    pub github_id: i64,
    pub author: Option<Author>,
    /// Markdown, as written on GitHub.
    pub body: String,
    /// The Markdown rendered and sanitized on the server.
    pub body_html: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskDetail {
    pub task: TaskSummary,
    pub body: String,
    pub body_html: String,
    pub comments: Vec<TaskComment>,
}

impl TaskDetail {
    /// What a page needs: the rendered HTML, without the Markdown it came from
    /// (half the bytes, and the page has no use for it).
    pub fn without_markdown(mut self) -> Self {
        self.body.clear();
        self.comments.iter_mut().for_each(|c| c.body.clear());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_reads_back_from_its_own_query() {
        let filter = TaskFilter {
            state: StateFilter::All,
            kind: Some(TaskKind::PullRequest),
            sync: Some(SyncFilter::NotSynced),
            repo: Some("octo/hello world".into()),
            label: Some("good first issue".into()),
            author: None,
            q: Some("crash & burn?".into()),
            page: 3,
        };
        let query = filter.query(3);
        assert_eq!(query, "state=all&kind=pull_request&sync=not_synced&repo=octo/hello%20world&label=good%20first%20issue&q=crash%20%26%20burn%3F&page=3");
        let decode = |value: &str| {
            let value = value.replace('+', " ");
            let mut out = Vec::new();
            let mut rest = value.as_bytes();
            while let Some((&byte, tail)) = rest.split_first() {
                if byte == b'%' {
                    out.push(u8::from_str_radix(std::str::from_utf8(&tail[..2]).unwrap(), 16).unwrap());
                    rest = &tail[2..];
                } else {
                    out.push(byte);
                    rest = tail;
                }
            }
            String::from_utf8(out).unwrap()
        };
        let pairs: Vec<(&str, String)> =
            query.split('&').map(|pair| pair.split_once('=').unwrap()).map(|(n, v)| (n, decode(v))).collect();
        let read = TaskFilter::from_query(|name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()));
        assert_eq!(read, Ok(filter));
    }

    #[test]
    fn bad_filters_are_errors_that_say_what_reads() {
        let read = |name: &'static str, value: &'static str| {
            TaskFilter::from_query(move |n| (n == name).then(|| value.to_owned()))
        };
        assert!(read("state", "shut").unwrap_err().contains("open, closed or all"));
        assert!(read("kind", "epic").unwrap_err().contains("issue or pull_request"));
        assert!(read("sync", "yes").unwrap_err().contains("synced or not_synced"));
        assert!(read("page", "0").unwrap_err().contains("positive"));
        assert_eq!(read("state", " ").unwrap(), TaskFilter { page: 1, ..Default::default() }, "empty is no filter");
    }

    #[test]
    fn import_progress_reads_as_a_person_says_it() {
        let status = |state, comments_phase| ImportStatus {
            state,
            comments_phase,
            issues_read: 1200,
            comments_read: 30_001,
            tasks: 3402,
            reason: Some("GitHub rate limit".into()),
            resume_at: Some("2026-12-02T14:05:00Z".into()),
        };
        assert_eq!(status(ImportState::Importing, false).words(), "Importing issues: 1,200 so far");
        assert_eq!(status(ImportState::Importing, true).words(), "Importing comments: 30,001 so far");
        assert_eq!(status(ImportState::Paused, false).words(), "Paused until 14:05 UTC: GitHub rate limit");
        assert_eq!(status(ImportState::UpToDate, true).words(), "Up to date · 3,402 tasks");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn merged_outranks_closed_and_draft_shows_only_while_open() {
        let badge = |state, merged, draft| {
            let mut task = TaskSummary {
                id: 1,
                github_id: 1,
                number: 1,
                title: String::new(),
                state,
                state_reason: None,
                kind: TaskKind::PullRequest,
                draft,
                merged,
                repository: String::new(),
                html_url: String::new(),
                author: None,
                labels: vec![],
                comments: 0,
                created_at: String::new(),
                updated_at: String::new(),
                closed_at: None,
                activity: String::new(),
                moved: false,
                transferred_to: None,
                deleted: false,
                sync: Sync::Synced,
            };
            task.state = state;
            task.badge()
        };
        assert_eq!(badge(TaskState::Closed, true, false), Badge::Merged);
        assert_eq!(badge(TaskState::Closed, false, true), Badge::Closed);
        assert_eq!(badge(TaskState::Open, false, true), Badge::Draft);
        assert_eq!(badge(TaskState::Open, false, false), Badge::Open);
    }
}
