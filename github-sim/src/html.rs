//! Plain server-rendered HTML for the simulator's pages, escaped by maud: one
//! layout, an error card, and generated avatars (no network needed for pictures).

use axum::response::Html;
use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::world::Account;

/// Percent-encodes a query-string value.
pub fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

const STYLE: &str = r#"
:root { color-scheme: light dark; --bg:#f6f8fa; --fg:#1f2328; --muted:#59636e; --card:#fff; --border:#d1d9e0; --accent:#1f883d; --link:#0969da; --danger:#cf222e; }
@media (prefers-color-scheme: dark) { :root { --bg:#0d1117; --fg:#e6edf3; --muted:#9198a1; --card:#151b23; --border:#3d444d; --accent:#238636; --link:#4493f8; --danger:#f85149; } }
* { box-sizing: border-box; }
body { margin:0; font-family: -apple-system, "Segoe UI", system-ui, sans-serif; background:var(--bg); color:var(--fg); line-height:1.5; }
header { display:flex; gap:1rem; align-items:center; padding:.75rem 1.5rem; background:#24292f; color:#fff; }
header a { color:#fff; text-decoration:none; font-weight:600; }
header .who { margin-left:auto; display:flex; gap:.5rem; align-items:center; }
main { max-width:60rem; margin:0 auto; padding:1.5rem; }
a { color:var(--link); }
.sim-banner { background:#fff8c5; color:#3b2300; padding:.4rem 1.5rem; font-size:.9rem; }
.card { background:var(--card); border:1px solid var(--border); border-radius:8px; padding:1rem 1.25rem; margin:1rem 0; }
.button, button { font:inherit; padding:.35rem .9rem; border-radius:6px; border:1px solid var(--border); background:var(--card); color:var(--fg); cursor:pointer; }
.primary { background:var(--accent); border-color:var(--accent); color:#fff; }
.danger { color:var(--danger); }
.muted { color:var(--muted); }
.row { display:flex; gap:.6rem; align-items:center; flex-wrap:wrap; }
.avatar { border-radius:50%; vertical-align:middle; }
ul.plain { list-style:none; padding:0; margin:0; }
ul.plain li { padding:.4rem 0; border-top:1px solid var(--border); }
ul.plain li:first-child { border-top:0; }
label { display:inline-flex; gap:.4rem; align-items:center; }
input[type=text], textarea { font:inherit; padding:.35rem .5rem; border:1px solid var(--border); border-radius:6px; background:var(--card); color:var(--fg); width:100%; max-width:32rem; }
.badge { font-size:.75rem; border:1px solid var(--border); border-radius:2em; padding:0 .5em; color:var(--muted); }
.error { border-color:var(--danger); color:var(--danger); }
table { border-collapse:collapse; width:100%; font-size:.9rem; }
td, th { text-align:left; padding:.3rem .5rem; border-top:1px solid var(--border); }
:focus-visible { outline:3px solid #f59e0b; outline-offset:2px; }
"#;

/// The page frame: a GitHub-like header naming the signed-in simulated user.
pub fn page(title: &str, user: Option<&Account>, web: &str, body: Markup) -> Html<String> {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · GitHub (simulated)" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    a href="/" { "GitHub " span.badge style="color:#fff" { "simulated" } }
                    div.who {
                        @if let Some(user) = user {
                            (avatar_img(web, &user.login, 20)) " " span { (user.login) }
                            form method="post" action="/logout" { button type="submit" { "Sign out" } }
                        } @else {
                            a href="/login" { "Sign in" }
                        }
                    }
                }
                div.sim-banner role="note" { "This is forgelink's GitHub simulator. Nothing here reaches github.com." }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    };
    Html(page.into_string())
}

pub fn avatar_img(web: &str, login: &str, size: u32) -> Markup {
    html! { img.avatar src={ (web) "/avatars/" (url_encode(login)) ".svg" } width=(size) height=(size) alt=""; }
}

/// An SVG avatar: the login's initial on a colour derived from the login.
pub fn avatar_svg(login: &str) -> Markup {
    let hash = login.bytes().fold(5381u32, |h, b| h.wrapping_mul(33) ^ u32::from(b));
    let hue = hash % 360;
    let initial = login.chars().next().map(|c| c.to_uppercase().to_string()).unwrap_or_default();
    // Served as XML: every element is closed (`{}`), none left void.
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width="120" height="120" viewBox="0 0 120 120" {
            rect width="120" height="120" fill={ "hsl(" (hue) ",55%,45%)" } {}
            text x="60" y="78" font-family="sans-serif" font-size="56" text-anchor="middle" fill="#fff" { (initial) }
        }
    }
}

pub fn error_card(message: &str) -> Markup {
    html! { div.card.error role="alert" { (message) } }
}
