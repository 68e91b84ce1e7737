//! Server-only code, one folder per domain, each owning its SQL.

pub mod config;
pub mod db;
pub mod github;
pub mod github_sim;
pub mod health;
pub mod startup;
pub mod state;
pub mod telemetry;
