//! How the site's files and answers travel. The static files are served
//! precompressed (`cargo leptos build --precompress` writes `.br` and `.gz`
//! beside each; leptos_axum's file handler picks one by `Accept-Encoding`).
//! Files with a content hash in their name (`hash-files`) are cached for a
//! year; any other file is revalidated every time, by `ETag`. Pages, server
//! functions and JSON are compressed on the fly; live streams
//! (`text/event-stream`) never are, so their messages are not held back.

use std::{path::PathBuf, sync::Arc};

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use leptos::config::LeptosOptions;
use sha2::{Digest, Sha256};
use tower_http::compression::CompressionLayer;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// Where the files named by their content's hash are served: cargo-leptos
/// (`hash-files`) names every file it writes to the package folder so
/// (`/pkg/forgelink.<hash>.wasm`, and split-off chunks), except wasm-bindgen's
/// snippets, which the WASM asks for by their plain names.
#[derive(Clone, Debug)]
pub struct HashedFiles(Option<Arc<str>>);

impl HashedFiles {
    pub fn from_options(options: &LeptosOptions) -> Self {
        Self(options.hash_files.then(|| format!("/{}/", options.site_pkg_dir).into()))
    }

    fn contains(&self, path: &str) -> bool {
        self.0.as_deref().and_then(|pkg| path.strip_prefix(pkg)).is_some_and(|file| !file.starts_with("snippets/"))
    }
}

/// Where Leptos looks for the hash file: beside the running binary, unless
/// the name given is absolute.
pub fn hash_file_path(name: &str) -> PathBuf {
    let beside = std::env::current_exe().ok().and_then(|exe| exe.parent().map(PathBuf::from)).unwrap_or_default();
    beside.join(name)
}

/// Compresses answers the client accepts compressed (brotli or gzip), except
/// images, tiny bodies, bodies already encoded (the precompressed files) and
/// server-sent events. Streamed pages stay streamed: the encoder flushes
/// whenever the page waits for more.
pub fn compression() -> CompressionLayer {
    CompressionLayer::new()
}

/// Cache headers for the static files: a year for hashed names; for the rest,
/// an `ETag` and `no-cache`, answered `304 Not Modified` when it matches.
pub async fn cache_headers(State(hashed): State<HashedFiles>, request: Request, next: Next) -> Response {
    let hashed = hashed.contains(request.uri().path());
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    let mut response = next.run(request).await;
    let served = matches!(response.status(), StatusCode::OK | StatusCode::NOT_MODIFIED);
    // Only the file handler's answers carry Last-Modified; pages never do.
    if !served || !response.headers().contains_key(header::LAST_MODIFIED) {
        return response;
    }
    // The file handler picks a precompressed copy by Accept-Encoding without saying so to caches.
    response.headers_mut().entry(header::VARY).or_insert(HeaderValue::from_static("accept-encoding"));
    if hashed {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
        return response;
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE));
    let Some(tag) = entity_tag(response.headers()) else { return response };
    if if_none_match.as_ref().is_some_and(|given| matches_tag(given, &tag)) {
        let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
        for name in [header::CACHE_CONTROL, header::LAST_MODIFIED, header::VARY] {
            if let Some(value) = response.headers().get(&name) {
                not_modified.headers_mut().insert(name, value.clone());
            }
        }
        not_modified.headers_mut().insert(header::ETAG, tag);
        return not_modified;
    }
    response.headers_mut().insert(header::ETAG, tag);
    response
}

/// A weak tag of what identifies a file's version as served: its modification
/// time, length and encoding (each encoding is its own representation).
fn entity_tag(headers: &HeaderMap) -> Option<HeaderValue> {
    let mut digest = Sha256::new();
    for name in [header::LAST_MODIFIED, header::CONTENT_LENGTH] {
        digest.update(headers.get(&name)?.as_bytes());
        digest.update([0]);
    }
    digest.update(headers.get(header::CONTENT_ENCODING).map(HeaderValue::as_bytes).unwrap_or_default());
    HeaderValue::from_str(&format!("W/\"{}\"", &hex::encode(digest.finalize())[..20])).ok()
}

/// `If-None-Match` compared weakly, as RFC 9110 asks for GET: a list of tags or `*`.
fn matches_tag(given: &HeaderValue, tag: &HeaderValue) -> bool {
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let (Ok(given), Ok(tag)) = (given.to_str(), tag.to_str()) else { return false };
    given.split(',').any(|candidate| candidate.trim() == "*" || opaque(candidate) == opaque(tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_is_compared_weakly_and_as_a_list() {
        let tag = HeaderValue::from_static("W/\"abc\"");
        for given in ["W/\"abc\"", "\"abc\"", "\"x\", W/\"abc\"", "*"] {
            assert!(matches_tag(&HeaderValue::from_static(given), &tag), "{given}");
        }
        for given in ["W/\"abd\"", "\"x\"", ""] {
            assert!(!matches_tag(&HeaderValue::from_static(given), &tag), "{given}");
        }
    }

    #[test]
    fn each_encoding_of_a_file_has_its_own_tag() {
        let mut headers = HeaderMap::new();
        headers.insert(header::LAST_MODIFIED, HeaderValue::from_static("Sun, 06 Dec 2026 02:00:00 GMT"));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("1200"));
        let plain = entity_tag(&headers).unwrap();
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
        let brotli = entity_tag(&headers).unwrap();
        assert_ne!(plain, brotli);
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("1201"));
        assert_ne!(entity_tag(&headers).unwrap(), brotli, "another length is another version");
        headers.remove(header::LAST_MODIFIED);
        assert!(entity_tag(&headers).is_none(), "nothing to tag without a modification time");
    }
}
