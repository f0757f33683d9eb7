//! `format = "delta"`: the job's directory is a Delta table that delta-rs (here), Python's
//! deltalake, Polars and DuckDB read as is; a run killed anywhere in its commit loses and
//! doubles nothing; bad settings are refused before anything is written.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::Command;

use deltalake_core::{DeltaTable, DeltaTableBuilder};
use futures_util::StreamExt;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

use super::Lake;
use crate::support::{TestDb, assert_fails, path_str, run};

async fn open(table: &Path, version: Option<u64>) -> DeltaTable {
    let url = url::Url::from_directory_path(table).unwrap();
    let mut builder = DeltaTableBuilder::from_url(url).unwrap();
    if let Some(v) = version {
        builder = builder.with_version(v);
    }
    builder.load().await.unwrap()
}

pub async fn version(table: &Path) -> u64 {
    open(table, None).await.version().unwrap()
}

/// The paths (relative to the table) of the files of a version (`None`: the current one).
pub async fn active_files(table: &Path, version: Option<u64>) -> Vec<String> {
    let table = open(table, version).await;
    let snapshot = table.snapshot().unwrap();
    let mut files: Vec<String> = snapshot
        .log_data()
        .iter()
        .map(|f| f.path().to_string())
        .collect();
    files.sort();
    files
}

/// Every row of a version, as text by column name (the `date` partition column included).
pub async fn rows_at(table: &Path, version: Option<u64>) -> Vec<BTreeMap<String, String>> {
    let mut rows = Vec::new();
    for rel in active_files(table, version).await {
        let date = rel
            .split('/')
            .next()
            .and_then(|d| d.strip_prefix("date="))
            .unwrap()
            .to_string();
        let file = std::fs::File::open(table.join(&rel)).unwrap();
        let reader = SerializedFileReader::new(file).unwrap();
        for row in reader.get_row_iter(None).unwrap() {
            let row = row.unwrap();
            let mut cells: BTreeMap<String, String> = row
                .get_column_iter()
                .map(|(name, field)| (name.clone(), text(field)))
                .collect();
            cells.insert("date".to_string(), date.clone());
            rows.push(cells);
        }
    }
    rows
}

fn text(field: &Field) -> String {
    match field {
        Field::Null => String::new(),
        Field::Str(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The run mark of the table's last commit.
pub async fn last_mark(table: &Path) -> serde_json::Value {
    let table = open(table, None).await;
    let mut history = table.history(Some(1));
    let commit = history.next().await.unwrap().unwrap();
    commit.info["webitelExport"].clone()
}

/// Reads the tree's tables with Python's deltalake, Polars and DuckDB (`delta_scan`) and
/// checks them against delta-rs's reading here: row count, distinct ids, the previous
/// version's count. Needs WEBITEL_TEST_LAKE_PYTHON (CI sets it to a venv with deltalake,
/// polars, duckdb and duckdb-ext-delta); skipped without it.
pub(super) async fn read_with_python_engines(lake: &Lake) {
    let Ok(python) = std::env::var("WEBITEL_TEST_LAKE_PYTHON") else {
        eprintln!("skipped: the Python engines (set WEBITEL_TEST_LAKE_PYTHON)");
        return;
    };
    for (job, key) in [
        ("calls", "id"),
        ("conversations", "conversation_id"),
        ("qa-scores", "rate_id"),
        ("annotations", "annotation_id"),
    ] {
        let table = lake.root.join(job);
        let now = rows_at(&table, None).await;
        let ids: HashSet<&String> = now.iter().map(|r| &r[key]).collect();
        let before = rows_at(&table, Some(version(&table).await - 1)).await;
        let expected = serde_json::json!({
            "table": path_str(&table),
            "key": key,
            "rows": now.len(),
            "distinct": ids.len(),
            "previous_version": version(&table).await - 1,
            "previous_rows": before.len(),
        });
        python_reads(&python, &expected);
    }
}

/// Runs tests/datalake/delta_read.py with `python` on what a table must hold.
pub fn python_reads(python: &str, expected: &serde_json::Value) {
    let out = Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/datalake/delta_read.py"
        ))
        .arg(expected.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}{}",
        expected["table"],
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

const CALLS_DELTA: &str = "[[jobs]]\ndataset = \"calls\"\nformat = \"delta\"\n";

/// The ids of the calls table's current version.
async fn table_ids(lake: &Lake) -> Vec<String> {
    let mut ids: Vec<String> = rows_at(&lake.root.join("calls"), None)
        .await
        .into_iter()
        .map(|r| r["id"].clone())
        .collect();
    ids.sort();
    ids
}

/// kill -9 after the data files are in place, just before the log entry is written, and
/// just after it (before the state is saved): the previous version stays readable, and the
/// next run leaves every leg in the table exactly once.
#[tokio::test]
async fn a_delta_commit_killed_anywhere_loses_and_doubles_nothing() {
    for point in ["after-data-files", "delta-before-log", "delta-after-log"] {
        let db = TestDb::with_fixture("calls.sql").await;
        let lake = Lake::new("safety_lag = \"0s\"", CALLS_DELTA);
        lake.run(&db);
        let first = table_ids(&lake).await;
        db.execute(&super::leg_sql(931, "2026-10-05 10:00:00+00", "now()"))
            .await;

        let killed = Command::new(env!("CARGO_BIN_EXE_webitel-export"))
            .args(lake.args(&db))
            .env("WEBITEL_EXPORT_FAILPOINT", point)
            .output()
            .unwrap();
        assert_eq!(killed.status.code(), None, "{point}: the run was killed");
        let table = lake.root.join("calls");
        let committed = point == "delta-after-log";
        assert_eq!(version(&table).await, u64::from(committed), "{point}");
        if !committed {
            assert_eq!(
                table_ids(&lake).await,
                first,
                "{point}: the previous version"
            );
        }

        lake.run(&db);
        let ids = table_ids(&lake).await;
        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{point}: a leg twice");
        assert_eq!(
            ids,
            super::all_leg_ids(&db).await,
            "{point}: every leg once"
        );
        // Nothing of the killed run is left beside the table's files.
        let on_disk: HashSet<String> = lake
            .visible()
            .into_keys()
            .filter_map(|p| p.strip_prefix("calls/").map(str::to_string))
            .collect();
        let active: HashSet<String> = active_files(&table, None).await.into_iter().collect();
        let stray: Vec<&String> = on_disk.difference(&active).collect();
        assert!(
            stray.is_empty(),
            "{point}: files the table does not reference: {stray:?}"
        );
    }
}

/// Settings that cannot work are refused with exit 2 and one line, and nothing is written.
#[test]
fn bad_delta_and_restate_settings_are_exit_2_and_write_nothing() {
    let cases = [
        (
            "[[jobs]]\ndataset = \"agents\"\nrestate = \"7d\"\n",
            "restate applies to incremental jobs",
        ),
        (
            "[[jobs]]\ndataset = \"calls\"\nrestate = \"7 days\"\n",
            "not a number of days",
        ),
        (
            "[[jobs]]\ndataset = \"calls\"\nrestate = \"3d\"\npartition_by = \"stored_at\"\n",
            "restate replaces the days",
        ),
        (
            "[delta]\nretention = \"3d\"\n[[jobs]]\ndataset = \"calls\"\nformat = \"delta\"\nrestate = \"7d\"\n",
            "shorter than job calls's restate window",
        ),
        (
            "[[jobs]]\ndataset = \"calls\"\nformat = \"delta\"\nprofile = \"duckdb\"\n",
            "Parquet UUID type",
        ),
        (
            "[[jobs]]\ndataset = \"calls\"\nformat = \"delta\"\nprofile = \"excel\"\n",
            "needs format = \"csv\"",
        ),
    ];
    for (jobs, expected) in cases {
        let lake = Lake::new("", jobs);
        let out = run(&lake.args_for("postgres://nobody@127.0.0.1:1/none"));
        let line = assert_fails(&out, 2);
        assert!(line.contains(expected), "{jobs}: {line}");
        assert!(!lake.root.exists(), "{jobs}: something was written");
    }
}

/// A Delta job whose directory holds other files, and a CSV job whose directory is a Delta
/// table: exit 2 before anything (lock and state included) is written.
#[tokio::test]
async fn a_job_directory_of_the_other_kind_is_refused() {
    let db = TestDb::with_fixture("calls.sql").await;
    let lake = Lake::new("safety_lag = \"0s\"", CALLS_DELTA);
    std::fs::create_dir_all(lake.root.join("calls/date=2026-10-01")).unwrap();
    std::fs::write(lake.root.join("calls/date=2026-10-01/old.csv"), "id\n").unwrap();
    let line = assert_fails(&run(&lake.args(&db)), 2);
    assert!(line.contains("not a Delta table"), "{line}");
    assert!(
        !lake.root.join("_state").exists(),
        "the run wrote its state"
    );

    let lake = Lake::new("safety_lag = \"0s\"", CALLS_DELTA);
    lake.run(&db);
    let csv = "[[jobs]]\ndataset = \"calls\"\nformat = \"csv\"\n";
    std::fs::write(&lake.config, lake.config_with("safety_lag = \"0s\"", csv)).unwrap();
    let before = lake.visible();
    let line = assert_fails(&run(&lake.args(&db)), 2);
    assert!(line.contains("is a Delta table"), "{line}");
    assert_eq!(lake.visible(), before);
}

/// A full job in a Delta table: a second run on the same day replaces that day's snapshot in
/// one commit, so the table holds each agent once.
#[tokio::test]
async fn a_full_delta_job_replaces_its_run_date() {
    let db = TestDb::with_fixture("agents.sql").await;
    let lake = Lake::new("", "[[jobs]]\ndataset = \"agents\"\nformat = \"delta\"\n");
    lake.run(&db);
    lake.run(&db);
    let table = lake.root.join("agents");
    assert_eq!(version(&table).await, 1);
    let rows = rows_at(&table, None).await;
    let mut conn = db.connect().await;
    let agents: i64 = sqlx::query_scalar("SELECT count(*) FROM call_center.cc_agent")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows.len(), usize::try_from(agents).unwrap());
    assert_eq!(rows_at(&table, Some(0)).await.len(), rows.len());
    let mark = last_mark(&table).await;
    assert_eq!(mark["replaced"].as_array().unwrap().len(), 1);
    assert!(mark["watermark"].is_null());
}

/// `[delta] checkpoint_interval = 2`: version 2 gets a checkpoint, which delta-rs reads the
/// table from; the columns carry their descriptions as comments.
#[tokio::test]
async fn checkpoints_follow_the_interval_and_columns_carry_comments() {
    let db = TestDb::with_fixture("calls.sql").await;
    let settings = "safety_lag = \"0s\"\n[delta]\ncheckpoint_interval = 2\n";
    let lake = Lake::new(settings, CALLS_DELTA);
    for n in 0..3 {
        db.execute(&super::leg_sql(940 + n, "2026-10-06 10:00:00+00", "now()"))
            .await;
        lake.run(&db);
    }
    let log = lake.root.join("calls/_delta_log");
    assert!(
        log.join("00000000000000000002.checkpoint.parquet").exists(),
        "{:?}",
        std::fs::read_dir(&log)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect::<Vec<_>>()
    );
    assert!(!log.join("00000000000000000001.checkpoint.parquet").exists());
    assert_eq!(table_ids(&lake).await, super::all_leg_ids(&db).await);
    let table = open(&lake.root.join("calls"), None).await;
    let schema = table.snapshot().unwrap().schema();
    let id = schema.field("id").unwrap();
    let comment = id.metadata().get("comment").map(|v| format!("{v:?}"));
    assert!(
        comment.as_deref().is_some_and(|c| c.contains("Leg id")),
        "{comment:?}"
    );
}

/// Files a commit removed stay for `[delta] retention` (time travel reaches them) and are
/// deleted by the first run after it: a removal aged past the retention (its log entry's
/// deletionTimestamp moved 8 days back) goes, the run's own removal stays.
#[tokio::test]
async fn removed_files_are_deleted_once_the_retention_has_passed() {
    let db = TestDb::with_fixture("agents.sql").await;
    let lake = Lake::new("", "[[jobs]]\ndataset = \"agents\"\nformat = \"delta\"\n");
    let table = lake.root.join("agents");
    lake.run(&db);
    let first = active_files(&table, Some(0)).await;
    lake.run(&db);
    let second = active_files(&table, Some(1)).await;
    assert!(
        first.iter().all(|f| table.join(f).exists()),
        "kept for time travel"
    );
    assert_eq!(
        rows_at(&table, Some(0)).await.len(),
        rows_at(&table, None).await.len()
    );
    // Version 1 removed the first run's files: move its removal 8 days into the past.
    let commit = table.join("_delta_log/00000000000000000001.json");
    let eight_days_ms = 8 * 24 * 3600 * 1000_i64;
    let aged: Vec<String> = std::fs::read_to_string(&commit)
        .unwrap()
        .lines()
        .map(|line| {
            let mut action: serde_json::Value = serde_json::from_str(line).unwrap();
            if let Some(at) = action["remove"]["deletionTimestamp"].as_i64() {
                action["remove"]["deletionTimestamp"] = (at - eight_days_ms).into();
            }
            action.to_string()
        })
        .collect();
    assert!(aged.iter().any(|l| l.contains("\"remove\"")), "{aged:?}");
    std::fs::write(&commit, aged.join("\n") + "\n").unwrap();
    lake.run(&db);
    // The run's commit (2), then the vacuum's own two (VACUUM START, VACUUM END).
    assert_eq!(version(&table).await, 4);
    let vacuum_end =
        std::fs::read_to_string(table.join("_delta_log/00000000000000000004.json")).unwrap();
    assert!(vacuum_end.contains("VACUUM END"), "{vacuum_end}");
    assert!(
        first.iter().all(|f| !table.join(f).exists()),
        "removed 8 days ago, retention 7d: deleted"
    );
    assert!(
        second.iter().all(|f| table.join(f).exists()),
        "removed by this run: kept"
    );
    assert_eq!(
        rows_at(&table, Some(1)).await.len(),
        rows_at(&table, None).await.len(),
        "time travel to the previous night still reads"
    );
}
