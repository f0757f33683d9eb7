//! `run --config`: incremental runs export every row exactly once (late commits included), a
//! failed run changes nothing and the next run completes it, the manifest matches the files,
//! and the partitions of a run equal a direct export of the same window.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use parquet::file::reader::{FileReader, SerializedFileReader};
use sha2::{Digest, Sha256};
use sqlx::Executor;

use crate::support::{TestDb, assert_fails, parse_csv, path_str, run, run_args, run_ok};

mod archive;
pub mod delta;
mod restate;
mod standby;

/// An output root and its config file.
struct Lake {
    _dir: tempfile::TempDir,
    root: PathBuf,
    config: PathBuf,
}

impl Lake {
    fn new(settings: &str, jobs: &str) -> Lake {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("lake");
        let config = dir.path().join("export.toml");
        let lake = Lake {
            _dir: dir,
            root,
            config,
        };
        std::fs::write(&lake.config, lake.config_with(settings, jobs)).unwrap();
        lake
    }

    /// The config text of this root with `settings` and `jobs`.
    fn config_with(&self, settings: &str, jobs: &str) -> String {
        format!(
            "root = {:?}\n{settings}\n{jobs}",
            self.root.to_str().unwrap()
        )
    }

    fn args<'a>(&'a self, db: &'a TestDb) -> Vec<&'a str> {
        self.args_for(&db.url)
    }

    fn args_for<'a>(&'a self, url: &'a str) -> Vec<&'a str> {
        run_args(&self.config, url).to_vec()
    }

    fn run(&self, db: &TestDb) {
        run_ok(&self.args(db));
    }

    /// Every visible file under the root (not `_`-prefixed), with its sha256.
    fn visible(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        walk(&self.root, &self.root, &mut out);
        out
    }

    /// The manifests of the committed runs, oldest snapshot first.
    fn manifests(&self) -> Vec<serde_json::Value> {
        let paths: Vec<PathBuf> = std::fs::read_dir(self.root.join("_runs"))
            .map(|dir| dir.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        let mut manifests: Vec<serde_json::Value> = paths
            .iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
            .collect();
        let at = |m: &serde_json::Value| {
            let text = m["snapshot_at"].as_str().unwrap();
            text.parse::<chrono::DateTime<chrono::Utc>>().unwrap()
        };
        manifests.sort_by_key(at);
        manifests
    }

    fn state(&self) -> Option<String> {
        std::fs::read_to_string(self.root.join("_state/state.json")).ok()
    }

    /// The CSV rows of every part of `job`.
    fn csv_rows(&self, job: &str) -> Vec<BTreeMap<String, String>> {
        let mut rows = Vec::new();
        for (path, _) in self.visible() {
            if path.starts_with(&format!("{job}/")) && path.ends_with(".csv") {
                let (header, cells) =
                    parse_csv(&std::fs::read_to_string(self.root.join(&path)).unwrap());
                rows.extend(
                    cells
                        .into_iter()
                        .map(|r| header.iter().cloned().zip(r).collect::<BTreeMap<_, _>>()),
                );
            }
        }
        rows
    }
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if rel
            .split('/')
            .any(|p| p.starts_with('_') && p != "_SUCCESS")
        {
            continue;
        }
        if path.is_dir() {
            walk(root, &path, out);
        } else {
            out.insert(rel, sha256_of(&path));
        }
    }
}

fn sha256_of(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

const CALLS_CSV: &str = "[[jobs]]\ndataset = \"calls\"\nformat = \"csv\"\n";

/// Inserts a leg of domain 1 created on `created` with `stored_at` (SQL expression).
fn leg_sql(id: u32, created: &str, stored: &str) -> String {
    format!(
        "INSERT INTO call_center.cc_calls_history (id, domain_id, app_id, direction, created_at, hangup_at, stored_at)
         VALUES ('00000000-0000-0000-0000-{id:012}', 1, 'node', 'inbound', '{created}', '{created}', {stored})"
    )
}

fn ids(rows: &[BTreeMap<String, String>]) -> Vec<String> {
    let mut ids: Vec<String> = rows.iter().map(|r| r["id"].clone()).collect();
    ids.sort();
    ids
}

async fn all_leg_ids(db: &TestDb) -> Vec<String> {
    let mut conn = db.connect().await;
    let mut ids: Vec<String> =
        sqlx::query_scalar("SELECT id::text FROM call_center.cc_calls_history")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    ids.sort();
    ids
}

/// A writer whose transaction is open during run 1: its row (stored_at = its start, as
/// Webitel's default now() gives) commits after run 1's snapshot. With no safety lag at all,
/// run 1 must still stop before that transaction's start, and run 2 must export the row.
#[tokio::test]
async fn a_row_committed_after_a_run_is_exported_by_the_next_exactly_once() {
    let db = TestDb::with_fixture("calls.sql").await;
    let lake = Lake::new("safety_lag = \"0s\"", CALLS_CSV);

    let mut writer = db.connect().await;
    writer.execute("BEGIN").await.unwrap();
    let insert = leg_sql(901, "2026-10-01 10:00:00+00", "now()");
    writer
        .execute(sqlx::raw_sql(sqlx::AssertSqlSafe(insert)))
        .await
        .unwrap();
    // The writer's transaction must have started before the run's snapshot.
    tokio::time::sleep(Duration::from_millis(50)).await;
    lake.run(&db);
    let first = ids(&lake.csv_rows("calls"));
    assert!(
        !first.iter().any(|id| id.ends_with("901")),
        "uncommitted row exported"
    );
    writer.execute("COMMIT").await.unwrap();

    // An ordinary row committed between the runs.
    db.execute(&leg_sql(902, "2026-10-02 10:00:00+00", "now()"))
        .await;
    lake.run(&db);
    let both = ids(&lake.csv_rows("calls"));
    let unique: HashSet<&String> = both.iter().collect();
    assert_eq!(unique.len(), both.len(), "a row was exported twice");
    assert_eq!(both, all_leg_ids(&db).await, "every row exactly once");
    assert!(
        lake.visible()
            .contains_key("calls/date=2026-10-01/_SUCCESS")
    );
}

/// The safety lag: a row committed after run 1 with a stored_at minutes before run 1's
/// snapshot (but within the lag) is exported by run 2.
#[tokio::test]
async fn the_safety_lag_catches_rows_stored_in_the_past_and_committed_late() {
    let db = TestDb::with_fixture("calls.sql").await;
    let lake = Lake::new("safety_lag = \"10m\"", CALLS_CSV);
    lake.run(&db);
    let state: serde_json::Value = serde_json::from_str(&lake.state().unwrap()).unwrap();
    let watermark = state["jobs"]["calls"]["watermark"]
        .as_str()
        .unwrap()
        .to_string();

    let stored = format!("timestamptz '{watermark}' + interval '1 millisecond'");
    db.execute(&leg_sql(903, "2026-10-03 10:00:00+00", &stored))
        .await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    lake.run(&db);
    let rows = lake.csv_rows("calls");
    let late: Vec<_> = rows.iter().filter(|r| r["id"].ends_with("903")).collect();
    assert_eq!(late.len(), 1, "the late row is exported once");
    // It was stored almost ten minutes before run 1 looked, and committed after.
    let manifest = &lake.manifests()[0];
    let snapshot = manifest["snapshot_at"].as_str().unwrap();
    assert!(
        late[0]["stored_at"].as_str() < snapshot,
        "{} vs {snapshot}",
        late[0]["stored_at"]
    );
    assert_eq!(ids(&rows), all_leg_ids(&db).await);
}

#[tokio::test]
async fn a_failed_run_changes_nothing_and_the_next_run_completes_it() {
    let db = TestDb::with_fixture("calls.sql").await;
    let jobs = format!("{CALLS_CSV}\n[[jobs]]\ndataset = \"queues\"\n");
    let lake = Lake::new("safety_lag = \"0s\"", &jobs);
    lake.run(&db);
    let (files, state) = (lake.visible(), lake.state());

    // New legs for a new day, whose partition directory is blocked by a plain file.
    db.execute(&leg_sql(904, "2026-10-15 10:00:00+00", "now()"))
        .await;
    let blocker = lake.root.join("calls/date=2026-10-15");
    std::fs::write(&blocker, "in the way").unwrap();
    let message = assert_fails(&run(&lake.args(&db)), 4);
    assert!(message.contains("date=2026-10-15"), "{message}");
    std::fs::remove_file(&blocker).unwrap();
    assert_eq!(lake.visible(), files, "a failed run published something");
    assert_eq!(lake.state(), state, "a failed run moved a watermark");
    assert!(!lake.root.join("_staging").read_dir().unwrap().any(|_| true));

    // The connection is lost in the middle of the run.
    db.execute("INSERT INTO call_center.cc_calls_history (id, domain_id, app_id, created_at, stored_at)
                SELECT gen_random_uuid(), 1, 'node', timestamptz '2026-10-16' + g * interval '1 second',
                       now()
                FROM generate_series(1, 100000) g").await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_webitel-export"))
        .args(lake.args(&db))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut admin = db.connect().await;
    let started = Instant::now();
    loop {
        let killed: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database()
               AND application_name = 'webitel-export' AND state = 'active'
               AND query LIKE '%cc_calls_history%'",
        )
        .fetch_all(&mut admin)
        .await
        .unwrap();
        if !killed.is_empty() {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be cut"
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the run never started reading"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let out = child.wait_with_output().unwrap();
    assert_fails(&out, 3);
    assert_eq!(lake.visible(), files, "a cut run published something");
    assert_eq!(lake.state(), state, "a cut run moved a watermark");

    lake.run(&db);
    let rows = lake.csv_rows("calls");
    assert_eq!(
        ids(&rows),
        all_leg_ids(&db).await,
        "the rerun exported every row exactly once"
    );
    assert!(
        lake.visible()
            .contains_key("calls/date=2026-10-15/_SUCCESS")
    );
}

#[tokio::test]
async fn the_manifest_matches_the_files_and_parts_are_bounded() {
    let db = TestDb::seeded(3000, 2).await;
    let jobs = "[[jobs]]\ndataset = \"calls\"\n\n[[jobs]]\ndataset = \"attempts\"\nformat = \"csv\"\n\n[[jobs]]\ndataset = \"agents\"\n";
    let lake = Lake::new("max_file_rows = 100\ntime_zone = \"Europe/Kyiv\"", jobs);
    lake.run(&db);
    let runs = lake.manifests();
    assert_eq!(runs.len(), 1);
    let manifest = &runs[0];
    let files = manifest["files"].as_array().unwrap();
    let mut rows_per_job: BTreeMap<String, u64> = BTreeMap::new();
    for f in files {
        let path = lake.root.join(f["path"].as_str().unwrap());
        assert_eq!(f["sha256"].as_str().unwrap(), sha256_of(&path), "{path:?}");
        assert_eq!(
            f["bytes"].as_u64().unwrap(),
            std::fs::metadata(&path).unwrap().len()
        );
        let rows = if path.extension().unwrap() == "parquet" {
            let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
            u64::try_from(reader.metadata().file_metadata().num_rows()).unwrap()
        } else {
            parse_csv(&std::fs::read_to_string(&path).unwrap()).1.len() as u64
        };
        assert_eq!(f["rows"].as_u64().unwrap(), rows, "{path:?}");
        assert!(rows <= 100, "{path:?} has {rows} rows");
        *rows_per_job
            .entry(f["job"].as_str().unwrap().to_string())
            .or_default() += rows;
    }
    assert_eq!(rows_per_job["calls"], 3000);
    for job in manifest["jobs"].as_array().unwrap() {
        let name = job["name"].as_str().unwrap();
        assert_eq!(job["rows"].as_u64().unwrap(), rows_per_job[name], "{name}");
    }
    // Every file is listed: nothing visible outside the manifest.
    let listed: HashSet<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    for path in lake.visible().keys() {
        assert!(
            path.ends_with("_SUCCESS") || listed.contains(path.as_str()),
            "{path} not in the manifest"
        );
    }
    assert_eq!(
        manifest["jobs"][0]["schema_fingerprint"]
            .as_str()
            .unwrap()
            .len(),
        16
    );
}

/// The union of a run's partitions equals a direct `calls` export of the same window, value for
/// value, read back with the parquet crate.
#[tokio::test]
async fn the_partitions_of_a_run_equal_a_direct_export_of_its_window() {
    let db = TestDb::seeded(4000, 9).await;
    let lake = Lake::new(
        "max_file_rows = 700\ntime_zone = \"Europe/Kyiv\"",
        "[[jobs]]\ndataset = \"calls\"\nfilters = [\"--domain\", \"1\"]\n",
    );
    lake.run(&db);
    let state: serde_json::Value = serde_json::from_str(&lake.state().unwrap()).unwrap();
    let watermark = state["jobs"]["calls"]["watermark"].as_str().unwrap();

    let direct = lake.root.parent().unwrap().join("direct.parquet");
    run_ok(&[
        "calls",
        "--database-url",
        &db.url,
        "-q",
        "--domain",
        "1",
        "--stored-to",
        watermark,
        "-o",
        path_str(&direct),
    ]);
    let mut expected = parquet_rows(&direct);
    let mut partitioned = Vec::new();
    let mut partitions = 0;
    for path in lake.visible().keys().filter(|p| p.ends_with(".parquet")) {
        partitions += 1;
        partitioned.extend(parquet_rows(&lake.root.join(path)));
    }
    assert!(partitions > 10, "{partitions} part files");
    assert!(expected.len() > 1000);
    expected.sort();
    partitioned.sort();
    assert_eq!(partitioned.len(), expected.len());
    assert!(
        partitioned == expected,
        "the partitions differ from the direct export"
    );
}

fn parquet_rows(path: &Path) -> Vec<String> {
    let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    reader
        .get_row_iter(None)
        .unwrap()
        .map(|row| row.unwrap().to_string())
        .collect()
}

#[test]
fn a_bad_config_or_dry_run_touches_nothing() {
    let lake = Lake::new("time_zone = \"UTC\"\nmax_file_rows = \"many\"", CALLS_CSV);
    let out = run(&[
        "run",
        "--config",
        path_str(&lake.config),
        "--database-url",
        "postgres://x@127.0.0.1:1/x",
    ]);
    let message = assert_fails(&out, 2);
    assert!(
        message.contains("line 3") && message.contains("invalid type"),
        "{message}"
    );
    assert!(!lake.root.exists(), "a bad config created the output root");
}

#[tokio::test]
async fn dry_run_prints_the_plan_and_writes_nothing() {
    let db = TestDb::with_fixture("calls.sql").await;
    let lake = Lake::new(
        "",
        &format!("{CALLS_CSV}\n[[jobs]]\ndataset = \"agents\"\n"),
    );
    let mut args = lake.args(&db);
    args.push("--dry-run");
    let stdout = run_ok(&args);
    assert!(
        stdout.contains("job calls (calls, incremental, csv): stored_at from the beginning to"),
        "{stdout}"
    );
    assert!(
        stdout.contains("job agents (agents, full snapshot, parquet)"),
        "{stdout}"
    );
    assert!(lake.visible().is_empty());
    assert!(lake.state().is_none());
}

/// A report job exports complete local days since `since`, each once, partitioned by day.
#[tokio::test]
async fn a_report_job_exports_each_complete_day_once() {
    let db = TestDb::with_fixture("reports.sql").await;
    let jobs = "[[jobs]]\ndataset = \"agent-activity\"\nformat = \"csv\"\nsince = \"2026-09-30\"\nfilters = [\"--agent\", \"1\"]\n";
    let lake = Lake::new("time_zone = \"UTC\"", jobs);
    lake.run(&db);
    let rows = lake.csv_rows("agent-activity");
    let sep30: Vec<_> = rows
        .iter()
        .filter(|r| r["bucket_label"] == "2026-09-30")
        .collect();
    assert_eq!(sep30.len(), 1);
    assert_eq!(sep30[0]["online_sec"], "25200");
    assert!(
        lake.visible()
            .contains_key("agent-activity/date=2026-09-30/_SUCCESS")
    );
    // Only complete days: today is not there yet, and a second run adds nothing.
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert!(!rows.iter().any(|r| r["bucket_label"] == today));
    let labels: HashSet<&String> = rows.iter().map(|r| &r["bucket_label"]).collect();
    assert_eq!(labels.len(), rows.len(), "one row per day");
    lake.run(&db);
    assert_eq!(lake.csv_rows("agent-activity").len(), rows.len());
}

#[tokio::test]
async fn a_second_run_on_the_same_root_is_refused_while_one_holds_the_lock() {
    let db = TestDb::with_fixture("calls.sql").await;
    let lake = Lake::new("", CALLS_CSV);
    std::fs::create_dir_all(lake.root.join("_state")).unwrap();
    let lock = std::fs::File::create(lake.root.join("_state/lock")).unwrap();
    lock.lock().unwrap();
    let message = assert_fails(&run(&lake.args(&db)), 1);
    assert!(message.contains("another run is using"), "{message}");
    assert!(lake.state().is_none(), "nothing committed");
    lock.unlock().unwrap();
    lake.run(&db);
    assert!(lake.state().is_some());
}

/// Every registered dataset and report can be a run job: one config naming them all runs,
/// and the manifest reports each job with the files it wrote.
#[tokio::test]
async fn every_registered_dataset_runs_as_a_job() {
    let db = TestDb::seeded(500, 5).await;
    let mut jobs = String::new();
    for info in webitel_export::registry::all() {
        jobs.push_str(&format!("[[jobs]]\ndataset = \"{}\"\n", info.name));
        if info.needs_since {
            jobs.push_str("since = \"2026-09-01\"\n");
        }
        if info.incremental.is_none() {
            jobs.push_str("mode = \"full\"\n");
        }
    }
    let lake = Lake::new("", &jobs);
    lake.run(&db);
    let manifest = lake.manifests().pop().expect("the run's manifest");
    let reported: Vec<&str> = manifest["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["dataset"].as_str().unwrap())
        .collect();
    let registered: Vec<&str> = webitel_export::registry::all().map(|d| d.name).collect();
    assert_eq!(reported, registered);
    for job in manifest["jobs"].as_array().unwrap() {
        assert!(job["rows"].as_u64().unwrap() > 0, "{job}");
    }
}

/// A recordings job exports each file once, by upload time: a file uploaded after a run is in
/// the next run's files, and no file is in two.
#[tokio::test]
async fn a_recordings_job_exports_each_uploaded_file_once() {
    let db = TestDb::seeded(300, 6).await;
    let lake = Lake::new(
        "safety_lag = \"1s\"",
        "[[jobs]]\ndataset = \"recordings\"\nformat = \"csv\"\n",
    );
    lake.run(&db);
    let first: Vec<String> = lake
        .csv_rows("recordings")
        .iter()
        .map(|r| r["file_id"].clone())
        .collect();
    assert!(!first.is_empty());
    // A new recording of an existing leg, uploaded now.
    db.execute(
        "INSERT INTO storage.files (domain_id, uuid, name, size, mime_type, profile_id, \
         properties, instance, created_at) \
         SELECT domain_id, uuid, 'late.mp3', 10, mime_type, profile_id, properties, instance, \
         (extract(epoch FROM clock_timestamp()) * 1000)::int8 \
         FROM storage.files WHERE removed IS NOT TRUE AND not_exists IS NOT TRUE \
         ORDER BY id LIMIT 1",
    )
    .await;
    std::thread::sleep(Duration::from_millis(1500));
    lake.run(&db);
    let all: Vec<String> = lake
        .csv_rows("recordings")
        .iter()
        .map(|r| r["file_id"].clone())
        .collect();
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "a file exported twice");
    assert_eq!(all.len(), first.len() + 1, "the new file is exported once");
    let names: Vec<String> = lake
        .csv_rows("recordings")
        .iter()
        .map(|r| r["name"].clone())
        .collect();
    assert!(names.contains(&"late.mp3".to_string()));
}

/// Every run leaves Prometheus metrics for node_exporter's textfile collector: a committed run
/// its jobs' rows and watermark lag, a failed one its exit code, counted, with the time of the
/// last success kept.
#[tokio::test]
async fn a_run_writes_its_metrics_whether_it_commits_or_fails() {
    let db = TestDb::seeded(300, 21).await;
    let lake = Lake::new("safety_lag = \"0s\"", CALLS_CSV);
    lake.run(&db);
    let metrics_path = lake.root.join("_state/metrics.prom");
    let committed = std::fs::read_to_string(&metrics_path).unwrap();
    let value = |text: &str, series: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {series} in:\n{text}"))
    };
    assert_eq!(value(&committed, "webitel_export_last_run_success"), 1.0);
    let legs = all_leg_ids(&db).await.len() as f64;
    let job = "{export_job=\"calls\",dataset=\"calls\"}";
    assert_eq!(
        value(&committed, &format!("webitel_export_job_rows{job}")),
        legs
    );
    let lag = value(
        &committed,
        &format!("webitel_export_job_watermark_lag_seconds{job}"),
    );
    assert!((0.0..60.0).contains(&lag), "lag {lag}");
    let success = value(&committed, "webitel_export_last_success_timestamp_seconds");

    // The database is gone: exit 3, counted; the last success is still the one above.
    let config = path_str(&lake.config);
    let down = "postgres://postgres@127.0.0.1:1/webitel";
    for _ in 0..2 {
        let out = run(&["run", "--config", config, "--database-url", down, "-q"]);
        assert_fails(&out, 3);
    }
    let failed = std::fs::read_to_string(&metrics_path).unwrap();
    assert_eq!(value(&failed, "webitel_export_last_run_success"), 0.0);
    assert_eq!(
        value(&failed, "webitel_export_run_failures_total{code=\"3\"}"),
        2.0
    );
    assert_eq!(
        value(&failed, "webitel_export_last_success_timestamp_seconds"),
        success
    );
}

/// With `--log-format json` every stderr line is a JSON record, the failure too (the
/// Pushgateway itself: tests/metrics.rs, against the real one).
#[tokio::test]
async fn logs_can_be_json() {
    let db = TestDb::seeded(100, 22).await;
    let lake = Lake::new("", CALLS_CSV);
    let out = run(&[
        "run",
        "--config",
        path_str(&lake.config),
        "--database-url",
        &db.url,
        "--log-format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in stderr.lines() {
        let record: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(record["level"], "info", "{line}");
        assert!(
            record["ts"].is_string() && record["msg"].is_string(),
            "{line}"
        );
    }
    assert!(stderr.contains("files committed"), "{stderr}");
    let out = run(&[
        "run",
        "--config",
        path_str(&lake.config),
        "--database-url",
        "postgres://postgres@127.0.0.1:1/webitel",
        "--log-format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last: serde_json::Value = serde_json::from_str(stderr.lines().last().unwrap()).unwrap();
    assert_eq!(last["level"], "error");
    assert!(
        last["msg"].as_str().unwrap().contains("127.0.0.1"),
        "{last}"
    );

    // A command line that does not parse: still one JSON line, when JSON was asked for.
    let out = run(&[
        "run",
        "--config",
        "x.toml",
        "--log-format",
        "json",
        "--no-such-flag",
    ]);
    let err = assert_fails(&out, 2);
    let record: serde_json::Value = serde_json::from_str(err.trim()).unwrap();
    assert_eq!(record["level"], "error", "{err}");

    // Under systemd, stderr is the journal (JOURNAL_STREAM names its device and inode): each
    // line carries its syslog priority for journald, <3> for the failure, <6> for progress.
    let journal = |url: &str, stream: Option<&str>| {
        let file = tempfile::NamedTempFile::new().unwrap();
        let meta = file.as_file().metadata().unwrap();
        use std::os::unix::fs::MetadataExt;
        let id = format!("{}:{}", meta.dev(), meta.ino());
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_webitel-export"))
            .args([
                "run",
                "--config",
                path_str(&lake.config),
                "--database-url",
                url,
            ])
            .args(["--log-format", "json"])
            .env("JOURNAL_STREAM", stream.unwrap_or(&id))
            .stderr(file.reopen().unwrap())
            .status()
            .unwrap();
        (status.code(), std::fs::read_to_string(file.path()).unwrap())
    };
    let (code, text) = journal("postgres://postgres@127.0.0.1:1/webitel", None);
    assert_eq!(code, Some(3));
    let last = text.lines().last().unwrap();
    assert!(
        last.starts_with("<3>{") && last.contains("\"level\":\"error\""),
        "{text}"
    );
    let (code, text) = journal(&db.url, None);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.lines().all(|l| l.starts_with("<6>{")), "{text}");
    // Another stream's id: stderr is not the journal, no prefix.
    let (_, text) = journal("postgres://postgres@127.0.0.1:1/webitel", Some("1:1"));
    assert!(text.lines().last().unwrap().starts_with('{'), "{text}");
}
