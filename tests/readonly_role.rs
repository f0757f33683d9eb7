//! The generated read-only role (docs/readonly-role.sql) is enough for everything the tool
//! does: every dataset and report of the registry, `run` and `check` succeed as exactly that role, and it
//! sees other roles' open transactions (run's guard against late commits). A role missing
//! privileges gets every one of them listed by `check`, with exit 1.

use sqlx::Executor;

use crate::check::dataset_field;
use crate::datasets::every_export;
use crate::support::{TestDb, path_str, run};

/// The role of docs/readonly-role.sql, created in `db`, and a URL that logs in as it. The role
/// is cluster-wide and shared with other tests, which use the same password.
async fn generated_role(db: &TestDb) -> Option<String> {
    if !db.url.starts_with("postgres://postgres@127.0.0.1") {
        eprintln!("skipped: needs the throwaway server's pg_hba rules (pg_server.rs)");
        return None;
    }
    let script = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/readonly-role.sql"
    ))
    .unwrap()
    .replace("change-me", "right-password");
    db.execute(&script).await;
    Some(db.url.replace(
        "postgres://postgres@",
        "postgres://webitel_export:right-password@",
    ))
}

fn succeeds(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn the_generated_role_runs_every_dataset_report_run_and_check() {
    let db = TestDb::seeded(400, 11).await;
    let Some(url) = generated_role(&db).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for export in every_export() {
        let file = dir.path().join(format!("{}.csv", export.name));
        let mut args = export.command.clone();
        args.extend(["--database-url", &url, "-q", "-o", path_str(&file)]);
        succeeds(&args);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.lines().count() > 1, "{} exported no rows", export.name);
    }
    let check = succeeds(&["check", "--database-url", &url, "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&check).unwrap();
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(report["user"], "webitel_export");
    assert_eq!(report["warnings"], serde_json::json!([]), "{report:#}");

    let root = dir.path().join("lake");
    let config = dir.path().join("export.toml");
    let mut jobs = String::new();
    for dataset in webitel_export::registry::all() {
        jobs.push_str(&format!("[[jobs]]\ndataset = \"{}\"\n", dataset.name));
        if dataset.needs_since {
            jobs.push_str("since = \"2026-01-01\"\n");
        }
    }
    std::fs::write(
        &config,
        format!("root = {:?}\ntime_zone = \"UTC\"\n{jobs}", path_str(&root)),
    )
    .unwrap();
    succeeds(&[
        "run",
        "--config",
        path_str(&config),
        "--database-url",
        &url,
        "-q",
    ]);
    assert!(root.join("_state/state.json").exists());
}

#[tokio::test]
async fn the_generated_role_sees_other_roles_open_transactions() {
    let db = TestDb::new().await;
    let Some(url) = generated_role(&db).await else {
        return;
    };
    // A Webitel service's transaction, open and holding an xid.
    let mut writer = db.connect().await;
    writer.execute("BEGIN").await.unwrap();
    writer
        .execute("INSERT INTO call_center.cc_pause_cause (domain_id, name) VALUES (1, 'lunch')")
        .await
        .unwrap();
    let mut reader = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let seen: Option<chrono::DateTime<chrono::Utc>> = sqlx::query_scalar(
        "SELECT min(xact_start) FROM pg_stat_activity
         WHERE backend_xid IS NOT NULL AND datname = current_database()",
    )
    .fetch_one(&mut reader)
    .await
    .unwrap();
    assert!(
        seen.is_some(),
        "the writer's transaction is hidden from the role"
    );
    writer.execute("ROLLBACK").await.unwrap();
}

#[tokio::test]
async fn check_lists_every_missing_privilege_and_exits_1() {
    let db = TestDb::new().await;
    let role = format!("partial_{}", db.name);
    // What the role script granted before flow and the channel tables were known to be read.
    db.execute(&format!(
        "CREATE ROLE {role} LOGIN;
         GRANT USAGE ON SCHEMA call_center, directory, storage TO {role};
         GRANT SELECT ON ALL TABLES IN SCHEMA call_center, directory, storage TO {role};
         REVOKE SELECT ON call_center.cc_agent_channel, call_center.cc_bucket FROM {role};"
    ))
    .await;
    let url = db
        .url
        .replace("postgres://postgres@", &format!("postgres://{role}@"));
    let out = run(&["check", "--database-url", &url, "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems = |name: &str| dataset_field(&report, name, "problems");
    let queues = problems("queues");
    assert!(
        queues.contains("no USAGE privilege on schema flow"),
        "{queues}"
    );
    let queue_activity = problems("queue-activity");
    assert!(
        queue_activity.contains("no SELECT privilege on call_center.cc_bucket"),
        "{queue_activity}"
    );
    let activity = problems("agent-activity");
    assert!(
        activity.contains("no SELECT privilege on call_center.cc_agent_channel"),
        "{activity}"
    );
    assert!(
        !report["warnings"].as_array().unwrap().is_empty(),
        "no pg_read_all_stats: {report:#}"
    );
    assert_eq!(report["schema_level"], "v26.04", "detected without flow");
}
