//! docs/datasets.md is generated from the row types; this test keeps it current and checks the
//! column registry's invariants.

use std::collections::HashSet;

use webitel_export::registry::{
    DATASETS, REPORTS, render_dataset_docs, render_incremental_table, render_readme_datasets,
    render_report_docs,
};

#[test]
fn datasets_md_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/datasets.md");
    let expected = render_dataset_docs();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/datasets.md is stale: run UPDATE_DOCS=1 cargo test --test integration docs"
    );
}

/// docs/readonly-role.sql is generated from the tables the queries read.
#[test]
fn readonly_role_sql_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/readonly-role.sql");
    let expected = webitel_export::check::role_script();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/readonly-role.sql is stale: run UPDATE_DOCS=1 cargo test --test integration docs"
    );
}

/// The README's dataset list and docs/nightly.md's table of incremental columns are generated
/// from the registry between their markers.
#[test]
fn generated_lists_in_readme_and_nightly_md_are_current() {
    type Render = fn(&str) -> String;
    let docs: [(&str, Render, &str); 2] = [
        ("README.md", render_readme_datasets, "<!-- datasets -->"),
        (
            "docs/nightly.md",
            render_incremental_table,
            "<!-- incremental -->",
        ),
    ];
    for (file, render, marker) in docs {
        let path = format!("{}/{file}", env!("CARGO_MANIFEST_DIR"));
        let actual = std::fs::read_to_string(&path).unwrap();
        assert!(actual.contains(marker), "{file} lost its marker {marker}");
        let expected = render(&actual);
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(&path, &expected).unwrap();
            continue;
        }
        for d in DATASETS.iter().chain(REPORTS) {
            assert!(expected.contains(d.name), "{file} does not list {}", d.name);
        }
        assert!(
            actual == expected,
            "{file} is stale: run UPDATE_DOCS=1 cargo test --test integration docs"
        );
    }
}

/// docs/reports.md is hand-written around generated column tables; this keeps the tables
/// current and every report documented.
#[test]
fn reports_md_column_tables_are_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/reports.md");
    let actual = std::fs::read_to_string(path).unwrap();
    let expected = render_report_docs(&actual);
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path, &expected).unwrap();
    }
    for report in REPORTS {
        for c in report.columns {
            assert!(
                expected.contains(&format!("| `{}` |", c.name)),
                "docs/reports.md has no table row for {}.{}",
                report.name,
                c.name
            );
        }
    }
    assert!(
        actual == expected,
        "docs/reports.md is stale: run UPDATE_DOCS=1 cargo test --test integration docs"
    );
}

#[test]
fn column_names_are_unique_snake_case_and_documented() {
    let every = DATASETS
        .iter()
        .map(|d| (d.name, d.columns))
        .chain(REPORTS.iter().map(|r| (r.name, r.columns)));
    for (name, columns) in every {
        let mut seen = HashSet::new();
        for c in columns {
            assert!(seen.insert(c.name), "{}: duplicate column {}", name, c.name);
            assert!(
                c.name
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_'),
                "{}: {} is not snake_case",
                name,
                c.name
            );
            assert!(
                c.doc.trim().len() > 10,
                "{}: {} is not documented",
                name,
                c.name
            );
        }
    }
}

/// docs/cli.md holds the `--help` of every command, so a changed flag shows up in review and
/// the reference cannot drift from the binary.
#[test]
fn cli_md_is_the_help_of_every_command() {
    use webitel_export::registry::{DATASETS, REPORTS};
    let mut commands: Vec<Vec<&str>> = vec![vec![]];
    commands.extend(DATASETS.iter().map(|d| vec![d.name]));
    commands.push(vec!["report"]);
    commands.extend(REPORTS.iter().map(|r| vec!["report", r.name]));
    commands.extend([vec!["run"], vec!["check"], vec!["demo"]]);
    let mut expected = String::from(
        "# Command-line reference\n\n\
         The `--help` of every command (generated: `UPDATE_DOCS=1 cargo test --test integration docs`).\n",
    );
    for command in &commands {
        let mut args = command.clone();
        args.push("--help");
        let help = crate::support::run_ok(&args);
        let title = std::iter::once("webitel-export")
            .chain(command.iter().copied())
            .collect::<Vec<_>>()
            .join(" ");
        expected.push_str(&format!("\n## `{title}`\n\n```text\n{}```\n", help));
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/cli.md");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/cli.md is stale: run UPDATE_DOCS=1 cargo test --test integration docs"
    );
}

/// The layers of docs/ARCHITECTURE.md, top to bottom: no module names one above it.
#[test]
fn no_module_imports_from_a_layer_above() {
    const LAYERS: &[&[&str]] = &[
        &["main"],
        &["cli"],
        &["job", "check", "demo"],
        &["registry"],
        &["reports"],
        &["datasets"],
        &["export"],
        &["source", "levels", "sink", "timearg", "pg_server", "memory"],
        &["view"],
        &["record", "pseudonym", "error"],
    ];
    let layer = |module: &str| LAYERS.iter().position(|l| l.contains(&module));
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut upward = Vec::new();
    for path in rust_files(&src) {
        let relative = path.strip_prefix(&src).unwrap();
        let top = relative.iter().next().unwrap().to_string_lossy();
        let module = top.trim_end_matches(".rs");
        let Some(own) = layer(module) else { continue };
        let text = std::fs::read_to_string(&path).unwrap();
        // Code only: comments may name any module, and tests may reach anywhere.
        let code = text.split("#[cfg(test)]").next().unwrap();
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (i, _) in line.match_indices("crate::") {
                let name: String = line[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if layer(&name).is_some_and(|l| l < own) {
                    upward.push(format!("{}: crate::{name}", relative.display()));
                }
            }
        }
    }
    assert!(upward.is_empty(), "imports from a layer above: {upward:#?}");
}

fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The man pages and completions the package ships come from the same clap definitions.
#[test]
fn man_pages_and_completions_cover_every_command() {
    let dir = tempfile::tempdir().unwrap();
    crate::support::run_ok(&["generate", "man", crate::support::path_str(dir.path())]);
    let page = |name: &str| {
        std::fs::read_to_string(dir.path().join(format!("{name}.1")))
            .unwrap_or_else(|e| panic!("no man page {name}.1: {e}"))
    };
    // One page per command, as `man webitel-export-run` looks for it.
    for dataset in webitel_export::registry::DATASETS {
        let name = format!("webitel-export-{}", dataset.name);
        assert!(page(&name).contains(&format!(".TH {name} 1")));
    }
    assert!(page("webitel-export-run").contains(".TH webitel-export-run 1"));
    assert!(page("webitel-export-report-agent-activity").contains("agent"));
    assert!(page("webitel-export").contains("webitel\\-export\\-run(1)"));
    // Bash completes subcommand options (the script run by bash, as bash-completion runs it).
    let bash = crate::support::run_ok(&["generate", "completions", "bash"]);
    let script = dir.path().join("webitel-export.bash");
    std::fs::write(&script, bash).unwrap();
    let offered = |words: &str| {
        let out = std::process::Command::new("bash")
            .args(["--norc", "--noprofile", "-c"])
            .arg(
                r#"source "$1"; shift
                   f=$(complete -p webitel-export | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
                   COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
                   "$f" webitel-export "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
                   printf '%s\n' "${COMPREPLY[@]}""#,
            )
            .arg("bash")
            .arg(&script)
            .args(words.split(' '))
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(
        offered("webitel-export run --c")
            .lines()
            .any(|l| l == "--config")
    );
    assert!(
        offered("webitel-export calls --stored-f")
            .lines()
            .any(|l| l == "--stored-from")
    );
    assert!(
        offered("webitel-export report agent-activity --b")
            .lines()
            .any(|l| l == "--bucket")
    );
    for shell in ["bash", "zsh", "fish"] {
        let text = crate::support::run_ok(&["generate", "completions", shell]);
        assert!(
            text.contains("conversations") && text.contains("stored-from"),
            "{shell}"
        );
    }
}

/// `webitel-export schema`: the data dictionary, per dataset, in Markdown (the sections of
/// docs/datasets.md) and JSON, with the release that fills each column.
#[test]
fn schema_prints_every_column_with_its_release_and_class() {
    use crate::support::{assert_fails, run, run_ok};
    let whole = run_ok(&["schema"]);
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/datasets.md")).unwrap();
    assert!(
        whole == docs,
        "docs/datasets.md is not what `schema` prints"
    );
    let conversations = run_ok(&["schema", "conversations"]);
    assert!(
        docs.contains(&conversations),
        "a dataset's section of docs/datasets.md"
    );

    let json: serde_json::Value =
        serde_json::from_str(&run_ok(&["schema", "annotations", "--format", "json"])).unwrap();
    let info = webitel_export::registry::find("annotations").unwrap();
    let columns = json["columns"].as_array().unwrap();
    assert_eq!(columns.len(), info.columns.len());
    let column = |name: &str| columns.iter().find(|c| c["name"] == name).unwrap().clone();
    assert_eq!(
        column("file_id")["since"],
        "v26.04",
        "a column Webitel added later"
    );
    assert_eq!(column("call_id")["since"], "v22.05");
    assert_eq!(column("note")["personal"], "text");
    assert_eq!(column("note")["type"], "text");
    assert!(
        column("note")["description"]
            .as_str()
            .unwrap()
            .contains("note")
    );

    let every: serde_json::Value =
        serde_json::from_str(&run_ok(&["schema", "--format", "json"])).unwrap();
    let mos = every
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["dataset"] == "conversations")
        .unwrap()["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "mos_min")
        .unwrap()["since"]
        .clone();
    assert_eq!(mos, "v26.02", "a derived column's declared release");

    let unknown = run(&["schema", "no-such"]);
    assert!(assert_fails(&unknown, 2).contains("unknown dataset"));
}
