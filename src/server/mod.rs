//! Server-only code, one folder per domain, each owning its SQL.

pub mod accounts;
pub mod admin;
pub mod config;
pub mod context;
pub mod crypto;
pub mod db;
pub mod github;
pub mod github_sim;
pub mod health;
pub mod integrations;
pub mod live;
pub mod metrics;
pub mod projects;
pub mod rest;
pub mod security;
pub mod shutdown;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod webhooks;
