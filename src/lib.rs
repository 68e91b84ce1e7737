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

/// The WASM entry point: hydrates the server-rendered page, waiting for the code
/// of a page that is split off (`app::split_page!`), then marks `<body
/// data-hydrated>`: from then on every button of the page answers (tests and
/// `scripts/bench pages` wait for the mark).
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    use leptos::prelude::document;

    // A release build aborts on a panic before any hook would run (scripts/lib.sh,
    // leptos_release); a debug build says why in the console.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    // An Err only says the executor was set up already.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    let Some(body) = document().body() else { return };
    leptos::task::spawn_local(async move {
        let view = leptos::mount::hydrate_from_async(body.clone(), app::App).await;
        let _ = body.set_attribute("data-hydrated", "true");
        // The app lives as long as the page.
        view.forget();
    });
}
