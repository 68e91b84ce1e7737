//! What people do on GitHub, and the webhooks each action makes GitHub send.
//! The pages, the REST API and the control API all go through here.

use std::collections::BTreeSet;

use chrono::Utc;
use serde_json::{json, Value};

use super::{
    hooks::Outgoing,
    payloads, world,
    world::{AccountKind, Comment, Id, Installation, Issue, Pull, Selection, World},
    Simulator,
};

/// Why an action was refused, in words for the page that shows it.
pub type Refusal = String;

impl Simulator {
    fn sender(&self, world: &World, user_id: Id) -> Value {
        world.accounts.get(&user_id).map_or(Value::Null, |a| payloads::account(self.urls(), a))
    }

    fn installation_payload(&self, world: &World, installation: &Installation) -> Value {
        payloads::installation(self.urls(), world, &self.config().app, installation)
    }

    /// The `repositories` list installation webhooks carry.
    fn installation_repositories(world: &World, installation: &Installation) -> Vec<Value> {
        world.installation_repos(installation).into_iter().map(|r| payloads::repository_short(world, r)).collect()
    }

    /// May this user install on (or manage the installation of) this account?
    pub fn can_administer(&self, world: &World, user_id: Id, account_id: Id) -> bool {
        match world.accounts.get(&account_id) {
            Some(account) if account.kind == AccountKind::User => account.id == user_id,
            Some(org) => org.admins.contains(&user_id),
            None => false,
        }
    }

    /// Installs the App on an account (all repositories when `repo_ids` is `None`)
    /// and sends `installation.created`; `requester` is the member whose request
    /// the sender (an owner) approved, if any.
    pub fn install(
        &self,
        account_id: Id,
        sender_id: Id,
        requester_id: Option<Id>,
        repo_ids: Option<BTreeSet<Id>>,
    ) -> Result<Id, Refusal> {
        let mut world = self.world();
        if !self.can_administer(&world, sender_id, account_id) {
            return Err("Only an owner of this account can install the App.".into());
        }
        if requester_id.is_some_and(|r| !world.accounts.get(&account_id).is_some_and(|a| a.members.contains(&r))) {
            return Err("Only a member of the organization can request the App.".into());
        }
        if world.installation_for_account(account_id).is_some() {
            return Err("The App is already installed on this account.".into());
        }
        if let Some(ids) = &repo_ids {
            if ids.iter().any(|id| world.repos.get(id).is_none_or(|r| r.owner_id != account_id)) {
                return Err("A selected repository does not belong to this account.".into());
            }
        }
        let now = Utc::now();
        let id = world.next_id();
        let installation = Installation {
            id,
            account_id,
            selection: if repo_ids.is_some() { Selection::Selected } else { Selection::All },
            repo_ids: repo_ids.unwrap_or_default(),
            suspended_at: None,
            suspended_by: None,
            created_at: now,
            updated_at: now,
        };
        let repositories = Self::installation_repositories(&world, &installation);
        let payload = json!({
            "action": "created",
            "installation": self.installation_payload(&world, &installation),
            "repositories": repositories,
            "requester": requester_id.map(|r| self.sender(&world, r)),
            "sender": self.sender(&world, sender_id),
        });
        world.installations.insert(id, installation);
        self.persist(&world);
        drop(world);
        self.send_webhook(Outgoing {
            event: "installation".into(),
            installation_id: Some(id),
            repository_id: None,
            payload,
        });
        Ok(id)
    }

    /// Changes which repositories an installation reaches; sends
    /// `installation_repositories.added` and/or `.removed`.
    pub fn change_repositories(
        &self,
        installation_id: Id,
        sender_id: Id,
        repo_ids: Option<BTreeSet<Id>>,
    ) -> Result<(), Refusal> {
        let mut world = self.world();
        let installation = world.installations.get(&installation_id).cloned().ok_or("No such installation.")?;
        if !self.can_administer(&world, sender_id, installation.account_id) {
            return Err("Only an owner of this account can configure the App.".into());
        }
        let before: BTreeSet<Id> = world.installation_repos(&installation).iter().map(|r| r.id).collect();
        let mut updated = installation.clone();
        match repo_ids {
            None => {
                updated.selection = Selection::All;
                updated.repo_ids.clear();
            }
            Some(ids) => {
                if ids.iter().any(|id| world.repos.get(id).is_none_or(|r| r.owner_id != installation.account_id)) {
                    return Err("A selected repository does not belong to this account.".into());
                }
                updated.selection = Selection::Selected;
                updated.repo_ids = ids;
            }
        }
        updated.updated_at = Utc::now();
        let after: BTreeSet<Id> = world.installation_repos(&updated).iter().map(|r| r.id).collect();
        let short = |ids: Vec<&Id>, world: &World| -> Vec<Value> {
            ids.into_iter().filter_map(|id| world.repos.get(id)).map(|r| payloads::repository_short(world, r)).collect()
        };
        let added = short(after.difference(&before).collect(), &world);
        let removed = short(before.difference(&after).collect(), &world);
        world.installations.insert(installation_id, updated.clone());
        let mut hooks = Vec::new();
        for (action, list) in [("added", &added), ("removed", &removed)] {
            if list.is_empty() {
                continue;
            }
            hooks.push(Outgoing {
                event: "installation_repositories".into(),
                installation_id: Some(installation_id),
                repository_id: None,
                payload: json!({
                    "action": action,
                    "installation": self.installation_payload(&world, &updated),
                    "repository_selection": updated.selection.as_str(),
                    "repositories_added": if action == "added" { added.clone() } else { Vec::new() },
                    "repositories_removed": if action == "removed" { removed.clone() } else { Vec::new() },
                    "requester": null,
                    "sender": self.sender(&world, sender_id),
                }),
            });
        }
        self.persist(&world);
        drop(world);
        hooks.into_iter().for_each(|hook| self.send_webhook(hook));
        Ok(())
    }

    /// Suspends, unsuspends or deletes an installation; sends the matching
    /// `installation` webhook.
    pub fn change_installation(
        &self,
        installation_id: Id,
        sender_id: Id,
        action: InstallationAction,
    ) -> Result<(), Refusal> {
        let mut world = self.world();
        let mut installation = world.installations.get(&installation_id).cloned().ok_or("No such installation.")?;
        if !self.can_administer(&world, sender_id, installation.account_id) {
            return Err("Only an owner of this account can change the installation.".into());
        }
        let now = Utc::now();
        match action {
            InstallationAction::Suspend if installation.suspended_at.is_some() => {
                return Err("Already suspended.".into())
            }
            InstallationAction::Unsuspend if installation.suspended_at.is_none() => return Err("Not suspended.".into()),
            InstallationAction::Suspend => {
                installation.suspended_at = Some(now);
                installation.suspended_by = Some(sender_id);
                world.revoke_installation_tokens(installation_id);
            }
            InstallationAction::Unsuspend => {
                installation.suspended_at = None;
                installation.suspended_by = None;
            }
            InstallationAction::Delete => {
                world.revoke_installation_tokens(installation_id);
            }
        }
        installation.updated_at = now;
        let repositories = Self::installation_repositories(&world, &installation);
        let payload = json!({
            "action": action.as_str(),
            "installation": self.installation_payload(&world, &installation),
            "repositories": repositories,
            "requester": null,
            "sender": self.sender(&world, sender_id),
        });
        if action == InstallationAction::Delete {
            world.installations.remove(&installation_id);
        } else {
            world.installations.insert(installation_id, installation);
        }
        self.persist(&world);
        drop(world);
        self.send_webhook(Outgoing {
            event: "installation".into(),
            installation_id: Some(installation_id),
            repository_id: None,
            payload,
        });
        Ok(())
    }

    /// Sends a repository event (`issues`, `issue_comment`) when an active
    /// installation covers the repository, as GitHub does.
    fn send_repo_event(&self, world: &World, repo_id: Id, event: &str, mut payload: Value) {
        let Some(repo) = world.repos.get(&repo_id) else { return };
        let Some(installation) = world.installation_for_repo(repo) else { return };
        if installation.suspended_at.is_some() {
            return;
        }
        if let Some(object) = payload.as_object_mut() {
            object.insert("repository".into(), payloads::repository(self.urls(), world, repo));
            object.insert("installation".into(), payloads::installation_ref(installation.id));
        }
        self.send_webhook(Outgoing {
            event: event.into(),
            installation_id: Some(installation.id),
            repository_id: Some(repo_id),
            payload,
        });
    }

    /// A new issue, stored without a webhook (its caller sends the right one).
    fn open_issue_quietly(&self, repo_id: Id, user_id: Id, title: &str, body: Option<&str>) -> Result<Issue, Refusal> {
        let title = title.trim();
        if title.is_empty() {
            return Err("An issue needs a title.".into());
        }
        let mut world = self.world();
        let repo = world.repos.get_mut(&repo_id).ok_or("No such repository.")?;
        if repo.archived {
            return Err("This repository is archived: it is read-only.".into());
        }
        let number = repo.next_issue_number;
        repo.next_issue_number += 1;
        let now = Utc::now();
        let issue = Issue {
            id: 0,
            repo_id,
            number,
            title: title.to_owned(),
            body: body.map(str::to_owned).filter(|b| !b.trim().is_empty()),
            open: true,
            user_id,
            created_at: now,
            updated_at: now,
            closed_at: None,
            comments: Vec::new(),
            pull: None,
            labels: Vec::new(),
            assignee_ids: Vec::new(),
        };
        let issue = Issue { id: world.next_id(), ..issue };
        world.issues.insert(issue.id, issue.clone());
        self.persist(&world);
        Ok(issue)
    }

    pub fn open_issue(&self, repo_id: Id, user_id: Id, title: &str, body: Option<&str>) -> Result<Issue, Refusal> {
        let issue = self.open_issue_quietly(repo_id, user_id, title, body)?;
        self.after_issue_change(&self.world(), &issue, "opened", user_id);
        Ok(issue)
    }

    /// Gives a repository `issues` issues with `comments` comments each at
    /// once, as if written over the past hours (one second apart), sending no
    /// webhooks: a repository that already has a history when it is followed.
    pub fn seed_issues(&self, repo_id: Id, user_id: Id, issues: u64, comments: u64) -> Result<(), Refusal> {
        let mut world = self.world();
        let first = world.repos.get(&repo_id).ok_or("No such repository.")?.next_issue_number;
        let start = Utc::now() - chrono::Duration::seconds(i64::try_from(issues * (comments + 1)).unwrap_or(i64::MAX));
        let mut at = start;
        for n in 0..issues {
            let mut tick = || {
                at += chrono::Duration::seconds(1);
                at
            };
            let created = tick();
            let mut issue = Issue {
                id: world.next_id(),
                repo_id,
                number: first + n,
                title: format!("Seeded issue {}", first + n),
                body: Some(format!("Body of seeded issue {}.", first + n)),
                open: n % 3 != 0,
                user_id,
                created_at: created,
                updated_at: created,
                closed_at: (n % 3 == 0).then_some(created),
                comments: Vec::new(),
                pull: None,
                labels: Vec::new(),
                assignee_ids: Vec::new(),
            };
            for c in 0..comments {
                let at = tick();
                issue.comments.push(Comment {
                    id: world.next_id(),
                    user_id,
                    body: format!("Comment {c} on issue {}.", first + n),
                    created_at: at,
                    updated_at: at,
                });
                issue.updated_at = at;
            }
            world.issues.insert(issue.id, issue);
        }
        if let Some(repo) = world.repos.get_mut(&repo_id) {
            repo.next_issue_number = first + issues;
        }
        self.persist(&world);
        Ok(())
    }

    /// Opens a pull request (from a branch named after its title).
    pub fn open_pull(
        &self,
        repo_id: Id,
        user_id: Id,
        title: &str,
        body: Option<&str>,
        draft: bool,
    ) -> Result<Issue, Refusal> {
        let issue = self.open_issue_quietly(repo_id, user_id, title, body)?;
        let mut world = self.world();
        let pull = Pull { id: world.next_id(), draft, merged_at: None, head: format!("topic-{}", issue.number) };
        let issue = world.issue_by_number_mut(repo_id, issue.number).ok_or("No such issue.")?;
        issue.pull = Some(pull);
        let issue = issue.clone();
        self.after_issue_change(&world, &issue, "opened", user_id);
        Ok(issue)
    }

    /// Merges an open pull request: GitHub then sends `closed` with `merged: true`.
    pub fn merge_pull(&self, repo_id: Id, number: u64, user_id: Id) -> Result<Issue, Refusal> {
        let mut world = self.world();
        let issue = world.issue_by_number_mut(repo_id, number).ok_or("No such pull request.")?;
        let Some(pull) = issue.pull.as_mut() else { return Err("Not a pull request.".into()) };
        if !issue.open || pull.draft {
            return Err("Only an open pull request that is ready for review can be merged.".into());
        }
        let now = Utc::now();
        pull.merged_at = Some(now);
        issue.open = false;
        issue.closed_at = Some(now);
        issue.updated_at = now;
        let issue = issue.clone();
        self.after_issue_change(&world, &issue, "closed", user_id);
        Ok(issue)
    }

    /// Adds a label (made on first use, grey) to an issue: `issues.labeled`.
    pub fn label_issue(&self, repo_id: Id, number: u64, user_id: Id, name: &str) -> Result<Issue, Refusal> {
        let name = name.trim();
        if name.is_empty() {
            return Err("A label needs a name.".into());
        }
        let mut world = self.world();
        let id = world.next_id();
        let issue = world.issue_by_number_mut(repo_id, number).ok_or("No such issue.")?;
        if issue.labels.iter().any(|l| l.name.eq_ignore_ascii_case(name)) {
            return Ok(issue.clone());
        }
        let label = world::Label { id, name: name.to_owned(), color: "ededed".to_owned() };
        issue.labels.push(label.clone());
        issue.updated_at = Utc::now();
        let issue = issue.clone();
        self.persist(&world);
        if let Some(repo) = world.repos.get(&repo_id) {
            let label = json!({ "label": payloads::label(self.urls(), &world, repo, &label) });
            self.send_issue_event(&world, &issue, "labeled", user_id, label);
        }
        Ok(issue)
    }

    /// Assigns an issue or pull request to `login` (or unassigns it):
    /// `assigned` / `unassigned` with the `assignee`, as GitHub sends them.
    pub fn set_assignee(
        &self,
        repo_id: Id,
        number: u64,
        user_id: Id,
        login: &str,
        assign: bool,
    ) -> Result<Issue, Refusal> {
        let mut world = self.world();
        let owner_id = world.repos.get(&repo_id).ok_or("No such repository.")?.owner_id;
        let assignee = world.account_by_login(login.trim()).filter(|a| a.kind == AccountKind::User).cloned();
        let assignee = assignee.ok_or_else(|| format!("No user {:?}.", login.trim()))?;
        if !world.reaches_account(assignee.id, owner_id) {
            return Err(format!(
                "{} cannot be assigned: only people with access to the repository can.",
                assignee.login
            ));
        }
        let issue = world.issue_by_number_mut(repo_id, number).ok_or("No such issue.")?;
        if issue.assignee_ids.contains(&assignee.id) == assign {
            return Ok(issue.clone());
        }
        if assign {
            if issue.assignee_ids.len() >= 10 {
                return Err("An issue can have at most 10 assignees.".into());
            }
            issue.assignee_ids.push(assignee.id);
        } else {
            issue.assignee_ids.retain(|id| *id != assignee.id);
        }
        issue.updated_at = Utc::now();
        let issue = issue.clone();
        self.persist(&world);
        let action = if assign { "assigned" } else { "unassigned" };
        let extra = json!({ "assignee": payloads::account(self.urls(), &assignee) });
        self.send_issue_event(&world, &issue, action, user_id, extra);
        Ok(issue)
    }

    /// Moves an issue to another repository of the same owner, as GitHub does:
    /// it gets a new id and number there and keeps its comments, labels and
    /// assignees; the old repository sends `issues.transferred`, the new one
    /// `issues.opened` with `changes.old_issue`, and the old address redirects.
    pub fn transfer_issue(&self, repo_id: Id, number: u64, user_id: Id, to_name: &str) -> Result<Issue, Refusal> {
        let mut world = self.world();
        let from = world.repos.get(&repo_id).cloned().ok_or("No such repository.")?;
        let owner = world.accounts.get(&from.owner_id).map(|a| a.login.clone()).unwrap_or_default();
        let to = world.repo_by_name(&owner, to_name.trim()).cloned();
        let to = to.ok_or_else(|| format!("No repository {owner}/{} to transfer to.", to_name.trim()))?;
        let old = world.issue_by_number(repo_id, number).cloned().ok_or("No such issue.")?;
        if old.pull.is_some() {
            return Err("Pull requests cannot be transferred.".into());
        }
        if to.id == from.id {
            return Err("The issue is in this repository already.".into());
        }
        if from.archived || to.archived {
            return Err("An archived repository is read-only.".into());
        }
        if from.private && !to.private {
            return Err("An issue cannot move from a private repository to a public one.".into());
        }
        let number_there = to.next_issue_number;
        if let Some(repo) = world.repos.get_mut(&to.id) {
            repo.next_issue_number += 1;
        }
        let now = Utc::now();
        let new = Issue { id: world.next_id(), repo_id: to.id, number: number_there, updated_at: now, ..old.clone() };
        world.issues.remove(&old.id);
        world.issues.insert(new.id, new.clone());
        world.moved_issues.push(world::Moved { repo_id, number, issue_id: new.id });
        self.persist(&world);
        let old_payload = payloads::issue(self.urls(), &world, &from, &old);
        let new_payload = payloads::issue(self.urls(), &world, &to, &new);
        let (from_payload, to_payload) =
            (payloads::repository(self.urls(), &world, &from), payloads::repository(self.urls(), &world, &to));
        let changes = json!({ "changes": { "new_issue": new_payload, "new_repository": to_payload } });
        self.send_issue_event(&world, &old, "transferred", user_id, changes);
        let changes = json!({ "changes": { "old_issue": old_payload, "old_repository": from_payload } });
        self.send_issue_event(&world, &new, "opened", user_id, changes);
        Ok(new)
    }

    /// Deletes an issue for good (GitHub lets admins): `issues.deleted` with the issue as it was.
    pub fn delete_issue(&self, repo_id: Id, number: u64, user_id: Id) -> Result<(), Refusal> {
        let mut world = self.world();
        let issue = world.issue_by_number(repo_id, number).filter(|i| i.pull.is_none()).cloned();
        let issue = issue.ok_or("No such issue (pull requests cannot be deleted).")?;
        world.issues.remove(&issue.id);
        self.persist(&world);
        self.send_issue_event(&world, &issue, "deleted", user_id, json!({}));
        Ok(())
    }

    /// Marks a pull request a draft or ready for review.
    pub fn set_draft(&self, repo_id: Id, number: u64, user_id: Id, draft: bool) -> Result<Issue, Refusal> {
        let mut world = self.world();
        let issue = world.issue_by_number_mut(repo_id, number).ok_or("No such pull request.")?;
        let Some(pull) = issue.pull.as_mut().filter(|p| p.draft != draft) else { return Ok(issue.clone()) };
        pull.draft = draft;
        issue.updated_at = Utc::now();
        let issue = issue.clone();
        self.after_issue_change(&world, &issue, if draft { "converted_to_draft" } else { "ready_for_review" }, user_id);
        Ok(issue)
    }

    pub fn set_issue_state(&self, repo_id: Id, number: u64, user_id: Id, open: bool) -> Result<Issue, Refusal> {
        let mut world = self.world();
        let issue = world.issue_by_number_mut(repo_id, number).ok_or("No such issue.")?;
        if issue.open == open {
            return Ok(issue.clone());
        }
        let now = Utc::now();
        issue.open = open;
        issue.updated_at = now;
        issue.closed_at = if open { None } else { Some(now) };
        let issue = issue.clone();
        self.after_issue_change(&world, &issue, if open { "reopened" } else { "closed" }, user_id);
        Ok(issue)
    }

    pub fn edit_issue(
        &self,
        repo_id: Id,
        number: u64,
        user_id: Id,
        title: Option<&str>,
        body: Option<&str>,
    ) -> Result<Issue, Refusal> {
        let mut world = self.world();
        let issue = world.issue_by_number_mut(repo_id, number).ok_or("No such issue.")?;
        if let Some(title) = title.map(str::trim).filter(|t| !t.is_empty()) {
            issue.title = title.to_owned();
        }
        if let Some(body) = body {
            issue.body = Some(body.to_owned());
        }
        issue.updated_at = Utc::now();
        let issue = issue.clone();
        self.after_issue_change(&world, &issue, "edited", user_id);
        Ok(issue)
    }

    fn after_issue_change(&self, world: &World, issue: &Issue, action: &str, sender_id: Id) {
        self.persist(world);
        self.send_issue_event(world, issue, action, sender_id, json!({}));
    }

    /// `issues` (or `pull_request`, for a pull request) with `action`, the
    /// object as it is now, and `extra`'s fields (`label`, `assignee`, `changes`).
    fn send_issue_event(&self, world: &World, issue: &Issue, action: &str, sender_id: Id, extra: Value) {
        let Some(repo) = world.repos.get(&issue.repo_id) else { return };
        let sender = self.sender(world, sender_id);
        let (event, mut payload) = match &issue.pull {
            Some(pull) => (
                "pull_request",
                json!({
                    "action": action,
                    "number": issue.number,
                    "pull_request": payloads::pull_request(self.urls(), world, repo, issue, pull),
                    "sender": sender,
                }),
            ),
            None => (
                "issues",
                json!({ "action": action, "issue": payloads::issue(self.urls(), world, repo, issue), "sender": sender }),
            ),
        };
        if let (Some(payload), Value::Object(extra)) = (payload.as_object_mut(), extra) {
            payload.extend(extra);
        }
        self.send_repo_event(world, issue.repo_id, event, payload);
    }

    pub fn add_comment(&self, repo_id: Id, number: u64, user_id: Id, body: &str) -> Result<(Issue, Comment), Refusal> {
        if body.trim().is_empty() {
            return Err("A comment needs some text.".into());
        }
        let mut world = self.world();
        let now = Utc::now();
        let comment = Comment { id: world.next_id(), user_id, body: body.to_owned(), created_at: now, updated_at: now };
        let issue = world.issue_by_number_mut(repo_id, number).ok_or("No such issue.")?;
        issue.comments.push(comment.clone());
        issue.updated_at = now;
        let issue = issue.clone();
        self.persist(&world);
        if let Some(repo) = world.repos.get(&repo_id) {
            let payload = json!({
                "action": "created",
                "issue": payloads::issue(self.urls(), &world, repo, &issue),
                "comment": payloads::comment(self.urls(), &world, repo, &issue, &comment),
                "sender": self.sender(&world, user_id),
            });
            self.send_repo_event(&world, repo_id, "issue_comment", payload);
        }
        Ok((issue, comment))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstallationAction {
    Suspend,
    Unsuspend,
    Delete,
}

impl InstallationAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Suspend => "suspend",
            Self::Unsuspend => "unsuspend",
            Self::Delete => "deleted",
        }
    }
}
