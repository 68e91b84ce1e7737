//! The UI, rendered on the server; in the browser only its islands run.
//!
//! Islands (Leptos' `islands` mode): a page is HTML from the server, links are
//! plain links and forms plain forms (they work before and without the WASM),
//! and the WASM carries only the few parts that must run in the browser: the
//! home page's database check, the event log's recovery button, and the live
//! regions (`live`) that keep a page current. Every page downloads the same
//! small bundle, whatever the number of pages.

mod account;
mod auth;
mod events;
mod github;
mod home;
mod integrations;
mod live;
mod projects;
mod tasks;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes, A},
    path, SsrMode,
};

use crate::{
    api::{
        auth::{current_user, SignIn, SignOut, SignUp},
        error::AppError,
    },
    domain::accounts::User,
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
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                // The built files' names carry their hashes (cargo-leptos `hash-files`).
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The session's forms' actions (an action reads what went wrong from the
/// address a failed form comes back to) and the signed-in user, shared by every page.
#[derive(Clone, Copy)]
pub struct Session {
    pub sign_in: ServerAction<SignIn>,
    pub sign_up: ServerAction<SignUp>,
    pub sign_out: ServerAction<SignOut>,
    pub user: DataResource<Result<Option<User>, AppError>>,
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let sign_in = ServerAction::<SignIn>::new();
    let sign_up = ServerAction::<SignUp>::new();
    let sign_out = ServerAction::<SignOut>::new();
    let user = data_resource(|| (), |_| current_user());
    provide_context(Session { sign_in, sign_up, sign_out, user });

    view! {
        <Title formatter=document_title/>
        <Router>
            <SiteHeader/>
            <main class="page">
                <Routes fallback=NotFound>
                    <Route path=path!("") view=home::HomePage/>
                    <Route path=path!("/signup") view=auth::SignUpPage/>
                    <Route path=path!("/signin") view=auth::SignInPage/>
                    <Route path=path!("/account") view=account::AccountPage ssr=SsrMode::Async/>
                    <Route path=path!("/auth/github/problem") view=github::ProblemPage/>
                    <Route path=path!("/integrations/github/problem") view=integrations::InstallProblemPage/>
                    <Route path=path!("/admin/events") view=events::EventsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/events/:id") view=events::EventPage ssr=SsrMode::Async/>
                    <Route path=path!("/projects") view=projects::ProjectListPage/>
                    <Route path=path!("/projects/new") view=projects::NewProjectPage/>
                    <ParentRoute path=path!("/projects/:slug") view=projects::ProjectLayout ssr=SsrMode::Async>
                        <Route path=path!("") view=projects::OverviewTab/>
                        <Route path=path!("tasks") view=tasks::TasksTab/>
                        <Route path=path!("tasks/:id") view=tasks::TaskPage/>
                        <Route path=path!("integrations") view=integrations::IntegrationsTab/>
                    </ParentRoute>
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn SiteHeader() -> impl IntoView {
    let session = use_session();
    view! {
        <header class="site-header">
            <A href="/" attr:class="brand">"forgelink"</A>
            <nav aria-label="Main" class="main-nav">
                <A href="/projects">"Projects"</A>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        matches!(session.user.await, Ok(Some(ref u)) if u.is_admin)
                            .then(|| view! { <A href="/admin/events">"Events"</A> })
                    })}
                </Transition>
            </nav>
            <div class="session">
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match session.user.await {
                            Ok(Some(user)) => view! {
                                <A href="/account" attr:class="who">{user.display_name}</A>
                                <ActionForm action=session.sign_out>
                                    <button type="submit" class="button subtle">"Sign out"</button>
                                </ActionForm>
                            }.into_any(),
                            _ => view! {
                                <A href="/signin">"Sign in"</A>
                                <A href="/signup" attr:class="button">"Sign up"</A>
                            }.into_any(),
                        }
                    })}
                </Transition>
            </div>
        </header>
    }
}

/// Shown for any path no route matches, and for pages one may not see; the
/// response status is 404.
#[component]
pub fn NotFound() -> impl IntoView {
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

/// An operator's page: anyone else gets the 404 page (and status) a missing
/// address gets, decided before any of the page renders. The page's resources
/// are made outside (by the caller), never inside this `Suspense`.
#[component]
pub fn OperatorOnly(children: ChildrenFn) -> impl IntoView {
    let user = use_session().user;
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match user.await {
                        Ok(Some(user)) if user.is_admin => children().into_any(),
                        _ => view! { <NotFound/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// An error from a server function, said plainly, for forms and pages.
#[component]
pub fn ErrorNote(error: AppError) -> impl IntoView {
    view! { <p class="note error" role="alert">{error.to_string()}</p> }
}

/// The document's title for a page's: `Apollo · forgelink`.
///
/// On the server it is escaped too: leptos_meta writes the formatted title
/// into `<title>` as it is, so a project or issue named
/// `</title><script>…` would otherwise end the element and run (the browser
/// sets `document.title` from the text itself, which needs no escaping).
fn document_title(page: String) -> String {
    let title = if page.is_empty() { "forgelink".to_owned() } else { format!("{page} · forgelink") };
    #[cfg(feature = "ssr")]
    let title = title.replace('&', "&amp;").replace('<', "&lt;");
    title
}

/// A resource in postcard, as server functions answer (see `api`). A page's
/// resources are read on the server and never sent (no page is hydrated); one
/// read in an island would be, and with Leptos' default (JSON) the WASM would
/// then carry serde_json.
pub type DataResource<T> = Resource<T, codee::binary::PostcardCodec>;

/// `Resource::new`, in postcard.
#[track_caller]
pub fn data_resource<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> DataResource<T>
where
    S: PartialEq + Clone + Send + Sync + 'static,
    T: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}
