//! Server functions and the types that cross the server boundary.
//! Compiled for both sides: the browser gets typed stubs that call the server.
//!
//! Answers and errors travel as postcard (`output = Postcard`), not JSON: the
//! WASM decodes postcard with a fraction of serde_json's code (every page 17 KB
//! brotli lighter). Arguments come as forms (`PostUrl`), so that a form works
//! before hydration. The JSON API (`server::json_api`) is what other programs use.

pub mod auth;
#[cfg(feature = "ssr")]
pub mod context;
pub mod error;
pub mod events;
pub mod integrations;
pub mod projects;
pub mod system;
pub mod tasks;
