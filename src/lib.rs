//! forgelink: connect GitHub repositories to projects through a GitHub App.
//!
//! `app` (the UI), `api` (server functions and the types that cross the wire)
//! and `paths` compile for both the server and the browser; `server` is server-only.

// Large json! literals (GitHub payload shapes) need more macro recursion.
#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod domain;
pub mod paths;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod startup;

/// The WASM entry point: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
