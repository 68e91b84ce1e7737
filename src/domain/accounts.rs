//! People: who is signed in, and the GitHub account linked to them.

use serde::{Deserialize, Serialize};

/// A signed-in person as the UI sees them (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub is_admin: bool,
    pub github: Option<GitHubIdentity>,
}

/// The GitHub account linked to a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitHubIdentity {
    pub id: i64,
    pub login: String,
    pub avatar_url: String,
    /// GitHub stopped accepting the stored tokens: connect again.
    pub reconnect_needed: bool,
}
