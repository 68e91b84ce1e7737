//! A simulated GitHub App for tests: a fresh RSA key pair, secrets, and a
//! simulator on a free port that delivers webhooks to a recording receiver.
#![allow(dead_code)]

use std::{
    net::SocketAddr,
    process::Command,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use axum::{body::Bytes, extract::State, http::HeaderMap, routing::post, Router};
use github_sim::{self, payloads::AppIdentity, RunningSimulator, SimConfig};
use serde_json::{json, Value};

pub struct KeyPair {
    pub private_pem: String,
    pub public_pem: String,
}

/// An RSA key pair made by `openssl` (PKCS#1 private key, as GitHub hands out).
fn generate_key() -> KeyPair {
    let private = Command::new("openssl")
        .args(["genrsa", "-traditional", "2048"])
        .output()
        .expect("openssl is installed (scripts/setup)");
    assert!(private.status.success(), "openssl genrsa failed");
    let mut public = Command::new("openssl")
        .args(["rsa", "-pubout"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("openssl rsa");
    use std::io::Write;
    public.stdin.take().unwrap().write_all(&private.stdout).unwrap();
    let public = public.wait_with_output().unwrap();
    KeyPair {
        private_pem: String::from_utf8(private.stdout).unwrap(),
        public_pem: String::from_utf8(public.stdout).unwrap(),
    }
}

/// The App's key, made once per test binary.
pub fn app_key() -> &'static KeyPair {
    static KEY: OnceLock<KeyPair> = OnceLock::new();
    KEY.get_or_init(generate_key)
}

/// A key GitHub does not know.
pub fn other_key() -> &'static KeyPair {
    static KEY: OnceLock<KeyPair> = OnceLock::new();
    KEY.get_or_init(generate_key)
}

pub const APP_ID: u64 = 4242;
pub const CLIENT_ID: &str = "Iv23liSimulatedClient";
pub const CLIENT_SECRET: &str = "sim-client-secret";
pub const WEBHOOK_SECRET: &str = "sim-webhook-secret";

#[derive(Clone, Debug)]
pub struct ReceivedHook {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl ReceivedHook {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("webhook bodies are JSON")
    }
}

/// Records every webhook delivery and answers 202.
#[derive(Clone, Default)]
pub struct Receiver {
    pub hooks: Arc<Mutex<Vec<ReceivedHook>>>,
}

impl Receiver {
    pub async fn spawn(&self) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route(
                "/webhooks/github",
                post(|State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes| async move {
                    receiver.hooks.lock().unwrap().push(ReceivedHook { headers, body });
                    axum::http::StatusCode::ACCEPTED
                }),
            )
            .with_state(self.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }

    /// Waits until `count` deliveries have arrived (at most 10 s) and returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<ReceivedHook> {
        for _ in 0..200 {
            let hooks = self.hooks.lock().unwrap().clone();
            if hooks.len() >= count {
                return hooks;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {count} webhook deliveries, got {}", self.hooks.lock().unwrap().len());
    }

    pub fn received(&self) -> Vec<ReceivedHook> {
        self.hooks.lock().unwrap().clone()
    }
}

pub fn sim_config(webhook_url: String, forgelink: &str) -> SimConfig {
    SimConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        public_url: None,
        app: AppIdentity {
            id: APP_ID,
            slug: "forgelink-test".into(),
            name: "forgelink (test)".into(),
            client_id: CLIENT_ID.into(),
        },
        client_secret: CLIENT_SECRET.into(),
        webhook_secret: WEBHOOK_SECRET.into(),
        public_key_pem: app_key().public_pem.clone(),
        webhook_url,
        setup_url: format!("{forgelink}/integrations/github/setup"),
        callback_url: format!("{forgelink}/auth/github/callback"),
        state_file: None,
        large_org_repos: None,
    }
}

/// A simulator whose webhooks go to a fresh recording receiver.
pub struct SimHarness {
    pub sim: RunningSimulator,
    pub receiver: Receiver,
    pub web: String,
    pub api: String,
    pub http: reqwest::Client,
}

impl SimHarness {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut SimConfig)) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve_on(listener, adjust).await
    }

    /// Serves on a listener bound earlier (so forgelink can be told its address first).
    pub async fn serve_on(listener: tokio::net::TcpListener, adjust: impl FnOnce(&mut SimConfig)) -> Self {
        let receiver = Receiver::default();
        let receiver_addr = receiver.spawn().await;
        let mut config = sim_config(format!("http://{receiver_addr}/webhooks/github"), "http://127.0.0.1:3000");
        adjust(&mut config);
        let sim = github_sim::serve(listener, config).expect("the simulator starts");
        let web = format!("http://{}", sim.addr);
        Self {
            api: format!("{web}/api/v3"),
            web,
            sim,
            receiver,
            http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
        }
    }

    /// An App JWT with the given claims, signed by `key`.
    pub fn jwt_with(&self, claims: Value, key: &KeyPair) -> String {
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(key.private_pem.as_bytes()).unwrap();
        jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256), &claims, &key).unwrap()
    }

    /// A valid App JWT, as GitHub's docs recommend: `iat` 60 s back, `exp` 9 minutes ahead.
    pub fn jwt(&self) -> String {
        let now = chrono::Utc::now().timestamp();
        self.jwt_with(json!({ "iat": now - 60, "exp": now + 540, "iss": APP_ID }), app_key())
    }

    pub async fn api_get(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.api))
            .bearer_auth(token)
            .header("accept", "application/vnd.github+json")
            .send()
            .await
            .unwrap()
    }

    pub async fn api_post(&self, path: &str, token: &str, body: Value) -> reqwest::Response {
        self.http.post(format!("{}{path}", self.api)).bearer_auth(token).json(&body).send().await.unwrap()
    }

    /// Signs in on the simulator's web side; returns the cookie to send.
    pub async fn sign_in(&self, login: &str) -> String {
        let response = self
            .http
            .post(format!("{}/login", self.web))
            .form(&[("login", login), ("return_to", "/")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "sign-in redirects");
        let cookie = response.headers()["set-cookie"].to_str().unwrap();
        cookie.split(';').next().unwrap().to_owned()
    }

    /// Posts a form as the signed-in user; returns the response (redirects not followed).
    pub async fn post_form(&self, cookie: &str, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http.post(format!("{}{path}", self.web)).header("cookie", cookie).form(form).send().await.unwrap()
    }

    /// Installs the App through the control API (as if clicked through).
    pub async fn install(&self, account: &str, sender: &str, repositories: Option<&[&str]>) -> u64 {
        self.install_requested(account, sender, None, repositories).await
    }

    /// Installs as `sender` (an owner) approving `requester`'s request, if given.
    pub async fn install_requested(
        &self,
        account: &str,
        sender: &str,
        requester: Option<&str>,
        repositories: Option<&[&str]>,
    ) -> u64 {
        let response = self
            .http
            .post(format!("{}/_sim/installations", self.web))
            .json(
                &json!({ "account": account, "sender": sender, "requester": requester, "repositories": repositories }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        response.json::<Value>().await.unwrap()["id"].as_u64().unwrap()
    }

    /// Mints an installation token with an App JWT.
    pub async fn installation_token(&self, installation_id: u64) -> String {
        let response =
            self.api_post(&format!("/app/installations/{installation_id}/access_tokens"), &self.jwt(), json!({})).await;
        assert_eq!(response.status(), 201);
        response.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
    }
}
