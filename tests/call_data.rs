//! The data around calls: `qa-scores`, `transcripts`, `members`, `call-quality` — filters,
//! joined columns, and the releases without their tables.

use crate::support::{TestDb, export_ids, export_rows, run_ok};

async fn fixture() -> TestDb {
    TestDb::with_fixtures(&["calls.sql", "call_data.sql"]).await
}

#[tokio::test]
async fn qa_scores_filters_and_columns() {
    let db = fixture().await;
    let cases: Vec<(Vec<&str>, Vec<u32>)> = vec![
        (vec![], vec![1, 2, 3]),
        (vec!["--domain", "1"], vec![1, 2]),
        (vec!["--form", "2"], vec![3]),
        (vec!["--rated-user", "1001"], vec![1]),
        (vec!["--scorer", "1002"], vec![1, 2]),
        (vec!["--from", "2026-09-03"], vec![2, 3]),
        (vec!["--updated-from", "2026-09-05"], vec![2]),
        (
            vec!["--call-id", "00000000-0000-0000-0000-000000000011"],
            vec![2],
        ),
    ];
    for (filters, expected) in cases {
        assert_eq!(
            export_ids(&db, "qa-scores", "rate_id", &filters),
            expected,
            "filters {filters:?}"
        );
    }
    let rows = export_rows(&db, "qa-scores", &[]);
    let rate = |id: &str| rows.iter().find(|r| r["rate_id"] == id).unwrap();
    let first = rate("1");
    assert_eq!(first["form_name"], "Якість розмови");
    assert_eq!(first["rated_user_name"], "Олена Шевченко");
    assert_eq!(first["created_by_name"], "ivan");
    assert_eq!(first["score_required"], "87.5");
    assert_eq!(first["comment"], "Добре");
    assert_eq!(first["answers"], r#"[{"score": 1}, {"score": 0.5}]"#);
    // No call_created_at stored: the leg's created_at.
    assert_eq!(first["call_created_at"], "2026-09-01T10:00:00.000000Z");
    // Stored: that one.
    assert_eq!(rate("2")["call_created_at"], "2026-08-31T23:00:00.000000Z");
    assert_eq!(rate("3")["call_id"], "");
}

#[tokio::test]
async fn transcripts_keep_phrases_as_json_and_nested_in_json_lines() {
    let db = fixture().await;
    let cases: Vec<(Vec<&str>, Vec<u32>)> = vec![
        (vec![], vec![1, 2, 3]),
        (vec!["--domain", "2"], vec![3]),
        (vec!["--locale", "uk-UA"], vec![1]),
        (vec!["--file-id", "1"], vec![1, 2]),
        (
            vec!["--call-id", "00000000-0000-0000-0000-000000000006"],
            vec![3],
        ),
        (vec!["--from", "2026-09-02", "--to", "2026-09-03"], vec![2]),
    ];
    for (filters, expected) in cases {
        assert_eq!(
            export_ids(&db, "transcripts", "transcript_id", &filters),
            expected,
            "filters {filters:?}"
        );
    }
    let rows = export_rows(&db, "transcripts", &["--locale", "uk-UA"]);
    assert_eq!(rows[0]["transcript"], "Добрий день, чим допомогти?");
    assert_eq!(rows[0]["call_created_at"], "2026-09-01T10:00:00.000000Z");
    let jsonl = run_ok(&[
        "transcripts",
        "--database-url",
        &db.url,
        "-q",
        "--locale",
        "uk-UA",
        "--format",
        "jsonl",
    ]);
    let line: serde_json::Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert_eq!(line["phrases"][0]["phrase"], "Добрий день", "{line}");
    assert_eq!(line["channels"], serde_json::json!([0, 1]));
}

#[tokio::test]
async fn members_filters_and_columns() {
    let db = fixture().await;
    let cases: Vec<(Vec<&str>, Vec<u32>)> = vec![
        (vec![], vec![1, 2, 3]),
        (vec!["--domain", "1"], vec![3]),
        (vec!["--queue", "26"], vec![1, 2]),
        (vec!["--bucket", "5"], vec![1]),
        (vec!["--finished"], vec![1, 3]),
        (vec!["--waiting"], vec![2]),
        (vec!["--stop-cause", "max_attempts"], vec![3]),
        (vec!["--from", "2026-09-02"], vec![2, 3]),
    ];
    for (filters, expected) in cases {
        assert_eq!(
            export_ids(&db, "members", "member_id", &filters),
            expected,
            "filters {filters:?}"
        );
    }
    let rows = export_rows(&db, "members", &[]);
    let oleg = rows.iter().find(|r| r["member_id"] == "1").unwrap();
    assert_eq!(oleg["queue_name"], "Predictive");
    assert_eq!(oleg["bucket_name"], "VIP");
    assert_eq!(oleg["last_hangup_at"], "2026-09-02T12:00:00.000000Z");
    assert_eq!(oleg["variables"], r#"{"city": "Львів"}"#);
    let anna = rows.iter().find(|r| r["member_id"] == "2").unwrap();
    assert_eq!(anna["last_hangup_at"], "", "0 is no call yet");
    assert_eq!(anna["ready_at"], "2026-09-03T09:00:00.000000Z");
}

#[tokio::test]
async fn call_quality_joins_the_leg_by_sip_id() {
    let db = fixture().await;
    let rows = export_rows(&db, "call-quality", &[]);
    assert_eq!(rows.len(), 2);
    let one = rows.iter().find(|r| r["sip_id"] == "sip-one").unwrap();
    assert_eq!(one["call_id"], "00000000-0000-0000-0000-000000000001");
    assert_eq!(one["call_created_at"], "2026-09-01T10:00:00.000000Z");
    assert_eq!(one["mos_avg"], "4.2");
    assert_eq!(one["mos_min_at_sec"], "12");
    assert_eq!(one["round_trip_max"], "90");
    let unknown = rows.iter().find(|r| r["sip_id"] == "sip-unknown").unwrap();
    assert_eq!(unknown["call_id"], "");
    let windowed = export_rows(&db, "call-quality", &["--from", "2026-09-02"]);
    assert_eq!(windowed.len(), 1);
    assert_eq!(windowed[0]["sip_id"], "sip-unknown");

    // Webitel stores domain 0 when the SIP side omits the domain: the row still finds its leg
    // by sip_id, as Webitel's call-history view links them.
    db.execute(
        "UPDATE call_center.cc_calls_history SET params = '{\"sip_id\": \"sip-two\"}'
             WHERE id = '00000000-0000-0000-0000-000000000002';
         INSERT INTO call_center.cc_calls_media_stats (created_at, sip_id, domain_id, mos_avg)
             VALUES ('2026-09-01 10:06:00+00', 'sip-two', 0, 3.9);",
    )
    .await;
    let rows = export_rows(&db, "call-quality", &["--sip-id", "sip-two"]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["domain_id"], "0");
    assert_eq!(rows[0]["call_id"], "00000000-0000-0000-0000-000000000002");
}

/// Before the release that creates their tables, qa-scores and call-quality export an empty
/// file with their columns, and `check` says why instead of failing.
#[tokio::test]
async fn datasets_newer_than_the_release_export_empty_and_check_says_why() {
    let db = TestDb::at_level("v22.12").await;
    for dataset in ["qa-scores", "call-quality"] {
        let csv = run_ok(&[dataset, "--database-url", &db.url, "-q"]);
        let header = csv.lines().next().unwrap_or_default();
        assert!(header.contains("created_at"), "{dataset}: {csv}");
        assert_eq!(csv.lines().count(), 1, "{dataset}: only the header");
    }
    let out = run_ok(&[
        "check",
        "--database-url",
        &db.url,
        "--format",
        "json",
        "qa-scores",
        "call-quality",
    ]);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["ok"], true, "{report:#}");
    let notes = report["datasets"].to_string();
    assert!(
        notes.contains("cc_audit_rate comes with Webitel v23.05"),
        "{notes}"
    );
    assert!(
        notes.contains("cc_calls_media_stats comes with Webitel v26.02"),
        "{notes}"
    );
}
