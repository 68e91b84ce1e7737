//! Sign up and sign in. Plain forms: they work before the WASM bundle arrives.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use super::{use_session, ErrorNote};

/// Where to go after signing in (`?next=`), kept through the form.
fn next_path() -> Signal<String> {
    let query = use_query_map();
    Signal::derive(move || query.read().get("next").unwrap_or_default())
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = use_session().sign_up;
    let next = next_path();
    view! {
        <Title text="Sign up"/>
        <section class="card narrow">
            <h1>"Create your account"</h1>
            <ActionForm action=action>
                <input type="hidden" name="next" value=next/>
                <label class="field">"Name" <input type="text" name="display_name" autocomplete="name" required/></label>
                <label class="field">"Email" <input type="email" name="email" autocomplete="email" required/></label>
                <label class="field">
                    "Password"
                    <input type="password" name="password" autocomplete="new-password" minlength="10" required/>
                    <span class="hint">"At least 10 characters."</span>
                </label>
                <button type="submit" class="button">"Create account"</button>
            </ActionForm>
            {move || action.value().get().and_then(Result::err).map(|error| view! { <ErrorNote error/> })}
            <p>"Already have an account? " <A href=move || format!("/signin?next={}", crate::paths::encode_query(&next.get()))>"Sign in"</A></p>
        </section>
    }
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = use_session().sign_in;
    let next = next_path();
    view! {
        <Title text="Sign in"/>
        <section class="card narrow">
            <h1>"Sign in"</h1>
            <ActionForm action=action>
                <input type="hidden" name="next" value=next/>
                <label class="field">"Email" <input type="email" name="email" autocomplete="email" required/></label>
                <label class="field">"Password" <input type="password" name="password" autocomplete="current-password" required/></label>
                <button type="submit" class="button">"Sign in"</button>
            </ActionForm>
            {move || action.value().get().and_then(Result::err).map(|error| view! { <ErrorNote error/> })}
            <p>"New here? " <A href=move || format!("/signup?next={}", crate::paths::encode_query(&next.get()))>"Create an account"</A></p>
        </section>
    }
}
