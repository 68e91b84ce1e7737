//! Paths and query strings, the same on both sides: the server checks where it
//! redirects to, and pages check the "Go back" links they render.

/// Longest path accepted as a place to return to.
const MAX_PATH: usize = 2048;

/// `candidate` if it is a path on this site, else `fallback`: a crafted `next`
/// or `return_to` must not send anyone elsewhere. Browsers drop tabs and line
/// breaks from URLs and read `\` as `/`, so `/\t/evil.example` and
/// `/\evil.example` are other sites to them, as `//evil.example` is; anything
/// with a control character, white space or a backslash is refused.
pub fn local_path(candidate: Option<&str>, fallback: &str) -> String {
    match candidate {
        Some(path) if is_local_path(path) => path.to_owned(),
        _ => fallback.to_owned(),
    }
}

fn is_local_path(path: &str) -> bool {
    let mut chars = path.chars();
    chars.next() == Some('/')
        && chars.next() != Some('/')
        && path.len() <= MAX_PATH
        && !path.chars().any(|c| c == '\\' || c.is_control() || c.is_whitespace())
}

/// Percent-encodes a query-string value (both sides: no `url` crate in the bundle).
pub fn encode_query(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn paths_on_this_site_are_kept() {
        for path in
            ["/", "/projects", "/projects/apollo/integrations?installation=3&q=a%20b&page=2", "/a#b", "/%2F%2Fevil"]
        {
            assert_eq!(local_path(Some(path), "/home"), path);
        }
    }

    #[test]
    fn anything_a_browser_could_read_as_another_site_falls_back() {
        let long = format!("/{}", "a".repeat(4096));
        for path in [
            "",
            "//evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "/ /evil.example",
            "%2F%2Fevil",
            "https:evil",
            "https://evil.example",
            "evil.example",
            "javascript:alert(1)",
            "/\u{0}",
            "/\u{7f}",
            "/\u{2028}/evil",
            &long,
        ] {
            assert_eq!(local_path(Some(path), "/home"), "/home", "{path:?}");
        }
        assert_eq!(local_path(None, "/home"), "/home");
    }
}
