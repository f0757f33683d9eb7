//! Bad input and failures: one line on stderr, the documented exit code, and nothing at the
//! destination (an older file there stays intact).

use crate::support::{
    PREVIOUS_EXPORT, TestDb, assert_fails, dir_with_previous_export, files_in, out_dir, path_str,
    run,
};

/// Runs `calls` with `args` writing to a destination that already holds a good file; asserts
/// the exit code, that the old file is untouched and that no temporary file is left.
fn fails_cleanly(db_url: &str, args: &[&str], code: i32) -> String {
    let (dir, dest) = dir_with_previous_export();
    let mut full = vec!["calls", "--database-url", db_url, "-o", path_str(&dest)];
    full.extend_from_slice(args);
    let message = assert_fails(&run(&full), code);
    assert_eq!(
        std::fs::read_to_string(&dest).unwrap(),
        PREVIOUS_EXPORT,
        "{args:?}"
    );
    assert_eq!(
        files_in(dir.path()),
        vec!["calls.csv"],
        "{args:?} left a file behind"
    );
    message
}

#[tokio::test]
async fn bad_input_is_one_line_exit_2_and_leaves_the_old_file() {
    let db = TestDb::with_fixture("calls.sql").await;
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--from", "2026-13-01"], "--from"),
        (vec!["--from", "yesterday"], "--from"),
        (vec!["--to", "2026-02-30"], "--to"),
        (
            vec!["--from", "2026-09-02", "--to", "2026-09-01"],
            "must be before",
        ),
        (
            vec!["--from", "2026-09-01", "--to", "2026-09-01"],
            "must be before",
        ),
        (
            vec!["--stored-from", "2026-09-02", "--stored-to", "2026-09-01"],
            "--stored-from",
        ),
        (vec!["--tz", "Mars/Olympus"], "--tz"),
        (
            vec!["--from", "2026-03-29T03:30", "--tz", "Europe/Kyiv"],
            "DST",
        ),
        (vec!["--number", "(unclosed"], "--number"),
        (vec!["--number", "a{2,1}"], "--number"),
        (vec!["--var", "novalue"], "--var"),
        (vec!["--var", "=x"], "--var"),
        (vec!["--user", "abc"], "--user"),
        (vec!["--id", "not-a-uuid"], "--id"),
        (vec!["--format", "xls"], "xls"),
        (vec!["--direction", "sideways"], "sideways"),
        (vec!["--has-file", "--no-file"], "--no-file"),
        (vec!["--min-talk", "10", "--max-talk", "5"], "--min-talk"),
        (vec!["--min-duration", "-1"], "-1"),
        (vec!["--domain", "99"], "unknown domain 99"),
        (vec!["--domain", "1", "--domain", "42"], "unknown domain 42"),
        (vec!["--statement-timeout", "soon"], "--statement-timeout"),
    ];
    for (args, needle) in cases {
        let message = fails_cleanly(&db.url, &args, 2);
        assert!(
            message.contains(needle),
            "{args:?}: message {message:?} should mention {needle}"
        );
    }
}

#[tokio::test]
async fn an_unwritable_destination_is_exit_4_before_touching_the_database() {
    // An unreachable database URL proves the path is checked first: exit 4, not 3.
    let out = run(&[
        "calls",
        "--database-url",
        "postgres://x@127.0.0.1:1/x",
        "-o",
        "/nonexistent-dir/calls.csv",
    ]);
    let message = assert_fails(&out, 4);
    assert!(message.contains("/nonexistent-dir"), "{message}");
    let dir = out_dir();
    let out = run(&[
        "calls",
        "--database-url",
        "postgres://x@127.0.0.1:1/x",
        "-o",
        path_str(dir.path()),
    ]);
    assert_fails(&out, 2);
}

#[tokio::test]
async fn an_unreachable_server_is_exit_3_with_a_hint() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://exporter:s3cr3t-pw@127.0.0.1:{port}/webitel");
    let message = fails_cleanly(&url, &[], 3);
    assert!(message.contains("127.0.0.1"), "{message}");
    assert!(
        !message.contains("s3cr3t-pw"),
        "the password leaked: {message}"
    );
}

#[tokio::test]
async fn the_readme_role_can_export_and_a_wrong_password_is_exit_3_never_printed() {
    let db = TestDb::with_fixture("calls.sql").await;
    if !db.url.starts_with("postgres://postgres@127.0.0.1") {
        eprintln!("skipped: needs the throwaway server's pg_hba rules (pg_server.rs)");
        return;
    }
    // The documented read-only role, with a password; the throwaway server asks members of
    // `password_required` for one.
    let role_sql = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/readonly-role.sql"
    ))
    .unwrap()
    .replace("change-me", "right-password");
    db.execute(&role_sql).await;
    db.execute(
        "DO $$ BEGIN CREATE ROLE password_required NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
         GRANT password_required TO webitel_export;",
    )
    .await;
    let url = db.url.replace(
        "postgres://postgres@",
        "postgres://webitel_export:Wr0ng-Passw0rd@",
    );
    let message = fails_cleanly(&url, &[], 3);
    assert!(message.contains("password"), "{message}");
    assert!(
        !message.contains("Wr0ng-Passw0rd"),
        "the password leaked: {message}"
    );

    let good = db.url.replace(
        "postgres://postgres@",
        "postgres://webitel_export:right-password@",
    );
    let out = run(&["calls", "--database-url", &good, "-q"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, rows) = crate::support::parse_csv(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(rows.len(), 16);
}

#[tokio::test]
async fn a_bad_url_is_exit_2_without_echoing_it() {
    let message = fails_cleanly("postgres://user:hunter2@[::1", &[], 2);
    assert!(message.contains("--database-url"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}

#[tokio::test]
async fn a_statement_timeout_is_exit_3_and_publishes_nothing() {
    let db = TestDb::seeded(3000, 7).await;
    let message = fails_cleanly(&db.url, &["--statement-timeout", "1ms"], 3);
    assert!(
        message.contains("statement timeout") || message.contains("57014"),
        "{message}"
    );
}
