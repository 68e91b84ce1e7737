//! The UI, rendered on the server and hydrated in the browser.

mod account;
mod auth;
mod events;
mod github;
mod home;
mod integrations;
mod projects;
mod tasks;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes, A},
    hooks::use_params_map,
    lazy_route, path, Lazy, LazyRoute, SsrMode,
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
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The session's actions and the signed-in user, shared by every page. The user
/// is fetched again whenever one of the actions has run.
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
    let user = data_resource(
        move || (sign_in.version().get(), sign_up.version().get(), sign_out.version().get()),
        |_| current_user(),
    );
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
                    <Route path=path!("/admin/events") view={Lazy::<EventLogRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/events/:id") view={Lazy::<EventLogRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/projects") view=projects::ProjectListPage/>
                    <Route path=path!("/projects/new") view=projects::NewProjectPage/>
                    <ParentRoute path=path!("/projects/:slug") view=projects::ProjectLayout ssr=SsrMode::Async>
                        <Route path=path!("") view=projects::OverviewTab/>
                        <Route path=path!("tasks") view={Lazy::<TasksRoute>::new()}/>
                        <Route path=path!("tasks/:id") view={Lazy::<TasksRoute>::new()}/>
                        <Route path=path!("integrations") view={Lazy::<IntegrationsRoute>::new()}/>
                    </ParentRoute>
                </Routes>
            </main>
        </Router>
    }
}

/// Pages whose code the browser downloads when one is first shown rather than
/// with the app (`cargo leptos build --split`): the big pages one does not
/// visit first, so that the home page and signing in do not wait for them.
/// Loaded from the server, such a page names its files for preloading and
/// brings its data; reached by a link, its code is fetched before its data (a
/// page's resources are made in its component, which is what is split off).
macro_rules! split_page {
    ($($route:ident => $page:path $(, $item:path)?);+ $(;)?) => {$(
        struct $route {
            // The item page (`…/:id`) rather than the list, when the route names one.
            item: bool,
        }

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                #[cfg(feature = "ssr")]
                preload_split_page(stringify!($route));
                Self { item: use_params_map().read_untracked().get("id").is_some() }
            }

            fn view(this: Self) -> AnyView {
                $(if this.item {
                    return $item().into_any();
                })?
                let _ = this.item;
                $page().into_any()
            }
        }
    )+};
}

// A list and its item pages share a file: one is mostly reached from the other,
// and each split more makes every page's files smaller and more numerous.
split_page! {
    EventLogRoute => events::EventsPage, events::EventPage;
    TasksRoute => tasks::TasksTab, tasks::TaskPage;
    IntegrationsRoute => integrations::IntegrationsTab;
}

/// Names a split-off page's files in the head of the page being rendered, so
/// the browser fetches them beside the app's instead of once the app runs.
/// Leptos names them too, but reads what the page used outside the request's
/// reactive owner: under load the list came out empty now and then (and could
/// be another request's). The route's data is made in the request's owner.
#[cfg(feature = "ssr")]
fn preload_split_page(route: &str) {
    use leptos_meta::Link;

    let Some(manifest) = use_context::<leptos::WasmSplitManifest>() else { return };
    let Some(manifest) = manifest.0.try_read_value() else { return };
    let (pkg, splits, loader) = &*manifest;
    // #[lazy_route] names a route's split `__<route in snake case>_view_<hash>`.
    let mut key = String::from("__");
    for (i, c) in route.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            key.push('_');
        }
        key.push(c.to_ascii_lowercase());
    }
    key.push_str("_view_");
    let files = splits.iter().filter(|(split, _)| split.starts_with(&key)).flat_map(|(_, files)| files);
    for file in files {
        let href = format!("{pkg}/{file}.wasm");
        let _ =
            view! { <Link rel="preload" href as_="fetch" type_="application/wasm" crossorigin="anonymous"/> }.to_html();
    }
    let _ = view! { <Link rel="modulepreload" href=format!("{pkg}/{loader}") crossorigin="anonymous"/> }.to_html();
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

/// Counts the `changed` messages of a server-sent event stream (`/live/…`);
/// a resource that reads it fetches again on each.
pub fn live_changes(path: impl Into<String>) -> ReadSignal<u64> {
    let path: String = path.into();
    let (changes, set_changes) = signal(0u64);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::{closure::Closure, JsCast};
        let Ok(source) = web_sys::EventSource::new(&path) else { return };
        let on_change = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| set_changes.update(|n| *n += 1));
        // The server also sends one on every (re)connection, so what changed
        // between the page's rendering and the subscription is not missed.
        let _ = source.add_event_listener_with_callback("changed", on_change.as_ref().unchecked_ref());
        on_change.forget();
        let source = send_wrapper::SendWrapper::new(source);
        on_cleanup(move || source.close());
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (set_changes, path);
    changes
}

/// A resource whose data goes from the server's render to hydration in
/// postcard, as server functions answer (see `api`): with Leptos' default
/// (JSON) the WASM would carry serde_json for it.
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
