//! The top-level modules of the crate depend on each other one way only: no module reaches,
//! directly or through others, back to one that uses it. Read from the source (`crate::x`
//! paths outside comments), so a new cycle fails here rather than in a reader's head.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The top-level module a source file belongs to (`None` for `lib.rs`).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    match first.strip_suffix(".rs") {
        Some("lib") => None,
        Some(name) => Some(name.to_owned()),
        None => Some(first.to_owned()),
    }
}

/// The top-level modules `source` names through `crate::`, comments left out.
fn references(source: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in source.lines() {
        let code = match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        };
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + "crate::".len()..];
            // `mscommerce_core::crate::` never happens; `foo_crate::` is not `crate::`.
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                group[..end].split(',').collect()
            } else {
                vec![rest]
            };
            for name in names {
                let name: String = name
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.insert(name);
                }
            }
        }
    }
    found
}

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// Which top-level module uses which, from the files under `src`.
fn graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(src, f)).collect();
    let mut graph = Graph::new();
    for file in &files {
        let Some(module) = module_of(src, file) else {
            continue;
        };
        let text = std::fs::read_to_string(file).expect("read a source file");
        let uses = graph.entry(module.clone()).or_default();
        for used in references(&text) {
            // Items re-exported at the root (`crate::Cancel`) are not modules.
            if used != module && modules.contains(&used) {
                uses.insert(used);
            }
        }
    }
    graph
}

/// A cycle of the graph, as the modules along it (first repeated last), if there is one.
fn cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_owned());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

fn shown(graph: &Graph) -> String {
    graph
        .iter()
        .map(|(module, uses)| {
            let uses: Vec<&str> = uses.iter().map(String::as_str).collect();
            format!("  {module} -> {}", uses.join(", "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn top_level_modules_have_no_cycle() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = graph(&src);
    assert!(
        graph.len() > 5,
        "the modules were not found:\n{}",
        shown(&graph)
    );
    if let Some(found) = cycle(&graph) {
        panic!(
            "the modules {} depend on each other in a cycle; the graph:\n{}",
            found.join(" -> "),
            shown(&graph)
        );
    }
}

#[test]
fn the_checker_finds_a_cycle_through_three_modules_and_none_in_a_chain() {
    let edges = |pairs: &[(&str, &str)]| -> Graph {
        let mut graph = Graph::new();
        for (from, to) in pairs {
            graph
                .entry((*from).to_owned())
                .or_default()
                .insert((*to).to_owned());
            graph.entry((*to).to_owned()).or_default();
        }
        graph
    };
    let chain = edges(&[("ffi", "client"), ("client", "http"), ("ffi", "http")]);
    assert_eq!(cycle(&chain), None);
    let looped = edges(&[("auth", "http"), ("http", "secret"), ("secret", "auth")]);
    assert_eq!(
        cycle(&looped).expect("a cycle"),
        ["auth", "http", "secret", "auth"]
    );
}

#[test]
fn references_are_read_from_code_not_comments() {
    let source = "use crate::http::{self, Cancel};\nuse crate::{auth, secret::Secret};\n\
                  /// See [`crate::ffi`].\nlet x = crate::log::Level::Debug; // crate::policy\n";
    let found: Vec<String> = references(source).into_iter().collect();
    assert_eq!(found, ["auth", "http", "log", "secret"]);
}
