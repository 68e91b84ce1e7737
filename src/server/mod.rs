//! Server-only code, one folder per domain, each owning its SQL.
//!
//! Dependencies point one way: the UI (`app`) calls server functions (`api`),
//! which call the services here, which use their own queries and the GitHub
//! client. Nothing here names `crate::api` or `crate::app`: what both sides
//! share lives in `crate::domain`, errors become `AppError` in `api`, and
//! `crate::startup` joins the UI to the server (`tests/architecture.rs` checks).

pub mod accounts;
pub mod admin;
pub mod assets;
pub mod config;
pub mod crypto;
pub mod db;
pub mod github;
pub mod health;
pub mod integrations;
pub mod json_api;
pub mod live;
pub mod metrics;
pub mod projects;
pub mod redirects;
pub mod security;
pub mod shutdown;
pub mod state;
pub mod tasks;
pub mod telemetry;
pub mod webhooks;
