//! `POST /webhooks/github`: verify, store, acknowledge. Nothing is written for a
//! delivery that fails a check; nothing is acknowledged that is not stored.

use std::{borrow::Cow, sync::Arc, time::Duration};

use axum::{
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Json, Router,
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{queries::NewDelivery, signature, writer::Stored};
use crate::server::{github::events::Timestamp, state::AppState};

/// GitHub caps payloads at 25 MB.
pub const MAX_BODY: usize = 25 * 1024 * 1024;
/// Nearly every delivery is smaller; those are read and checked at once.
const SMALL_BODY: u64 = 256 * 1024;
/// Larger bodies (or ones of unknown length) are read and hashed this many at a
/// time, so unsigned ones cannot make the server buffer and hash 25 MB each
/// without bound; small deliveries never wait for them.
pub const LARGE_AT_ONCE: usize = 2;
/// GitHub gives up on a delivery after 10 s: a body slower than that is no
/// delivery, and must not hold a place among the large ones.
const READ_WITHIN: Duration = Duration::from_secs(10);

/// Places for large bodies (see `LARGE_AT_ONCE`), shared by the route's requests.
#[derive(Clone, Debug)]
pub struct LargeBodies(Arc<tokio::sync::Semaphore>);

impl Default for LargeBodies {
    fn default() -> Self {
        Self(Arc::new(tokio::sync::Semaphore::new(LARGE_AT_ONCE)))
    }
}

impl LargeBodies {
    /// Large bodies being read or checked now.
    pub fn in_flight(&self) -> usize {
        LARGE_AT_ONCE - self.0.available_permits()
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/webhooks/github", post(receive))
}

fn answer(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "message": message }))).into_response()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let event = header(&headers, "x-github-event").unwrap_or("").to_owned();
    let (status, outcome) = match read(&state, &headers, body).await {
        Ok((body, signed)) => intake(&state, &headers, &body, signed).await,
        Err(refused) => refused,
    };
    state.metrics.delivery_received(if event.is_empty() { "unknown" } else { &event }, outcome);
    status
}

/// Reads the body and checks its signature: a large one only in its turn,
/// within GitHub's time, and hashed off the async threads.
async fn read(state: &AppState, headers: &HeaderMap, body: Body) -> Result<(Bytes, bool), (Response, &'static str)> {
    let length = header(headers, "content-length").and_then(|v| v.parse::<u64>().ok());
    if length.is_some_and(|n| n > MAX_BODY as u64) {
        return Err((answer(StatusCode::PAYLOAD_TOO_LARGE, "larger than GitHub's 25 MB"), "too_large"));
    }
    let large = length.is_none_or(|n| n > SMALL_BODY);
    let _turn = if large { Some(state.large_bodies.0.acquire().await) } else { None };
    let body = match tokio::time::timeout(READ_WITHIN, axum::body::to_bytes(body, MAX_BODY)).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => {
            return Err((
                answer(StatusCode::PAYLOAD_TOO_LARGE, "larger than GitHub's 25 MB, or cut short"),
                "too_large",
            ))
        }
        Err(_) => {
            return Err((
                answer(StatusCode::REQUEST_TIMEOUT, "the body took longer than 10 s to arrive"),
                "bad_request",
            ))
        }
    };
    let signature = header(headers, "x-hub-signature-256").map(str::to_owned);
    let secrets = state.github.config().webhook_secrets.clone();
    let check = {
        let body = body.clone();
        move || signature.is_some_and(|sig| signature::verify(&secrets, &body, &sig))
    };
    let signed = if large { tokio::task::spawn_blocking(check).await.unwrap_or(false) } else { check() };
    Ok((body, signed))
}

/// Returns the answer and a word for the metrics.
async fn intake(state: &AppState, headers: &HeaderMap, body: &[u8], signed: bool) -> (Response, &'static str) {
    // The signature first: nothing about an unsigned request is looked at.
    if !signed {
        return (answer(StatusCode::UNAUTHORIZED, "missing or invalid X-Hub-Signature-256"), "bad_signature");
    }
    let (Some(event), Some(delivery_id)) = (header(headers, "x-github-event"), header(headers, "x-github-delivery"))
    else {
        return (answer(StatusCode::BAD_REQUEST, "X-GitHub-Event and X-GitHub-Delivery are required"), "bad_request");
    };
    let is_object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let (Ok(text), true) = (std::str::from_utf8(body), is_object) else {
        return (answer(StatusCode::BAD_REQUEST, "the body is not a JSON object"), "bad_request");
    };
    let text = storable(text);
    // Reads the few fields we index; the whole body is checked to be JSON on the way.
    let Ok(envelope) = serde_json::from_str::<Envelope>(&text) else {
        return (answer(StatusCode::BAD_REQUEST, "the body is not a JSON object"), "bad_request");
    };
    let delivery = NewDelivery {
        delivery_id: delivery_id.to_owned(),
        hook_id: header(headers, "x-github-hook-id").and_then(|h| h.parse().ok()).unwrap_or(0),
        event: event.to_owned(),
        occurred_at: envelope.occurred_at(),
        ordering_key: envelope.ordering_key(),
        action: envelope.action,
        installation_github_id: envelope.installation.map(|i| i.id),
        payload: text.into_owned(),
    };
    match state.deliveries.store(delivery).await {
        Ok(Stored::New) => (answer(StatusCode::ACCEPTED, "stored"), "accepted"),
        Ok(Stored::Duplicate) => (answer(StatusCode::OK, "already received"), "duplicate"),
        Err(error) => {
            // GitHub shows a failed delivery, which recovery (or a person) redelivers.
            tracing::error!(%error, delivery_id, "cannot store a webhook delivery");
            (
                answer(StatusCode::SERVICE_UNAVAILABLE, "cannot store the delivery now; redeliver it later"),
                "unavailable",
            )
        }
    }
}

/// What PostgreSQL cannot keep, made keepable: it has no U+0000 (a `json`
/// payload with an escaped NUL is stored, but cannot be read as text or jsonb:
/// the event log, `->>`), and it refuses a lone UTF-16 surrogate escape
/// (`\ud800` without its pair), as serde does. GitHub passes both through from
/// issue bodies and commit messages. Each becomes `\ufffd`, the same six bytes
/// long; the signature was checked on the body as received.
fn storable(json: &str) -> Cow<'_, str> {
    if !json.contains("\\u") {
        return Cow::Borrowed(json);
    }
    let bytes = json.as_bytes();
    let code = |at: usize| {
        bytes.get(at..at + 4).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u16::from_str_radix(h, 16).ok())
    };
    let escape_at = |at: usize| bytes.get(at) == Some(&b'\\') && bytes.get(at + 1) == Some(&b'u');
    let mut unstorable = Vec::new();
    let mut at = 0;
    // Escapes occur only inside strings, and `\\` is one: step over each whole.
    while at < bytes.len() {
        if bytes[at] != b'\\' {
            at += 1;
            continue;
        }
        match (escape_at(at), code(at + 2)) {
            (true, Some(0xD800..=0xDBFF)) if escape_at(at + 6) && matches!(code(at + 8), Some(0xDC00..=0xDFFF)) => {
                at += 12
            }
            (true, Some(0 | 0xD800..=0xDFFF)) => {
                unstorable.push(at);
                at += 6;
            }
            (true, Some(_)) => at += 6,
            _ => at += 2,
        }
    }
    if unstorable.is_empty() {
        return Cow::Borrowed(json);
    }
    let mut out = json.to_owned();
    for at in unstorable {
        out.replace_range(at..at + 6, "\\ufffd");
    }
    Cow::Owned(out)
}

#[derive(Deserialize)]
struct ThingPart {
    number: Option<i64>,
    updated_at: Option<Value>,
}

#[derive(Deserialize)]
struct RepositoryPart {
    id: Option<i64>,
    updated_at: Option<Value>,
}

#[derive(Deserialize)]
struct InstallationPart {
    id: i64,
    updated_at: Option<Value>,
}

/// The parts of a payload the intake looks at.
#[derive(Deserialize)]
struct Envelope {
    action: Option<String>,
    installation: Option<InstallationPart>,
    repository: Option<RepositoryPart>,
    issue: Option<ThingPart>,
    pull_request: Option<ThingPart>,
    comment: Option<ThingPart>,
}

impl Envelope {
    /// When the change happened on GitHub, from the payload's own timestamps
    /// (deliveries can arrive out of order); the arrival time when it has none.
    fn occurred_at(&self) -> DateTime<Utc> {
        [
            self.comment.as_ref().and_then(|t| t.updated_at.as_ref()),
            self.issue.as_ref().and_then(|t| t.updated_at.as_ref()),
            self.pull_request.as_ref().and_then(|t| t.updated_at.as_ref()),
            self.installation.as_ref().and_then(|i| i.updated_at.as_ref()),
            self.repository.as_ref().and_then(|r| r.updated_at.as_ref()),
        ]
        .into_iter()
        .flatten()
        // Read here, not in `Envelope`: a time that does not read loses nothing.
        .find_map(|value| Timestamp::deserialize(value).ok())
        .map_or_else(Utc::now, |at| at.0)
    }

    /// What must be applied in order with this event: one issue's history
    /// (a pull request is an issue too: its events and its comments' are one
    /// history), else the installation's lifecycle.
    fn ordering_key(&self) -> Option<String> {
        let repo = self.repository.as_ref().and_then(|r| r.id);
        let numbered = |thing: &Option<ThingPart>| thing.as_ref().and_then(|t| t.number);
        match (repo, numbered(&self.issue).or(numbered(&self.pull_request))) {
            (Some(repo), Some(number)) => Some(format!("issue:{repo}#{number}")),
            _ => self.installation.as_ref().map(|i| format!("installation:{}", i.id)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::storable;

    #[test]
    fn only_escaped_nuls_are_replaced() {
        assert_eq!(storable(r#"{"a":"x"}"#), r#"{"a":"x"}"#);
        assert_eq!(storable(r#"{"a":"x\u0000y"}"#), r#"{"a":"x\ufffdy"}"#);
        // An escaped backslash followed by the text u0000 is not a NUL.
        assert_eq!(storable(r#"{"a":"\\u0000"}"#), r#"{"a":"\\u0000"}"#);
        assert_eq!(storable(r#"{"a":"\\\u0000","\u0000":1}"#), r#"{"a":"\\\ufffd","\ufffd":1}"#);
    }

    #[test]
    fn lone_surrogates_are_replaced_and_pairs_kept() {
        assert_eq!(storable(r#"{"a":"\ud83d\ude00 \u00e9"}"#), r#"{"a":"\ud83d\ude00 \u00e9"}"#);
        assert_eq!(storable(r#"{"a":"\ud800 x"}"#), r#"{"a":"\ufffd x"}"#);
        assert_eq!(storable(r#"{"a":"\uDC00\ud800"}"#), r#"{"a":"\ufffd\ufffd"}"#);
        assert_eq!(storable(r#"{"a":"\ud800\u0041"}"#), r#"{"a":"\ufffd\u0041"}"#, "a high one followed by no low one");
        assert_eq!(storable(r#"{"a":"\\ud800"}"#), r#"{"a":"\\ud800"}"#, "text, not an escape");
        assert_eq!(storable(r#"{"a":"\ud800"#), r#"{"a":"\ufffd"#, "cut short: serde refuses the rest");
        let stored = storable(r#"{"a":"\ud800 \udfff \u0000"}"#);
        serde_json::from_str::<serde_json::Value>(&stored).expect("parses once storable");
    }
}
