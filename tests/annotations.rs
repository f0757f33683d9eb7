//! `annotations`: filters, joined columns, the release without `file_id`, and a run job.

use crate::support::{TestDb, export_ids, export_rows};

#[tokio::test]
async fn every_annotation_filter_selects_exactly_the_matching_notes() {
    let db = TestDb::with_fixtures(&["calls.sql", "annotations.sql"]).await;
    let cases: Vec<(Vec<&str>, Vec<u32>)> = vec![
        (vec![], vec![1, 2, 3, 4]),
        (vec!["--domain", "1"], vec![1, 2]),
        (vec!["--domain", "2"], vec![3]),
        (vec!["--from", "2026-09-02"], vec![3, 4]),
        (vec!["--to", "2026-09-01T11:30:00Z"], vec![1]),
        (vec!["--updated-from", "2026-09-03"], vec![2]),
        (
            vec!["--updated-to", "2026-09-02T09:30:00+00:00"],
            vec![1, 3],
        ),
        (
            vec![
                "--from",
                "2026-09-01",
                "--to",
                "2026-09-02",
                "--tz",
                "Europe/Kyiv",
            ],
            vec![1, 2],
        ),
        (
            vec!["--call-id", "00000000-0000-0000-0000-000000000006"],
            vec![3],
        ),
        (vec!["--author", "1002", "--author", "2001"], vec![2, 3]),
    ];
    for (filters, expected) in cases {
        assert_eq!(
            export_ids(&db, "annotations", "annotation_id", &filters),
            expected,
            "filters {filters:?}"
        );
    }
}

#[tokio::test]
async fn annotation_columns_carry_the_call_and_the_authors() {
    let db = TestDb::with_fixtures(&["calls.sql", "annotations.sql"]).await;
    db.execute("UPDATE call_center.cc_calls_annotation SET file_id = 77 WHERE id = 1")
        .await;
    let rows = export_rows(&db, "annotations", &[]);
    let note = |id: &str| rows.iter().find(|r| r["annotation_id"] == id).unwrap();
    let first = note("1");
    assert_eq!(first["note"], "Клієнт просив передзвонити");
    assert_eq!(first["domain_id"], "1");
    assert_eq!(first["call_created_at"], "2026-09-01T10:00:00.000000Z");
    assert_eq!(
        (first["start_sec"].as_str(), first["end_sec"].as_str()),
        ("12", "40")
    );
    assert_eq!(first["file_id"], "77");
    assert_eq!(first["created_by_name"], "Олена Шевченко");
    let edited = note("2");
    assert_eq!(edited["created_by_name"], "ivan", "no name: the username");
    assert_eq!(edited["updated_by_name"], "Олена Шевченко");
    assert_eq!(edited["updated_at"], "2026-09-03T08:00:00.000000Z");
    let gone = note("4");
    assert_eq!(gone["domain_id"], "", "the call is gone: no domain");
    assert_eq!(gone["created_by"], "9999");
    assert_eq!(gone["created_by_name"], "");
    assert_eq!(gone["updated_by"], "");
}

/// Before v26.04 the table has no file_id: the export runs and reads it as empty.
#[tokio::test]
async fn before_v26_04_file_id_reads_empty() {
    let db = TestDb::at_level("v25.10").await;
    db.execute(
        "INSERT INTO call_center.cc_calls_annotation (call_id, note, created_by) \
         VALUES ('00000000-0000-0000-0000-000000000001', 'old release', NULL)",
    )
    .await;
    let rows = export_rows(&db, "annotations", &[]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["note"], "old release");
    assert_eq!(rows[0]["file_id"], "");
}
