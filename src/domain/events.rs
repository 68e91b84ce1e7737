//! Stored webhook events as the operators' event log shows them.

use serde::{Deserialize, Serialize};

use super::spelled;

/// Where a stored event is in its processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    Unprocessed,
    Processing,
    Processed,
    /// Its handler failed; tried again later, or left for an operator.
    Errored,
    /// Nothing for forgelink to do (the reason says why).
    Ignored,
    /// An action GitHub has added since forgelink was written.
    Unhandled,
}

spelled!(stored EventStatus {
    Unprocessed = "unprocessed",
    Processing = "processing",
    Processed = "processed",
    Errored = "errored",
    Ignored = "ignored",
    Unhandled = "unhandled",
});

impl EventStatus {
    /// An operator may put it back in the queue.
    pub fn retryable(self) -> bool {
        matches!(self, Self::Errored | Self::Ignored | Self::Unhandled)
    }
}

/// What a missed-delivery recovery run found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoverySummary {
    pub checked: usize,
    pub redelivered: usize,
    /// GitHub refused these; they are asked for again on the next run.
    pub failed: usize,
}

/// Which events the log shows (all filters optional; empty means any).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFilter {
    pub status: Option<EventStatus>,
    pub event: Option<String>,
    pub action: Option<String>,
    pub installation: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    pub id: i64,
    pub delivery_id: String,
    pub event: String,
    pub action: Option<String>,
    pub installation_github_id: Option<i64>,
    pub status: EventStatus,
    pub attempts: i32,
    pub failure_reason: Option<String>,
    /// UTC, `YYYY-MM-DD HH:MM:SS`.
    pub received_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDetail {
    pub row: EventRow,
    pub payload: String,
    pub error: Option<String>,
    pub next_attempt_at: Option<String>,
    pub processed_at: Option<String>,
}

/// How many events are in a status; `approximate` on a large table, for
/// finished ones (the planner's estimate, see `webhooks::event_log::counts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCount {
    pub status: EventStatus,
    pub count: i64,
    pub approximate: bool,
}
