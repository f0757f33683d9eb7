//! The calls query's two shapes, per-row probes (queries/calls.sql) and set-wise hash joins
//! (queries/calls_bulk.sql), return the same rows, cell for cell; `auto` reads bulk exports
//! set-wise and narrow ones per row; `--work-mem` reaches the export's transaction, except a
//! narrow read per row, which gets the server's work_mem.

use futures_util::TryStreamExt;
use webitel_export::datasets::calls::{Calls, CallsArgs, choose_shape};
use webitel_export::datasets::conversations::{Conversations, ConversationsArgs};
use webitel_export::datasets::{BlockSlice, Dataset, ReadShape};
use webitel_export::session::Session;

use crate::support::shapes::{self, column};
use crate::support::{TestDb, assert_fails, run, run_ok};

/// Exports calls with `filters` in both shapes, asserts every cell equal, returns the rows.
fn same_in_both_shapes(db: &TestDb, filters: &[&str]) -> (Vec<String>, Vec<Vec<String>>) {
    shapes::same_in_both_shapes(db, "calls", filters)
}

/// Recordings the set-wise shape must treat as the probes do: a leg with files of its own and
/// of its parent (ids interleaved, so only a sort orders them), a second file of a leg, a
/// screen recording, a removed and a missing file, a file of the same uuid in another domain.
const RECORDING_CASES: &str = "
    INSERT INTO storage.files (id, domain_id, uuid, name, size, mime_type, instance, created_at,
                               removed, not_exists, channel, properties) VALUES
        (101, 1, '00000000-0000-0000-0000-000000000002', 'b1.mp3', 10, 'audio/mpeg', 's1', 0, NULL, NULL, 'call', '{}'),
        (103, 1, '00000000-0000-0000-0000-000000000002', 'b2.mp3', 10, 'audio/mpeg', 's1', 0, NULL, NULL, NULL, '{}'),
        (102, 1, '00000000-0000-0000-0000-000000000001', 'a2.mp3', 10, 'audio/mpeg', 's1', 0, NULL, NULL, 'call', '{}'),
        (104, 1, '00000000-0000-0000-0000-000000000001', 'a3.mp4', 10, 'video/mp4', 's1', 0, NULL, NULL, 'screen', '{}'),
        (105, 1, '00000000-0000-0000-0000-000000000001', 'a4.mp3', 10, 'audio/mpeg', 's1', 0, true, NULL, 'call', '{}'),
        (106, 1, '00000000-0000-0000-0000-000000000001', 'a5.mp3', 10, 'audio/mpeg', 's1', 0, NULL, true, 'call', '{}'),
        (107, 2, '00000000-0000-0000-0000-000000000001', 'x.mp3', 10, 'audio/mpeg', 's1', 0, NULL, NULL, 'call', '{}');";

#[tokio::test]
async fn both_shapes_return_the_same_legs_on_the_fixtures() {
    let db = TestDb::with_fixtures(&["calls.sql", "recordings.sql"]).await;
    db.execute(RECORDING_CASES).await;
    let (header, rows) = same_in_both_shapes(&db, &[]);
    let files = column(&header, &rows, "recording_file_ids");
    // The child leg 2 of leg 1: its own two files and its parent's, in id order.
    assert!(
        files.iter().any(|f| f.contains("101") && f.contains("102")),
        "no leg with its own and its parent's files: {files:?}"
    );
    assert!(!files.iter().any(|f| f.contains("104") || f.contains("105")));
    assert!(column(&header, &rows, "has_children").contains(&"true"));
    // Every filter that reads what the shapes compute differently (recordings, the parent).
    for filters in [
        &["--has-file"][..],
        &["--no-file"],
        &["--missed"],
        &["--top-level"],
        &["--has-transfer"],
        &["--from", "2026-09-02", "--to", "2026-09-03"],
        &["--domain", "2"],
        &["--parallel", "2"],
    ] {
        let (_, rows) = same_in_both_shapes(&db, filters);
        assert!(!rows.is_empty(), "{filters:?} selects no leg");
    }
}

#[tokio::test]
async fn both_shapes_return_the_same_legs_on_demo_data() {
    let db = TestDb::seeded(20_000, 5).await;
    let (header, rows) = same_in_both_shapes(&db, &[]);
    assert_eq!(rows.len(), 20_000);
    let children = column(&header, &rows, "has_children");
    assert!(children.iter().filter(|c| **c == "true").count() > 1000);
    let files = column(&header, &rows, "recording_file_ids");
    assert!(files.iter().filter(|f| !f.is_empty()).count() > 1000);
    same_in_both_shapes(&db, &["--from", "2026-09-10", "--to", "2026-09-12"]);
    same_in_both_shapes(&db, &["--has-file", "--direction", "inbound"]);
    // A work_mem so small that every hash of the set-wise shape spills to disk in batches.
    same_in_both_shapes(&db, &["--work-mem", "64kB", "--parallel", "2"]);
}

/// The shape `auto` picks for a `calls` command line.
async fn auto_shape(db: &TestDb, flags: &[&str]) -> ReadShape {
    let mut argv = vec!["calls"];
    argv.extend_from_slice(flags);
    #[derive(clap::Parser)]
    struct Line {
        #[command(flatten)]
        args: CallsArgs,
    }
    let line = <Line as clap::Parser>::try_parse_from(argv).expect("flags parse");
    let filter = line.args.to_filter().expect("a valid filter");
    let mut session = Session::open(&db.conn_args(), &[]).await.expect("session");
    let level = session.level::<Calls>().expect("level");
    let shape = choose_shape(session.db(), level, &filter)
        .await
        .expect("shape");
    session.close().await;
    shape
}

#[tokio::test]
async fn auto_reads_the_whole_table_and_long_windows_set_wise_and_a_day_per_row() {
    // The demo's legs span September 2026.
    let db = TestDb::seeded(3000, 2).await;
    assert_eq!(auto_shape(&db, &[]).await, ReadShape::SetWise);
    assert_eq!(
        auto_shape(&db, &["--domain", "1"]).await,
        ReadShape::SetWise
    );
    let month_half = ["--from", "2026-09-01", "--to", "2026-09-16"];
    assert_eq!(auto_shape(&db, &month_half).await, ReadShape::SetWise);
    let day = ["--stored-from", "2026-09-10", "--stored-to", "2026-09-11"];
    assert_eq!(auto_shape(&db, &day).await, ReadShape::PerRow);
    let both = [
        "--from",
        "2026-09-01",
        "--stored-from",
        "2026-09-10",
        "--stored-to",
        "2026-09-11",
    ];
    assert_eq!(
        auto_shape(&db, &both).await,
        ReadShape::PerRow,
        "the tighter window"
    );
    let one_leg = ["--id", "00000000-0000-0000-0000-000000000001"];
    assert_eq!(auto_shape(&db, &one_leg).await, ReadShape::PerRow);
    // An empty history has nothing to gain from either; a window is read per row.
    let empty = TestDb::new().await;
    assert_eq!(auto_shape(&empty, &day).await, ReadShape::PerRow);
}

#[tokio::test]
async fn work_mem_reaches_the_export_transaction_and_is_bounded() {
    let db = TestDb::new().await;
    let show = |args: webitel_export::source::ConnArgs| async move {
        let mut session = Session::open(&args, &[]).await.expect("session");
        let row: (String, String) = sqlx::query_as(
            "SELECT current_setting('work_mem'), current_setting('hash_mem_multiplier')",
        )
        .fetch_one(session.db())
        .await
        .unwrap();
        session.close().await;
        row
    };
    assert_eq!(show(db.conn_args()).await, ("64MB".into(), "2".into()));
    let mut args = db.conn_args();
    args.work_mem = Some("256MB".parse().unwrap());
    assert_eq!(show(args.clone()).await.0, "256MB");
    args.work_mem = Some("0".parse().unwrap());
    let server_default = show(args).await.0;
    assert_eq!(server_default, "4MB", "0 keeps the server's setting");
    for bad in ["2GB", "lots", "10", "1TB", "12kB"] {
        let out = run(&[
            "calls",
            "--database-url",
            &db.url,
            "--work-mem",
            bad,
            "-o",
            "/dev/null",
        ]);
        let err = assert_fails(&out, 2);
        assert!(err.contains("--work-mem"), "{bad}: {err}");
    }
}

/// The work_mem of the session's transaction, as the server shows it.
async fn work_mem(session: &mut Session) -> String {
    sqlx::query_scalar("SELECT current_setting('work_mem')")
        .fetch_one(session.db())
        .await
        .unwrap()
}

/// Reads every row of `D` matching `filter` in `session`.
async fn read_all<D: Dataset>(session: &mut Session, filter: &D::Filter) -> usize {
    let rows = session.read::<D>(filter).await.expect("read");
    rows.try_collect::<Vec<_>>().await.expect("rows").len()
}

#[tokio::test]
async fn a_narrow_read_per_row_runs_with_the_servers_work_mem_and_the_next_gets_the_exports() {
    let db = TestDb::seeded(3000, 2).await;
    // The database's own setting, which a narrow read must get back (not a built-in default).
    sqlx::query(
        "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET work_mem = %L', \
         current_database(), '3MB'); END $$",
    )
    .execute(&mut db.connect().await)
    .await
    .unwrap();
    let day = ["--stored-from", "2026-09-10", "--stored-to", "2026-09-11"];
    let calls = |flags: &[&str]| {
        let argv = std::iter::once("calls").chain(flags.iter().copied());
        #[derive(clap::Parser)]
        struct Line {
            #[command(flatten)]
            args: CallsArgs,
        }
        let line = <Line as clap::Parser>::try_parse_from(argv).expect("flags parse");
        line.args.to_filter().expect("a valid filter")
    };
    let conversations = |flags: &[&str]| {
        let argv = std::iter::once("conversations").chain(flags.iter().copied());
        #[derive(clap::Parser)]
        struct Line {
            #[command(flatten)]
            args: ConversationsArgs,
        }
        let line = <Line as clap::Parser>::try_parse_from(argv).expect("flags parse");
        Conversations::filter(&line.args).expect("a valid filter")
    };
    let mut session = Session::open(&db.conn_args(), &[]).await.expect("session");
    assert_eq!(work_mem(&mut session).await, "64MB", "--work-mem's default");
    assert!(read_all::<Calls>(&mut session, &calls(&day)).await > 0);
    assert_eq!(work_mem(&mut session).await, "3MB", "a day read per row");
    // The next dataset starts with --work-mem again; a bulk read keeps it.
    assert!(read_all::<Calls>(&mut session, &calls(&[])).await > 0);
    assert_eq!(
        work_mem(&mut session).await,
        "64MB",
        "the whole table, set-wise"
    );
    // The whole table forced per row keeps --work-mem: its joins hash whole tables.
    let level = session.level::<Calls>().expect("level");
    let per_row = BlockSlice {
        shape: ReadShape::PerRow,
        ..BlockSlice::default()
    };
    let whole = calls(&[]);
    let legs = webitel_export::datasets::calls::rows(session.db(), level, &whole, &per_row);
    assert!(!legs.try_collect::<Vec<_>>().await.expect("rows").is_empty());
    assert_eq!(
        work_mem(&mut session).await,
        "64MB",
        "the whole table per row"
    );
    assert!(read_all::<Conversations>(&mut session, &conversations(&day)).await > 0);
    assert_eq!(
        work_mem(&mut session).await,
        "3MB",
        "a day of conversations"
    );
    session.close().await;
}

/// Sequential and index scans of `table` counted by the server's statistics, once every
/// other backend of the database has gone (an export's counts arrive when its backend ends).
async fn scans(db: &TestDb, table: &str) -> i64 {
    let mut conn = db.connect().await;
    for _ in 0..100 {
        let others: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        if others == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    sqlx::query("SELECT pg_stat_clear_snapshot()")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query_scalar(
        "SELECT (COALESCE(seq_scan, 0) + COALESCE(idx_scan, 0))::int8
         FROM pg_stat_user_tables WHERE relid = $1::regclass",
    )
    .bind(table)
    .fetch_one(&mut conn)
    .await
    .unwrap()
}

/// The scans of `table` an export with `flags` adds, waited for up to `expected` (the
/// statistics of an ended backend may take a moment to arrive on PostgreSQL 14).
async fn scans_added(db: &TestDb, table: &str, flags: &[&str], expected: Option<i64>) -> i64 {
    let before = scans(db, table).await;
    let mut args = vec!["calls", "--database-url", &db.url, "-q", "-o", "/dev/null"];
    args.extend_from_slice(flags);
    run_ok(&args);
    let mut added = scans(db, table).await - before;
    for _ in 0..40 {
        if expected.is_some_and(|n| added >= n) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        added = scans(db, table).await - before;
    }
    added
}

#[tokio::test]
async fn columns_left_out_are_not_read_and_the_rest_are_unchanged() {
    let db = TestDb::seeded(3000, 7).await;
    let no_derived = [
        "--exclude-columns",
        "recording_file_ids,has_children,user_id,user_name,agent_id,agent_name,team_id,\
         team_name,attempt_result,queue_wait_sec,agent_description",
    ];
    // Both shapes, each part left out alone and all together, with and without --has-file
    // (which reads the recordings without writing them): the same cells as the full export's.
    for shape in ["per-row", "set-wise"] {
        let (header, full) = shapes::export(&db, "calls", shape, &[]);
        let (_, filtered) = shapes::export(&db, "calls", shape, &["--has-file"]);
        for (flags, reference) in [
            (&["--exclude-columns", "recording_file_ids"][..], &full),
            (&["--exclude-columns", "has_children"], &full),
            (&["--columns", "id,from_number,duration_sec"], &full),
            (&no_derived, &full),
            (&["--columns", "id,to_number", "--has-file"], &filtered),
        ] {
            let (chosen, rows) = shapes::export(&db, "calls", shape, flags);
            let at: Vec<usize> = chosen
                .iter()
                .map(|c| header.iter().position(|h| h == c).unwrap())
                .collect();
            let mut expected: Vec<Vec<String>> = reference
                .iter()
                .map(|row| at.iter().map(|&i| row[i].clone()).collect())
                .collect();
            expected.sort();
            assert_eq!(rows, expected, "{shape} {flags:?}");
        }
    }
    // What is left out is not read: no scan of storage.files or of the attempt history. The
    // full export's count is the reference (the statistics work), and is the same again
    // after the narrow export ran between two full ones.
    for (shape, table) in [
        ("per-row", "storage.files"),
        ("set-wise", "storage.files"),
        ("per-row", "call_center.cc_member_attempt_history"),
        ("set-wise", "call_center.cc_member_attempt_history"),
    ] {
        let full = scans_added(&db, table, &["--shape", shape], Some(1)).await;
        assert!(full > 0, "{shape}: a full export reads {table}");
        let flags = ["--shape", shape, no_derived[0], no_derived[1]];
        let before = scans(&db, table).await;
        scans_added(&db, table, &flags, None).await;
        let twice = scans_added(&db, table, &["--shape", shape], Some(full)).await;
        assert_eq!(twice, full, "{shape}: the same full export, the same scans");
        assert_eq!(
            scans(&db, table).await - before,
            full,
            "{shape}: the export without {table}'s columns read it"
        );
    }
}
