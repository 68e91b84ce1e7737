//! The UI, rendered on the server and hydrated in the browser.

mod home;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    StaticSegment,
};

/// The HTML document around the app; rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Stylesheet id="leptos" href="/pkg/forgelink.css"/>
        <Title formatter=|page: String| if page.is_empty() { "forgelink".to_string() } else { format!("{page} · forgelink") }/>
        <Router>
            <header class="site-header">
                <A href="/" attr:class="brand">"forgelink"</A>
            </header>
            <main class="page">
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") view=home::HomePage/>
                </Routes>
            </main>
        </Router>
    }
}

/// Shown for any path no route matches; the response status is 404.
#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <section class="card">
            <h1>"Page not found"</h1>
            <p>"Nothing lives at this address. " <A href="/">"Go to the home page"</A> "."</p>
        </section>
    }
}
