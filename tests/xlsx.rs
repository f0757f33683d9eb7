//! Excel workbooks (`-f xlsx`) of every dataset and report, read back by openpyxl (an
//! independent reader) and compared cell by cell with the CSV export of the same rows.

use std::path::Path;

use webitel_export::record::{Column, Kind};

use crate::datasets::every_export;
use crate::support::*;

/// openpyxl's Python, when the environment has it (CI: the engines' venv).
fn python() -> Option<String> {
    let found = std::env::var("WEBITEL_TEST_LAKE_PYTHON").ok();
    if found.is_none() {
        eprintln!("skipped the openpyxl check (set WEBITEL_TEST_LAKE_PYTHON)");
    }
    found
}

/// The integer columns written as text.
fn id_columns(columns: &[Column]) -> String {
    let ids: Vec<&str> = columns
        .iter()
        .filter(|c| matches!(c.kind, Kind::Int32 | Kind::Int64))
        .filter(|c| c.name == "id" || c.name.ends_with("_id"))
        .map(|c| c.name)
        .collect();
    ids.join(",")
}

fn check(python: &str, xlsx: &Path, csv: &Path, tz: &str, ids: &str) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/datalake/xlsx_check.py");
    let out = std::process::Command::new(python)
        .args([script, path_str(xlsx), path_str(csv), tz, ids])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}: {}",
        xlsx.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn every_dataset_and_report_as_a_workbook_equals_its_csv() {
    let db = TestDb::seeded(2000, 5).await;
    let dir = out_dir();
    let python = python();
    for export in every_export() {
        let xlsx = dir.path().join(format!("{}.xlsx", export.name));
        let csv = dir.path().join(format!("{}.csv", export.name));
        for path in [&xlsx, &csv] {
            let mut args = export.command.clone();
            args.extend_from_slice(&["--database-url", &db.url, "-q", "-o", path_str(path)]);
            // Date-times are shown in --tz where the command has one.
            if export.command.len() > 1 || !["agents", "queues"].contains(&export.name) {
                args.extend_from_slice(&["--tz", "Europe/Kyiv"]);
            }
            // One connection: both files get the rows in the same order.
            if export.name == "calls" {
                args.extend_from_slice(&["--parallel", "1"]);
            }
            run_ok(&args);
        }
        let bytes = std::fs::read(&xlsx).unwrap();
        assert_eq!(&bytes[..2], b"PK", "{}: a zip container", export.name);
        if let Some(python) = &python {
            let tz = if ["agents", "queues"].contains(&export.name) {
                "UTC"
            } else {
                "Europe/Kyiv"
            };
            let said = check(python, &xlsx, &csv, tz, &id_columns(export.columns));
            assert!(said.starts_with("ok "), "{said}");
        }
    }
}

#[tokio::test]
async fn chosen_columns_and_pseudonyms_reach_the_workbook() {
    let db = TestDb::with_fixture("calls.sql").await;
    let dir = out_dir();
    let key = dir.path().join("key");
    std::fs::write(&key, [9u8; 32]).unwrap();
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let view = [
        "--columns",
        "id,created_at,from_number,bill_sec",
        "--variable-columns",
        "city",
        "--pseudonymize",
        "numbers",
        "--pseudonym-key-file",
        path_str(&key),
    ];
    let xlsx = dir.path().join("calls.xlsx");
    let csv = dir.path().join("calls.csv");
    for path in [&xlsx, &csv] {
        let mut args = vec![
            "calls",
            "--database-url",
            &db.url,
            "-q",
            "-o",
            path_str(path),
        ];
        args.extend_from_slice(&view);
        run_ok(&args);
    }
    let (header, rows) = parse_csv(&std::fs::read_to_string(&csv).unwrap());
    assert_eq!(
        header,
        ["id", "created_at", "from_number", "bill_sec", "var_city"]
    );
    assert!(
        rows.iter().all(|r| !r[2].starts_with('+')),
        "numbers are tokens"
    );
    if let Some(python) = python() {
        let said = check(&python, &xlsx, &csv, "UTC", "");
        assert_eq!(said.trim(), format!("ok {} rows in 1 sheets", rows.len()));
    }
}

#[tokio::test]
async fn a_nightly_job_writes_workbooks() {
    let db = TestDb::with_fixture("calls.sql").await;
    let dir = out_dir();
    let root = dir.path().join("lake");
    let config = dir.path().join("run.toml");
    std::fs::write(
        &config,
        format!("root = {root:?}\ntime_zone = \"Europe/Kyiv\"\n[[jobs]]\ndataset = \"calls\"\nformat = \"xlsx\"\n"),
    )
    .unwrap();
    run_config(&config, &db);
    let day = root.join("calls").join("date=2026-09-01");
    let parts: Vec<String> = files_in(&day)
        .into_iter()
        .filter(|p| p.starts_with("part-"))
        .collect();
    assert!(
        !parts.is_empty() && parts.iter().all(|p| p.ends_with(".xlsx")),
        "{parts:?}"
    );
    if let Some(python) = python() {
        // openpyxl reads every part; together they hold the day's legs (Kyiv time).
        let count = "import sys, openpyxl\n\
                     print(sum(openpyxl.load_workbook(p).active.max_row - 1 for p in sys.argv[1:]))";
        let mut args = vec!["-c", count];
        let paths: Vec<String> = parts
            .iter()
            .map(|p| path_str(&day.join(p)).to_string())
            .collect();
        args.extend(paths.iter().map(String::as_str));
        let out = std::process::Command::new(python)
            .args(&args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let day_legs = export_rows(
            &db,
            "calls",
            &[
                "--tz",
                "Europe/Kyiv",
                "--from",
                "2026-09-01",
                "--to",
                "2026-09-02",
            ],
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            day_legs.len().to_string()
        );
    }
}
