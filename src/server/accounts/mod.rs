//! Accounts: people who sign in with an email and password, their sessions,
//! and the GitHub account each may link (OAuth, tokens encrypted at rest).

pub mod github_link;
pub mod passwords;
mod queries;
pub mod routes;
pub mod service;
pub mod session;

pub use service::{AccountError, User};
