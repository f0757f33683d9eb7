//! docs/datasets.md is generated from the row types; this test keeps it current and checks the
//! column registry's invariants.

use std::collections::HashSet;

use webitel_export::datasets::{DATASETS, render_docs};

#[test]
fn datasets_md_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/datasets.md");
    let expected = render_docs();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/datasets.md is stale: run UPDATE_DOCS=1 cargo test --test integration docs"
    );
}

#[test]
fn column_names_are_unique_snake_case_and_documented() {
    for dataset in DATASETS {
        let mut seen = HashSet::new();
        for c in dataset.columns {
            assert!(
                seen.insert(c.name),
                "{}: duplicate column {}",
                dataset.name,
                c.name
            );
            assert!(
                c.name
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_'),
                "{}: {} is not snake_case",
                dataset.name,
                c.name
            );
            assert!(
                c.doc.trim().len() > 10,
                "{}: {} is not documented",
                dataset.name,
                c.name
            );
        }
    }
}
