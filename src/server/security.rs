//! Refuses state-changing requests from other sites: a POST, PUT, PATCH or
//! DELETE must carry an `Origin` (or, failing that, a `Referer`) naming the host
//! it was sent to. It guards the pages and server functions; GitHub's webhook
//! deliveries never pass through it (their signature is their proof). The
//! headers every response carries (a Content-Security-Policy with the page's
//! nonce, no framing, no sniffing, HSTS over https, no-store for the signed in).
//! And who the client is, behind the proxies we trust.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::state::AppState;

/// The largest body a form, server function or JSON API call may send.
pub const MAX_FORM_BODY: usize = 256 * 1024;

/// A page's policy: scripts only with the nonce Leptos puts on its hydration
/// script, and what that script loads ('strict-dynamic'), the WASM it compiles
/// ('wasm-unsafe-eval'); styles, requests and live streams from this site;
/// images from here and GitHub (avatars); forms to here and GitHub (installing
/// the App redirects there); no framing, no plugins, no `<base>`.
pub fn page_policy(nonce: &str, github_web: &str) -> String {
    format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data: {github_web} https://avatars.githubusercontent.com; \
         connect-src 'self'; form-action 'self' {github_web}; frame-ancestors 'none'; \
         object-src 'none'; base-uri 'none'"
    )
}

/// What answers carry when nothing made a page of them: nothing may load.
const NOTHING_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// The nonce of the page an answer may be: minted for every request to the
/// pages before it is handled, given to Leptos for the page's scripts
/// (`provide_page_nonce`), and named in the page's policy by `page_policy_header`.
/// Deciding the policy there, not while the page renders, means no page can
/// go out without it.
#[derive(Clone)]
struct PageNonce(leptos::nonce::Nonce);

/// Makes the request's nonce the one Leptos writes on the page's scripts (it
/// would otherwise mint one of its own); run as the pages' additional context.
pub fn provide_page_nonce() {
    use leptos::prelude::{provide_context, use_context};
    if let Some(PageNonce(nonce)) =
        use_context::<axum::http::request::Parts>().and_then(|parts| parts.extensions.get::<PageNonce>().cloned())
    {
        provide_context(nonce);
    }
}

/// The policy of a page (an HTML answer from the pages' routes), naming the
/// nonce minted for it; only the pages pay for a nonce, not GitHub's deliveries.
pub async fn page_policy_header(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let nonce = leptos::nonce::Nonce::new();
    request.extensions_mut().insert(PageNonce(nonce.clone()));
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let page = headers.get(header::CONTENT_TYPE).is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    if page && !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        let github_web = url::Url::parse(&state.github.config().web_url)
            .map(|url| url.origin().ascii_serialization())
            .unwrap_or_default();
        if let Ok(value) = HeaderValue::from_str(&page_policy(&nonce, &github_web)) {
            headers.insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    response
}

/// Headers on every answer. A signed-in person's pages and data are never
/// stored by a browser or proxy (`no-store`): the next person at a shared
/// computer must not find them with the back button.
pub async fn security_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let signed_in = cookie(request.headers(), super::accounts::session::COOKIE_NAME).is_some();
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(NOTHING_POLICY));
    if state.over_https() {
        headers
            .insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
    // Pages, live streams, the JSON API, and server functions' answers (postcard) and errors.
    let dynamic = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| {
        ["text/html", "application/json", "application/x-postcard", "text/plain", "text/event-stream"]
            .iter()
            .any(|d| t.starts_with(d))
    });
    if signed_in && dynamic {
        headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    }
    response
}

/// The value of the cookie `name` the request carries, if any.
pub fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(tower_sessions::cookie::Cookie::split_parse)
        .flatten()
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
}

/// The client's address: the TCP peer, unless the peer is a trusted proxy; then
/// `X-Forwarded-For` is read from the right (each proxy appends the address it
/// heard from) up to the first hop that is not a trusted proxy. What lies left
/// of that hop was written by the client and proves nothing.
pub fn client_ip(peer: IpAddr, headers: &axum::http::HeaderMap, trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut client = peer.to_canonical();
    if !is_trusted(&client) {
        return client;
    }
    let values: Vec<String> = headers
        .get_all("x-forwarded-for")
        .iter()
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .collect();
    for hop in values.iter().flat_map(|value| value.split(',')).rev() {
        let hop = hop.trim();
        let Some(ip) = hop.parse::<IpAddr>().ok().or_else(|| hop.parse::<SocketAddr>().ok().map(|a| a.ip())) else {
            break; // unreadable: the last hop that could be read stands
        };
        client = ip.to_canonical();
        if !is_trusted(&client) {
            break;
        }
    }
    client
}

/// A change must come from forgelink's own origin: with `FORGELINK_PUBLIC_URL`
/// set, its scheme, host and port exactly; without it (a laptop, where
/// `localhost` and `127.0.0.1` both serve), the host the request was sent to.
pub async fn same_origin_only(State(state): State<AppState>, request: Request, next: Next) -> Response {
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
        (Some(url), _) if state.public_url_configured => url.origin().ascii_serialization() == state.public_url,
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
            let body =
                serde_json::json!({ "statusCode": 403, "statusMessage": "Forbidden", "data": { "message": message } });
            (StatusCode::FORBIDDEN, axum::Json(body)).into_response()
        } else {
            (StatusCode::FORBIDDEN, message).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        assert_eq!(client_ip(ip("203.0.113.9"), &forwarded(&["198.51.100.1"]), &[]), ip("203.0.113.9"));
    }

    #[test]
    fn behind_trusted_proxies_the_first_untrusted_hop_from_the_right_is_the_client() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        let via = |values: &[&str]| client_ip(ip("10.0.0.1"), &forwarded(values), &trusted);
        assert_eq!(via(&["198.51.100.7"]), ip("198.51.100.7"));
        // The client wrote the leftmost entries; the proxies appended the rest.
        assert_eq!(via(&["1.1.1.1, 198.51.100.7, 10.0.0.2"]), ip("198.51.100.7"));
        assert_eq!(via(&["1.1.1.1", "198.51.100.7:4711"]), ip("198.51.100.7"));
        assert_eq!(via(&["nonsense, 198.51.100.7"]), ip("198.51.100.7"));
        assert_eq!(via(&["198.51.100.7, nonsense"]), ip("10.0.0.1"), "the proxy is the last hop known");
        assert_eq!(via(&[]), ip("10.0.0.1"));
        assert_eq!(via(&["::ffff:198.51.100.7"]), ip("198.51.100.7"));
    }

    #[test]
    fn an_untrusted_peer_cannot_claim_another_address() {
        let trusted = ["10.0.0.1".parse::<IpAddr>().unwrap().into()];
        assert_eq!(client_ip(ip("10.0.0.5"), &forwarded(&["198.51.100.7"]), &trusted), ip("10.0.0.5"));
    }
}
