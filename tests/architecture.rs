//! The shape docs/ARCHITECTURE.md promises, checked on the source: no two modules import each
//! other, directly or in a circle — neither the crate's top-level modules nor the sibling
//! modules of one directory (a parent's `mod.rs` and its children are one unit) — and every
//! registry entry has a test module of its own.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every module under src/ by path (`job::config`), with its code (comments left out).
fn modules() -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let Some(rel) = path.strip_prefix(&src).unwrap().to_str() else {
                continue;
            };
            let Some(rel) = rel.strip_suffix(".rs") else {
                continue;
            };
            let name = rel.strip_suffix("/mod").unwrap_or(rel).replace('/', "::");
            if name == "lib" || name == "main" {
                continue;
            }
            let code: Vec<String> = std::fs::read_to_string(&path)
                .unwrap()
                .lines()
                .map(|l| l.split("//").next().unwrap_or("").to_string())
                .collect();
            found.insert(name, code.join("\n"));
        }
    }
    found
}

/// The identifiers that follow `prefix` in `code` (`crate::` → `job`, `levels`…), including
/// each name of a `prefix{a, b}` group.
fn names_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in code.match_indices(prefix) {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        let group = match rest.strip_prefix('{') {
            Some(inner) => inner.split('}').next().unwrap_or(""),
            None => rest,
        };
        let words = group.split(|c: char| !(c.is_alphanumeric() || c == '_'));
        let take = if rest.starts_with('{') { usize::MAX } else { 1 };
        names.extend(
            words
                .filter(|w| !w.is_empty())
                .take(take)
                .map(str::to_string),
        );
    }
    names
}

/// The first circle in `edges`, if any, as the modules along it.
fn circle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn walk(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|p| p == node) {
            let mut found = path[start..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(found) = walk(next, edges, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|node| walk(node, edges, &mut Vec::new(), &mut done))
}

#[test]
fn no_two_top_level_modules_import_each_other() {
    let modules = modules();
    let top = |m: &str| m.split("::").next().unwrap().to_string();
    let tops: BTreeSet<String> = modules.keys().map(|m| top(m)).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, code) in &modules {
        for used in names_after(code, "crate::") {
            if tops.contains(&used) && used != top(name) {
                edges.entry(top(name)).or_default().insert(used);
            }
        }
    }
    assert!(edges.len() > 5, "the scan found the imports: {edges:?}");
    assert_eq!(circle(&edges), None, "{edges:#?}");
}

#[test]
fn no_two_sibling_modules_import_each_other() {
    let modules = modules();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, code) in &modules {
        let Some((parent, own)) = name.rsplit_once("::") else {
            continue;
        };
        let sibling = |s: &String| s != own && modules.contains_key(&format!("{parent}::{s}"));
        let used = names_after(code, "super::")
            .into_iter()
            .chain(names_after(code, &format!("crate::{parent}::")));
        for s in used.filter(sibling) {
            edges
                .entry(name.clone())
                .or_default()
                .insert(format!("{parent}::{s}"));
        }
    }
    assert!(
        edges.contains_key("job::execute"),
        "the scan found the imports: {edges:?}"
    );
    assert_eq!(circle(&edges), None, "{edges:#?}");
}

/// Each dataset's and report's own test module: it seeds rows and asserts each filter and
/// derived column (the registry-wide tests cover the rest).
const OWN_TESTS: &[(&str, &str)] = &[
    ("calls", "calls_filters"),
    ("queues", "queues"),
    ("agents", "agents"),
    ("attempts", "attempts"),
    ("agent-states", "agent_states"),
    ("recordings", "recordings"),
    ("annotations", "annotations"),
    ("qa-scores", "call_data"),
    ("transcripts", "call_data"),
    ("members", "call_data"),
    ("call-quality", "call_data"),
    ("conversations", "conversations"),
    ("agent-activity", "reports"),
    ("queue-activity", "reports"),
];

/// A registry entry without a test module of its own (listed above, compiled into the test
/// binary by tests/tests.rs, and exporting the dataset) fails here.
#[test]
fn every_registry_entry_has_its_own_test_module_compiled() {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let compiled = std::fs::read_to_string(tests.join("tests.rs")).unwrap();
    for dataset in webitel_export::registry::all() {
        let module = OWN_TESTS
            .iter()
            .find(|(name, _)| *name == dataset.name)
            .map(|(_, module)| *module)
            .unwrap_or_else(|| panic!("{} has no test module in OWN_TESTS", dataset.name));
        assert!(
            compiled
                .lines()
                .any(|l| l.trim() == format!("mod {module};")),
            "tests/{module}.rs is not compiled (no `mod {module};` in tests/tests.rs)"
        );
        let text = std::fs::read_to_string(tests.join(format!("{module}.rs"))).unwrap();
        assert!(
            text.contains(&format!("\"{}\"", dataset.name)),
            "tests/{module}.rs never exports {}",
            dataset.name
        );
    }
}
