//! forgelink's webhook parsing reads every example payload GitHub publishes
//! (`@octokit/webhooks-examples`, MIT) for the events it acts on.
#![cfg(feature = "ssr")]

use forgelink::server::github::events::{self, Event};
use serde_json::Value;

const EXAMPLES: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/end2end/node_modules/@octokit/webhooks-examples/api.github.com/index.json");

const HANDLED: [&str; 8] = [
    "ping",
    "installation",
    "installation_repositories",
    "installation_target",
    "repository",
    "issues",
    "issue_comment",
    "github_app_authorization",
];

fn examples() -> Vec<(String, Value)> {
    let text = std::fs::read_to_string(EXAMPLES)
        .unwrap_or_else(|e| panic!("{EXAMPLES}: {e} (scripts/setup installs end2end's npm packages)"));
    let all: Vec<Value> = serde_json::from_str(&text).unwrap();
    all.into_iter()
        .flat_map(|event| {
            let name = event["name"].as_str().unwrap().to_owned();
            event["examples"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |example| (name.clone(), example.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn every_published_example_of_a_handled_event_parses() {
    let mut parsed = 0;
    let mut failures = Vec::new();
    for (name, example) in examples() {
        if !HANDLED.contains(&name.as_str()) {
            continue;
        }
        let body = serde_json::to_vec(&example).unwrap();
        match events::parse(&name, &body) {
            Ok(Event::Other(_)) => failures.push(format!("{name} is not handled")),
            Ok(_) => parsed += 1,
            Err(e) => failures.push(format!("{name}.{}: {e}", example["action"])),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(parsed >= 60, "only {parsed} examples parsed");
}

#[test]
fn events_forgelink_does_not_act_on_are_named_not_rejected() {
    let (name, example) = examples().into_iter().find(|(name, _)| name == "star").expect("a star example");
    let event = events::parse(&name, &serde_json::to_vec(&example).unwrap()).unwrap();
    assert!(matches!(event, Event::Other(ref n) if n == "star"));
}

#[test]
fn a_payload_missing_a_field_we_rely_on_is_an_error_naming_the_event() {
    let error = events::parse("installation", br#"{"action":"created"}"#).unwrap_err();
    assert!(error.to_string().starts_with("cannot read the installation event"), "{error}");
}
