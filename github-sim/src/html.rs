//! Plain server-rendered HTML for the simulator's pages: an escaping helper,
//! one layout, and generated avatars (no network needed for pictures).

use axum::response::Html;

use super::world::Account;

/// Escapes text for HTML element content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

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
pub fn page(title: &str, user: Option<&Account>, web: &str, body: &str) -> Html<String> {
    let who = match user {
        Some(user) => format!(
            r#"{avatar} <span>{login}</span>
            <form method="post" action="/logout"><button type="submit">Sign out</button></form>"#,
            avatar = avatar_img(web, &user.login, 20),
            login = esc(&user.login),
        ),
        None => r#"<a href="/login">Sign in</a>"#.to_owned(),
    };
    Html(format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · GitHub (simulated)</title><style>{STYLE}</style></head>
<body>
<header><a href="/">GitHub <span class="badge" style="color:#fff">simulated</span></a><div class="who">{who}</div></header>
<div class="sim-banner" role="note">This is forgelink's GitHub simulator. Nothing here reaches github.com.</div>
<main>
<h1>{title}</h1>
{body}
</main></body></html>"#,
        title = esc(title),
    ))
}

pub fn avatar_img(web: &str, login: &str, size: u32) -> String {
    format!(
        r#"<img class="avatar" src="{web}/avatars/{login}.svg" width="{size}" height="{size}" alt="">"#,
        login = esc(&url_encode(login)),
    )
}

/// An SVG avatar: the login's initial on a colour derived from the login.
pub fn avatar_svg(login: &str) -> String {
    let hash = login.bytes().fold(5381u32, |h, b| h.wrapping_mul(33) ^ u32::from(b));
    let hue = hash % 360;
    let initial = login.chars().next().map(|c| c.to_uppercase().to_string()).unwrap_or_default();
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="120" height="120" viewBox="0 0 120 120"><rect width="120" height="120" fill="hsl({hue},55%,45%)"/><text x="60" y="78" font-family="sans-serif" font-size="56" text-anchor="middle" fill="#fff">{}</text></svg>"##,
        esc(&initial)
    )
}

pub fn error_card(message: &str) -> String {
    format!(r#"<div class="card error" role="alert">{}</div>"#, esc(message))
}
