//! Webhook deliveries, sent as GitHub sends them: the same headers, an HMAC
//! signature over the raw body, one attempt (GitHub never retries by itself),
//! and every attempt recorded in the delivery log for listing and redelivery.

use std::{collections::BTreeMap, time::Instant};

use chrono::Utc;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::{
    world::{Delivery, Id},
    Simulator,
};

/// The hook GitHub keeps for an App's webhook: one per App.
pub fn hook_id(app_id: u64) -> u64 {
    app_id * 100 + 1
}

/// `sha256=<hex HMAC-SHA256 of the body>`, the `X-Hub-Signature-256` value.
pub fn signature_256(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// An event to deliver.
pub struct Outgoing {
    pub event: String,
    pub installation_id: Option<Id>,
    pub repository_id: Option<Id>,
    pub payload: Value,
}

impl Simulator {
    /// Delivers in the background, as GitHub does after the action that caused it.
    pub fn send_webhook(&self, hook: Outgoing) {
        let guid = uuid::Uuid::new_v4().to_string();
        let body = serde_json::to_string(&hook.payload).unwrap_or_default();
        let sim = self.clone();
        tokio::spawn(async move {
            sim.deliver(guid, &hook, body, false).await;
        });
    }

    /// One delivery attempt; returns the log entry it recorded.
    pub(super) async fn deliver(&self, guid: String, hook: &Outgoing, body: String, redelivery: bool) -> Delivery {
        let config = self.config();
        let action = hook.payload.get("action").and_then(Value::as_str).map(str::to_owned);
        let mut headers = BTreeMap::from([
            ("Accept".to_owned(), "*/*".to_owned()),
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("User-Agent".to_owned(), "GitHub-Hookshot/forgelink-sim".to_owned()),
            ("X-GitHub-Delivery".to_owned(), guid.clone()),
            ("X-GitHub-Event".to_owned(), hook.event.clone()),
            ("X-GitHub-Hook-ID".to_owned(), hook_id(config.app.id).to_string()),
            ("X-GitHub-Hook-Installation-Target-ID".to_owned(), config.app.id.to_string()),
            ("X-GitHub-Hook-Installation-Target-Type".to_owned(), "integration".to_owned()),
        ]);
        if !config.webhook_secret.is_empty() {
            headers.insert("X-Hub-Signature-256".to_owned(), signature_256(&config.webhook_secret, body.as_bytes()));
        }

        let started = Instant::now();
        let dropped = self.faults().take_webhook_drop();
        let (status, status_code, response_headers, response_body) = if dropped {
            ("failed to connect to host".to_owned(), 0, BTreeMap::new(), String::new())
        } else {
            let mut request = self.inner.http.post(&config.webhook_url).body(body.clone());
            for (name, value) in &headers {
                request = request.header(name, value);
            }
            match request.send().await {
                Ok(response) => {
                    let code = response.status().as_u16();
                    let response_headers = response
                        .headers()
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
                        .collect();
                    let text = response.text().await.unwrap_or_default();
                    let status = if (200..300).contains(&code) {
                        "OK".to_owned()
                    } else {
                        format!("Invalid HTTP Response: {code}")
                    };
                    (status, code, response_headers, text)
                }
                Err(error) if error.is_timeout() => ("timed out".to_owned(), 0, BTreeMap::new(), String::new()),
                Err(_) => ("failed to connect to host".to_owned(), 0, BTreeMap::new(), String::new()),
            }
        };

        let mut world = self.world();
        let delivery = Delivery {
            id: world.next_id(),
            guid,
            event: hook.event.clone(),
            action,
            installation_id: hook.installation_id,
            repository_id: hook.repository_id,
            delivered_at: Utc::now(),
            redelivery,
            duration_secs: started.elapsed().as_secs_f64(),
            status,
            status_code,
            request_headers: headers,
            request_body: body,
            response_headers,
            response_body,
        };
        tracing::debug!(event = %hook.event, status = %delivery.status, "webhook delivered");
        world.deliveries.push(delivery.clone());
        self.persist(&world);
        delivery
    }

    /// Sends a logged delivery again: same GUID, same body, marked as a redelivery.
    pub(super) async fn redeliver(&self, delivery_id: Id) -> Option<Delivery> {
        let original = self.world().deliveries.iter().find(|d| d.id == delivery_id).cloned()?;
        let payload = serde_json::from_str(&original.request_body).unwrap_or(Value::Null);
        let hook = Outgoing {
            event: original.event.clone(),
            installation_id: original.installation_id,
            repository_id: original.repository_id,
            payload,
        };
        Some(self.deliver(original.guid, &hook, original.request_body, true).await)
    }
}
