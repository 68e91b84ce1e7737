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

/// The WASM entry point, in islands mode (`app`): Leptos' script calls it, then
/// hydrates each island of the page, at once. A task queued now runs once they
/// all are: it marks `<body data-hydrated>`, from then on every button of the
/// page answers (tests and `scripts/bench pages` wait for the mark).
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    use leptos::prelude::{document, set_timeout};

    // A release build aborts on a panic before any hook would run (scripts/lib.sh,
    // leptos_release); a debug build says why in the console.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    set_timeout(
        || {
            if let Some(body) = document().body() {
                let _ = body.set_attribute("data-hydrated", "true");
            }
        },
        std::time::Duration::ZERO,
    );
}
