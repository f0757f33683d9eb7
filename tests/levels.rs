//! Schema levels (Webitel releases): one database is built at the v22.05 baseline, loaded
//! with data written with that release's columns (varchar call ids), then carried up the
//! upgrade path of migrations-test/ one release at a time. At every level each dataset and
//! report is exported to Parquet; every export must have the newest level's columns and types,
//! the same values, and NULL exactly where a column came with a later release.

use std::collections::BTreeMap;
use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use sqlx::Executor;
use webitel_export::levels::Level;

use crate::datasets::every_export;
use crate::support::{TestDb, out_dir, path_str, run_ok};

/// Every dataset and report of the registry, and variants that filter by leg id (through the
/// varchar/uuid id comparisons).
fn exports() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut exports: Vec<(&'static str, Vec<&'static str>)> =
        every_export().map(|e| (e.name, e.command)).collect();
    exports.extend([
        (
            "calls-by-id",
            vec!["calls", "--id", "00000000-0000-0000-0000-000000000002"],
        ),
        (
            "calls-family",
            vec![
                "calls",
                "--dependency-id",
                "00000000-0000-0000-0000-000000000001",
            ],
        ),
        (
            "recordings-by-call",
            vec!["recordings", "--id", "00000000-0000-0000-0000-000000000001"],
        ),
    ]);
    exports
}

/// The release that brings an export's table: before it, the export is empty.
fn since(export: &str) -> Level {
    let dataset = export
        .strip_suffix("-by-id")
        .or_else(|| export.strip_suffix("-family"))
        .or_else(|| export.strip_suffix("-by-call"))
        .unwrap_or(export);
    webitel_export::registry::find(dataset).unwrap().since
}

/// (export name, column).
type ExportColumn = (&'static str, &'static str);

/// Values only a later release stores, filled right after that release's migration:
/// (release, SQL, the export columns that show them).
const FILLED_BY_RELEASE: &[(&str, &str, &[ExportColumn])] = &[
    (
        "v22.12",
        "UPDATE call_center.cc_calls_history SET amd_ai_result = 'HUMAN'
             WHERE id = '00000000-0000-0000-0000-000000000003';
         UPDATE storage.files SET view_name = 'Call 01' WHERE id = 501;",
        &[
            ("calls", "amd_result"),
            ("calls-family", "amd_result"),
            ("recordings", "view_name"),
            ("recordings-by-call", "view_name"),
        ],
    ),
    (
        "v23.05",
        "UPDATE call_center.cc_agent_state_history SET attempt_id = 101 WHERE id IN (2, 3);
         INSERT INTO call_center.cc_audit_form (id, domain_id, name) VALUES (1, 1, 'QA');
         INSERT INTO call_center.cc_audit_rate (id, domain_id, form_id, created_at, updated_at,
             score_required, call_id, rated_user_id)
         VALUES (1, 1, 1, '2026-09-02 10:00+00', '2026-09-02 10:00+00', 80,
             '00000000-0000-0000-0000-000000000002', 1001);",
        &[
            ("agent-states", "attempt_id"),
            ("conversations", "qa_score"),
        ],
    ),
    (
        "v24.02",
        "UPDATE call_center.cc_queue SET tags = '{support,vip}' WHERE id = 11;",
        &[("queues", "tags")],
    ),
    (
        "v24.04",
        "UPDATE call_center.cc_member_attempt_history SET variables = '{\"lang\": \"uk\"}'
             WHERE id = 101;
         UPDATE storage.files SET sha256sum = repeat('ab', 32) WHERE id = 501;",
        &[
            ("attempts", "variables"),
            ("recordings", "sha256"),
            ("recordings-by-call", "sha256"),
        ],
    ),
    (
        "v24.10",
        "UPDATE storage.files SET channel = 'call' WHERE id = 501;",
        &[("recordings", "channel"), ("recordings-by-call", "channel")],
    ),
    (
        "v26.02",
        "UPDATE call_center.cc_calls_history SET params = '{\"sip_id\": \"sip-02\"}'
             WHERE id = '00000000-0000-0000-0000-000000000002';
         INSERT INTO call_center.cc_calls_media_stats (created_at, sip_id, domain_id, mos_min)
             VALUES ('2026-09-01 10:05:30+00', 'sip-02', 1, 3.4);",
        &[("conversations", "mos_min")],
    ),
    (
        "v26.04",
        "UPDATE call_center.cc_calls_annotation SET file_id = 501;",
        &[("annotations", "file_id")],
    ),
];

/// One export read back: column descriptions (name, physical and logical type) and rows of
/// (column, value) sorted by the first column.
struct Export {
    schema: Vec<String>,
    rows: Vec<Vec<(String, Field)>>,
}

fn export(db: &TestDb, args: &[&str], dir: &Path, name: &str) -> Export {
    let file = dir.join(format!("{name}.parquet"));
    let mut all = args.to_vec();
    all.extend(["--database-url", &db.url, "-q", "-o", path_str(&file)]);
    run_ok(&all);
    let reader = SerializedFileReader::new(std::fs::File::open(&file).unwrap()).unwrap();
    let schema = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| format!("{:?}", c.self_type()))
        .collect();
    let mut rows: Vec<Vec<(String, Field)>> = reader
        .get_row_iter(None)
        .unwrap()
        .map(|row| {
            row.unwrap()
                .get_column_iter()
                .map(|(n, v)| (n.clone(), v.clone()))
                .collect()
        })
        .collect();
    rows.sort_by_key(|r| r[0].1.to_string());
    std::fs::remove_file(&file).unwrap();
    Export { schema, rows }
}

/// The release that first fills `column` of `export`, if a later release does.
fn filled_since(export: &str, column: &str) -> Option<Level> {
    FILLED_BY_RELEASE
        .iter()
        .find(|(_, _, cols)| cols.contains(&(export, column)))
        .map(|(release, _, _)| release.parse().unwrap())
}

#[tokio::test]
async fn every_dataset_exports_the_same_at_every_schema_level() {
    let db = TestDb::bare().await;
    let dir = out_dir();
    let mut conn = db.connect().await;
    let mut by_level: BTreeMap<Level, BTreeMap<&str, Export>> = BTreeMap::new();
    for migration in webitel_export::levels::MIGRATOR.iter() {
        let level = Level::of_migration(&migration.description).unwrap();
        let sql = migration.sql.as_str().to_string();
        conn.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(sql)))
            .await
            .unwrap_or_else(|e| panic!("migration {level}: {e}"));
        if level == webitel_export::levels::BASELINE {
            let fixture = include_str!("fixtures/levels_v22_05.sql");
            db.execute(fixture).await;
        }
        if let Some((_, fill, _)) = FILLED_BY_RELEASE
            .iter()
            .find(|(r, _, _)| r.parse::<Level>().unwrap() == level)
        {
            db.execute(fill).await;
        }
        let check = run_ok(&["check", "--database-url", &db.url, "--format", "json"]);
        let report: serde_json::Value = serde_json::from_str(&check).unwrap();
        assert_eq!(report["schema_level"], level.to_string(), "detected level");
        assert_eq!(report["ok"], true, "check at {level}: {report:#}");
        let exports = exports()
            .into_iter()
            .map(|(name, args)| (name, export(&db, &args, dir.path(), name)))
            .collect();
        by_level.insert(level, exports);
    }
    assert!(by_level.len() >= 12, "the whole upgrade path was walked");

    let (newest_level, newest) = by_level.pop_last().unwrap();
    assert_eq!(newest_level.to_string(), "v26.04");
    for (name, export) in &newest {
        assert!(!export.rows.is_empty(), "{name} exported nothing");
    }
    for (level, exports) in &by_level {
        for (name, old) in exports {
            let new = &newest[name];
            if *level < since(name) {
                // Its table does not exist yet: an empty file with the same columns.
                assert_eq!(
                    old.schema, new.schema,
                    "{name} at {level}: columns or types"
                );
                assert!(old.rows.is_empty(), "{name} at {level}: no table, no rows");
                continue;
            }
            assert_eq!(
                old.schema, new.schema,
                "{name} at {level}: columns or types"
            );
            assert_eq!(old.rows.len(), new.rows.len(), "{name} at {level}: rows");
            let mut nulled = BTreeMap::new();
            for (old_row, new_row) in old.rows.iter().zip(&new.rows) {
                for ((column, old_value), (_, new_value)) in old_row.iter().zip(new_row) {
                    if old_value == new_value {
                        continue;
                    }
                    // The only difference allowed: a column a later release fills reads NULL.
                    let since = filled_since(name, column);
                    assert!(
                        *old_value == Field::Null && since.is_some_and(|s| s > *level),
                        "{name}.{column} at {level}: {old_value} differs from {new_value}"
                    );
                    *nulled.entry(column.as_str()).or_insert(0) += 1;
                }
            }
            // And every such column does read NULL before its release.
            for (release, _, columns) in FILLED_BY_RELEASE {
                let since: Level = release.parse().unwrap();
                for (export, column) in *columns {
                    if export == name && since > *level {
                        assert!(
                            nulled.contains_key(column),
                            "{name}.{column} at {level} should read NULL (it came with {since})"
                        );
                    }
                }
            }
        }
    }
    // Each later-release value really is in the newest export, so the NULLs above mean
    // something.
    for (_, _, columns) in FILLED_BY_RELEASE {
        for (name, column) in *columns {
            let filled = newest[name]
                .rows
                .iter()
                .flatten()
                .any(|(c, v)| c == column && *v != Field::Null);
            assert!(filled, "{name}.{column} is filled at the newest level");
        }
    }
}
