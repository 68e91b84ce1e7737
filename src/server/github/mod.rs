//! Talking to GitHub: the shapes of its webhook events (and, with later
//! features, the REST client, App JWTs and installation tokens).

pub mod client;
pub mod config;
pub mod events;
