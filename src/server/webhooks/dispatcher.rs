//! Routes a claimed event to its handler. A known event with an action we do
//! not act on is `ignored` (with the reason); an action GitHub has added since
//! is `unhandled`; an event we never subscribed to is `ignored`.

use std::{collections::HashMap, future::Future, pin::Pin, sync::Arc};

use super::EventRecord;
use crate::server::state::AppState;

/// What processing an event came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Processed,
    Ignored(String),
    Unhandled(String),
}

impl Outcome {
    pub fn status(&self) -> &'static str {
        match self {
            Self::Processed => "processed",
            Self::Ignored(_) => "ignored",
            Self::Unhandled(_) => "unhandled",
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Processed => None,
            Self::Ignored(reason) | Self::Unhandled(reason) => Some(reason),
        }
    }
}

/// A handler's failure: retried with backoff, then left for an operator.
#[derive(Debug, thiserror::Error)]
#[error("{reason}: {detail}")]
pub struct HandlerError {
    /// Short and stable, for filtering ("github_unreachable", "bad_payload", …).
    pub reason: String,
    pub detail: String,
    /// GitHub asked to wait this long (a rate limit): the event is tried again
    /// then, and this attempt is not counted against its budget.
    pub wait: Option<std::time::Duration>,
}

impl HandlerError {
    pub fn new(reason: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        Self { reason: reason.into(), detail: detail.to_string(), wait: None }
    }

    pub fn rate_limited(detail: impl std::fmt::Display, retry_after_secs: u64) -> Self {
        Self {
            wait: Some(std::time::Duration::from_secs(retry_after_secs)),
            ..Self::new("github_rate_limited", detail)
        }
    }
}

pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Outcome, HandlerError>> + Send>>;
type Handler = Arc<dyn Fn(AppState, EventRecord) -> HandlerFuture + Send + Sync>;

/// The actions GitHub documents for each event forgelink subscribes to.
const KNOWN_ACTIONS: &[(&str, &[&str])] = &[
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
    ("issue_comment", &["created", "edited", "deleted"]),
];

#[derive(Clone, Default)]
pub struct Dispatcher {
    /// (event, action) → handler; action `None` for events without actions (ping).
    handlers: HashMap<(String, Option<String>), Handler>,
}

impl Dispatcher {
    pub fn new() -> Self {
        Self::default()
    }

    /// The handlers forgelink ships.
    pub fn standard() -> Self {
        Self::new().on("ping", None, |_, _| async { Ok(Outcome::Processed) })
    }

    /// Registers a handler for an event and action (`None`: events without actions).
    pub fn on<F, Fut>(mut self, event: &str, action: Option<&str>, handler: F) -> Self
    where
        F: Fn(AppState, EventRecord) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Outcome, HandlerError>> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |state, event| Box::pin(handler(state, event)));
        self.handlers.insert((event.to_owned(), action.map(str::to_owned)), handler);
        self
    }

    /// The events some handler is registered for (their payloads are needed).
    pub fn events_handled(&self) -> Vec<String> {
        let mut events: Vec<String> = self.handlers.keys().map(|(event, _)| event.clone()).collect();
        events.sort_unstable();
        events.dedup();
        events
    }

    pub async fn dispatch(&self, state: AppState, event: EventRecord) -> Result<Outcome, HandlerError> {
        let key = (event.event.clone(), event.action.clone());
        if let Some(handler) = self.handlers.get(&key) {
            // A task of its own: a handler that panics fails its event (retried,
            // then left for an operator) instead of ending the worker for good.
            return tokio::spawn(handler(state, event))
                .await
                .unwrap_or_else(|panicked| Err(HandlerError::new("handler_panicked", panicked)));
        }
        let action = event.action.as_deref().unwrap_or("");
        Ok(match KNOWN_ACTIONS.iter().find(|(name, _)| *name == event.event) {
            None => Outcome::Ignored(format!("forgelink does not subscribe to {} events", event.event)),
            Some((_, actions)) if actions.contains(&action) || action.is_empty() => {
                Outcome::Ignored(format!("forgelink does not act on {}.{action}", event.event))
            }
            Some(_) => Outcome::Unhandled(format!("{}.{action} is an action new to forgelink", event.event)),
        })
    }
}
