//! forgelink's webhook parsing reads every example payload GitHub publishes
//! (`@octokit/webhooks-examples`, MIT) for the events it acts on.
#![cfg(feature = "ssr")]

mod support;

use forgelink::{server::webhooks::Dispatcher, startup};
use serde_json::Value;
use support::deliveries::{examples, Example};

#[test]
fn every_published_example_of_a_handled_action_reads_as_its_handler_reads_it() {
    let dispatcher = startup::handlers();
    let mut read = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for Example { event, payload } in examples() {
        let action = payload["action"].as_str();
        match dispatcher.reads(&event, action, &payload) {
            Some(Ok(())) => {
                read.insert(format!("{event}.{}", action.unwrap_or("")));
            }
            Some(Err(e)) => failures.push(format!("{event}.{action:?}: {e}")),
            None => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every action with a handler, bar those GitHub publishes no example of.
    let unpublished = [
        "installation_target.renamed",
        "repository.archived",
        "repository.deleted",
        "repository.unarchived",
        "issues.closed",
        "issues.typed",
        "issues.untyped",
        "issue_comment.pinned",
        "issue_comment.unpinned",
        "pull_request.auto_merge_disabled",
        "pull_request.auto_merge_enabled",
        "pull_request.demilestoned",
        "pull_request.dequeued",
        "pull_request.edited",
        "pull_request.enqueued",
        "pull_request.milestoned",
    ];
    let mut missing: Vec<String> = dispatcher
        .handled()
        .into_iter()
        .map(|(event, action)| format!("{event}.{}", action.unwrap_or_default()))
        .filter(|key| !read.contains(key) && !unpublished.contains(&key.as_str()))
        .collect();
    missing.sort();
    assert!(missing.is_empty(), "no published example read for {missing:?}");
}

#[test]
fn a_payload_missing_a_field_a_handler_relies_on_is_an_error_naming_the_event() {
    let dispatcher = startup::handlers();
    let error = dispatcher.reads("installation", Some("created"), &serde_json::json!({"action": "created"})).unwrap();
    let error = error.unwrap_err();
    assert_eq!(error.reason.as_str(), "bad_payload");
    assert!(error.detail.starts_with("cannot read the installation event"), "{error}");
}

#[test]
#[should_panic(expected = "does not subscribe to")]
fn a_handler_for_an_action_forgelink_does_not_subscribe_to_is_refused() {
    let _ = Dispatcher::new()
        .on("star", &["created"], |_, _: Value| async { Ok(forgelink::server::webhooks::Outcome::Processed) });
}

#[test]
fn githubs_times_read_as_text_or_as_epoch_seconds_and_nothing_else() {
    use forgelink::server::github::events::Timestamp;
    let read = |value: Value| serde_json::from_value::<Timestamp>(value);
    let at = read(serde_json::json!(1557933640)).unwrap();
    assert_eq!(read(serde_json::json!("2019-05-15T15:20:40Z")).unwrap(), at);
    assert_eq!(read(serde_json::json!("2019-05-15T17:20:40+02:00")).unwrap(), at);
    assert!(read(serde_json::json!("yesterday")).is_err());
    assert!(read(serde_json::json!(true)).is_err());
}
