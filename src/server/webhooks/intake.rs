//! `POST /webhooks/github`: verify, store, acknowledge. Nothing is written for a
//! delivery that fails a check; nothing is acknowledged that is not stored.

use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Json, Router,
};
use serde_json::{json, Value};

use super::{queries, signature};
use crate::server::state::AppState;

/// GitHub caps payloads at 25 MB.
pub const MAX_BODY: usize = 25 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route("/webhooks/github", post(receive).layer(DefaultBodyLimit::max(MAX_BODY)))
}

fn answer(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "message": message }))).into_response()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let event = header(&headers, "x-github-event").unwrap_or("").to_owned();
    let (status, outcome) = intake(&state, &headers, &body).await;
    state.metrics.delivery_received(if event.is_empty() { "unknown" } else { &event }, outcome);
    status
}

/// Returns the answer and a word for the metrics.
async fn intake(state: &AppState, headers: &HeaderMap, body: &[u8]) -> (Response, &'static str) {
    // The signature first: nothing about an unsigned request is looked at.
    let signed = header(headers, "x-hub-signature-256")
        .is_some_and(|sig| signature::verify(&state.github.config().webhook_secrets, body, sig));
    if !signed {
        return (answer(StatusCode::UNAUTHORIZED, "missing or invalid X-Hub-Signature-256"), "bad_signature");
    }
    let (Some(event), Some(delivery_id)) = (header(headers, "x-github-event"), header(headers, "x-github-delivery")) else {
        return (answer(StatusCode::BAD_REQUEST, "X-GitHub-Event and X-GitHub-Delivery are required"), "bad_request");
    };
    let payload: Value = match serde_json::from_slice(body) {
        Ok(value @ Value::Object(_)) => value,
        _ => return (answer(StatusCode::BAD_REQUEST, "the body is not a JSON object"), "bad_request"),
    };
    let delivery = queries::NewDelivery {
        delivery_id,
        hook_id: header(headers, "x-github-hook-id").and_then(|h| h.parse().ok()).unwrap_or(0),
        event,
        action: payload.get("action").and_then(Value::as_str),
        installation_github_id: payload.pointer("/installation/id").and_then(Value::as_i64),
        payload: &payload,
        occurred_at: occurred_at(&payload),
    };
    match queries::insert_delivery(&state.pool, &delivery).await {
        Ok(Some(_)) => (answer(StatusCode::ACCEPTED, "stored"), "accepted"),
        Ok(None) => (answer(StatusCode::OK, "already received"), "duplicate"),
        Err(error) => {
            // GitHub shows a failed delivery, which recovery (or a person) redelivers.
            tracing::error!(%error, delivery_id, "cannot store a webhook delivery");
            (answer(StatusCode::SERVICE_UNAVAILABLE, "cannot store the delivery now; redeliver it later"), "unavailable")
        }
    }
}

/// When the change happened on GitHub, from the payload's own timestamps
/// (deliveries can arrive out of order); the arrival time when it has none.
fn occurred_at(payload: &Value) -> f64 {
    const PLACES: [&str; 6] = [
        "/comment/updated_at",
        "/issue/updated_at",
        "/pull_request/updated_at",
        "/installation/updated_at",
        "/repository/updated_at",
        "/hook/updated_at",
    ];
    PLACES
        .iter()
        .filter_map(|place| payload.pointer(place))
        .find_map(|value| match value {
            Value::String(text) => chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| t.timestamp_micros() as f64 / 1e6),
            Value::Number(n) => n.as_f64(),
            _ => None,
        })
        .unwrap_or_else(|| chrono::Utc::now().timestamp_micros() as f64 / 1e6)
}
