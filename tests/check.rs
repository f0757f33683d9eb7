//! `webitel-export check`: a full-privilege role passes; a role without SELECT on one table
//! fails naming it; a schema missing a baseline column fails naming the column; a schema
//! missing an older release's column below later releases' columns (a gap) fails naming it.

use crate::support::{TestDb, path_str, run};

fn check(url: &str) -> (Option<i32>, serde_json::Value) {
    let out = run(&["check", "--database-url", url, "--format", "json"]);
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), report)
}

/// `field` of `dataset`'s entry in a `check --format json` report, as JSON text.
pub fn dataset_field(report: &serde_json::Value, dataset: &str, field: &str) -> String {
    let d = report["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == dataset)
        .unwrap_or_else(|| panic!("no {dataset} in {report}"));
    d[field].to_string()
}

fn problems(report: &serde_json::Value, dataset: &str) -> String {
    dataset_field(report, dataset, "problems")
}

#[tokio::test]
async fn a_full_privilege_role_passes_on_the_newest_schema() {
    let db = TestDb::with_fixture("calls.sql").await;
    // Without TLS even if another test has turned it on in the server.
    let (code, report) = check(&format!("{}?sslmode=disable", db.url));
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["ok"], true);
    assert_eq!(report["schema_level"], "v26.04");
    assert_eq!(report["calls_partitioned"], false);
    assert_eq!(report["tls"]["on"], false);
    assert_eq!(
        report["datasets"].as_array().unwrap().len(),
        webitel_export::registry::all().count(),
        "every dataset and report is checked"
    );
    assert!(report["server_version_num"].as_i64().unwrap() >= 140000);
    // The suite runs on 14, 15 and 18; the server it runs on is one of them.
    assert_eq!(report["server_tested"], true, "{report:#}");

    let text = run(&["check", "--database-url", &db.url, "calls", "queues"]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("ok    calls"), "{stdout}");
    assert!(
        !stdout.contains("recordings"),
        "only the datasets asked for: {stdout}"
    );
}

#[tokio::test]
async fn a_role_without_select_on_one_table_fails_naming_it() {
    let db = TestDb::new().await;
    let role = format!("check_{}", db.name);
    db.execute(&format!(
        "CREATE ROLE {role} LOGIN;
         GRANT USAGE ON SCHEMA call_center, directory, storage, flow TO {role};
         GRANT SELECT ON ALL TABLES IN SCHEMA call_center, directory, storage, flow TO {role};
         REVOKE SELECT ON storage.files FROM {role};"
    ))
    .await;
    let url = db
        .url
        .replace("postgres://postgres@", &format!("postgres://{role}@"));
    let (code, report) = check(&url);
    assert_eq!(code, Some(1), "{report:#}");
    assert!(problems(&report, "recordings").contains("no SELECT privilege on storage.files"));
    assert!(
        problems(&report, "calls").contains("storage.files"),
        "calls reads files too"
    );
    assert_eq!(problems(&report, "agents"), "[]");
    db.execute(&format!("DROP OWNED BY {role}; DROP ROLE {role};"))
        .await;
}

#[tokio::test]
async fn a_missing_baseline_column_fails_naming_it() {
    let db = TestDb::new().await;
    db.execute("ALTER TABLE call_center.cc_calls_history DROP COLUMN destination")
        .await;
    let (code, report) = check(&db.url);
    assert_eq!(code, Some(1));
    let calls = problems(&report, "calls");
    assert!(
        calls.contains("destination") && calls.contains("does not exist"),
        "{calls}"
    );
    assert_eq!(problems(&report, "queues"), "[]");
    // The export itself says what is wrong, naming the column.
    let out = run(&["calls", "--database-url", &db.url, "-q"]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("every Webitel release since v22.05 has destination"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_v22_12_database_is_detected_as_v22_12_with_its_degraded_columns() {
    let db = TestDb::at_level("v22.12").await;
    let (code, report) = check(&db.url);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["schema_level"], "v22.12");
    assert_eq!(report["releases"], "v22.12 up to v23.02 (not included)");
    let degraded = |name: &str| dataset_field(&report, name, "degraded");
    let calls = degraded("calls");
    assert!(calls.contains("contact_id (v23.09)"), "{calls}");
    assert!(calls.contains("hide_missed (v24.02)"), "{calls}");
    assert!(!calls.contains("amd_ai_result"), "v22.12 has it: {calls}");
    let recordings = degraded("recordings");
    assert!(
        !recordings.contains("view_name"),
        "v22.12 has it: {recordings}"
    );
    assert!(recordings.contains("sha256sum (v24.04)"), "{recordings}");
    assert_eq!(degraded("agents"), "[]");

    // A column of a later release, asked of this database, is named with its release.
    let mut conn = db.connect().await;
    let err = sqlx::query("SELECT amd_ai_positive FROM call_center.cc_calls_history")
        .execute(&mut conn)
        .await
        .unwrap_err();
    let err = webitel_export::error::Error::database("reading calls", err);
    let hint = webitel_export::levels::missing_object_hint(&err).unwrap();
    assert_eq!(
        hint,
        "amd_ai_positive came with Webitel v23.02; this database's schema lacks it"
    );
}

#[tokio::test]
async fn a_column_missing_below_later_releases_is_a_gap_named_by_check_and_the_export() {
    let db = TestDb::with_fixture("calls.sql").await;
    db.execute("ALTER TABLE call_center.cc_calls_history DROP COLUMN hide_missed")
        .await;
    let (code, report) = check(&db.url);
    // hide_missed came with v24.02, and the database has later releases' columns: not an
    // older release but a gap. Only the datasets that read the column are affected.
    assert_eq!(report["schema_level"], "v26.04");
    assert_eq!(code, Some(1), "{report:#}");
    let calls = problems(&report, "calls");
    assert!(
        calls.contains("column call_center.cc_calls_history.hide_missed (Webitel v24.02 has it)"),
        "{calls}"
    );
    assert_eq!(problems(&report, "queues"), "[]");
    assert_eq!(dataset_field(&report, "queues", "level"), "\"v26.04\"");
    let out = run(&["calls", "--database-url", &db.url, "-q", "--missed"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("hide_missed (Webitel v24.02 has it)") && stderr.lines().count() == 1,
        "{stderr}"
    );
    let out = run(&["queues", "--database-url", &db.url, "-q"]);
    assert!(out.status.success());
}

/// `check --config`: a recordings job that archives, behind a storage profile's expire_day and
/// before files' retention_until, is warned about; once both are harmless, it is not.
#[tokio::test]
async fn check_warns_when_storage_deletes_recordings_before_the_archive_copies_them() {
    let db = TestDb::with_fixtures(&["calls.sql", "recordings.sql"]).await;
    db.execute(
        "UPDATE storage.file_backend_profiles SET expire_day = 30 WHERE id = 11;
         UPDATE storage.files SET retention_until = now() + interval '2 hours',
             created_at = (extract(epoch FROM now()) * 1000)::int8 WHERE id = 1;",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("export.toml");
    std::fs::write(
        &config,
        format!(
            "root = {:?}\n[[jobs]]\ndataset = \"recordings\"\nsince = \"2026-01-01\"\n[jobs.archive]\n",
            dir.path().join("lake").to_str().unwrap()
        ),
    )
    .unwrap();
    let check = |db: &TestDb| {
        let out = crate::support::run(&[
            "check",
            "--database-url",
            &db.url,
            "--config",
            path_str(&config),
            "--format",
            "json",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        report["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let warnings = check(&db);
    assert!(
        warnings.iter().any(
            |w| w.contains("storage profile 'disk' (id 11) deletes files 30 days")
                && w.contains("job 'recordings' has archived files only up to 2026-01-01")
        ),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("1 file(s) job 'recordings' has not archived yet")),
        "{warnings:?}"
    );

    db.execute(
        "UPDATE storage.file_backend_profiles SET expire_day = 0;
         UPDATE storage.files SET retention_until = now() + interval '30 days';",
    )
    .await;
    let warnings = check(&db);
    assert!(
        !warnings
            .iter()
            .any(|w| w.contains("deletes files") || w.contains("retention_until")),
        "{warnings:?}"
    );
}
