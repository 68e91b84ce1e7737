//! Credentials as GitHub checks them: App JWTs (RS256, `iat`/`exp`/`iss` rules),
//! user and installation tokens, GitHub's error bodies, and rate-limit headers.

use std::collections::HashMap;

use axum::{
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

use super::{
    world::{Grant, Id},
    Simulator,
};

/// An error as GitHub's REST API answers it.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub headers: HeaderMap,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), headers: HeaderMap::new() }
    }

    pub fn bad_credentials() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Bad credentials")
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not Found")
    }

    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({
            "message": self.message,
            "documentation_url": "https://docs.github.com/rest",
            "status": self.status.as_u16().to_string(),
        }));
        (self.status, self.headers, body).into_response()
    }
}

/// The token in `Authorization: Bearer …` or `Authorization: token …`.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token"))
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// Longest lifetime GitHub accepts for an App JWT, in seconds.
const MAX_JWT_LIFETIME: i64 = 600;
/// Clock drift GitHub tolerates on `iat`.
const CLOCK_DRIFT: i64 = 60;

impl Simulator {
    /// Checks an App JWT: RS256 signed by the App's key, `iat` in the past,
    /// `exp` in the future and at most 10 minutes ahead, `iss` the App id or client id.
    pub fn verify_app_jwt(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let token = bearer(headers)
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "A JSON web token could not be decoded"))?;
        let config = self.config();
        let key = DecodingKey::from_rsa_pem(config.public_key_pem.as_bytes()).map_err(|_| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the simulated App has no valid public key")
        })?;
        // The time claims are checked below with GitHub's own messages.
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
            .map_err(|_| ApiError::new(StatusCode::UNAUTHORIZED, "A JSON web token could not be decoded"))?
            .claims;

        let now = Utc::now().timestamp();
        let iat = claims.get("iat").and_then(Value::as_i64).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued.",
            )
        })?;
        let exp = claims.get("exp").and_then(Value::as_i64).ok_or_else(|| {
            ApiError::new(StatusCode::UNAUTHORIZED, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires.")
        })?;
        if iat > now + CLOCK_DRIFT {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "'Issued at' claim ('iat') must be an Integer representing a time in the past.",
            ));
        }
        if exp <= now {
            return Err(ApiError::new(StatusCode::UNAUTHORIZED, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires."));
        }
        if exp - now > MAX_JWT_LIFETIME || exp - iat > MAX_JWT_LIFETIME + CLOCK_DRIFT {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "'Expiration time' claim ('exp') is too far in the future",
            ));
        }
        let issuer_matches = match claims.get("iss") {
            Some(Value::Number(n)) => n.as_u64() == Some(config.app.id),
            Some(Value::String(s)) => *s == config.app.id.to_string() || *s == config.app.client_id,
            _ => false,
        };
        if !issuer_matches {
            return Err(ApiError::new(StatusCode::UNAUTHORIZED, "Integration not found"));
        }
        Ok(())
    }

    /// The grant behind the request's token, or GitHub's 401.
    pub fn token_grant(&self, headers: &HeaderMap) -> Result<Grant, ApiError> {
        let token = bearer(headers).ok_or_else(ApiError::bad_credentials)?;
        self.world().grant_for(token).cloned().ok_or_else(ApiError::bad_credentials)
    }

    pub fn user_of(&self, headers: &HeaderMap) -> Result<Id, ApiError> {
        match self.token_grant(headers)? {
            Grant::User { user_id } => Ok(user_id),
            Grant::Installation { .. } => {
                Err(ApiError::new(StatusCode::FORBIDDEN, "Resource not accessible by integration"))
            }
        }
    }

    pub fn installation_of(&self, headers: &HeaderMap) -> Result<Id, ApiError> {
        match self.token_grant(headers)? {
            Grant::Installation { installation_id } => Ok(installation_id),
            Grant::User { .. } => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "You must authenticate with an installation access token in order to list repositories for an installation.",
            )),
        }
    }

    /// Counts a request against its credential's hourly budget; `Err` once spent.
    pub fn count_request(&self, headers: &HeaderMap) -> Result<HeaderMap, ApiError> {
        let key = bearer(headers).unwrap_or("anonymous").to_owned();
        let limit = if key == "anonymous" { 60 } else { RATE_LIMIT };
        let mut limits = self.inner.rate_limits.lock().unwrap_or_else(|p| p.into_inner());
        let now = Utc::now().timestamp();
        let window = limits.windows.entry(key).or_insert((now + 3600, 0));
        if window.0 <= now {
            *window = (now + 3600, 0);
        }
        window.1 += 1;
        let (reset, used) = *window;
        let headers = rate_limit_headers(limit, used.min(limit), reset);
        if used > limit {
            let mut error = ApiError::new(StatusCode::FORBIDDEN, "API rate limit exceeded");
            error.headers = headers;
            return Err(error);
        }
        Ok(headers)
    }
}

const RATE_LIMIT: u64 = 5000;

#[derive(Default)]
pub struct RateLimits {
    /// credential → (window reset time, requests used in the window)
    windows: HashMap<String, (i64, u64)>,
}

pub fn rate_limit_headers(limit: u64, used: u64, reset: i64) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("x-ratelimit-limit", limit.to_string());
    set("x-ratelimit-remaining", limit.saturating_sub(used).to_string());
    set("x-ratelimit-reset", reset.to_string());
    set("x-ratelimit-used", used.to_string());
    set("x-ratelimit-resource", "core".to_owned());
    headers
}
