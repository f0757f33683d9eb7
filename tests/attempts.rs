//! `attempts`: filters, derived durations, the member's state and the AMD of its call.

use crate::support::{TestDb, export_ids, export_rows};

async fn fixture() -> TestDb {
    TestDb::with_fixtures(&["calls.sql", "attempts.sql"]).await
}

#[tokio::test]
async fn every_attempt_filter_selects_exactly_the_matching_attempts() {
    let db = fixture().await;
    let cases: Vec<(Vec<&str>, Vec<u32>)> = vec![
        (vec![], vec![101, 301, 701, 702, 703]),
        (vec!["--domain", "2"], vec![701, 702, 703]),
        (
            vec!["--from", "2026-09-02", "--to", "2026-09-03"],
            vec![701, 702],
        ),
        (
            vec![
                "--from",
                "2026-09-02T13:05",
                "--tz",
                "Europe/Kyiv",
                "--to",
                "2026-09-03",
            ],
            vec![702],
        ),
        (vec!["--leaving-from", "2026-09-03"], vec![301]),
        (vec!["--leaving-to", "2026-09-01T12:00:00Z"], vec![101, 703]),
        (vec!["--queue", "26"], vec![701, 702, 703]),
        (vec!["--agent", "1001"], vec![101, 301]),
        (vec!["--agent", "1002"], vec![701]),
        (vec!["--member", "7002"], vec![702, 703]),
        (
            vec!["--result", "failed", "--result", "busy_custom"],
            vec![702, 703],
        ),
        (vec!["--q", "*2223344"], vec![702, 703]),
        (vec!["--q", "0800300"], vec![701, 702, 703]),
        (vec!["--queue", "26", "--result", "success"], vec![701]),
    ];
    for (filters, expected) in cases {
        assert_eq!(
            export_ids(&db, "attempts", "attempt_id", &filters),
            expected,
            "filters {filters:?}"
        );
    }
}

#[tokio::test]
async fn attempt_columns_match_hand_computed_values() {
    let db = fixture().await;
    let rows = export_rows(&db, "attempts", &[]);
    let attempt = |id: &str| rows.iter().find(|r| r["attempt_id"] == id).unwrap();
    let connected = attempt("701");
    for (column, value) in [
        ("wait_sec", "6"),  // bridged 10:00:06 − joined 10:00:00
        ("talk_sec", "28"), // leaving 10:00:34 − bridged
        ("wrap_sec", "15"), // reporting 10:00:49 − leaving
        ("amd_result", "HUMAN"),
        ("queue_name", "Predictive"),
        ("queue_type", "5"),
        ("member_name", "Олена Коваль"),
        ("member_stop_cause", "success"),
        ("member_stop_at", "2026-09-02T10:00:40.000000Z"),
        ("member_attempts", "1"),
        ("agent_name", "ivan"),
        ("result", "success"),
    ] {
        assert_eq!(connected[column], value, "701 {column}");
    }
    let form: serde_json::Value = serde_json::from_str(&connected["form_fields"]).unwrap();
    assert_eq!(form["topic"], "оплата");
    let failed = attempt("702");
    for (column, value) in [
        ("wait_sec", "20"),
        ("talk_sec", ""),
        ("wrap_sec", ""),
        ("amd_result", "cancelled"),
        ("member_stop_cause", ""),
        ("member_ready_at", "2026-09-03T09:00:00.000000Z"),
        ("seq", "2"),
    ] {
        assert_eq!(failed[column], value, "702 {column}");
    }
    let destination: serde_json::Value = serde_json::from_str(&failed["destination"]).unwrap();
    assert_eq!(destination["name"], "Клієнт 2");
    // A member_call_id that is not a uuid names no leg: no AMD, no error.
    assert_eq!(attempt("703")["amd_result"], "");
    assert_eq!(attempt("101")["queue_type"], "1");
}
