//! `restate = "Nd"`: every run re-reads the last N days and replaces them whole, so a row
//! changed or deleted after the night it was exported is current in the tree, and every id is
//! there once. The demo data lies in September 2026; a run's bound is placed on a chosen night
//! with the safety lag (the bound is the snapshot's time minus the lag).

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use webitel_export::registry;

use super::{Lake, delta};
use crate::support::{TestDb, export_rows, run_ok};

/// The safety lag that puts a run's bound at `night`.
fn lag_for(night: DateTime<Utc>) -> String {
    format!("safety_lag = \"{}s\"", (Utc::now() - night).num_seconds())
}

fn night(n: i64) -> DateTime<Utc> {
    "2026-09-15T02:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::days(n)
}

fn column<'a>(rows: &'a [BTreeMap<String, String>], name: &str) -> Vec<&'a str> {
    rows.iter().map(|r| r[name].as_str()).collect()
}

fn assert_once(rows: &[BTreeMap<String, String>], key: &str, what: &str) {
    let keys = column(rows, key);
    let unique: HashSet<&&str> = keys.iter().collect();
    assert_eq!(
        unique.len(),
        keys.len(),
        "{what}: an id is in the tree twice"
    );
}

async fn scalar(db: &TestDb, sql: &str) -> String {
    let mut conn = db.connect().await;
    sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

fn jobs(format: &str) -> String {
    ["calls", "conversations", "qa-scores", "annotations"]
        .iter()
        .map(|d| format!("[[jobs]]\ndataset = \"{d}\"\nformat = \"{format}\"\nrestate = \"3d\"\n"))
        .collect()
}

/// Three nights: a callback joins a conversation of a restated day, a rating is rescored, a
/// note is deleted and another (of a day outside the window) edited, a leg of an old day
/// arrives late. Each id stays once; restated days are current; older days are left alone.
#[tokio::test]
async fn restated_days_are_current_and_every_id_is_in_the_tree_once() {
    week("csv").await;
}

/// The same week in Delta tables: one commit per run, the table current and each id once,
/// time travel to the previous night, and the readers analysts use (CI: Python deltalake,
/// Polars, DuckDB's delta extension).
#[tokio::test]
async fn a_delta_table_is_current_after_every_night_and_travels_back() {
    let (db, lake, night0) = week("delta").await;
    for job in ["calls", "conversations", "qa-scores", "annotations"] {
        let table = lake.root.join(job);
        assert_eq!(delta::version(&table).await, 2, "{job}: one commit per run");
        let previous = delta::rows_at(&table, Some(0)).await;
        let mut previous: Vec<String> = previous.iter().map(|r| format!("{r:?}")).collect();
        let mut expected: Vec<String> = night0[job].iter().map(|r| format!("{r:?}")).collect();
        previous.sort();
        expected.sort();
        assert!(previous == expected, "{job}: version 0 is night 0's table");
    }
    let state: serde_json::Value = serde_json::from_str(&lake.state().unwrap()).unwrap();
    let mark = delta::last_mark(&lake.root.join("calls")).await;
    assert_eq!(mark["watermark"], state["jobs"]["calls"]["watermark"]);
    assert_eq!(mark["run"], state["last_run"]);
    delta::read_with_python_engines(&lake).await;
    drop(db);
}

/// Runs the week; returns the database, the tree and each job's rows after night 0.
async fn week(format: &str) -> (TestDb, Lake, BTreeMap<&'static str, Rows>) {
    let jobs = jobs(format);
    let db = TestDb::seeded(3000, 7).await;
    let lake = Lake::new(&lag_for(night(0)), &jobs);
    lake.run(&db);
    let mut night0 = BTreeMap::new();
    for job in ["calls", "conversations", "qa-scores", "annotations"] {
        night0.insert(job, rows(&lake, job).await);
    }

    // Between night 0 and night 1 (all stamped before night 1's bound).
    let after = (night(0) + Duration::hours(1)).to_rfc3339();
    let root = scalar(
        &db,
        "SELECT id::text FROM call_center.cc_calls_history WHERE parent_id IS NULL
           AND transfer_from IS NULL AND created_at >= '2026-09-14' AND created_at < '2026-09-15'
         ORDER BY id LIMIT 1",
    )
    .await;
    db.execute(&format!(
        "INSERT INTO call_center.cc_calls_history (id, domain_id, app_id, direction, parent_id,
                created_at, hangup_at, stored_at)
         SELECT '00000000-0000-0000-0000-00000000c0b1', domain_id, 'node', 'outbound', id,
                '{after}', '{after}', '{after}'
         FROM call_center.cc_calls_history WHERE id = '{root}'"
    ))
    .await;
    let rescored = scalar(
        &db,
        "SELECT id::text FROM call_center.cc_audit_rate
         WHERE created_at >= '2026-09-14' AND created_at < '2026-09-15' ORDER BY id LIMIT 1",
    )
    .await;
    db.execute(&format!(
        "UPDATE call_center.cc_audit_rate SET score_required = 77.5, updated_at = '{after}'
         WHERE id = {rescored}"
    ))
    .await;
    let deleted = scalar(
        &db,
        "SELECT id::text FROM call_center.cc_calls_annotation
         WHERE created_at >= '2026-09-14' AND created_at < '2026-09-15' ORDER BY id LIMIT 1",
    )
    .await;
    db.execute(&format!(
        "DELETE FROM call_center.cc_calls_annotation WHERE id = {deleted}"
    ))
    .await;
    let old_note = scalar(
        &db,
        "SELECT id::text FROM call_center.cc_calls_annotation
         WHERE created_at < '2026-09-10' ORDER BY id LIMIT 1",
    )
    .await;
    db.execute(&format!(
        "UPDATE call_center.cc_calls_annotation SET note = 'edited late', updated_at = '{after}'
         WHERE id = {old_note}"
    ))
    .await;
    db.execute(&format!(
        "INSERT INTO call_center.cc_calls_history (id, domain_id, app_id, direction, created_at,
                hangup_at, stored_at)
         VALUES ('00000000-0000-0000-0000-00000000a7e1', 1, 'node', 'inbound',
                 '2026-09-09 10:00:00+00', '2026-09-09 10:05:00+00', '{after}')"
    ))
    .await;
    let legs_before = rows(&lake, "conversations")
        .await
        .into_iter()
        .find(|r| r["conversation_id"] == root)
        .expect("the conversation was exported on night 0")["legs"]
        .clone();

    std::fs::write(&lake.config, lake.config_with(&lag_for(night(1)), &jobs)).unwrap();
    lake.run(&db);

    let calls = rows(&lake, "calls").await;
    assert_once(&calls, "id", "calls");
    let ids: HashSet<&str> = column(&calls, "id").into_iter().collect();
    assert!(
        ids.contains("00000000-0000-0000-0000-00000000a7e1"),
        "the late leg of an old day"
    );
    assert!(
        ids.contains("00000000-0000-0000-0000-00000000c0b1"),
        "the callback leg"
    );

    let conversations = rows(&lake, "conversations").await;
    assert_once(&conversations, "conversation_id", "conversations");
    let rebuilt = conversations
        .iter()
        .find(|r| r["conversation_id"] == root)
        .unwrap();
    assert_eq!(
        rebuilt["legs"].parse::<u32>().unwrap(),
        legs_before.parse::<u32>().unwrap() + 1,
        "the conversation of a restated day holds the leg that joined it the next day"
    );

    let scores = rows(&lake, "qa-scores").await;
    assert_once(&scores, "rate_id", "qa-scores");
    let score = scores.iter().find(|r| r["rate_id"] == rescored).unwrap();
    assert_eq!(
        score["score_required"], "77.5",
        "the current version of the rating"
    );

    let notes = rows(&lake, "annotations").await;
    assert_once(&notes, "annotation_id", "annotations");
    assert!(
        !column(&notes, "annotation_id").contains(&deleted.as_str()),
        "a note deleted in Webitel disappears from its restated day"
    );
    let old = notes
        .iter()
        .find(|r| r["annotation_id"] == old_note)
        .unwrap();
    assert_ne!(
        old["note"], "edited late",
        "a day outside the window is never touched"
    );

    // Night 2: 2026-09-13 leaves the window; its files stay as they are.
    let before = day_files(&lake, "calls", "date=2026-09-13").await;
    let restated_before = day_files(&lake, "calls", "date=2026-09-15").await;
    assert!(!before.is_empty());
    std::fs::write(&lake.config, lake.config_with(&lag_for(night(2)), &jobs)).unwrap();
    // The night's first attempt is killed with its files in place, before any commit.
    let killed = std::process::Command::new(env!("CARGO_BIN_EXE_webitel-export"))
        .args(lake.args(&db))
        .env("WEBITEL_EXPORT_FAILPOINT", "after-data-files")
        .output()
        .unwrap();
    assert_eq!(killed.status.code(), None, "the run was killed");
    lake.run(&db);
    assert_eq!(before, day_files(&lake, "calls", "date=2026-09-13").await);
    restated_days_equal_the_database(&db, &lake).await;
    assert_ne!(
        restated_before,
        day_files(&lake, "calls", "date=2026-09-15").await,
        "a restated day is rewritten"
    );
    let manifest = lake.manifests().pop().unwrap();
    let calls_job = &manifest["jobs"].as_array().unwrap()[0];
    assert_eq!(
        calls_job["restated"],
        serde_json::json!(["date=2026-09-15", "date=2026-09-16", "date=2026-09-17"])
    );
    (db, lake, night0)
}

type Rows = Vec<BTreeMap<String, String>>;

/// Every row of the restated days (2026-09-15 on) is what the subcommand exports now for those
/// days up to the run's bound, and no other; the key column when the tree is a Delta table
/// (its cells are Parquet values, not CSV text), every cell when it is CSV.
async fn restated_days_equal_the_database(db: &TestDb, lake: &Lake) {
    let state: serde_json::Value = serde_json::from_str(&lake.state().unwrap()).unwrap();
    for (job, key, written_to) in [
        ("calls", "id", Some("--stored-to")),
        ("conversations", "conversation_id", Some("--stored-to")),
        ("qa-scores", "rate_id", None),
        ("annotations", "annotation_id", None),
    ] {
        let bound = state["jobs"][job]["watermark"]
            .as_str()
            .unwrap()
            .to_string();
        let mut filters = vec!["--tz", "UTC", "--from", "2026-09-15"];
        match written_to {
            Some(flag) => filters.extend([flag, bound.as_str()]),
            None => filters.extend(["--to", bound.as_str()]),
        }
        let exported = export_rows(db, job, &filters);
        let tree = rows(lake, job).await;
        let delta = lake.root.join(job).join("_delta_log").exists();
        let restated = |r: &BTreeMap<String, String>| -> bool {
            match r.get("date") {
                Some(day) => day.as_str() >= "2026-09-15",
                None => true,
            }
        };
        let shown = |cells: Vec<(String, String)>| -> String {
            let cells: BTreeMap<String, String> = cells
                .into_iter()
                .filter(|(k, _)| !delta || k == key)
                .collect();
            format!("{cells:?}")
        };
        let mut have: Vec<String> = if delta {
            tree.iter()
                .filter(|r| restated(r))
                .map(|r| shown(r.clone().into_iter().collect()))
                .collect()
        } else {
            // CSV parts carry no date column: pick the restated days' parts by their path.
            lake.visible()
                .into_keys()
                .filter(|p| p.starts_with(&format!("{job}/date=")) && p.ends_with(".csv"))
                .filter(|p| p.as_str() >= format!("{job}/date=2026-09-15").as_str())
                .flat_map(|p| {
                    let text = std::fs::read_to_string(lake.root.join(&p)).unwrap();
                    let (header, cells) = crate::support::parse_csv(&text);
                    cells
                        .into_iter()
                        .map(|r| shown(header.iter().cloned().zip(r).collect()))
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        let mut want: Vec<String> = exported
            .into_iter()
            .map(|r| shown(r.into_iter().collect()))
            .collect();
        have.sort();
        want.sort();
        assert!(!want.is_empty(), "{job}: the restated days are empty");
        assert_eq!(have.len(), want.len(), "{job}: restated rows");
        assert!(
            have == want,
            "{job}: a restated row differs from the database"
        );
    }
}

/// A job's rows: its Delta table's current version, or its CSV parts.
async fn rows(lake: &Lake, job: &str) -> Rows {
    let table = lake.root.join(job);
    if table.join("_delta_log").exists() {
        delta::rows_at(&table, None).await
    } else {
        lake.csv_rows(job)
    }
}

/// The files that hold a partition's rows (a Delta table's active ones), with their hashes.
async fn day_files(lake: &Lake, job: &str, day: &str) -> BTreeMap<String, String> {
    let table = lake.root.join(job);
    let files: Vec<String> = if table.join("_delta_log").exists() {
        delta::active_files(&table, None).await
    } else {
        lake.visible()
            .into_keys()
            .filter_map(|p| p.strip_prefix(&format!("{job}/")).map(str::to_string))
            .filter(|p| !p.ends_with("_SUCCESS"))
            .collect()
    };
    files
        .into_iter()
        .filter(|p| p.starts_with(&format!("{day}/")))
        .map(|p| {
            let hash = super::sha256_of(&table.join(&p));
            (p, hash)
        })
        .collect()
}

/// Every incremental dataset and report, restated over two nights on unchanged data, leaves
/// exactly the rows one plain run at the second night's bound exports.
#[tokio::test]
async fn a_restated_tree_holds_what_one_plain_run_exports() {
    let db = TestDb::seeded(2000, 11).await;
    let mut restated = String::new();
    let mut plain = String::new();
    let mut names = Vec::new();
    for info in registry::DATASETS.iter().chain(registry::REPORTS) {
        if info.incremental.is_none() {
            continue;
        }
        let since = if info.needs_since {
            "since = \"2026-09-01\"\nfilters = [\"--bucket\", \"day\"]\n"
        } else {
            ""
        };
        for (text, restate) in [(&mut restated, "restate = \"4d\"\n"), (&mut plain, "")] {
            text.push_str(&format!(
                "[[jobs]]\ndataset = \"{}\"\nformat = \"csv\"\n{since}{restate}",
                info.name
            ));
        }
        names.push(info.name);
    }
    let lake = Lake::new(&lag_for(night(0)), &restated);
    lake.run(&db);
    std::fs::write(
        &lake.config,
        lake.config_with(&lag_for(night(1)), &restated),
    )
    .unwrap();
    lake.run(&db);
    let once = Lake::new(&lag_for(night(1)), &plain);
    run_ok(&once.args(&db));
    for name in names {
        let sorted = |lake: &Lake| {
            let mut rows: Vec<String> = lake
                .csv_rows(name)
                .iter()
                .map(|r| format!("{r:?}"))
                .collect();
            rows.sort();
            rows
        };
        let (a, b) = (sorted(&lake), sorted(&once));
        assert!(!b.is_empty(), "{name}: nothing exported");
        assert_eq!(a.len(), b.len(), "{name}: row counts differ");
        assert!(
            a == b,
            "{name}: the restated tree differs from one plain run"
        );
    }
}

/// Compaction for free: 300 late legs of the 10 restated days, arriving interleaved after
/// the rest, do not multiply files: every restated day is one part (as `max_file_rows` allows).
#[tokio::test]
async fn a_restated_day_is_one_file_however_its_rows_interleave() {
    let db = TestDb::seeded(3000, 5).await;
    db.execute(
        "INSERT INTO call_center.cc_calls_history
                (id, domain_id, app_id, direction, created_at, hangup_at, stored_at)
         SELECT md5('late' || g)::uuid, 1, 'node', 'inbound', t, t, '2026-09-25 00:00+00'
         FROM generate_series(1, 300) g,
              LATERAL (SELECT timestamptz '2026-09-17 12:00+00' + (g % 10) * interval '1 day' AS t) x",
    )
    .await;
    let jobs = "[[jobs]]\ndataset = \"calls\"\nformat = \"csv\"\nrestate = \"10d\"\n";
    let lake = Lake::new(&lag_for(night(11)), jobs);
    lake.run(&db);
    let mut parts: BTreeMap<String, usize> = BTreeMap::new();
    for path in lake.visible().into_keys() {
        if path.ends_with(".csv") && path.as_str() >= "calls/date=2026-09-17" {
            let day = path.rsplit_once('/').unwrap().0.to_string();
            *parts.entry(day).or_default() += 1;
        }
    }
    assert_eq!(parts.len(), 10, "{parts:?}");
    assert!(parts.values().all(|&n| n == 1), "{parts:?}");
}

/// The in-flight proof holds with restatement on: a leg of a restated day whose transaction is
/// open during run 1 is not in run 1's restated day, and run 2 (restating that day again)
/// exports it once.
#[tokio::test]
async fn a_row_committed_after_a_restated_run_is_in_the_next_once() {
    let db = TestDb::with_fixture("calls.sql").await;
    let jobs = "[[jobs]]\ndataset = \"calls\"\nformat = \"csv\"\nrestate = \"3d\"\n";
    let lake = Lake::new("safety_lag = \"0s\"", jobs);
    let mut writer = db.connect().await;
    sqlx::Executor::execute(&mut writer, "BEGIN").await.unwrap();
    sqlx::Executor::execute(
        &mut writer,
        "INSERT INTO call_center.cc_calls_history (id, domain_id, app_id, direction, created_at, hangup_at)
         VALUES ('00000000-0000-0000-0000-000000000f11', 1, 'node', 'inbound', now(), now())",
    )
    .await
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    lake.run(&db);
    let first = rows(&lake, "calls").await;
    assert!(!column(&first, "id").contains(&"00000000-0000-0000-0000-000000000f11"));
    sqlx::Executor::execute(&mut writer, "COMMIT")
        .await
        .unwrap();
    lake.run(&db);
    let second = rows(&lake, "calls").await;
    assert_once(&second, "id", "calls");
    assert!(column(&second, "id").contains(&"00000000-0000-0000-0000-000000000f11"));
    assert_eq!(second.len(), super::all_leg_ids(&db).await.len());
}
