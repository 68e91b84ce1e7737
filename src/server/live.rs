//! Live updates for open pages: PostgreSQL `LISTEN/NOTIFY` (so a change made on
//! any instance is heard on every one) fanned out to server-sent events.

use std::{
    collections::HashMap,
    convert::Infallible,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    extract::{Path, State},
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse, Response,
    },
    routing::get,
    Router,
};
use sqlx::PgPool;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::{wrappers::ReceiverStream, StreamExt};

use super::{
    accounts::{CurrentUser, NoUser, User},
    db, projects,
    state::AppState,
    webhooks,
};

/// Notified (by triggers) whenever installations, repositories or follows
/// change, once for each person concerned, with `u<user id>` as the payload.
pub const INTEGRATIONS_CHANNEL: &str = "github_integrations";

/// Notified (by triggers) whenever tasks or their comments change, with
/// `p<project id>` for a public repository's and `p<project id>:private` for
/// a private one's.
pub const TASKS_CHANNEL: &str = "tasks";

/// What the listener passes on to the open streams.
#[derive(Clone, Debug)]
enum Heard {
    Notification {
        channel: String,
        payload: String,
    },
    /// The connection to PostgreSQL was lost (a restart, say), and with it
    /// whatever was notified meanwhile: every page fetches afresh.
    Missed,
}

/// Live streams one person may hold open on an instance (a tab each): enough
/// for anyone, too few to hold a server's worth of tasks and connections.
pub const STREAMS_PER_PERSON: usize = 16;

/// Changes heard, by channel name; and the streams each person holds open.
#[derive(Clone, Debug)]
pub struct Live {
    changes: broadcast::Sender<Heard>,
    open: Arc<Mutex<HashMap<i64, usize>>>,
}

/// One person's open stream, counted until it is dropped (its task ends).
struct Opened {
    open: Arc<Mutex<HashMap<i64, usize>>>,
    user_id: i64,
}

impl Drop for Opened {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.user_id) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.user_id);
            }
        }
    }
}

impl Live {
    pub fn spawn(pool: PgPool) -> Self {
        let (changes, _) = broadcast::channel(1024);
        let sender = changes.clone();
        const CHANNELS: &[&str] = &[webhooks::CHANNEL, webhooks::STATUS_CHANNEL, INTEGRATIONS_CHANNEL, TASKS_CHANNEL];
        tokio::spawn(db::listen_forever(pool, CHANNELS, move |heard| {
            let heard = heard.map_or(Heard::Missed, |n| Heard::Notification {
                channel: n.channel().to_owned(),
                payload: n.payload().to_owned(),
            });
            let _ = sender.send(heard);
        }));
        Self { changes, open: Default::default() }
    }

    /// Counts a stream for `user_id`, unless they hold `STREAMS_PER_PERSON` already.
    fn open(&self, user_id: i64) -> Option<Opened> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(user_id).or_default();
        if *n >= STREAMS_PER_PERSON {
            return None;
        }
        *n += 1;
        Some(Opened { open: self.open.clone(), user_id })
    }

    /// Live streams open on this instance (each holds one subscription).
    pub fn streams(&self) -> usize {
        self.changes.receiver_count()
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/live/events", get(event_changes))
        .route("/live/integrations", get(integration_changes))
        .route("/live/projects/{slug}/tasks", get(task_changes))
}

/// `GET /live/events`: a `changed` message whenever webhook events arrive or
/// change status (admins only).
async fn event_changes(State(state): State<AppState>, user: Result<CurrentUser, NoUser>) -> Response {
    let Some(admin) = user.ok().filter(|u| u.is_admin) else {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    };
    changes(&state, admin.id, |channel, _| channel == webhooks::CHANNEL || channel == webhooks::STATUS_CHANNEL)
}

/// `GET /live/integrations`: a `changed` message whenever an installation, a
/// repository or a follow the signed-in person sees changes (the page then
/// reloads what it shows, through its own authorization).
async fn integration_changes(State(state): State<AppState>, user: Result<CurrentUser, NoUser>) -> Response {
    let Ok(CurrentUser(User { id: user_id, .. })) = user else {
        return axum::http::StatusCode::UNAUTHORIZED.into_response();
    };
    let audience = format!("u{user_id}");
    changes(&state, user_id, move |channel, payload| channel == INTEGRATIONS_CHANNEL && payload == audience)
}

/// `GET /live/projects/{slug}/tasks`: a `changed` message whenever a task of
/// the project that the signed-in person may see changes: a private
/// repository's only for the project's owner.
async fn task_changes(
    State(state): State<AppState>,
    user: Result<CurrentUser, NoUser>,
    Path(slug): Path<String>,
) -> Response {
    let Ok(CurrentUser(User { id: user_id, .. })) = user else {
        return axum::http::StatusCode::UNAUTHORIZED.into_response();
    };
    let project = match projects::by_slug(&state.pool, &slug, Some(user_id)).await {
        Ok(Some(project)) => project,
        Ok(None) => return axum::http::StatusCode::NOT_FOUND.into_response(),
        Err(error) => {
            tracing::error!(%error, "live tasks: the project could not be read");
            return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let public = format!("p{}", project.id);
    let private = format!("p{}:private", project.id);
    let owner = project.is_owner;
    changes(&state, user_id, move |channel, payload| {
        channel == TASKS_CHANNEL && (payload == public || (owner && payload == private))
    })
}

/// Server-sent `changed` messages for the notifications `relevant` picks (by
/// channel and payload), and whenever some may have been missed; at
/// most four a second however busy the database; 429 for someone who holds
/// `STREAMS_PER_PERSON` open already.
fn changes(state: &AppState, user_id: i64, relevant: impl Fn(&str, &str) -> bool + Send + 'static) -> Response {
    let Some(opened) = state.live.open(user_id) else {
        let message = "Too many live pages open: close some tabs, then reload this one.";
        return (axum::http::StatusCode::TOO_MANY_REQUESTS, message).into_response();
    };
    let (tx, rx) = mpsc::channel::<()>(1);
    let mut heard = state.live.changes.subscribe();
    let stopping = state.stopping.clone();
    // Ends (and lets go of its subscription) as soon as the page goes away, not
    // at the next change that concerns it, which may never come.
    tokio::spawn(async move {
        let _opened = opened;
        let page = tx.clone();
        let forward = async move {
            loop {
                match heard.recv().await {
                    Ok(Heard::Notification { channel, payload }) if !relevant(&channel, &payload) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                    _ => {}
                }
                // Coalesce: one message for whatever arrived in a quarter of a second.
                tokio::time::sleep(Duration::from_millis(250)).await;
                while !matches!(
                    heard.try_recv(),
                    Err(broadcast::error::TryRecvError::Empty | broadcast::error::TryRecvError::Closed)
                ) {}
                if tx.send(()).await.is_err() {
                    return;
                }
            }
        };
        let stopping = stopping.clone();
        tokio::select! {
            () = forward => {},
            () = page.closed() => {},
            // Ends the response, so an open page does not hold the server up.
            () = stopping.begun() => {},
        }
    });
    // One message at once: it flushes the response's head (without it the
    // browser may not see the stream open until the first change), and the
    // page fetches again whatever changed between its rendering and now.
    let first = tokio_stream::once(());
    let messages = first
        .chain(ReceiverStream::new(rx))
        .map(|()| Ok::<_, Infallible>(Event::default().event("changed").data("changed")));
    Sse::new(messages).keep_alive(KeepAlive::default()).into_response()
}
