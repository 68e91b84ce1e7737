//! The direction of dependency, checked: UI (`app`) → server functions (`api`)
//! → services (`server`), with the shared types (`domain`) beneath them all.
//! The server never names the UI or the server functions (only `startup`, at
//! the crate's root, joins the UI to the server); the shared types name no side.

use std::{collections::BTreeSet, path::Path};

/// Every `.rs` file under `dir` (relative to the crate), with its text.
fn sources(dir: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut pending = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    assert!(!found.is_empty(), "no sources under {dir}");
    found
}

/// The crate's top-level modules that `code` names: `crate::api::…`, and the
/// names in a grouped `use crate::{api::…, server::{…}}`. Comments are skipped.
fn crate_modules_named(code: &str) -> BTreeSet<String> {
    let code: String = code.lines().map(|line| line.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    let mut named = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of the group: those at brace depth 0.
            let (mut depth, mut name, mut top) = (0, String::new(), true);
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => top = true,
                    c if depth == 0 && top && (c.is_alphanumeric() || c == '_') => name.push(c),
                    _ if !name.is_empty() => {
                        named.insert(std::mem::take(&mut name));
                        top = false;
                    }
                    _ => {}
                }
            }
            if !name.is_empty() {
                named.insert(name);
            }
        } else {
            named.insert(rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect());
        }
    }
    named
}

fn offenders(dir: &str, forbidden: &[&str]) -> Vec<String> {
    sources(dir)
        .into_iter()
        .flat_map(|(path, code)| {
            crate_modules_named(&code)
                .into_iter()
                .filter(|m| forbidden.contains(&m.as_str()))
                .map(move |m| format!("{path} names crate::{m}"))
        })
        .collect()
}

#[test]
fn the_server_names_neither_the_ui_nor_the_server_functions() {
    let found = offenders("src/server", &["api", "app", "startup"]);
    assert!(found.is_empty(), "see the rule in src/server/mod.rs:\n{}", found.join("\n"));
}

#[test]
fn the_shared_types_name_no_side() {
    let found = offenders("src/domain", &["api", "app", "server", "startup"]);
    assert!(found.is_empty(), "see the rule in src/domain/mod.rs:\n{}", found.join("\n"));
}

#[test]
fn the_check_sees_grouped_and_plain_paths() {
    let code = "use crate::{\n    api::{auth, error::AppError},\n    domain::x, // crate::app in a comment\n};\nfn f() { crate::server::db::connect(); }";
    assert_eq!(crate_modules_named(code), ["api", "domain", "server"].map(String::from).into());
}
