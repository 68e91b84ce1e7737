//! GitHub-flavoured Markdown to HTML that is safe to put in a page: rendered
//! by `pulldown-cmark`, then cleaned by `ammonia` (an allow-list: no scripts,
//! event handlers, `javascript:` URLs, frames, forms or styles survive).

use pulldown_cmark::{html, CowStr, Event, Options, Parser};

/// The HTML of `markdown`, sanitized.
pub fn to_safe_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_GFM;
    let mut rendered = String::with_capacity(markdown.len() * 3 / 2);
    // Task list boxes as text: ammonia (rightly) lets no `<input>` through.
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::TaskListMarker(done) => Event::Text(CowStr::Borrowed(if done { "☑ " } else { "☐ " })),
        other => other,
    });
    html::push_html(&mut rendered, events);
    ammonia::Builder::default()
        // Links lead off forgelink: the page they open gets no handle on ours.
        .link_rel(Some("noopener noreferrer nofollow"))
        // A relative address would point into forgelink (with the reader's
        // cookies: `<img src="/auth/github/disconnect">`), not into GitHub.
        .url_relative(ammonia::UrlRelative::Deny)
        .clean(&rendered)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::to_safe_html;

    #[test]
    fn githubs_markdown_renders() {
        let html = to_safe_html("# Title\n\n- [x] done\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~ `code` **bold**");
        for part in
            ["<h1>Title</h1>", "☑ done", "<table>", "<del>gone</del>", "<code>code</code>", "<strong>bold</strong>"]
        {
            assert!(html.contains(part), "{part} in {html}");
        }
    }

    #[test]
    fn hostile_markdown_loses_everything_that_runs() {
        let hostile = concat!(
            "<script>alert(1)</script>\n\n",
            "<img src=https://example.com/x.png onerror=\"alert(2)\">\n\n",
            "[click](javascript:alert(3))\n\n",
            "<a href=\"JaVaScRiPt:alert(4)\">x</a>\n\n",
            "<iframe src=\"https://evil.example\"></iframe>\n\n",
            "<div style=\"position:fixed\" onclick=\"alert(5)\">y</div>\n\n",
            "<form action=\"https://evil.example\"><input name=p></form>\n\n",
            "<svg><script>alert(6)</script></svg>\n\n",
            "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCg3KTwvc2NyaXB0Pg==)",
        );
        let html = to_safe_html(hostile).to_lowercase();
        for banned in [
            "<script",
            "onerror",
            "onclick",
            "javascript:",
            "<iframe",
            "style=",
            "<form",
            "<input",
            "data:text",
            "alert(1)",
            "<svg",
        ] {
            assert!(!html.contains(banned), "{banned} survived in {html}");
        }
        assert!(html.contains("<img src=\"https://example.com/x.png\">"), "harmless parts stay: {html}");
    }

    #[test]
    fn links_open_without_a_handle_on_the_page() {
        let html = to_safe_html("[docs](https://example.com/docs)");
        assert!(html.contains(r#"href="https://example.com/docs""#), "{html}");
        assert!(html.contains(r#"rel="noopener noreferrer nofollow""#), "{html}");
        let relative = to_safe_html("![x](/auth/github/connect) [here](/projects/x/integrations)");
        assert!(!relative.contains("/auth/github") && !relative.contains("/projects/x"), "{relative}");
    }
}
