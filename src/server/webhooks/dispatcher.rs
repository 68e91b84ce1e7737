//! Routes a claimed event to its handler. A known event with an action we do
//! not act on is `ignored` (with the reason); an action GitHub has added since
//! is `unhandled`; an event we never subscribed to is `ignored`.

use std::{collections::HashMap, future::Future, pin::Pin, sync::Arc};

use serde::de::DeserializeOwned;

use super::EventRecord;
use crate::{
    domain::{events::EventStatus, spelled},
    server::{
        github::{client::GitHubError, events, installation_tokens::TokenError},
        state::AppState,
    },
};

/// What processing an event came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Processed,
    Ignored(String),
    Unhandled(String),
}

impl Outcome {
    pub fn status(&self) -> EventStatus {
        match self {
            Self::Processed => EventStatus::Processed,
            Self::Ignored(_) => EventStatus::Ignored,
            Self::Unhandled(_) => EventStatus::Unhandled,
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Processed => None,
            Self::Ignored(reason) | Self::Unhandled(reason) => Some(reason),
        }
    }
}

/// Why a handler failed, short and stable (operators filter the log by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    Database,
    /// The payload lacks a field forgelink relies on.
    BadPayload,
    GithubUnreachable,
    GithubRefused,
    GithubRateLimited,
    HandlerPanicked,
}

spelled!(FailureReason {
    Database = "database",
    BadPayload = "bad_payload",
    GithubUnreachable = "github_unreachable",
    GithubRefused = "github_refused",
    GithubRateLimited = "github_rate_limited",
    HandlerPanicked = "handler_panicked",
});

/// A handler's failure: retried with backoff, then left for an operator.
#[derive(Debug, thiserror::Error)]
#[error("{}: {detail}", reason.as_str())]
pub struct HandlerError {
    pub reason: FailureReason,
    pub detail: String,
    /// GitHub asked to wait this long (a rate limit): the event is tried again
    /// then, and this attempt is not counted against its budget.
    pub wait: Option<std::time::Duration>,
}

impl HandlerError {
    pub fn new(reason: FailureReason, detail: impl std::fmt::Display) -> Self {
        Self { reason, detail: detail.to_string(), wait: None }
    }

    pub fn rate_limited(detail: impl std::fmt::Display, retry_after_secs: u64) -> Self {
        Self {
            wait: Some(std::time::Duration::from_secs(retry_after_secs)),
            ..Self::new(FailureReason::GithubRateLimited, detail)
        }
    }
}

impl From<sqlx::Error> for HandlerError {
    fn from(error: sqlx::Error) -> Self {
        Self::new(FailureReason::Database, error)
    }
}

impl From<TokenError> for HandlerError {
    fn from(error: TokenError) -> Self {
        let reason = match &error {
            TokenError::GitHub(GitHubError::RateLimited { retry_after_secs }) => {
                return Self::rate_limited(&error, *retry_after_secs);
            }
            TokenError::GitHub(e) if e.is_transient() => FailureReason::GithubUnreachable,
            TokenError::Database(_) => FailureReason::Database,
            TokenError::GitHub(_) | TokenError::Crypto(_) => FailureReason::GithubRefused,
        };
        Self::new(reason, error)
    }
}

pub type Handled = Result<Outcome, HandlerError>;
type HandlerFuture = Pin<Box<dyn Future<Output = Handled> + Send>>;

/// A registered handler, and how it reads its payload (for checking
/// GitHub's published examples against it without running it).
#[derive(Clone)]
struct Handler {
    read: fn(&str, &serde_json::Value) -> Result<(), HandlerError>,
    run: Arc<dyn Fn(AppState, EventRecord) -> HandlerFuture + Send + Sync>,
}

impl Handler {
    fn new<T, F, Fut>(handler: F) -> Self
    where
        T: DeserializeOwned + Send + 'static,
        F: Fn(AppState, T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Handled> + Send + 'static,
    {
        let handler = Arc::new(handler);
        Self {
            read: |event, payload| read::<T>(event, payload).map(drop),
            run: Arc::new(move |state, record: EventRecord| {
                let handler = handler.clone();
                Box::pin(async move {
                    let payload = read::<T>(&record.event, &record.payload)?;
                    handler(state, payload).await
                })
            }),
        }
    }
}

/// Runs a handler in a task of its own: one that panics fails its event
/// (retried, then left for an operator) instead of ending the worker for good.
async fn run(handler: &Handler, state: AppState, event: EventRecord) -> Handled {
    tokio::spawn((handler.run)(state, event))
        .await
        .unwrap_or_else(|panicked| Err(HandlerError::new(FailureReason::HandlerPanicked, panicked)))
}

fn read<T: DeserializeOwned>(event: &str, payload: &serde_json::Value) -> Result<T, HandlerError> {
    T::deserialize(payload).map_err(|error| {
        HandlerError::new(FailureReason::BadPayload, format!("cannot read the {event} event: {error}"))
    })
}

#[derive(Clone, Default)]
pub struct Dispatcher {
    /// (event, action) → handler; action `None` for events without actions (ping).
    handlers: HashMap<(String, Option<String>), Handler>,
    /// event → the handler of its actions new to forgelink (see `on_new_actions`).
    new_actions: HashMap<String, Handler>,
}

impl Dispatcher {
    pub fn new() -> Self {
        Self::default()
    }

    /// The handlers forgelink ships.
    pub fn standard() -> Self {
        Self::new().on("ping", &[], |_, _: serde_json::Value| async { Ok(Outcome::Processed) })
    }

    /// Registers a handler for these actions of an event (none: an event
    /// without actions, ping). It gets the payload read as `T`; one that does
    /// not read fails the event as `bad_payload`.
    ///
    /// Panics on an event or action forgelink does not subscribe to
    /// ([`events::SUBSCRIBED`]): a mistake in the code, found at start-up.
    pub fn on<T, F, Fut>(mut self, event: &'static str, actions: &[&'static str], handler: F) -> Self
    where
        T: DeserializeOwned + Send + 'static,
        F: Fn(AppState, T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Handled> + Send + 'static,
    {
        let handler = Handler::new(handler);
        let keys: Vec<Option<&str>> =
            if actions.is_empty() { vec![None] } else { actions.iter().copied().map(Some).collect() };
        for action in keys {
            let documented = events::actions(event)
                .is_some_and(|known| action.map_or(known.is_empty(), |action| known.contains(&action)));
            assert!(documented, "a handler for {event}.{action:?}, which forgelink does not subscribe to");
            self.handlers.insert((event.to_owned(), action.map(str::to_owned)), handler.clone());
        }
        self
    }

    /// Registers the handler of the actions of `event` that GitHub adds after
    /// forgelink was written, for an event whose every action means the same
    /// ("the issue is now as in this payload"): they are applied, not left `unhandled`.
    pub fn on_new_actions<T, F, Fut>(mut self, event: &'static str, handler: F) -> Self
    where
        T: DeserializeOwned + Send + 'static,
        F: Fn(AppState, T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Handled> + Send + 'static,
    {
        assert!(
            events::actions(event).is_some_and(|known| !known.is_empty()),
            "new actions of {event}, which forgelink does not subscribe to or which has none"
        );
        self.new_actions.insert(event.to_owned(), Handler::new(handler));
        self
    }

    /// The events and actions a handler is registered for.
    pub fn handled(&self) -> Vec<(String, Option<String>)> {
        self.handlers.keys().cloned().collect()
    }

    /// The events some handler is registered for (their payloads are needed).
    pub fn events_handled(&self) -> Vec<String> {
        let mut events: Vec<String> = self.handlers.keys().map(|(event, _)| event.clone()).collect();
        events.sort_unstable();
        events.dedup();
        events
    }

    /// Whether a handler would read this payload (`None`: no handler for it).
    pub fn reads(
        &self,
        event: &str,
        action: Option<&str>,
        payload: &serde_json::Value,
    ) -> Option<Result<(), HandlerError>> {
        let handler = self.handlers.get(&(event.to_owned(), action.map(str::to_owned)))?;
        Some((handler.read)(event, payload))
    }

    pub async fn dispatch(&self, state: AppState, event: EventRecord) -> Handled {
        let key = (event.event.clone(), event.action.clone());
        if let Some(handler) = self.handlers.get(&key) {
            return run(handler, state, event).await;
        }
        let action = event.action.as_deref().unwrap_or("");
        let documented = events::actions(&event.event).is_some_and(|known| known.contains(&action));
        if let Some(handler) = self.new_actions.get(&event.event).filter(|_| !documented && !action.is_empty()) {
            return run(handler, state, event).await;
        }
        Ok(match events::actions(&event.event) {
            None => Outcome::Ignored(format!("forgelink does not subscribe to {} events", event.event)),
            Some(actions) if actions.contains(&action) || action.is_empty() => {
                Outcome::Ignored(format!("forgelink does not act on {}.{action}", event.event))
            }
            Some(_) => Outcome::Unhandled(format!("{}.{action} is an action new to forgelink", event.event)),
        })
    }
}
