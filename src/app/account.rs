//! Account settings: who you are, and your GitHub connection.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::{github::GitHubConnection, use_session};

#[component]
pub fn AccountPage() -> impl IntoView {
    let session = use_session();
    view! {
        <Title text="Account"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match session.user.await {
                    Ok(Some(user)) => view! {
                        <h1>"Your account"</h1>
                        <section class="card">
                            <p><strong>{user.display_name}</strong> " · " {user.email}</p>
                        </section>
                        <section class="card" aria-labelledby="github-heading">
                            <h2 id="github-heading">"GitHub"</h2>
                            <GitHubConnection github=user.github return_to="/account".to_owned()/>
                        </section>
                    }.into_any(),
                    _ => view! {
                        <section class="card narrow">
                            <h1>"Sign in to see your account"</h1>
                            <A href="/signin?next=/account" attr:class="button">"Sign in"</A>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
