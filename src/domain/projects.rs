//! Projects as the UI shows them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub owner_name: String,
    /// Whether the signed-in person owns it (and so sees Integrations).
    pub is_owner: bool,
}

pub const PROJECTS_PER_PAGE: i64 = 50;

/// A page of the projects list (pages from 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectPage {
    pub projects: Vec<Project>,
    pub page: i64,
    pub has_more: bool,
}
