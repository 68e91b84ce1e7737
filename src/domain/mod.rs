//! The types both sides share: what the server decides and the UI shows.
//! Compiled for the server and the browser alike; no I/O, no server-only
//! crates (the database mappings are `cfg(feature = "ssr")` attributes).

pub mod accounts;
pub mod events;
pub mod integrations;
pub mod projects;
pub mod system;
