//! The GitHub App forgelink acts as, and where GitHub lives: github.com by
//! default, the simulator when `scripts/run` finds no App configured.

use crate::server::config::ConfigError;
pub use crate::server::config::Secret;

#[derive(Clone, Debug)]
pub struct GitHubConfig {
    /// REST API base, e.g. `https://api.github.com` or `http://127.0.0.1:3100/api/v3`.
    pub api_url: String,
    /// Web base for browser redirects, e.g. `https://github.com`.
    pub web_url: String,
    pub app_id: u64,
    pub app_slug: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// Every secret accepted on incoming webhooks; several during a rotation.
    pub webhook_secrets: Vec<Secret>,
    /// The App's private key (PEM), read from `GITHUB_PRIVATE_KEY_PATH`.
    pub private_key_pem: Secret,
}

impl GitHubConfig {
    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |var: &'static str| {
            lookup(var).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).ok_or(ConfigError::Missing(var))
        };
        let invalid = |var: &'static str, reason: String| ConfigError::Invalid { var, reason };
        let url = |var: &'static str, default: &str| -> Result<String, ConfigError> {
            let value = lookup(var).unwrap_or_else(|| default.to_owned());
            let parsed = url::Url::parse(value.trim()).map_err(|e| invalid(var, format!("{value:?}: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(invalid(var, "must be an http(s) URL".into()));
            }
            Ok(value.trim().trim_end_matches('/').to_owned())
        };

        let app_id = required("GITHUB_APP_ID")?;
        let app_id = app_id.parse().map_err(|_| invalid("GITHUB_APP_ID", format!("{app_id:?} is not a number")))?;
        let webhook_secrets: Vec<Secret> = required("GITHUB_WEBHOOK_SECRET")?
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Secret::new)
            .collect();
        if webhook_secrets.is_empty() {
            return Err(invalid("GITHUB_WEBHOOK_SECRET", "no secret given".into()));
        }
        let key_path = required("GITHUB_PRIVATE_KEY_PATH")?;
        let private_key_pem = std::fs::read_to_string(&key_path)
            .map_err(|e| invalid("GITHUB_PRIVATE_KEY_PATH", format!("{key_path}: {e}")))?;
        jsonwebtoken::EncodingKey::from_rsa_pem(private_key_pem.as_bytes())
            .map_err(|e| invalid("GITHUB_PRIVATE_KEY_PATH", format!("{key_path} is not an RSA private key: {e}")))?;

        Ok(Self {
            api_url: url("GITHUB_API_URL", "https://api.github.com")?,
            web_url: url("GITHUB_WEB_URL", "https://github.com")?,
            app_id,
            app_slug: required("GITHUB_APP_SLUG")?,
            client_id: required("GITHUB_CLIENT_ID")?,
            client_secret: Secret::new(required("GITHUB_CLIENT_SECRET")?),
            webhook_secrets,
            private_key_pem: Secret::new(private_key_pem),
        })
    }
}
