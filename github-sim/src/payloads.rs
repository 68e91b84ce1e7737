//! JSON shapes, named and nested as GitHub's REST API and webhook payloads have them.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::world::{Account, AccountKind, Comment, Installation, Issue, Label, Pull, Repo, World};

/// The two origins GitHub answers on: the web (`github.com`) and the API (`api.github.com`,
/// or `/api/v3` on GitHub Enterprise Server, the convention the simulator follows).
#[derive(Clone, Debug)]
pub struct Urls {
    pub web: String,
    pub api: String,
}

pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn node_id(prefix: &str, id: u64) -> String {
    use base64::Engine as _;
    let raw = format!("0{prefix}{id}");
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(raw)
}

/// `simple-user`: how an account appears inside other objects.
pub fn account(urls: &Urls, account: &Account) -> Value {
    let api = &urls.api;
    let login = &account.login;
    // Organizations too: simple-user links go through /users/{login}.
    let base = format!("{api}/users/{login}");
    json!({
        "login": login,
        "id": account.id,
        "node_id": node_id(if account.kind == AccountKind::User { "4:User" } else { "12:Organization" }, account.id),
        "avatar_url": format!("{}/avatars/{login}.svg", urls.web),
        "gravatar_id": "",
        "url": base,
        "html_url": format!("{}/{login}", urls.web),
        "followers_url": format!("{base}/followers"),
        "following_url": format!("{base}/following{{/other_user}}"),
        "gists_url": format!("{base}/gists{{/gist_id}}"),
        "starred_url": format!("{base}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{base}/subscriptions"),
        "organizations_url": format!("{base}/orgs"),
        "repos_url": format!("{base}/repos"),
        "events_url": format!("{base}/events{{/privacy}}"),
        "received_events_url": format!("{base}/received_events"),
        "type": account.kind.as_str(),
        "user_view_type": "public",
        "site_admin": false,
    })
}

/// `org-membership`: a user's place in an organization (`role` is `admin` for
/// its owners). The simulator has no invitations, so every membership is active.
pub fn membership(urls: &Urls, org: &Account, user: &Account) -> Value {
    let api = &urls.api;
    let login = &org.login;
    json!({
        "url": format!("{api}/orgs/{login}/memberships/{}", user.login),
        "state": "active",
        "role": if org.admins.contains(&user.id) { "admin" } else { "member" },
        "organization_url": format!("{api}/orgs/{login}"),
        "organization": {
            "login": login,
            "id": org.id,
            "node_id": node_id("12:Organization", org.id),
            "url": format!("{api}/orgs/{login}"),
            "repos_url": format!("{api}/orgs/{login}/repos"),
            "events_url": format!("{api}/orgs/{login}/events"),
            "hooks_url": format!("{api}/orgs/{login}/hooks"),
            "issues_url": format!("{api}/orgs/{login}/issues"),
            "members_url": format!("{api}/orgs/{login}/members{{/member}}"),
            "public_members_url": format!("{api}/orgs/{login}/public_members{{/member}}"),
            "avatar_url": format!("{}/avatars/{login}.svg", urls.web),
            "description": org.name,
        },
        "user": account(urls, user),
        "permissions": { "can_create_repository": true },
    })
}

/// `private-user`: what `GET /user` answers for the token's owner.
pub fn authenticated_user(urls: &Urls, world: &World, user: &Account) -> Value {
    let mut value = account(urls, user);
    let public_repos = world.repos_of(user.id).iter().filter(|r| !r.private).count();
    let private_repos = world.repos_of(user.id).len() - public_repos;
    if let Some(object) = value.as_object_mut() {
        object.extend([
            ("name".into(), json!(user.name)),
            ("company".into(), Value::Null),
            ("blog".into(), json!("")),
            ("location".into(), Value::Null),
            ("email".into(), Value::Null),
            ("hireable".into(), Value::Null),
            ("bio".into(), Value::Null),
            ("twitter_username".into(), Value::Null),
            ("notification_email".into(), Value::Null),
            ("public_repos".into(), json!(public_repos)),
            ("public_gists".into(), json!(0)),
            ("followers".into(), json!(0)),
            ("following".into(), json!(0)),
            ("created_at".into(), json!(timestamp(user.created_at))),
            ("updated_at".into(), json!(timestamp(user.created_at))),
            ("private_gists".into(), json!(0)),
            ("total_private_repos".into(), json!(private_repos)),
            ("owned_private_repos".into(), json!(private_repos)),
            ("disk_usage".into(), json!(0)),
            ("collaborators".into(), json!(0)),
            ("two_factor_authentication".into(), json!(true)),
        ]);
    }
    value
}

/// The short form webhook payloads use in `repositories`, `repositories_added`, ….
pub fn repository_short(world: &World, repo: &Repo) -> Value {
    json!({
        "id": repo.id,
        "node_id": node_id("10:Repository", repo.id),
        "name": repo.name,
        "full_name": world.full_name(repo),
        "private": repo.private,
    })
}

/// The URL templates every full `repository` object carries, relative to its API URL.
const REPO_URL_FIELDS: [(&str, &str); 37] = [
    ("forks_url", "/forks"),
    ("keys_url", "/keys{/key_id}"),
    ("collaborators_url", "/collaborators{/collaborator}"),
    ("teams_url", "/teams"),
    ("hooks_url", "/hooks"),
    ("issue_events_url", "/issues/events{/number}"),
    ("events_url", "/events"),
    ("assignees_url", "/assignees{/user}"),
    ("branches_url", "/branches{/branch}"),
    ("tags_url", "/tags"),
    ("blobs_url", "/git/blobs{/sha}"),
    ("git_tags_url", "/git/tags{/sha}"),
    ("git_refs_url", "/git/refs{/sha}"),
    ("trees_url", "/git/trees{/sha}"),
    ("statuses_url", "/statuses/{sha}"),
    ("languages_url", "/languages"),
    ("stargazers_url", "/stargazers"),
    ("contributors_url", "/contributors"),
    ("subscribers_url", "/subscribers"),
    ("subscription_url", "/subscription"),
    ("commits_url", "/commits{/sha}"),
    ("git_commits_url", "/git/commits{/sha}"),
    ("comments_url", "/comments{/number}"),
    ("issue_comment_url", "/issues/comments{/number}"),
    ("contents_url", "/contents/{+path}"),
    ("compare_url", "/compare/{base}...{head}"),
    ("merges_url", "/merges"),
    ("archive_url", "/{archive_format}{/ref}"),
    ("downloads_url", "/downloads"),
    ("issues_url", "/issues{/number}"),
    ("pulls_url", "/pulls{/number}"),
    ("milestones_url", "/milestones{/number}"),
    ("notifications_url", "/notifications{?since,all,participating}"),
    ("labels_url", "/labels{/name}"),
    ("releases_url", "/releases{/id}"),
    ("deployments_url", "/deployments"),
    ("url", ""),
];

/// The full `repository` object.
pub fn repository(urls: &Urls, world: &World, repo: &Repo) -> Value {
    let owner = world.accounts.get(&repo.owner_id);
    let full_name = world.full_name(repo);
    let api = format!("{}/repos/{full_name}", urls.api);
    let html_url = format!("{}/{full_name}", urls.web);
    let host = url::Url::parse(&urls.web).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
    let open_issues = world.issues.values().filter(|i| i.repo_id == repo.id && i.open).count();
    let mut value = json!({
        "id": repo.id,
        "node_id": node_id("10:Repository", repo.id),
        "name": repo.name,
        "full_name": full_name,
        "private": repo.private,
        "owner": owner.map(|o| account(urls, o)),
        "html_url": html_url,
        "description": repo.description,
        "fork": false,
        "created_at": timestamp(repo.created_at),
        "updated_at": timestamp(repo.updated_at),
        "pushed_at": timestamp(repo.updated_at),
        "git_url": format!("git://{host}/{full_name}.git"),
        "ssh_url": format!("git@{host}:{full_name}.git"),
        "clone_url": format!("{html_url}.git"),
        "svn_url": html_url,
        "homepage": null,
        "size": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "language": null,
        "has_issues": true,
        "has_projects": true,
        "has_downloads": true,
        "has_wiki": true,
        "has_pages": false,
        "has_discussions": false,
        "forks_count": 0,
        "mirror_url": null,
        "archived": repo.archived,
        "disabled": false,
        "open_issues_count": open_issues,
        "license": null,
        "allow_forking": true,
        "is_template": false,
        "web_commit_signoff_required": false,
        "topics": [],
        "visibility": if repo.private { "private" } else { "public" },
        "forks": 0,
        "open_issues": open_issues,
        "watchers": 0,
        "default_branch": "main",
        "custom_properties": {},
    });
    if let Some(object) = value.as_object_mut() {
        for (field, suffix) in REPO_URL_FIELDS {
            object.insert(field.to_owned(), json!(format!("{api}{suffix}")));
        }
    }
    value
}

pub const APP_PERMISSIONS: &str = r#"{"issues":"read","metadata":"read","pull_requests":"read"}"#;
pub const APP_EVENTS: [&str; 5] = ["issues", "issue_comment", "pull_request", "repository", "installation_target"];

pub fn permissions() -> Value {
    serde_json::from_str(APP_PERMISSIONS).unwrap_or_default()
}

/// The `installation` object (REST and installation webhooks).
pub fn installation(urls: &Urls, world: &World, app: &AppIdentity, inst: &Installation) -> Value {
    let account_value = world.accounts.get(&inst.account_id);
    let target_type = account_value.map_or("User", |a| a.kind.as_str());
    let html_url = match account_value {
        Some(a) if a.kind == AccountKind::Organization => {
            format!("{}/organizations/{}/settings/installations/{}", urls.web, a.login, inst.id)
        }
        _ => format!("{}/settings/installations/{}", urls.web, inst.id),
    };
    json!({
        "id": inst.id,
        "client_id": app.client_id,
        "account": account_value.map(|a| account(urls, a)),
        "repository_selection": inst.selection.as_str(),
        "access_tokens_url": format!("{}/app/installations/{}/access_tokens", urls.api, inst.id),
        "repositories_url": format!("{}/installation/repositories", urls.api),
        "html_url": html_url,
        "app_id": app.id,
        "app_slug": app.slug,
        "target_id": inst.account_id,
        "target_type": target_type,
        "permissions": permissions(),
        "events": APP_EVENTS,
        "created_at": timestamp(inst.created_at),
        "updated_at": timestamp(inst.updated_at),
        "single_file_name": null,
        "has_multiple_single_files": false,
        "single_file_paths": [],
        "suspended_by": inst.suspended_by.and_then(|id| world.accounts.get(&id)).map(|a| account(urls, a)),
        "suspended_at": inst.suspended_at.map(timestamp),
    })
}

/// The `installation` reference non-installation events carry.
pub fn installation_ref(inst_id: u64) -> Value {
    json!({ "id": inst_id, "node_id": node_id("23:Installation", inst_id) })
}

/// Who the App is, as `GET /app` and installation objects name it.
#[derive(Clone, Debug)]
pub struct AppIdentity {
    pub id: u64,
    pub slug: String,
    pub name: String,
    pub client_id: String,
}

pub fn app(urls: &Urls, app: &AppIdentity, owner: Option<&Account>, installations: usize) -> Value {
    json!({
        "id": app.id,
        "slug": app.slug,
        "node_id": node_id("3:App", app.id),
        "client_id": app.client_id,
        "owner": owner.map(|o| account(urls, o)),
        "name": app.name,
        "description": "Connects GitHub repositories to forgelink projects",
        "external_url": "http://127.0.0.1:3000",
        "html_url": format!("{}/apps/{}", urls.web, app.slug),
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "permissions": permissions(),
        "events": APP_EVENTS,
        "installations_count": installations,
    })
}

pub fn issue(urls: &Urls, world: &World, repo: &Repo, issue: &Issue) -> Value {
    let mut value = issue_only(urls, world, repo, issue);
    if let Some(pull) = &issue.pull {
        let full_name = world.full_name(repo);
        let html = format!("{}/{full_name}/pull/{}", urls.web, issue.number);
        value["html_url"] = json!(html);
        value["draft"] = json!(pull.draft);
        value["pull_request"] = json!({
            "url": format!("{}/repos/{full_name}/pulls/{}", urls.api, issue.number),
            "html_url": html,
            "diff_url": format!("{html}.diff"),
            "patch_url": format!("{html}.patch"),
            "merged_at": pull.merged_at.map(timestamp),
        });
    }
    value
}

/// A pull request as the `pull_request` event and `GET /repos/{o}/{r}/pulls/{n}` describe it.
pub fn pull_request(urls: &Urls, world: &World, repo: &Repo, issue: &Issue, pull: &Pull) -> Value {
    let full_name = world.full_name(repo);
    let (assignee, assignees) = assignees(urls, world, issue);
    let api = format!("{}/repos/{full_name}/pulls/{}", urls.api, issue.number);
    let html = format!("{}/{full_name}/pull/{}", urls.web, issue.number);
    let branch = |name: &str| {
        json!({
            "label": format!("{}:{name}", world.accounts.get(&repo.owner_id).map_or("ghost", |a| a.login.as_str())),
            "ref": name,
            "sha": format!("{:040x}", issue.id * 7919 + name.len() as u64),
            "user": world.accounts.get(&repo.owner_id).map(|a| account(urls, a)),
            "repo": repository(urls, world, repo),
        })
    };
    json!({
        "url": api,
        "id": pull.id,
        "node_id": node_id("11:PullRequest", pull.id),
        "html_url": html,
        "diff_url": format!("{html}.diff"),
        "patch_url": format!("{html}.patch"),
        "issue_url": format!("{}/repos/{full_name}/issues/{}", urls.api, issue.number),
        "number": issue.number,
        "state": if issue.open { "open" } else { "closed" },
        "locked": false,
        "title": issue.title,
        "user": world.accounts.get(&issue.user_id).map(|a| account(urls, a)),
        "body": issue.body,
        "created_at": timestamp(issue.created_at),
        "updated_at": timestamp(issue.updated_at),
        "closed_at": issue.closed_at.map(timestamp),
        "merged_at": pull.merged_at.map(timestamp),
        "merge_commit_sha": pull.merged_at.map(|_| format!("{:040x}", pull.id)),
        "assignee": assignee,
        "assignees": assignees,
        "requested_reviewers": [],
        "requested_teams": [],
        "labels": issue.labels.iter().map(|l| label(urls, world, repo, l)).collect::<Vec<_>>(),
        "milestone": null,
        "draft": pull.draft,
        "commits_url": format!("{api}/commits"),
        "review_comments_url": format!("{api}/comments"),
        "review_comment_url": format!("{}/repos/{full_name}/pulls/comments{{/number}}", urls.api),
        "comments_url": format!("{}/repos/{full_name}/issues/{}/comments", urls.api, issue.number),
        "statuses_url": format!("{}/repos/{full_name}/statuses/{}", urls.api, issue.id),
        "head": branch(&pull.head),
        "base": branch("main"),
        "author_association": "OWNER",
        "auto_merge": null,
        "active_lock_reason": null,
        "merged": pull.merged_at.is_some(),
        "mergeable": if issue.open { json!(true) } else { Value::Null },
        "rebaseable": if issue.open { json!(true) } else { Value::Null },
        "mergeable_state": if issue.open { "clean" } else { "unknown" },
        "merged_by": null,
        "comments": issue.comments.len(),
        "review_comments": 0,
        "maintainer_can_modify": false,
        "commits": 1,
        "additions": 1,
        "deletions": 0,
        "changed_files": 1,
        "_links": {
            "self": {"href": api.clone()},
            "html": {"href": html.clone()},
            "issue": {"href": format!("{}/repos/{full_name}/issues/{}", urls.api, issue.number)},
            "comments": {"href": format!("{}/repos/{full_name}/issues/{}/comments", urls.api, issue.number)},
            "review_comments": {"href": format!("{api}/comments")},
            "review_comment": {"href": format!("{}/repos/{full_name}/pulls/comments{{/number}}", urls.api)},
            "commits": {"href": format!("{api}/commits")},
            "statuses": {"href": format!("{}/repos/{full_name}/statuses/{}", urls.api, issue.id)},
        },
    })
}

/// The `assignee` (the first) and `assignees` of an issue or pull request.
fn assignees(urls: &Urls, world: &World, issue: &Issue) -> (Value, Value) {
    let all: Vec<Value> =
        issue.assignee_ids.iter().filter_map(|id| world.accounts.get(id)).map(|a| account(urls, a)).collect();
    (all.first().cloned().unwrap_or(Value::Null), Value::Array(all))
}

/// A label as issues list it.
pub fn label(urls: &Urls, world: &World, repo: &Repo, label: &Label) -> Value {
    json!({
        "id": label.id,
        "node_id": node_id("5:Label", label.id),
        "url": format!("{}/repos/{}/labels/{}", urls.api, world.full_name(repo), label.name),
        "name": label.name,
        "color": label.color,
        "default": false,
        "description": null,
    })
}

fn issue_only(urls: &Urls, world: &World, repo: &Repo, issue: &Issue) -> Value {
    let full_name = world.full_name(repo);
    let (assignee, assignees) = assignees(urls, world, issue);
    let api = format!("{}/repos/{full_name}/issues/{}", urls.api, issue.number);
    json!({
        "url": api,
        "repository_url": format!("{}/repos/{full_name}", urls.api),
        "labels_url": format!("{api}/labels{{/name}}"),
        "comments_url": format!("{api}/comments"),
        "events_url": format!("{api}/events"),
        "html_url": format!("{}/{full_name}/issues/{}", urls.web, issue.number),
        "id": issue.id,
        "node_id": node_id("5:Issue", issue.id),
        "number": issue.number,
        "title": issue.title,
        "user": world.accounts.get(&issue.user_id).map(|a| account(urls, a)),
        "labels": issue.labels.iter().map(|l| label(urls, world, repo, l)).collect::<Vec<_>>(),
        "state": if issue.open { "open" } else { "closed" },
        "state_reason": if issue.open { Value::Null } else { json!("completed") },
        "locked": false,
        "assignee": assignee,
        "assignees": assignees,
        "milestone": null,
        "comments": issue.comments.len(),
        "created_at": timestamp(issue.created_at),
        "updated_at": timestamp(issue.updated_at),
        "closed_at": issue.closed_at.map(timestamp),
        "author_association": "OWNER",
        "active_lock_reason": null,
        "body": issue.body,
        "reactions": {
            "url": format!("{api}/reactions"), "total_count": 0, "+1": 0, "-1": 0, "laugh": 0,
            "hooray": 0, "confused": 0, "heart": 0, "rocket": 0, "eyes": 0
        },
        "timeline_url": format!("{api}/timeline"),
        "performed_via_github_app": null,
        "draft": false,
    })
}

pub fn comment(urls: &Urls, world: &World, repo: &Repo, issue: &Issue, comment: &Comment) -> Value {
    let full_name = world.full_name(repo);
    json!({
        "url": format!("{}/repos/{full_name}/issues/comments/{}", urls.api, comment.id),
        "html_url": format!("{}/{full_name}/issues/{}#issuecomment-{}", urls.web, issue.number, comment.id),
        "issue_url": format!("{}/repos/{full_name}/issues/{}", urls.api, issue.number),
        "id": comment.id,
        "node_id": node_id("12:IssueComment", comment.id),
        "user": world.accounts.get(&comment.user_id).map(|a| account(urls, a)),
        "created_at": timestamp(comment.created_at),
        "updated_at": timestamp(comment.updated_at),
        "author_association": "OWNER",
        "body": comment.body,
        "reactions": {
            "url": format!("{}/repos/{full_name}/issues/comments/{}/reactions", urls.api, comment.id),
            "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0, "confused": 0,
            "heart": 0, "rocket": 0, "eyes": 0
        },
        "performed_via_github_app": null,
    })
}
