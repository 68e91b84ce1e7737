//! The GitHub account connection, as the integrations tab and the account page
//! show it; and the page every failed connection attempt lands on.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::domain::{accounts::GitHubIdentity, problems::ConnectProblem};
use crate::paths::{encode_query, local_path};

/// Connected (avatar and login, Disconnect), reconnect needed, or a Connect button.
/// Plain links and forms: GitHub's pages are full-page navigations anyway.
#[component]
pub fn GitHubConnection(github: Option<GitHubIdentity>, return_to: String) -> impl IntoView {
    let connect_href = format!("/auth/github/connect?return_to={}", encode_query(&return_to));
    match github {
        Some(identity) if !identity.reconnect_needed => view! {
            <div class="github-connection connected">
                <img class="avatar" src=identity.avatar_url.clone() alt="" width="40" height="40"/>
                <p>
                    "Connected to GitHub as "
                    <strong data-testid="github-login">{identity.login.clone()}</strong>
                </p>
                <form method="post" action="/auth/github/disconnect">
                    <input type="hidden" name="return_to" value=return_to/>
                    <button type="submit" class="button subtle">"Disconnect GitHub account"</button>
                </form>
            </div>
        }
        .into_any(),
        Some(identity) => view! {
            <div class="github-connection warning" role="status">
                <p>
                    "GitHub no longer accepts the connection to "
                    <strong>{identity.login}</strong>
                    ". Connect again to keep your repositories in sync."
                </p>
                <a class="button" href=connect_href rel="external">"Reconnect GitHub account"</a>
            </div>
        }
        .into_any(),
        None => view! {
            <div class="github-connection">
                <p>"Connect your GitHub account to install the forgelink App and choose repositories."</p>
                <a class="button" href=connect_href rel="external">"Connect GitHub account"</a>
            </div>
        }
        .into_any(),
    }
}

/// What went wrong while connecting GitHub, and what to do next.
#[component]
pub fn ProblemPage() -> impl IntoView {
    let query = use_query_map();
    let reason = move || {
        query.read().get("reason").as_deref().and_then(ConnectProblem::parse).unwrap_or(ConnectProblem::Unavailable)
    };
    let return_to = move || local_path(query.read().get("return_to").as_deref(), "/account");
    let retry = move || format!("/auth/github/connect?return_to={}", encode_query(&return_to()));
    let message = move || {
        match reason() {
        ConnectProblem::Cancelled => "You cancelled on GitHub, so nothing was connected.",
        ConnectProblem::State => "This sign-in link expired or was already used, so it was ignored. Nothing was changed.",
        ConnectProblem::AlreadyLinked => "That GitHub account is already connected to another forgelink account. Sign in to that account, or connect a different GitHub account.",
        ConnectProblem::GitHubDown => "GitHub did not answer. Nothing was changed; try again in a moment.",
        ConnectProblem::Refused => "GitHub refused the connection. Nothing was changed; try again.",
        ConnectProblem::Unavailable => "Something went wrong on our side. Nothing was changed; try again in a moment.",
    }
    };
    view! {
        <Title text="GitHub not connected"/>
        <section class="card narrow" role="alert">
            <h1>"GitHub is not connected"</h1>
            <p>{message}</p>
            <p class="actions">
                <a class="button" href=retry rel="external">"Try again"</a>
                <a href=return_to>"Go back"</a>
            </p>
        </section>
    }
}
