//! The home page: what forgelink is, and a live check of the server and database.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::system::check_database;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text=""/>
        <section class="hero">
            <h1>"Connect GitHub to your projects"</h1>
            <p class="lead">
                "forgelink links the repositories of a GitHub App installation to your projects, "
                "keeps them in sync from GitHub's webhooks, and never loses a delivery."
            </p>
        </section>
        <SystemStatus/>
    }
}

/// Asks the server (through a server function) whether the database answers.
/// An island: the button needs the WASM bundle, and before it does nothing.
#[island]
fn SystemStatus() -> impl IntoView {
    let check = Action::new(|_: &()| check_database());
    let pending = check.pending();
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    view! {
        <section class="card" aria-labelledby="status-heading">
            <h2 id="status-heading">"System status"</h2>
            <p>
                "Interactive: "
                <strong data-testid="hydration">
                    {move || if hydrated.get() { "ready" } else { "loading…" }}
                </strong>
            </p>
            <button
                type="button"
                class="button"
                on:click=move |_| {
                    check.dispatch(());
                }
                disabled=move || pending.get()
            >
                "Check database"
            </button>
            <p role="status" aria-live="polite" class="status-line">
                {move || match check.value().get() {
                    None if pending.get() => "Asking the database…".to_string(),
                    None => String::new(),
                    Some(Ok(status)) => format!(
                        "The database answered in {} ms; {}.",
                        status.round_trip_ms,
                        if status.schema_current { "its schema is up to date" } else { "migrations are still to run" },
                    ),
                    Some(Err(error)) => format!("The check failed: {error}"),
                }}
            </p>
        </section>
    }
}
