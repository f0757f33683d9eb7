//! A table or column missing for one dataset affects only the datasets whose query reads it:
//! an older release (nothing of its release or later exists) reads as that release's variant,
//! a gap (later releases' columns exist) fails the export and `check`, naming what is missing
//! and the release that has it.

use std::collections::BTreeMap;

use webitel_export::levels::requirements;
use webitel_export::registry::DatasetInfo;

use crate::datasets::{Exported, every_export};
use crate::support::{TestDb, assert_fails, out_dir, run};

/// Each dataset's and report's CSV export of `db`: `Ok(bytes)` or `Err(exit code, stderr)`.
fn export_all(
    db: &TestDb,
    dir: &std::path::Path,
) -> BTreeMap<&'static str, Result<Vec<u8>, (i32, String)>> {
    every_export()
        .map(|e: Exported<'static>| {
            let file = dir.join(format!("{}.csv", e.name));
            let mut args = e.command.clone();
            args.extend([
                "--database-url",
                &db.url,
                "-q",
                "-o",
                file.to_str().unwrap(),
            ]);
            let out = run(&args);
            let result = match out.status.code() {
                Some(0) => Ok(std::fs::read(&file).unwrap()),
                code => {
                    assert!(!file.exists(), "{}: a failed export leaves no file", e.name);
                    Err((
                        code.unwrap_or(-1),
                        String::from_utf8_lossy(&out.stderr).to_string(),
                    ))
                }
            };
            std::fs::remove_file(&file).ok();
            (e.name, result)
        })
        .collect()
}

fn info(name: &str) -> &'static DatasetInfo {
    webitel_export::registry::find(name).unwrap()
}

/// Whether `name`'s query reads `table`.
fn reads(name: &str, table: &str) -> bool {
    requirements(info(name).query)
        .unwrap()
        .iter()
        .any(|p| p.table == table)
}

/// The acceptance test of per-dataset levels: a v26.04 database with any one table dropped
/// exports every other dataset byte for byte as the intact database does, and each dataset
/// that reads the table fails with one line naming it and its release.
#[tokio::test]
async fn one_dropped_table_changes_only_the_datasets_that_read_it() {
    let intact = TestDb::seeded(300, 11).await;
    let dir = out_dir();
    let reference = export_all(&intact, dir.path());
    for (name, result) in &reference {
        let bytes = result.as_ref().unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert!(
            bytes.iter().filter(|b| **b == b'\n').count() > 1,
            "{name} has rows"
        );
    }
    // Every table an export or report reads (the role's list also has the domain list,
    // which only `--domain` reads).
    let tables: Vec<String> = webitel_export::check::tables_needed()
        .into_iter()
        .filter(|t| webitel_export::registry::all().any(|d| reads(d.name, t)))
        .collect();
    assert!(tables.len() >= 20, "{tables:?}");
    for table in &tables {
        let db = TestDb::copy_of(&intact).await;
        db.execute(&format!("DROP TABLE {table} CASCADE")).await;
        let mut failed = Vec::new();
        for (name, result) in export_all(&db, dir.path()) {
            if reads(name, table) {
                let (code, stderr) = result.expect_err(&format!("{name} without {table}"));
                assert_eq!(code, 1, "{name} without {table}: {stderr}");
                assert_eq!(stderr.lines().count(), 1, "{stderr}");
                // `table call_center.x (Webitel v23.05 has it)`, with the release that made it.
                let piece = requirements(info(name).query)
                    .unwrap()
                    .into_iter()
                    .find(|p| p.table == *table && p.column.is_none())
                    .unwrap();
                assert!(
                    stderr.contains(&piece.to_string()),
                    "{name} without {table}: {stderr}"
                );
                failed.push(name);
            } else {
                let bytes = result.unwrap_or_else(|e| panic!("{name} without {table}: {e:?}"));
                assert!(
                    bytes == *reference[name].as_ref().unwrap(),
                    "{name} changed when {table} was dropped"
                );
            }
        }
        // `check` names the table for exactly those datasets, and fails.
        let out = run(&["check", "--database-url", &db.url, "--format", "json"]);
        assert_eq!(out.status.code(), Some(1), "check without {table}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for d in report["datasets"].as_array().unwrap() {
            let name = d["name"].as_str().unwrap();
            let named = d["problems"].to_string().contains(table.as_str());
            assert_eq!(
                named,
                failed.contains(&name),
                "check of {name} without {table}: {d}"
            );
        }
    }
}

/// The same table missing is an older release on one database and a gap on another.
#[tokio::test]
async fn a_missing_table_is_an_older_release_or_a_gap_by_what_else_is_there() {
    // v23.02: the QA tables come with v23.05, nothing later exists. qa-scores exports an empty
    // file and check passes, saying why.
    let older = TestDb::at_level("v23.02").await;
    let dir = out_dir();
    let file = dir.path().join("qa.csv");
    let out = run(&[
        "qa-scores",
        "--database-url",
        &older.url,
        "-q",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap().lines().count(),
        1,
        "header only"
    );
    let out = run(&["check", "--database-url", &older.url, "qa-scores"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("comes with Webitel v23.05"), "{text}");

    // v24.10 without cc_audit_form: v24.10's columns exist, so the v23.05 table is a gap.
    for level in ["v24.10", "v26.04"] {
        let gap = TestDb::at_level(level).await;
        gap.execute("DROP TABLE call_center.cc_audit_form CASCADE")
            .await;
        let out = run(&[
            "qa-scores",
            "--database-url",
            &gap.url,
            "-q",
            "-o",
            file.to_str().unwrap(),
        ]);
        let line = assert_fails(&out, 1);
        assert!(
            line.contains("table call_center.cc_audit_form (Webitel v23.05 has it)"),
            "{level}: {line}"
        );
        let out = run(&["check", "--database-url", &gap.url]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(text.contains(&format!("schema level: {level}")), "{text}");
        assert!(text.contains("FAIL  qa-scores"), "{text}");
        assert!(text.contains("ok    calls"), "{text}");
    }
}

/// A column: search_number (v23.12) is simply absent at v23.09, and a gap at v24.02 when
/// dropped; other datasets keep their newest variant.
#[tokio::test]
async fn a_missing_column_is_an_older_release_or_a_gap_at_several_levels() {
    let dir = out_dir();
    let file = dir.path().join("calls.csv");
    let calls = |db: &TestDb| {
        run(&[
            "calls",
            "--database-url",
            &db.url,
            "-q",
            "--number",
            "123",
            "-o",
            file.to_str().unwrap(),
        ])
    };
    let older = TestDb::at_level("v23.09").await;
    let out = calls(&older);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    for level in ["v24.02", "v25.04"] {
        let gap = TestDb::at_level(level).await;
        gap.execute("ALTER TABLE call_center.cc_calls_history DROP COLUMN search_number")
            .await;
        let line = assert_fails(&calls(&gap), 1);
        assert!(
            line.contains(
                "column call_center.cc_calls_history.search_number (Webitel v23.12 has it)"
            ),
            "{level}: {line}"
        );
        let out = run(&["check", "--database-url", &gap.url, "--format", "json"]);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(report["schema_level"], level);
        let queues = crate::check::dataset_field(&report, "queues", "level");
        assert_eq!(queues, format!("\"{level}\""), "queues keeps its variant");
        assert_eq!(crate::check::dataset_field(&report, "queues", "ok"), "true");
    }
}
