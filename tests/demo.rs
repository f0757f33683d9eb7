//! The embedded demo: deterministic, realistic data, and the end-to-end command.

use sqlx::Row;

use crate::support::{TestDb, out_dir, parse_csv, path_str, run_ok};

/// md5 of every row of the tables the generator fills, in a stable order.
async fn digest(db: &TestDb) -> Vec<(String, String)> {
    let mut conn = db.connect().await;
    let mut out = Vec::new();
    for (table, key) in [
        ("call_center.cc_calls_history", "id"),
        ("call_center.cc_member_attempt_history", "id"),
        ("call_center.cc_member", "id"),
        ("storage.files", "id"),
        ("call_center.cc_calls_annotation", "call_id"),
        ("directory.wbt_user", "id"),
        ("call_center.cc_queue", "id"),
    ] {
        // Columns whose values are "now" at insert time are left out.
        let sql = format!(
            "SELECT md5(string_agg((to_jsonb(t) - 'stored_at' - 'created_at' - 'updated_at' - 'uploaded_at' \
             - 'last_state_change')::text, '|' ORDER BY t.{key}::text)) AS d FROM {table} t"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        out.push((
            table.to_string(),
            row.get::<Option<String>, _>("d").unwrap_or_default(),
        ));
    }
    out
}

#[tokio::test]
async fn the_same_seed_gives_the_same_data_and_another_seed_does_not() {
    let (a, b, c) = tokio::join!(
        TestDb::seeded(4000, 11),
        TestDb::seeded(4000, 11),
        TestDb::seeded(4000, 12)
    );
    let (da, db_, dc) = (digest(&a).await, digest(&b).await, digest(&c).await);
    assert_eq!(da, db_);
    assert_ne!(da[0], dc[0], "another seed changes the call legs");
}

#[tokio::test]
async fn demo_data_covers_the_call_shapes_webitel_produces() {
    let db = TestDb::seeded(6000, 3).await;
    let mut conn = db.connect().await;
    let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql);
    let checks: [(&str, &'static str); 18] = [
        ("legs", "SELECT count(*) FROM call_center.cc_calls_history"),
        (
            "domains",
            "SELECT count(DISTINCT domain_id) FROM call_center.cc_calls_history",
        ),
        (
            "child legs",
            "SELECT count(*) FROM call_center.cc_calls_history WHERE parent_id IS NOT NULL",
        ),
        (
            "bridged",
            "SELECT count(*) FROM call_center.cc_calls_history WHERE bridged_id IS NOT NULL",
        ),
        (
            "attended transfers",
            "SELECT count(*) FROM call_center.cc_calls_history WHERE transfer_from IS NOT NULL",
        ),
        (
            "blind transfers",
            "SELECT count(*) FROM call_center.cc_calls_history WHERE blind_transfer IS NOT NULL",
        ),
        (
            "holds",
            "SELECT count(*) FROM call_center.cc_calls_history WHERE hold_sec > 0 AND hold IS NOT NULL",
        ),
        (
            "missed",
            "SELECT count(*) FROM call_center.cc_calls_history WHERE direction = 'inbound' AND bridged_at IS NULL",
        ),
        (
            "outbound",
            "SELECT count(*) FROM call_center.cc_calls_history WHERE direction = 'outbound' AND parent_id IS NULL",
        ),
        (
            "dialer",
            "SELECT count(*) FROM call_center.cc_calls_history c JOIN call_center.cc_queue q ON q.id = c.queue_id WHERE q.type IN (4, 5)",
        ),
        (
            "queue types",
            "SELECT count(DISTINCT type) FROM call_center.cc_queue WHERE type IN (0, 1, 3, 4, 5)",
        ),
        (
            "local recordings",
            "SELECT count(*) FROM storage.files f JOIN storage.file_backend_profiles p ON p.id = f.profile_id WHERE p.type = 'local'",
        ),
        (
            "s3 recordings",
            "SELECT count(*) FROM storage.files f JOIN storage.file_backend_profiles p ON p.id = f.profile_id WHERE p.type = 's3'",
        ),
        (
            "attempt results",
            "SELECT count(DISTINCT result) FROM call_center.cc_member_attempt_history",
        ),
        (
            "attempt descriptions",
            "SELECT count(*) FROM call_center.cc_member_attempt_history WHERE description IS NOT NULL",
        ),
        (
            "cyrillic variables",
            "SELECT count(*) FROM call_center.cc_calls_history WHERE payload->>'city' ~ '[А-Яа-яІіЇїЄє]'",
        ),
        (
            "numbers with +",
            "SELECT count(*) FROM call_center.cc_calls_history WHERE from_number LIKE '+%' OR to_number LIKE '+%'",
        ),
        (
            "agents in teams",
            "SELECT count(*) FROM call_center.cc_agent WHERE team_id IS NOT NULL",
        ),
    ];
    for (what, sql) in checks {
        let n = count(sql).fetch_one(&mut conn).await.unwrap();
        assert!(n > 0, "demo data has no {what}");
    }
    let legs = count(checks[0].1).fetch_one(&mut conn).await.unwrap();
    assert_eq!(legs, 6000, "--calls is the exact number of legs");
    let results = count(checks[13].1).fetch_one(&mut conn).await.unwrap();
    assert!(
        results >= 4,
        "success, failed, abandoned, cancel: {results}"
    );
}

#[tokio::test]
async fn demo_command_exports_calls_and_removes_its_server() {
    let dir = out_dir();
    let stdout = run_ok(&[
        "demo",
        "--calls",
        "2500",
        "--seed",
        "5",
        "--out-dir",
        path_str(dir.path()),
        "-q",
    ]);
    assert!(stdout.contains("seeded 2500 call legs"), "{stdout}");
    assert!(stdout.contains("calls: 2500 rows"), "{stdout}");
    assert!(stdout.contains("server removed"), "{stdout}");
    let (_, rows) = parse_csv(&std::fs::read_to_string(dir.path().join("calls.csv")).unwrap());
    assert_eq!(rows.len(), 2500);
    let parquet = std::fs::File::open(dir.path().join("calls.parquet")).unwrap();
    let reader = parquet::file::reader::SerializedFileReader::new(parquet).unwrap();
    use parquet::file::reader::FileReader;
    assert_eq!(reader.metadata().file_metadata().num_rows(), 2500);
    let (_, queues) = parse_csv(&std::fs::read_to_string(dir.path().join("queues.csv")).unwrap());
    assert_eq!(queues.len(), 18, "six queues in each of three domains");
    assert!(stdout.contains("queues: 18 rows"), "{stdout}");
    let (header, agents) =
        parse_csv(&std::fs::read_to_string(dir.path().join("agents.csv")).unwrap());
    assert_eq!(agents.len(), 90, "thirty agents in each of three domains");
    let skills = header.iter().position(|h| h == "skills").unwrap();
    assert!(
        agents.iter().all(|a| a[skills].contains("Українська")),
        "every demo agent has skills"
    );
    // The reports over the demo's month: every agent on every Kyiv day of September.
    assert!(stdout.contains("agent-activity: 2700 rows"), "{stdout}");
    let (_, days) =
        parse_csv(&std::fs::read_to_string(dir.path().join("report-agent-activity.csv")).unwrap());
    assert_eq!(days.len(), 90 * 30);
    assert!(dir.path().join("report-queue-activity.parquet").exists());
}
