//! Webhook deliveries as GitHub makes them, signed with the test App's secret,
//! and the example payloads GitHub publishes (`@octokit/webhooks-examples`, MIT).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{github::WEBHOOK_SECRET, TestApp};

/// The test App's webhook, as `X-GitHub-Hook-Id` names it.
const HOOK_ID: i64 = 4242;

/// One delivery, every part of it public so that a test can tamper with what is sent.
pub struct Delivery<'a> {
    pub event: &'a str,
    /// `X-GitHub-Delivery`: fresh for each delivery, the same for a redelivery.
    pub id: String,
    pub hook_id: i64,
    pub body: Vec<u8>,
    /// What `X-Hub-Signature-256` is made with.
    pub secret: &'a str,
}

impl<'a> Delivery<'a> {
    /// `payload` as GitHub delivers it: a fresh id, signed with the App's secret.
    pub fn new(event: &'a str, payload: impl Serialize) -> Self {
        Self {
            event,
            id: uuid::Uuid::new_v4().to_string(),
            hook_id: HOOK_ID,
            body: serde_json::to_vec(&payload).unwrap(),
            secret: WEBHOOK_SECRET,
        }
    }

    /// The signed request to the webhook URL of the server at `base` (`http://host:port`).
    pub fn request(&self, client: &reqwest::Client, base: &str) -> reqwest::RequestBuilder {
        client
            .post(format!("{base}/webhooks/github"))
            .header("x-github-event", self.event)
            .header("x-github-delivery", &self.id)
            .header("x-github-hook-id", self.hook_id.to_string())
            .header("x-hub-signature-256", github_sim::signature_256(self.secret, &self.body))
            .header("content-type", "application/json")
            .body(self.body.clone())
    }

    /// Delivers to `app`; its answer.
    pub async fn post(&self, app: &TestApp) -> reqwest::Response {
        self.request(&app.client, &app.url("")).send().await.unwrap()
    }

    /// Delivers to `app` without the header `name`; its answer.
    pub async fn post_without(&self, app: &TestApp, name: &str) -> reqwest::Response {
        let mut request = self.request(&app.client, &app.url("")).build().unwrap();
        request.headers_mut().remove(name);
        app.client.execute(request).await.unwrap()
    }
}

/// Delivers `payload` to `app` as GitHub would; its answer.
pub async fn deliver(app: &TestApp, event: &str, payload: impl Serialize) -> reqwest::Response {
    Delivery::new(event, payload).post(app).await
}

const EXAMPLES: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/end2end/node_modules/@octokit/webhooks-examples/api.github.com/index.json");

/// One published example: an event's payload.
pub struct Example {
    pub event: String,
    pub payload: Value,
}

/// Every published example, in the order GitHub lists them.
pub fn examples() -> Vec<Example> {
    #[derive(Deserialize)]
    struct Event {
        name: String,
        examples: Vec<Value>,
    }
    let text = std::fs::read_to_string(EXAMPLES)
        .unwrap_or_else(|e| panic!("{EXAMPLES}: {e} (scripts/setup installs end2end's npm packages)"));
    let events: Vec<Event> = serde_json::from_str(&text).unwrap();
    events
        .into_iter()
        .flat_map(|Event { name, examples }| {
            examples.into_iter().map(move |payload| Example { event: name.clone(), payload })
        })
        .collect()
}

/// The first published example of `event.action`.
pub fn example(event: &str, action: &str) -> Value {
    examples()
        .into_iter()
        .find(|example| example.event == event && example.payload["action"] == action)
        .unwrap_or_else(|| panic!("no published example of {event}.{action}"))
        .payload
}
