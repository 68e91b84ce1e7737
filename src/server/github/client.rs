//! The one HTTP client for GitHub: its web origin (OAuth) and its REST API,
//! each a base URL, so the simulator stands in for github.com unchanged.
//! One file for every call forgelink makes, with their shared paging, rate
//! limits and errors (and the tests of those), so that none drifts apart.

use std::{sync::Arc, time::Duration};

use serde::{de::DeserializeOwned, Deserialize};

use super::{
    config::GitHubConfig,
    events::{GitHubInstallation, Issue, IssueComment, Repository},
};

#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    #[error("GitHub did not answer: {0}")]
    Unreachable(#[source] reqwest::Error),
    #[error("GitHub answered {status}: {message}")]
    Status { status: u16, message: String },
    #[error("GitHub refused the OAuth request: {error} ({description})")]
    OAuth { error: String, description: String },
    #[error("GitHub's answer was not understood: {0}")]
    Decode(String),
    #[error("GitHub's rate limit is reached; it allows requests again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
}

impl GitHubError {
    /// A failure worth retrying later: GitHub unreachable or having trouble.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable(_) => true,
            Self::Status { status, .. } => *status >= 500 || *status == 429,
            Self::RateLimited { .. } => true,
            _ => false,
        }
    }
}

/// User access and refresh tokens, as the OAuth token endpoint returns them.
/// Not `Debug`: its plaintext must never reach a log.
#[derive(Clone, Deserialize)]
pub struct UserTokens {
    pub access_token: String,
    /// Seconds; absent when the App does not expire user tokens.
    pub expires_in: Option<i64>,
    pub refresh_token: Option<String>,
    pub refresh_token_expires_in: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GitHubUser {
    pub id: i64,
    pub login: String,
    pub avatar_url: String,
}

/// The signed-in user's place in an organization (`GET /user/memberships/orgs/{org}`).
#[derive(Debug, Clone, Deserialize)]
pub struct OrgMembership {
    /// `active`, or `pending` until an invitation is accepted.
    pub state: String,
    /// `admin` (an owner), `member` or `billing_manager`.
    pub role: String,
}

impl OrgMembership {
    /// An owner of the organization: may install and configure Apps on it.
    pub fn is_admin(&self) -> bool {
        self.state == "active" && self.role == "admin"
    }
}

/// One attempt to deliver a webhook, as `GET /app/hook/deliveries` lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct HookDelivery {
    pub id: i64,
    pub guid: String,
    pub delivered_at: chrono::DateTime<chrono::Utc>,
    pub status_code: u16,
    pub event: String,
    pub action: Option<String>,
}

/// An installation access token and when it stops working. Not `Debug`: its
/// plaintext must never reach a log.
#[derive(Clone, Deserialize)]
pub struct InstallationToken {
    pub token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// One page of `GET /installation/repositories`.
#[derive(Debug, Clone, Deserialize)]
pub struct RepositoryPage {
    pub total_count: i64,
    pub repositories: Vec<Repository>,
    /// The next page's URL, from the `Link` header.
    #[serde(skip)]
    pub next: Option<String>,
}

#[derive(Deserialize)]
struct UserInstallations {
    installations: Vec<GitHubInstallation>,
}

/// One page of a list read with a conditional request.
#[derive(Debug)]
pub enum Listed<T> {
    /// `304 Not Modified`: the same as when its ETag was given (no rate limit spent).
    NotModified,
    Page {
        items: Vec<T>,
        /// The next page's URL, from the `Link` header.
        next: Option<String>,
        etag: Option<String>,
    },
}

/// Retries of one request: 5xx answers and unreachable GitHub back off
/// (0.5 s, 1 s, 2 s); rate limits wait as GitHub says when that is short.
const ATTEMPTS: u32 = 4;
/// Longer waits than this are not spent holding a request: the caller is told
/// when to come back (a webhook handler's event is retried then).
const MAX_RATE_LIMIT_WAIT_SECS: u64 = 20;

/// Cheap to clone (every request's state holds one): the configuration is shared.
#[derive(Clone, Debug)]
pub struct GitHubClient {
    http: reqwest::Client,
    config: Arc<GitHubConfig>,
}

const USER_AGENT: &str = concat!("forgelink/", env!("CARGO_PKG_VERSION"));

impl GitHubClient {
    pub fn new(config: GitHubConfig) -> Self {
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .build()
            .expect("a TLS-capable HTTP client builds");
        Self { http, config: Arc::new(config) }
    }

    pub fn config(&self) -> &GitHubConfig {
        &self.config
    }

    /// Where to send a browser to authorize the App for its user.
    pub fn authorize_url(&self, redirect_uri: &str, state: &str) -> String {
        let mut url = url::Url::parse(&format!("{}/login/oauth/authorize", self.config.web_url))
            .expect("GITHUB_WEB_URL was validated at start-up");
        url.query_pairs_mut()
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", state);
        url.into()
    }

    pub async fn exchange_code(&self, code: &str, redirect_uri: &str) -> Result<UserTokens, GitHubError> {
        self.token_request(&[("code", code), ("redirect_uri", redirect_uri)]).await
    }

    /// Refresh tokens are single-use: store the new pair before using it.
    pub async fn refresh_user_token(&self, refresh_token: &str) -> Result<UserTokens, GitHubError> {
        self.token_request(&[("grant_type", "refresh_token"), ("refresh_token", refresh_token)]).await
    }

    async fn token_request(&self, params: &[(&str, &str)]) -> Result<UserTokens, GitHubError> {
        let mut form =
            vec![("client_id", self.config.client_id.as_str()), ("client_secret", self.config.client_secret.expose())];
        form.extend_from_slice(params);
        let response = self
            .http
            .post(format!("{}/login/oauth/access_token", self.config.web_url))
            .header("accept", "application/json")
            .form(&form)
            .send()
            .await
            .map_err(GitHubError::Unreachable)?;
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.map_err(|e| GitHubError::Decode(e.to_string()))?;
        // GitHub answers OAuth errors with 200 and an `error` field.
        if let Some(error) = body.get("error").and_then(|e| e.as_str()) {
            return Err(GitHubError::OAuth {
                error: error.to_owned(),
                description: body["error_description"].as_str().unwrap_or_default().to_owned(),
            });
        }
        if status >= 400 {
            return Err(GitHubError::Status { status, message: body.to_string() });
        }
        serde_json::from_value(body).map_err(|e| GitHubError::Decode(e.to_string()))
    }

    /// A JWT that authenticates as the App itself: RS256, issued a minute ago
    /// (clock drift), valid for 9 minutes (GitHub allows at most 10).
    pub fn app_jwt(&self) -> Result<String, GitHubError> {
        let now = chrono::Utc::now().timestamp();
        let claims = serde_json::json!({ "iat": now - 60, "exp": now + 540, "iss": self.config.client_id });
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(self.config.private_key_pem.expose().as_bytes())
            .map_err(|e| GitHubError::Decode(format!("the App's private key: {e}")))?;
        jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256), &claims, &key)
            .map_err(|e| GitHubError::Decode(format!("cannot sign the App JWT: {e}")))
    }

    /// Webhook delivery attempts, newest first, until `stop` says enough (it
    /// sees each page); follows the `Link` header's cursor.
    pub async fn hook_deliveries(
        &self,
        mut stop: impl FnMut(&[HookDelivery]) -> bool,
    ) -> Result<Vec<HookDelivery>, GitHubError> {
        let jwt = self.app_jwt()?;
        let mut url = format!("{}/app/hook/deliveries?per_page=100", self.config.api_url);
        let mut all = Vec::new();
        loop {
            let response = self.send(|| self.http.get(&url), &jwt).await?;
            let next = next_link(response.headers(), &self.config.api_url);
            let page: Vec<HookDelivery> = response.json().await.map_err(|e| GitHubError::Decode(e.to_string()))?;
            let done = page.is_empty() || stop(&page);
            all.extend(page);
            match next {
                Some(next) if !done => url = next,
                _ => return Ok(all),
            }
        }
    }

    /// Asks GitHub to deliver a webhook again (same `X-GitHub-Delivery`).
    pub async fn redeliver(&self, delivery_id: i64) -> Result<(), GitHubError> {
        let jwt = self.app_jwt()?;
        let url = format!("{}/app/hook/deliveries/{delivery_id}/attempts", self.config.api_url);
        self.send(|| self.http.post(&url), &jwt).await.map(|_| ())
    }

    /// Sends a request (built afresh for each attempt) with GitHub's headers,
    /// retrying what is worth retrying.
    async fn send(
        &self,
        request: impl Fn() -> reqwest::RequestBuilder,
        token: &str,
    ) -> Result<reqwest::Response, GitHubError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = request()
                .bearer_auth(token)
                .header("accept", "application/vnd.github+json")
                .header("x-github-api-version", "2022-11-28")
                .send()
                .await;
            let wait = match sent {
                Err(error) if attempt < ATTEMPTS && (error.is_connect() || error.is_timeout()) => backoff(attempt),
                Err(error) => return Err(GitHubError::Unreachable(error)),
                Ok(response) if response.status().as_u16() < 400 => return Ok(response),
                Ok(response) => {
                    let status = response.status().as_u16();
                    let limited = rate_limit_wait(status, response.headers());
                    let message = response
                        .json::<serde_json::Value>()
                        .await
                        .ok()
                        .and_then(|b| b["message"].as_str().map(str::to_owned))
                        .unwrap_or_default();
                    match limited {
                        Some(secs) if secs <= MAX_RATE_LIMIT_WAIT_SECS && attempt < ATTEMPTS => {
                            tracing::info!(status, wait_secs = secs, "GitHub rate limit; waiting as asked");
                            Duration::from_secs(secs)
                        }
                        Some(secs) => return Err(GitHubError::RateLimited { retry_after_secs: secs }),
                        None if status >= 500 && attempt < ATTEMPTS => backoff(attempt),
                        None => return Err(GitHubError::Status { status, message }),
                    }
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// `GET /user` with a user access token.
    pub async fn current_user(&self, user_token: &str) -> Result<GitHubUser, GitHubError> {
        self.get_json("/user", user_token).await
    }

    /// The user's membership of `org`; `None` when they are not in it (GitHub
    /// answers 404) or the App may not read it (403 without the Members permission).
    pub async fn own_membership(&self, user_token: &str, org: &str) -> Result<Option<OrgMembership>, GitHubError> {
        let path = format!(
            "/user/memberships/orgs/{}",
            url::form_urlencoded::byte_serialize(org.as_bytes()).collect::<String>()
        );
        match self.get_json(&path, user_token).await {
            Ok(membership) => Ok(Some(membership)),
            Err(GitHubError::Status { status: 403 | 404, .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn get_json<T: DeserializeOwned>(&self, path: &str, token: &str) -> Result<T, GitHubError> {
        let url = format!("{}{path}", self.config.api_url);
        let response = self.send(|| self.http.get(&url), token).await?;
        response.json().await.map_err(|e| GitHubError::Decode(e.to_string()))
    }

    /// `GET /repos/{full_name}/issues/{number}`: an issue (or a pull request, as an issue) as it is now.
    pub async fn issue(&self, token: &str, full_name: &str, number: i64) -> Result<Issue, GitHubError> {
        self.get_json(&format!("/repos/{full_name}/issues/{number}"), token).await
    }

    /// `GET /repos/{full_name}/issues/comments/{id}`: a comment as it is now.
    pub async fn issue_comment(&self, token: &str, full_name: &str, id: i64) -> Result<IssueComment, GitHubError> {
        self.get_json(&format!("/repos/{full_name}/issues/comments/{id}"), token).await
    }

    /// The first page URL of a repository's issues (pull requests among them)
    /// or issue comments (`what`: `issues` or `issues/comments`), oldest change
    /// first, changed at or after `since`.
    pub fn changes_url(&self, full_name: &str, what: &str, since: Option<chrono::DateTime<chrono::Utc>>) -> String {
        let state = if what == "issues" { "&state=all" } else { "" };
        let since = since
            .map_or(String::new(), |at| format!("&since={}", at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
        format!(
            "{}/repos/{full_name}/{what}?sort=updated&direction=asc&per_page=100{state}{since}",
            self.config.api_url
        )
    }

    /// The first page URL of one issue's comments, oldest first.
    pub fn issue_comments_url(&self, full_name: &str, number: i64) -> String {
        format!("{}/repos/{full_name}/issues/{number}/comments?per_page=100", self.config.api_url)
    }

    /// One page of a list (`url` from `changes_url` or a page's `next`), asked
    /// with `If-None-Match: etag` when one is given.
    pub async fn list_page<T: DeserializeOwned>(
        &self,
        token: &str,
        url: &str,
        etag: Option<&str>,
    ) -> Result<Listed<T>, GitHubError> {
        let response = self
            .send(
                || {
                    let request = self.http.get(url);
                    match etag {
                        Some(etag) => request.header("if-none-match", etag),
                        None => request,
                    }
                },
                token,
            )
            .await?;
        if response.status() == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(Listed::NotModified);
        }
        let next = next_link(response.headers(), &self.config.api_url);
        let etag = response.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let items = response.json().await.map_err(|e| GitHubError::Decode(e.to_string()))?;
        Ok(Listed::Page { items, next, etag })
    }

    /// Mints an installation access token (valid an hour) with the App's JWT.
    pub async fn create_installation_token(&self, installation_id: i64) -> Result<InstallationToken, GitHubError> {
        let jwt = self.app_jwt()?;
        let url = format!("{}/app/installations/{installation_id}/access_tokens", self.config.api_url);
        let response = self.send(|| self.http.post(&url), &jwt).await?;
        response.json().await.map_err(|e| GitHubError::Decode(e.to_string()))
    }

    /// Every installation of this App the user can see (all pages): how a
    /// setup redirect's `installation_id` is confirmed.
    pub async fn user_installations(&self, user_token: &str) -> Result<Vec<GitHubInstallation>, GitHubError> {
        let mut url = format!("{}/user/installations?per_page=100", self.config.api_url);
        let mut all = Vec::new();
        loop {
            let response = self.send(|| self.http.get(&url), user_token).await?;
            let next = next_link(response.headers(), &self.config.api_url);
            let page: UserInstallations = response.json().await.map_err(|e| GitHubError::Decode(e.to_string()))?;
            let empty = page.installations.is_empty();
            all.extend(page.installations);
            match next {
                Some(next) if !empty => url = next,
                _ => return Ok(all),
            }
        }
    }

    /// One page of the installation's repositories (100 a page); `page_url`
    /// is the previous page's `next`, or `None` for the first.
    pub async fn installation_repositories(
        &self,
        token: &str,
        page_url: Option<&str>,
    ) -> Result<RepositoryPage, GitHubError> {
        let url = page_url
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{}/installation/repositories?per_page=100", self.config.api_url));
        let response = self.send(|| self.http.get(&url), token).await?;
        let next = next_link(response.headers(), &self.config.api_url);
        let mut page: RepositoryPage = response.json().await.map_err(|e| GitHubError::Decode(e.to_string()))?;
        page.next = next;
        Ok(page)
    }
}

/// 0.5 s, 1 s, 2 s… with up to a quarter added, so retries of many callers spread.
fn backoff(attempt: u32) -> Duration {
    let base = 250u64 << attempt.min(6);
    Duration::from_millis(base + rand::random_range(0..=base / 4))
}

/// How long GitHub asks us to wait, if this answer is a rate limit: a 403 or
/// 429 with `retry-after` (secondary limits), or with no requests remaining
/// until `x-ratelimit-reset`; a 429 saying neither waits a minute.
fn rate_limit_wait(status: u16, headers: &reqwest::header::HeaderMap) -> Option<u64> {
    if status != 403 && status != 429 {
        return None;
    }
    let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<i64>().ok();
    if let Some(secs) = number("retry-after") {
        return Some(secs.max(0) as u64);
    }
    if number("x-ratelimit-remaining") == Some(0) {
        let reset = number("x-ratelimit-reset")?;
        return Some((reset - chrono::Utc::now().timestamp()).clamp(1, 3600) as u64);
    }
    (status == 429).then_some(60)
}

/// The `rel="next"` URL of a `Link` header, if it is on GitHub's API (`api`,
/// scheme, host, port and base path): the next request carries our token, so
/// a page (or anyone between) cannot send it elsewhere.
fn next_link(headers: &reqwest::header::HeaderMap, api: &str) -> Option<String> {
    let next = headers
        .get("link")?
        .to_str()
        .ok()?
        .split(',')
        .find(|part| part.contains("rel=\"next\""))
        .and_then(|part| part.trim().strip_prefix('<')?.split('>').next().map(str::to_owned))?;
    let (parsed, api) = (url::Url::parse(&next).ok()?, url::Url::parse(api).ok()?);
    let on_api = parsed.origin() == api.origin() && parsed.path().starts_with(api.path().trim_end_matches('/'));
    if !on_api {
        tracing::warn!(next = %parsed.origin().ascii_serialization(), "a Link header pointed away from GitHub's API; not followed");
    }
    on_api.then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> reqwest::header::HeaderMap {
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, value.parse().unwrap());
        }
        headers
    }

    fn link(value: &str) -> reqwest::header::HeaderMap {
        headers(&[("link", value)])
    }

    #[test]
    fn the_next_page_is_followed_only_on_githubs_api() {
        let api = "https://api.github.com";
        let next = |url: &str| next_link(&link(&format!(r#"<{url}>; rel="next", <{api}/x?page=9>; rel="last""#)), api);
        assert_eq!(
            next("https://api.github.com/app/hook/deliveries?cursor=v1_2").as_deref(),
            Some("https://api.github.com/app/hook/deliveries?cursor=v1_2")
        );
        for elsewhere in [
            "https://evil.example/steal",
            "http://api.github.com/x",
            "https://api.github.com.evil.example/x",
            "https://api.github.com:8443/x",
        ] {
            assert_eq!(next(elsewhere), None, "{elsewhere}");
        }
        let enterprise = "https://ghe.example.com/api/v3";
        let next = |url: &str| next_link(&link(&format!(r#"<{url}>; rel="next""#)), enterprise);
        assert!(next("https://ghe.example.com/api/v3/installation/repositories?page=2").is_some());
        assert_eq!(next("https://ghe.example.com/login?return_to=x"), None, "not under the API's path");
    }

    #[test]
    fn retries_back_off_doubling_with_up_to_a_quarter_added() {
        for (attempt, base) in [(1, 500), (2, 1000), (3, 2000), (9, 16_000)] {
            for _ in 0..50 {
                let wait = backoff(attempt).as_millis() as u64;
                assert!((base..=base + base / 4).contains(&wait), "attempt {attempt}: {wait} ms");
            }
        }
    }

    #[test]
    fn rate_limits_are_read_as_github_sends_them() {
        let none = headers(&[]);
        assert_eq!(rate_limit_wait(429, &none), Some(60), "a 429 saying nothing waits a minute");
        assert_eq!(rate_limit_wait(403, &none), None, "a 403 saying nothing is a refusal");
        assert_eq!(rate_limit_wait(500, &headers(&[("retry-after", "5")])), None);
        assert_eq!(rate_limit_wait(403, &headers(&[("retry-after", "7")])), Some(7));
        let reset = (chrono::Utc::now().timestamp() + 90).to_string();
        let primary = headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", &reset)]);
        assert!((89..=90).contains(&rate_limit_wait(403, &primary).unwrap()));
        let past = headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "0")]);
        assert_eq!(rate_limit_wait(429, &past), Some(1), "a reset already past waits a second");
        let left = headers(&[("x-ratelimit-remaining", "12"), ("x-ratelimit-reset", &reset)]);
        assert_eq!(rate_limit_wait(403, &left), None, "requests left: not a rate limit");
    }

    /// Whether a type implements `Debug`, answered where the type is known
    /// (a method on the reference wins only when the bound holds).
    struct Probe<T>(std::marker::PhantomData<T>);
    trait IsDebug {
        fn is_debug(&self) -> bool {
            true
        }
    }
    impl<T: std::fmt::Debug> IsDebug for Probe<T> {}
    trait NotDebug {
        fn is_debug(&self) -> bool {
            false
        }
    }
    impl<T> NotDebug for &Probe<T> {}

    #[test]
    #[allow(clippy::needless_borrow)] // the borrow is the probe: it picks which trait's method is found
    fn plaintext_tokens_cannot_be_logged_with_debug() {
        assert!(!(&Probe::<UserTokens>(std::marker::PhantomData)).is_debug());
        assert!(!(&Probe::<InstallationToken>(std::marker::PhantomData)).is_debug());
        assert!((&Probe::<GitHubUser>(std::marker::PhantomData)).is_debug(), "the probe tells the two apart");
    }
}
