//! Server functions and the types that cross the server boundary.
//! Compiled for both sides: the browser gets typed stubs that call the server.

pub mod auth;
#[cfg(feature = "ssr")]
pub mod context;
pub mod error;
pub mod events;
pub mod integrations;
pub mod projects;
pub mod system;
pub mod tasks;
