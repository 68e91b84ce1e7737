//! Webhook handlers that keep the mirror true: `issues`, `pull_request` and
//! `issue_comment`, every action read as "the object is now as in this
//! payload" and applied by `mirror`'s rule (newer wins; a tie is re-read).
//! Events of repositories no project follows are ignored, saying so.

use super::{
    mirror::{self, Applied, MirrorError, Reader},
    queries::MirroredRepo,
};
use crate::server::{
    github::events::{self, IssueCommentEvent, IssuesEvent, PullRequestEvent, Repository},
    state::AppState,
    webhooks::{
        dispatcher::{FailureReason, Handled, HandlerError},
        Dispatcher, Outcome,
    },
};

/// Registers every handler of this domain.
pub fn register(dispatcher: Dispatcher) -> Dispatcher {
    let issue_actions: Vec<&'static str> = events::actions("issues")
        .unwrap_or_default()
        .iter()
        .copied()
        .filter(|a| !["deleted", "transferred"].contains(a))
        .collect();
    let comment_actions: Vec<&'static str> =
        events::actions("issue_comment").unwrap_or_default().iter().copied().filter(|a| *a != "deleted").collect();
    dispatcher
        .on("issues", &issue_actions, |s, p| async move { issue_changed(&s, p).await })
        .on_new_actions("issues", |s, p| async move { issue_changed(&s, p).await })
        .on("issues", &["deleted"], |s, p| async move { issue_deleted(&s, p).await })
        .on("issues", &["transferred"], |s, p| async move { issue_transferred(&s, p).await })
        .on("pull_request", events::actions("pull_request").unwrap_or_default(), |s, p| async move {
            pull_changed(&s, p).await
        })
        .on_new_actions("pull_request", |s, p| async move { pull_changed(&s, p).await })
        .on("issue_comment", &comment_actions, |s, p| async move { comment_changed(&s, p).await })
        .on_new_actions("issue_comment", |s, p| async move { comment_changed(&s, p).await })
        .on("issue_comment", &["deleted"], |s, p| async move { comment_deleted(&s, p).await })
}

impl From<MirrorError> for HandlerError {
    fn from(error: MirrorError) -> Self {
        match error {
            MirrorError::GitHub(error) => error.into(),
            MirrorError::Database(error) => error.into(),
        }
    }
}

/// The repository, if some project follows it; else why the event is ignored.
async fn followed(state: &AppState, repository: &Repository) -> Result<Result<MirroredRepo, Outcome>, MirrorError> {
    Ok(match mirror::repo(state, repository).await? {
        Some(repo) if repo.followed => Ok(repo),
        Some(repo) => Err(Outcome::Ignored(format!("no project follows {}", repo.full_name))),
        None => Err(Outcome::Ignored(format!("{} is not a repository forgelink knows", repository.full_name))),
    })
}

fn reader<'a>(repo: &'a MirroredRepo, installation: Option<&events::InstallationRef>) -> Reader<'a> {
    Reader { installation_github_id: installation.map(|i| i.id), full_name: &repo.full_name }
}

/// The outcome of applying a change to `what` (`owner/name#number`).
fn outcome(applied: Applied, what: &str) -> Outcome {
    match applied {
        Applied::Stored | Applied::Reread => Outcome::Processed,
        Applied::Stale => Outcome::Ignored(format!("a version of {what} as new or newer is stored already")),
        Applied::Tombstone => Outcome::Ignored(format!("{what} was deleted or moved on GitHub; it stays so")),
    }
}

/// Applies the issue of an `issues` or `issue_comment` payload; its row id.
async fn apply_issue(
    state: &AppState,
    repo: &MirroredRepo,
    issue: &events::Issue,
    installation: Option<&events::InstallationRef>,
) -> Result<(Option<i64>, Applied), MirrorError> {
    let reader = reader(repo, installation);
    match mirror::issue_fields(repo.id, issue) {
        Some((fields, people)) => mirror::apply_task(state, reader, &fields, &people).await,
        // Not the whole issue: read it whole.
        None => mirror::reread_task(state, reader, repo.id, mirror::count(issue.number)).await,
    }
}

async fn issue_changed(state: &AppState, payload: IssuesEvent) -> Handled {
    let repo = match followed(state, &payload.repository).await? {
        Ok(repo) => repo,
        Err(ignored) => return Ok(ignored),
    };
    let installation = payload.installation.as_ref();
    let (task, applied) = apply_issue(state, &repo, &payload.issue, installation).await?;
    if payload.action == "opened" && matches!(applied, Applied::Stored | Applied::Reread) {
        // Opened here by a transfer, it may have a history.
        with_its_comments(state, &repo, &payload.issue, installation, task).await?;
    }
    Ok(outcome(applied, &format!("{}#{}", repo.full_name, payload.issue.number)))
}

/// Reads the comments of an issue that has some: one that arrives
/// transferred brings its comments with it, but no events of them.
async fn with_its_comments(
    state: &AppState,
    repo: &MirroredRepo,
    issue: &events::Issue,
    installation: Option<&events::InstallationRef>,
    task: Option<i64>,
) -> Result<(), MirrorError> {
    match task {
        Some(task) if issue.comments > 0 => {
            mirror::read_issue_comments(state, reader(repo, installation), task, issue.number).await
        }
        _ => Ok(()),
    }
}

async fn issue_deleted(state: &AppState, payload: IssuesEvent) -> Handled {
    let repo = match followed(state, &payload.repository).await? {
        Ok(repo) => repo,
        Err(ignored) => return Ok(ignored),
    };
    // Stored first, so a deletion of an issue never seen is a tombstone too.
    apply_issue(state, &repo, &payload.issue, None).await?;
    let number = mirror::count(payload.issue.number);
    let buried = mirror::bury_task(state, repo.id, number, None).await?;
    Ok(if buried {
        Outcome::Processed
    } else {
        Outcome::Ignored(format!("{}#{} was deleted already", repo.full_name, payload.issue.number))
    })
}

async fn issue_transferred(state: &AppState, payload: IssuesEvent) -> Handled {
    let Some(transfer) = &payload.changes else {
        return Err(HandlerError::new(FailureReason::BadPayload, "issues.transferred without changes.new_issue"));
    };
    let mut outcomes = Vec::new();
    match followed(state, &payload.repository).await? {
        Ok(repo) => {
            apply_issue(state, &repo, &payload.issue, None).await?;
            let number = mirror::count(payload.issue.number);
            mirror::bury_task(state, repo.id, number, Some(&transfer.new_issue.html_url)).await?;
            outcomes.push(Outcome::Processed);
        }
        Err(ignored) => outcomes.push(ignored),
    }
    // The issue in its new repository is an issue of its own.
    match followed(state, &transfer.new_repository).await? {
        Ok(repo) => {
            let installation = payload.installation.as_ref();
            let (task, applied) = apply_issue(state, &repo, &transfer.new_issue, installation).await?;
            // Read even when the new issue's `opened` came first: its comments
            // move from the old task only once that is marked moved, here.
            with_its_comments(state, &repo, &transfer.new_issue, installation, task).await?;
            outcomes.push(outcome(applied, &format!("{}#{}", repo.full_name, transfer.new_issue.number)));
        }
        Err(ignored) => outcomes.push(ignored),
    }
    Ok(outcomes.iter().find(|o| **o == Outcome::Processed).cloned().unwrap_or_else(|| outcomes.remove(0)))
}

async fn pull_changed(state: &AppState, payload: PullRequestEvent) -> Handled {
    let repo = match followed(state, &payload.repository).await? {
        Ok(repo) => repo,
        Err(ignored) => return Ok(ignored),
    };
    let what = format!("{}#{}", repo.full_name, payload.pull_request.number);
    let reader = reader(&repo, payload.installation.as_ref());
    let applied = match mirror::pull_fields(repo.id, &payload.pull_request) {
        Some((fields, people)) => mirror::apply_task(state, reader, &fields, &people).await?.1,
        None => mirror::reread_task(state, reader, repo.id, mirror::count(payload.pull_request.number)).await?.1,
    };
    Ok(outcome(applied, &what))
}

/// Applies the comment's issue, then the comment; the task's row id, or why there is none.
async fn comment_task(
    state: &AppState,
    repo: &MirroredRepo,
    payload: &IssueCommentEvent,
) -> Result<Option<i64>, MirrorError> {
    let (id, _) = apply_issue(state, repo, &payload.issue, payload.installation.as_ref()).await?;
    Ok(id)
}

async fn comment_changed(state: &AppState, payload: IssueCommentEvent) -> Handled {
    let repo = match followed(state, &payload.repository).await? {
        Ok(repo) => repo,
        Err(ignored) => return Ok(ignored),
    };
    let what = format!("comment {} on {}#{}", payload.comment.id, repo.full_name, payload.issue.number);
    let Some(task) = comment_task(state, &repo, &payload).await? else {
        return Ok(Outcome::Ignored(format!("{what}: its issue could not be stored")));
    };
    let applied =
        mirror::apply_comment(state, reader(&repo, payload.installation.as_ref()), task, &payload.comment).await?;
    Ok(outcome(applied, &what))
}

async fn comment_deleted(state: &AppState, payload: IssueCommentEvent) -> Handled {
    let repo = match followed(state, &payload.repository).await? {
        Ok(repo) => repo,
        Err(ignored) => return Ok(ignored),
    };
    let what = format!("comment {} on {}#{}", payload.comment.id, repo.full_name, payload.issue.number);
    let Some(task) = comment_task(state, &repo, &payload).await? else {
        return Ok(Outcome::Ignored(format!("{what}: its issue could not be stored")));
    };
    // Stored first, so a deletion of a comment never seen is a tombstone too.
    mirror::apply_comment(state, reader(&repo, None), task, &payload.comment).await?;
    let buried = mirror::bury_comment(state, payload.comment.id).await?;
    Ok(if buried { Outcome::Processed } else { Outcome::Ignored(format!("{what} was deleted already")) })
}
