//! Generates, from the query templates in `queries/` (files with level markers or include
//! lines), the per-level variants in `queries/levels/` and the `query_<stem>!` macros that
//! pick one (src/levels/variants.rs explains both). A template is all a query needs: the
//! variants and the dispatch follow from it.

use std::path::Path;

#[path = "src/levels/level.rs"]
#[allow(dead_code)]
mod level;
#[path = "src/levels/variants.rs"]
#[allow(dead_code, unused_macros)]
mod variants;

fn main() {
    for path in [
        "build.rs",
        "src/levels/level.rs",
        "src/levels/variants.rs",
        "queries",
    ] {
        println!("cargo:rerun-if-changed={path}");
    }
    let queries = queries(Path::new("queries"));
    let (files, dispatch) = variants::generate(&queries).unwrap_or_else(|e| panic!("{e}"));
    let dir = Path::new("queries/levels");
    std::fs::create_dir_all(dir).expect("creating queries/levels");
    for (path, text) in &files {
        // Written only when changed: an unchanged variant keeps its time stamp.
        if std::fs::read_to_string(path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(path, text).unwrap_or_else(|e| panic!("writing {path}: {e}"));
        }
    }
    // A variant no template generates any more (a marker removed) goes.
    for entry in std::fs::read_dir(dir)
        .expect("reading queries/levels")
        .flatten()
    {
        let path = format!("queries/levels/{}", entry.file_name().to_string_lossy());
        if !files.iter().any(|(p, _)| *p == path) {
            std::fs::remove_file(&path).unwrap_or_else(|e| panic!("removing {path}: {e}"));
        }
    }
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out).join("dispatch.rs"), dispatch).expect("writing dispatch.rs");
}

/// Every `queries/*.sql`, as `(stem, text)`, by name.
fn queries(dir: &Path) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("reading queries/")
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let stem = name.strip_suffix(".sql")?.to_string();
            let text = std::fs::read_to_string(entry.path()).ok()?;
            Some((stem, text))
        })
        .collect();
    found.sort();
    found
}
