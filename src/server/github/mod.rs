//! Talking to GitHub: the REST client (OAuth, App JWT, rate limits), cached
//! installation tokens (their SQL in `queries`), leases that keep calls on a
//! shared credential one at a time, and the shapes of its webhook events.

pub mod client;
pub mod config;
pub mod events;
pub mod installation_tokens;
pub mod leases;
mod queries;

/// A token (a person's or an installation's) with less time left than this
/// (seconds) is replaced before use, so no request carries one that expires
/// on the way.
pub const REFRESH_MARGIN_SECS: f64 = 300.0;
