//! Refuses state-changing requests from other sites: a POST, PUT, PATCH or
//! DELETE must carry an `Origin` (or, failing that, a `Referer`) naming the host
//! it was sent to. It guards the pages and server functions; GitHub's webhook
//! deliveries never pass through it (their signature is their proof).

use axum::{
    extract::Request,
    http::{header, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

pub async fn same_origin_only(request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let claimed = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| url::Url::parse(v).ok());
    let same = match (claimed, host) {
        (Some(url), Some(host)) => {
            let authority = match (url.host_str(), url.port()) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (Some(h), None) => h.to_owned(),
                _ => String::new(),
            };
            authority.eq_ignore_ascii_case(host)
        }
        _ => false,
    };
    if same {
        next.run(request).await
    } else {
        tracing::warn!(path = %request.uri().path(), "cross-site or origin-less state-changing request refused");
        let message = "This request did not come from a forgelink page (no matching Origin header), so it was refused.";
        if request.uri().path().starts_with("/api/") {
            // The JSON API's error shape.
            let body = serde_json::json!({ "statusCode": 403, "statusMessage": "Forbidden", "data": { "message": message } });
            (StatusCode::FORBIDDEN, axum::Json(body)).into_response()
        } else {
            (StatusCode::FORBIDDEN, message).into_response()
        }
    }
}
