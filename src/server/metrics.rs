//! `GET /metrics` in Prometheus' text format: deliveries received (by event and
//! outcome), events processed (by status), the queue's depth, processing latency,
//! and what this instance holds right now (deliveries waiting for their commit,
//! whether workers yield to the intake, open live streams). Counters are per
//! instance, as Prometheus expects; the queue depth is global.

use std::{collections::BTreeMap, fmt::Write as _, sync::Mutex, time::Duration};

use axum::{
    extract::State,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use subtle::ConstantTimeEq;

use super::{github::events::KNOWN_EVENTS, state::AppState};

/// Upper bounds (seconds) of the processing-latency histogram's buckets.
const BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Default, Debug)]
pub struct Metrics {
    received: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    processed: Mutex<BTreeMap<&'static str, u64>>,
    latency: Mutex<Histogram>,
}

#[derive(Default, Debug)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    total: u64,
}

impl Metrics {
    pub fn delivery_received(&self, event: &str, outcome: &'static str) {
        // Event names come from the request: only known ones become labels.
        let event = KNOWN_EVENTS.iter().find(|known| **known == event).copied().unwrap_or("other");
        *lock(&self.received).entry((event, outcome)).or_default() += 1;
    }

    pub fn event_processed(&self, status: &'static str, took: Duration) {
        *lock(&self.processed).entry(status).or_default() += 1;
        let seconds = took.as_secs_f64();
        let mut histogram = lock(&self.latency);
        for (count, bound) in histogram.counts.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *count += 1;
            }
        }
        histogram.sum += seconds;
        histogram.total += 1;
    }

    pub fn render(&self, queue_depth: Option<i64>, now: &Held) -> String {
        let mut out = String::new();
        out.push_str("# HELP forgelink_webhook_deliveries_total Webhook deliveries received, by event and outcome.\n");
        out.push_str("# TYPE forgelink_webhook_deliveries_total counter\n");
        for ((event, outcome), n) in lock(&self.received).iter() {
            let _ = writeln!(out, "forgelink_webhook_deliveries_total{{event=\"{event}\",outcome=\"{outcome}\"}} {n}");
        }
        out.push_str(
            "# HELP forgelink_events_processed_total Events processed by this instance, by resulting status.\n",
        );
        out.push_str("# TYPE forgelink_events_processed_total counter\n");
        for (status, n) in lock(&self.processed).iter() {
            let _ = writeln!(out, "forgelink_events_processed_total{{status=\"{status}\"}} {n}");
        }
        if let Some(depth) = queue_depth {
            out.push_str("# HELP forgelink_event_queue_depth Events waiting to be processed (all instances).\n");
            out.push_str("# TYPE forgelink_event_queue_depth gauge\n");
            let _ = writeln!(out, "forgelink_event_queue_depth {depth}");
        }
        let gauges = [
            (
                "webhook_deliveries_waiting",
                "Deliveries this instance is storing, not yet answered.",
                now.deliveries_waiting,
            ),
            (
                "webhook_intake_busy",
                "1 while this instance's workers yield to the intake between claims.",
                usize::from(now.intake_busy),
            ),
            ("live_streams", "Live-update streams open on this instance.", now.live_streams),
            (
                "webhook_large_bodies",
                "Large webhook bodies this instance is reading or checking (at most 2).",
                now.large_bodies,
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP forgelink_{name} {help}\n# TYPE forgelink_{name} gauge\nforgelink_{name} {value}"
            );
        }
        let histogram = lock(&self.latency);
        out.push_str("# HELP forgelink_event_processing_seconds Time to process one event.\n");
        out.push_str("# TYPE forgelink_event_processing_seconds histogram\n");
        for (count, bound) in histogram.counts.iter().zip(BUCKETS) {
            let _ = writeln!(out, "forgelink_event_processing_seconds_bucket{{le=\"{bound}\"}} {count}");
        }
        let _ = writeln!(out, "forgelink_event_processing_seconds_bucket{{le=\"+Inf\"}} {}", histogram.total);
        let _ = writeln!(out, "forgelink_event_processing_seconds_sum {}", histogram.sum);
        let _ = writeln!(out, "forgelink_event_processing_seconds_count {}", histogram.total);
        out
    }
}

/// What this instance holds at the moment of a scrape.
pub struct Held {
    pub deliveries_waiting: usize,
    pub intake_busy: bool,
    pub live_streams: usize,
    pub large_bodies: usize,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// With `FORGELINK_METRICS_TOKEN` set, only a scraper presenting it
/// (`Authorization: Bearer …`) is answered.
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.metrics_token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !bool::from(presented.as_bytes().ct_eq(token.expose().as_bytes())) {
            return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "a metrics token is required")
                .into_response();
        }
    }
    let depth = super::webhooks::queue_depth(&state.pool).await.ok();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.render(
            depth,
            &Held {
                deliveries_waiting: state.deliveries.waiting(),
                intake_busy: state.deliveries.busy(),
                live_streams: state.live.streams(),
                large_bodies: state.large_bodies.in_flight(),
            },
        ),
    )
        .into_response()
}
