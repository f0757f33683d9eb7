//! Faults injected into real exports (docs/reliability.md): the server ends the backend, the
//! network drops or stalls (a proxy the test controls), the disk fills, the server is down at
//! start. Each must end with its documented exit code, one line, nothing at the destination
//! and an older file intact. Plus: the connection cannot write, and ten exports at once.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::Executor;

use crate::support::proxy::{Proxy, server_addr};
use crate::support::{
    PREVIOUS_EXPORT, TestDb, assert_fails, dir_with_previous_export, files_in, path_str, run,
};

/// `url` with its port replaced (the database path and user kept).
fn via_port(url: &str, port: u16) -> String {
    let addr = server_addr(url);
    url.replace(
        &format!("@{}:{}/", addr.ip(), addr.port()),
        &format!("@127.0.0.1:{port}/"),
    )
}

fn spawn_export(url: &str, dest: &std::path::Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_webitel-export"))
        .args(["calls", "--database-url", url, "-q", "-o", path_str(dest)])
        .args(extra)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the export has written rows into its temporary file.
fn wait_until_writing(dir: &std::path::Path, child: &mut Child) {
    let started = Instant::now();
    loop {
        let writing = std::fs::read_dir(dir).unwrap().any(|e| {
            let e = e.unwrap();
            e.file_name().to_string_lossy().contains(".tmp-") && e.metadata().unwrap().len() > 0
        });
        if writing {
            return;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the export ended too soon"
        );
        assert!(started.elapsed() < Duration::from_secs(60), "never started");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The export failed with `code`, and left the destination directory as it was.
fn assert_failed_cleanly(
    child: Child,
    dir: &std::path::Path,
    dest: &std::path::Path,
    code: i32,
) -> String {
    let out = child.wait_with_output().unwrap();
    let message = assert_fails(&out, code);
    assert_eq!(std::fs::read_to_string(dest).unwrap(), PREVIOUS_EXPORT);
    assert_eq!(
        files_in(dir),
        vec!["calls.csv"],
        "a temporary file was left"
    );
    message
}

#[tokio::test]
async fn a_terminated_backend_is_exit_3_and_publishes_nothing() {
    let db = TestDb::seeded(20_000, 11).await;
    // The proxy holds the export mid-way, so the backend is terminated while it is reading.
    let proxy = Proxy::holding(&db.url);
    let (dir, dest) = dir_with_previous_export();
    let mut child = spawn_export(&proxy.url(&db.url), &dest, &["--parallel", "1"]);
    wait_until_writing(dir.path(), &mut child);
    let mut admin = db.connect().await;
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'webitel-export'",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(!killed.is_empty(), "no export backend to terminate");
    proxy.resume();
    let message = assert_failed_cleanly(child, dir.path(), &dest, 3);
    assert!(message.contains("reading calls"), "{message}");
}

#[tokio::test]
async fn a_dropped_connection_is_exit_3_and_publishes_nothing() {
    let db = TestDb::seeded(20_000, 12).await;
    let proxy = Proxy::holding(&db.url);
    let (dir, dest) = dir_with_previous_export();
    let mut child = spawn_export(&proxy.url(&db.url), &dest, &[]);
    wait_until_writing(dir.path(), &mut child);
    proxy.cut();
    assert_failed_cleanly(child, dir.path(), &dest, 3);
}

#[tokio::test]
async fn a_stalled_connection_is_exit_3_after_the_stall_timeout() {
    let db = TestDb::seeded(20_000, 13).await;
    // The proxy stalls by itself once the export is under way.
    let proxy = Proxy::holding(&db.url);
    let (dir, dest) = dir_with_previous_export();
    let url = proxy.url(&db.url);
    let mut child = spawn_export(&url, &dest, &["--stall-timeout", "2s"]);
    wait_until_writing(dir.path(), &mut child);
    let stalled_at = Instant::now();
    let message = assert_failed_cleanly(child, dir.path(), &dest, 3);
    assert!(message.contains("--stall-timeout"), "{message}");
    assert!(
        stalled_at.elapsed() < Duration::from_secs(30),
        "took too long"
    );
}

#[tokio::test]
async fn a_server_down_at_start_is_retried_then_reported() {
    // Nothing listens: three attempts (waits of 1 s and 2 s), then one clear line.
    let free = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let url = format!("postgres://postgres@127.0.0.1:{port}/webitel");
    let started = Instant::now();
    let out = run(&["agents", "--database-url", &url, "--connect-retries", "2"]);
    let message = assert_fails(&out, 3);
    assert!(message.contains("3 attempts"), "{message}");
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "it did not wait"
    );

    // The server comes up while the tool waits: the export succeeds.
    let db = TestDb::with_fixture("agents.sql").await;
    let free = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let child = Command::new(env!("CARGO_BIN_EXE_webitel-export"))
        .args(["agents", "-q", "--connect-retries", "5"])
        .args(["--database-url", &via_port(&db.url, port)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let _proxy = Proxy::start(port, server_addr(&db.url));
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).lines().count() > 1);
}

/// A tmpfs of 256 KiB stands in for a full disk (root only: mount needs it).
#[tokio::test]
async fn a_full_disk_is_exit_4_and_leaves_the_older_file() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: mounting a tiny tmpfs needs root");
        return;
    }
    let db = TestDb::seeded(20_000, 14).await;
    let dir = tempfile::tempdir().unwrap();
    let mounted = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            "size=256k",
            "tmpfs",
            path_str(dir.path()),
        ])
        .status();
    if !matches!(mounted, Ok(s) if s.success()) {
        eprintln!("skipped: cannot mount a tmpfs here ({mounted:?})");
        return;
    }
    let dest = dir.path().join("calls.csv");
    std::fs::write(&dest, PREVIOUS_EXPORT).unwrap();
    for format in ["csv", "parquet"] {
        let out = run(&[
            "calls",
            "--database-url",
            &db.url,
            "-q",
            "-f",
            format,
            "-o",
            path_str(&dest),
        ]);
        let message = assert_fails(&out, 4);
        assert!(message.contains("No space left"), "{message}");
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), PREVIOUS_EXPORT);
        assert_eq!(
            files_in(dir.path()),
            vec!["calls.csv"],
            "{format}: temp file left"
        );
    }
    Command::new("umount").arg(dir.path()).status().unwrap();
}

#[tokio::test]
async fn the_export_connection_cannot_write() {
    let db = TestDb::with_fixture("calls.sql").await;
    let conn = db.conn_args();
    let mut raw = conn.connect().await.unwrap();
    // Even outside the export's transaction the session defaults to read-only…
    let outside = raw
        .execute("CREATE TABLE call_center.exporter_was_here (id int)")
        .await
        .unwrap_err();
    assert_eq!(sql_state(&outside), "25006", "{outside}");
    // …and inside the snapshot every write is refused by the server.
    let mut session = webitel_export::session::Session::begin(raw, &conn, &[])
        .await
        .unwrap();
    let tx = session.db();
    for write in [
        "INSERT INTO directory.wbt_domain (dc, name) VALUES (77, 'x')",
        "UPDATE call_center.cc_calls_history SET talk_sec = 0",
        "DELETE FROM storage.files",
        "CREATE TEMP TABLE scratch (id int)",
    ] {
        (&mut *tx).execute("SAVEPOINT attempt").await.unwrap();
        let e = (&mut *tx).execute(write).await.unwrap_err();
        assert_eq!(sql_state(&e), "25006", "{write}: {e}");
        (&mut *tx)
            .execute("ROLLBACK TO SAVEPOINT attempt")
            .await
            .unwrap();
    }
    let legs: i64 = sqlx::query_scalar("SELECT count(*) FROM call_center.cc_calls_history")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert!(legs > 0, "reads still work");
}

fn sql_state(e: &sqlx::Error) -> String {
    e.as_database_error()
        .and_then(|d| d.code())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn ten_concurrent_exports_each_get_every_row() {
    let db = TestDb::seeded(20_000, 15).await;
    let mut admin = db.connect().await;
    let legs: i64 = sqlx::query_scalar("SELECT count(*) FROM call_center.cc_calls_history")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let children: Vec<(std::path::PathBuf, Child)> = (0..10)
        .map(|i| {
            let format = if i % 2 == 0 { "csv" } else { "parquet" };
            let dest = dir.path().join(format!("calls{i}.{format}"));
            let child = spawn_export(&db.url, &dest, &[]);
            (dest, child)
        })
        .collect();
    for (dest, child) in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rows = if dest.extension().unwrap() == "csv" {
            let text = std::fs::read_to_string(&dest).unwrap();
            let (_, rows) = crate::support::parse_csv(&text);
            i64::try_from(rows.len()).unwrap()
        } else {
            use parquet::file::reader::FileReader;
            let reader = parquet::file::reader::SerializedFileReader::new(
                std::fs::File::open(&dest).unwrap(),
            )
            .unwrap();
            reader.metadata().file_metadata().num_rows()
        };
        assert_eq!(rows, legs, "{}", dest.display());
    }
}
