//! The simulated GitHub's state: accounts, repositories, installations, issues,
//! tokens and the webhook delivery log. Kept in memory, optionally snapshotted
//! to a JSON file so a restart of `scripts/run` keeps what a person clicked.
//! One file: the data and the rules that keep it consistent belong together.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    path::Path,
};

use chrono::{DateTime, Duration, Utc};
use rand::{distr::Alphanumeric, Rng};
use serde::{Deserialize, Serialize};

pub type Id = u64;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountKind {
    User,
    Organization,
    Bot,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Organization => "Organization",
            Self::Bot => "Bot",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Account {
    pub id: Id,
    pub login: String,
    pub kind: AccountKind,
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Organization members (user ids); empty for users.
    pub members: Vec<Id>,
    /// Members who may install and configure Apps (organization owners).
    #[serde(default)]
    pub admins: Vec<Id>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Repo {
    pub id: Id,
    pub owner_id: Id,
    pub name: String,
    pub description: Option<String>,
    pub private: bool,
    pub archived: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub next_issue_number: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Selection {
    All,
    Selected,
}

impl Selection {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Selected => "selected",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Installation {
    pub id: Id,
    pub account_id: Id,
    pub selection: Selection,
    /// The chosen repositories when `selection` is `Selected`.
    pub repo_ids: BTreeSet<Id>,
    pub suspended_at: Option<DateTime<Utc>>,
    pub suspended_by: Option<Id>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Issue {
    pub id: Id,
    pub repo_id: Id,
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    pub open: bool,
    pub user_id: Id,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub comments: Vec<Comment>,
    /// Set when this issue is a pull request (on GitHub every pull request is an issue too).
    #[serde(default)]
    pub pull: Option<Pull>,
    #[serde(default)]
    pub labels: Vec<Label>,
    /// Users it is assigned to (at most 10, as on GitHub).
    #[serde(default)]
    pub assignee_ids: Vec<Id>,
}

/// Where a transferred issue went: GitHub answers its old address with a redirect.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Moved {
    pub repo_id: Id,
    pub number: u64,
    /// The issue in its new repository.
    pub issue_id: Id,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    pub id: Id,
    pub name: String,
    /// Six hex digits.
    pub color: String,
}

/// What a pull request has beyond its issue.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Pull {
    /// The pull request's own id (its issue has another).
    pub id: Id,
    pub draft: bool,
    pub merged_at: Option<DateTime<Utc>>,
    /// The branch it would merge.
    pub head: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Comment {
    pub id: Id,
    pub user_id: Id,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a bearer token stands for.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Grant {
    User { user_id: Id },
    Installation { installation_id: Id },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Token {
    pub grant: Grant,
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OAuthCode {
    pub user_id: Id,
    pub redirect_uri: Option<String>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RefreshToken {
    pub user_id: Id,
    pub expires_at: DateTime<Utc>,
}

/// One attempt to deliver a webhook, as `GET /app/hook/deliveries` lists it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Delivery {
    pub id: Id,
    pub guid: String,
    pub event: String,
    pub action: Option<String>,
    pub installation_id: Option<Id>,
    pub repository_id: Option<Id>,
    pub delivered_at: DateTime<Utc>,
    pub redelivery: bool,
    pub duration_secs: f64,
    /// GitHub's words: "OK", "Invalid HTTP Response: 503", "timed out", …
    pub status: String,
    /// 0 when no HTTP answer came back.
    pub status_code: u16,
    pub request_headers: BTreeMap<String, String>,
    pub request_body: String,
    pub response_headers: BTreeMap<String, String>,
    pub response_body: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct World {
    next_id: Id,
    /// The App's bot user (`<slug>[bot]`), author of what installation tokens write.
    pub bot_id: Id,
    pub accounts: BTreeMap<Id, Account>,
    pub repos: BTreeMap<Id, Repo>,
    pub installations: BTreeMap<Id, Installation>,
    pub issues: BTreeMap<Id, Issue>,
    pub tokens: HashMap<String, Token>,
    pub refresh_tokens: HashMap<String, RefreshToken>,
    pub oauth_codes: HashMap<String, OAuthCode>,
    /// Users who have authorized the App (GitHub then skips the authorize page).
    pub authorized_users: BTreeSet<Id>,
    pub deliveries: Vec<Delivery>,
    #[serde(default)]
    pub moved_issues: Vec<Moved>,
}

pub const USER_TOKEN_LIFETIME: Duration = Duration::hours(8);
pub const REFRESH_TOKEN_LIFETIME: Duration = Duration::days(184);
pub const INSTALLATION_TOKEN_LIFETIME: Duration = Duration::hours(1);
const OAUTH_CODE_LIFETIME: Duration = Duration::minutes(10);

/// A random token with GitHub's prefix for its kind (`ghu_`, `ghr_`, `ghs_`).
pub fn random_token(prefix: &str) -> String {
    let body: String = rand::rng().sample_iter(Alphanumeric).take(36).map(char::from).collect();
    format!("{prefix}{body}")
}

impl World {
    /// The people, organization and repositories a newcomer finds on first start.
    pub fn seeded(app_slug: &str) -> Self {
        // GitHub never reuses an id: a simulator started afresh (no state file)
        // counts on from the clock, so its accounts never collide with the ids
        // an earlier run left in forgelink's database.
        let first_id = u64::try_from(Utc::now().timestamp_millis()).unwrap_or(1000);
        let mut world = Self { next_id: first_id, ..Self::default() };
        world.bot_id = world.add_account(&format!("{app_slug}[bot]"), AccountKind::Bot, None);
        let octocat = world.add_account("octocat", AccountKind::User, Some("The Octocat"));
        let mona = world.add_account("mona", AccountKind::User, Some("Mona Lisa Octocat"));
        world.add_account("hubot", AccountKind::User, Some("Hubot"));
        let org = world.add_account("forge-demo", AccountKind::Organization, Some("Forge Demo"));
        // mona is a member but not an owner: her installs become requests.
        world.add_member(org, octocat, true);
        world.add_member(org, mona, false);
        for (name, private, archived, description) in [
            ("api", false, false, "The demo's HTTP API"),
            ("web", false, false, "The demo's web front end"),
            ("docs", true, false, "Internal documentation"),
            ("infra", true, false, "Deployment scripts"),
            ("legacy", false, true, "The old monolith, kept for reference"),
        ] {
            world.add_repo(org, name, private, archived, Some(description));
        }
        world.add_repo(octocat, "hello-world", false, false, Some("My first repository"));
        world.add_repo(octocat, "dotfiles", true, false, None);
        world.add_repo(mona, "sketches", false, false, None);
        world
    }

    pub fn next_id(&mut self) -> Id {
        self.next_id += 1;
        self.next_id
    }

    pub fn add_account(&mut self, login: &str, kind: AccountKind, name: Option<&str>) -> Id {
        let id = self.next_id();
        self.accounts.insert(
            id,
            Account {
                id,
                login: login.to_owned(),
                kind,
                name: name.map(str::to_owned),
                created_at: Utc::now(),
                members: Vec::new(),
                admins: Vec::new(),
            },
        );
        id
    }

    pub fn add_member(&mut self, org_id: Id, user_id: Id, admin: bool) {
        if let Some(org) = self.accounts.get_mut(&org_id) {
            if !org.members.contains(&user_id) {
                org.members.push(user_id);
            }
            if admin && !org.admins.contains(&user_id) {
                org.admins.push(user_id);
            }
        }
    }

    pub fn add_repo(
        &mut self,
        owner_id: Id,
        name: &str,
        private: bool,
        archived: bool,
        description: Option<&str>,
    ) -> Id {
        let id = self.next_id();
        let now = Utc::now();
        self.repos.insert(
            id,
            Repo {
                id,
                owner_id,
                name: name.to_owned(),
                description: description.map(str::to_owned),
                private,
                archived,
                created_at: now,
                updated_at: now,
                next_issue_number: 1,
            },
        );
        id
    }

    pub fn account_by_login(&self, login: &str) -> Option<&Account> {
        self.accounts.values().find(|account| account.login.eq_ignore_ascii_case(login))
    }

    pub fn users(&self) -> impl Iterator<Item = &Account> {
        self.accounts.values().filter(|account| account.kind == AccountKind::User)
    }

    /// The user's own account and the organizations they belong to.
    pub fn accounts_of(&self, user_id: Id) -> Vec<&Account> {
        self.accounts.values().filter(|account| account.id == user_id || account.members.contains(&user_id)).collect()
    }

    /// Whether `account_id` is the user or one of their organizations: whose repositories they reach.
    pub fn reaches_account(&self, user_id: Id, account_id: Id) -> bool {
        self.accounts_of(user_id).iter().any(|a| a.id == account_id)
    }

    pub fn repos_of(&self, owner_id: Id) -> Vec<&Repo> {
        self.repos.values().filter(|repo| repo.owner_id == owner_id).collect()
    }

    pub fn repo_by_name(&self, owner: &str, name: &str) -> Option<&Repo> {
        let owner = self.account_by_login(owner)?;
        self.repos.values().find(|repo| repo.owner_id == owner.id && repo.name.eq_ignore_ascii_case(name))
    }

    pub fn full_name(&self, repo: &Repo) -> String {
        let owner = self.accounts.get(&repo.owner_id).map_or("unknown", |a| a.login.as_str());
        format!("{owner}/{}", repo.name)
    }

    /// The repositories an installation can reach, in id order.
    pub fn installation_repos(&self, installation: &Installation) -> Vec<&Repo> {
        match installation.selection {
            Selection::All => self.repos_of(installation.account_id),
            Selection::Selected => installation.repo_ids.iter().filter_map(|id| self.repos.get(id)).collect(),
        }
    }

    pub fn installation_for_account(&self, account_id: Id) -> Option<&Installation> {
        self.installations.values().find(|installation| installation.account_id == account_id)
    }

    /// The installation whose repositories include this one, if any.
    pub fn installation_for_repo(&self, repo: &Repo) -> Option<&Installation> {
        self.installation_for_account(repo.owner_id)
            .filter(|installation| installation.selection == Selection::All || installation.repo_ids.contains(&repo.id))
    }

    /// Installations a user can see: on their own account or on an org they belong to.
    pub fn installations_visible_to(&self, user_id: Id) -> Vec<&Installation> {
        let accounts: BTreeSet<Id> = self.accounts_of(user_id).iter().map(|a| a.id).collect();
        self.installations.values().filter(|installation| accounts.contains(&installation.account_id)).collect()
    }

    pub fn issue_by_number(&self, repo_id: Id, number: u64) -> Option<&Issue> {
        self.issues.values().find(|issue| issue.repo_id == repo_id && issue.number == number)
    }

    pub fn issue_by_number_mut(&mut self, repo_id: Id, number: u64) -> Option<&mut Issue> {
        self.issues.values_mut().find(|issue| issue.repo_id == repo_id && issue.number == number)
    }

    /// The issue that was number `number` of `repo_id` before it was transferred away.
    pub fn moved_issue(&self, repo_id: Id, number: u64) -> Option<&Issue> {
        let moved = self.moved_issues.iter().find(|m| m.repo_id == repo_id && m.number == number)?;
        self.issues.get(&moved.issue_id)
    }

    // --- credentials -------------------------------------------------------------

    pub fn issue_oauth_code(&mut self, user_id: Id, redirect_uri: Option<String>) -> String {
        let code = random_token("");
        self.oauth_codes
            .insert(code.clone(), OAuthCode { user_id, redirect_uri, expires_at: Utc::now() + OAUTH_CODE_LIFETIME });
        code
    }

    /// A fresh user access token and refresh token pair.
    pub fn issue_user_tokens(&mut self, user_id: Id) -> (String, String) {
        let access = random_token("ghu_");
        let refresh = random_token("ghr_");
        self.tokens.insert(
            access.clone(),
            Token { grant: Grant::User { user_id }, expires_at: Utc::now() + USER_TOKEN_LIFETIME },
        );
        self.refresh_tokens
            .insert(refresh.clone(), RefreshToken { user_id, expires_at: Utc::now() + REFRESH_TOKEN_LIFETIME });
        (access, refresh)
    }

    pub fn issue_installation_token(&mut self, installation_id: Id) -> (String, DateTime<Utc>) {
        let token = random_token("ghs_");
        let expires_at = Utc::now() + INSTALLATION_TOKEN_LIFETIME;
        self.tokens.insert(token.clone(), Token { grant: Grant::Installation { installation_id }, expires_at });
        (token, expires_at)
    }

    /// The grant behind a token that has not expired.
    pub fn grant_for(&self, token: &str) -> Option<&Grant> {
        self.tokens.get(token).filter(|t| t.expires_at > Utc::now()).map(|t| &t.grant)
    }

    /// Revokes every token an installation holds (uninstall, suspend).
    pub fn revoke_installation_tokens(&mut self, installation_id: Id) {
        self.tokens.retain(
            |_, token| !matches!(token.grant, Grant::Installation { installation_id: id } if id == installation_id),
        );
    }

    /// Organizations of many repositories, for scale tests; `owner_ids` become owners.
    pub fn add_large_org(&mut self, login: &str, repo_count: usize, owner_ids: &[Id]) -> Id {
        let org = match self.account_by_login(login) {
            Some(account) => account.id,
            None => self.add_account(login, AccountKind::Organization, None),
        };
        for &user in owner_ids {
            self.add_member(org, user, true);
        }
        let existing = self.repos_of(org).len();
        for n in existing..repo_count {
            self.add_repo(org, &format!("repo-{:05}", n + 1), n % 7 == 0, n % 50 == 49, None);
        }
        org
    }

    pub fn load(path: &Path) -> std::io::Result<Option<Self>> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidData, error)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Writes the snapshot atomically (a temporary file renamed over the old one).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let tmp = path.with_extension("json.tmp");
        let bytes = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(tmp, path)
    }
}
