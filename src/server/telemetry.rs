//! Logs through `tracing`, with one span per HTTP request carrying its id.

use axum::http::Request;
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    trace::TraceLayer,
};
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `RUST_LOG` overrides the default filter.
pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("forgelink=info,tower_http=info,sqlx=warn"));
    // Ignore "already set": tests may call this more than once.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}

/// Adds the request-id and request-span layers to a router.
pub fn layer<S: Clone + Send + Sync + 'static>(router: axum::Router<S>) -> axum::Router<S> {
    let trace = TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
        let request_id =
            request.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok()).unwrap_or("-");
        tracing::info_span!(
            "request",
            method = %request.method(),
            path = %request.uri().path(),
            request_id = %request_id,
        )
    });
    // Outermost last: the id is set first, then the span opens, then the id is echoed.
    router
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(trace)
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}
