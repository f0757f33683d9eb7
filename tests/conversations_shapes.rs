//! The conversations query's two shapes, per-row probes (queries/conversations.sql) and
//! set-wise hash joins (queries/conversations_bulk.sql), return the same rows, cell for cell;
//! `auto` reads the whole history and long windows set-wise and a day per row.

use webitel_export::datasets::conversations::{Conversations, ConversationsArgs, choose_shape};
use webitel_export::datasets::{Dataset, ReadShape};
use webitel_export::session::Session;

use crate::support::shapes::{column, same_in_both_shapes};
use crate::support::{TestDb, run};

/// What the set-wise shape must do as the probes do, on top of the fixture: recordings of
/// several legs of conversation A (ids interleaved, so only a sort orders them), a removed
/// one, one of another domain; a second, lower MOS of a leg; a leg both a child and a
/// transfer of legs of A (found twice, counted once); two legs that continue each other
/// (a cycle the recursion must not follow forever).
const SET_WISE_CASES: &str = "
    INSERT INTO storage.files (id, domain_id, uuid, name, size, properties, instance, created_at,
                               removed) VALUES
        (6, 1, 'a0000000-0000-0000-0000-000000000002', 'a2.mp3', 10, '{}', 's', 0, NULL),
        (9, 1, 'a0000000-0000-0000-0000-000000000003', 'a3.mp3', 10, '{}', 's', 0, NULL),
        (11, 1, 'a0000000-0000-0000-0000-000000000002', 'gone.mp3', 10, '{}', 's', 0, true),
        (12, 2, 'a0000000-0000-0000-0000-000000000001', 'other.mp3', 10, '{}', 's', 0, NULL);
    INSERT INTO call_center.cc_calls_media_stats (created_at, sip_id, domain_id, mos_min) VALUES
        ('2026-09-01 10:04:00+00', 'sip-a2', 1, 2.5);
    INSERT INTO call_center.cc_calls_history
        (id, domain_id, parent_id, transfer_from, app_id, direction, created_at, hangup_at,
         stored_at, talk_sec, hold_sec, user_id) VALUES
        ('a0000000-0000-0000-0000-000000000004', 1, 'a0000000-0000-0000-0000-000000000001',
         'a0000000-0000-0000-0000-000000000002', 'fs', 'outbound', '2026-09-01 10:04:00+00',
         '2026-09-01 10:05:00+00', '2026-09-01 10:10:07+00', 30, 7, 1001),
        ('a0000000-0000-0000-0000-000000000005', 1, 'a0000000-0000-0000-0000-000000000006',
         NULL, 'fs', 'outbound', '2026-09-01 10:06:00+00', '2026-09-01 10:07:00+00',
         '2026-09-01 10:10:07+00', 10, 1, NULL),
        ('a0000000-0000-0000-0000-000000000006', 1, 'a0000000-0000-0000-0000-000000000001',
         'a0000000-0000-0000-0000-000000000005', 'fs', 'outbound', '2026-09-01 10:06:00+00',
         '2026-09-01 10:07:00+00', '2026-09-01 10:10:07+00', 10, 1, NULL);";

#[tokio::test]
async fn both_shapes_return_the_same_conversations_on_the_fixtures() {
    let db = TestDb::with_fixture("conversations.sql").await;
    db.execute(SET_WISE_CASES).await;
    let (header, rows) = same_in_both_shapes(&db, "conversations", &[]);
    let ids = column(&header, &rows, "conversation_id");
    let a = ids
        .iter()
        .position(|id| id.starts_with('a'))
        .expect("conversation A");
    let cell = |name: &str| column(&header, &rows, name)[a];
    assert_eq!(
        cell("legs"),
        "6",
        "the root, its two agents, one leg found twice, the pair"
    );
    assert_eq!(cell("recording_file_ids"), "[6,7,9]");
    assert_eq!(cell("mos_min"), "2.5");
    assert_eq!(cell("hold_sec"), "24");
    for filters in [
        &["--domain", "2"][..],
        &["--answered"],
        &["--unanswered"],
        &["--direction", "outbound"],
        &["--from", "2026-09-01T12:00:00Z", "--to", "2026-09-02"],
        &["--stored-from", "2026-09-01T14:00:00Z"],
    ] {
        let (_, rows) = same_in_both_shapes(&db, "conversations", filters);
        assert!(!rows.is_empty(), "{filters:?} selects no conversation");
    }
}

#[tokio::test]
async fn both_shapes_return_the_same_conversations_of_an_older_release() {
    // v22.05: no QA ratings, redial_id, hide_missed, file channels or media statistics.
    let db = TestDb::at_level("v22.05").await;
    db.execute(include_str!("fixtures/levels_v22_05.sql")).await;
    let (_, rows) = same_in_both_shapes(&db, "conversations", &[]);
    assert!(!rows.is_empty());
}

#[tokio::test]
async fn both_shapes_return_the_same_conversations_on_demo_data() {
    let db = TestDb::seeded(20_000, 5).await;
    let (header, rows) = same_in_both_shapes(&db, "conversations", &[]);
    assert!(rows.len() > 8_000, "{} conversations", rows.len());
    let legs = column(&header, &rows, "legs");
    assert!(legs.iter().filter(|l| **l != "1").count() > 3_000);
    let files = column(&header, &rows, "recording_file_ids");
    assert!(files.iter().filter(|f| !f.is_empty()).count() > 1000);
    let answered = column(&header, &rows, "answered_by_agent_id");
    assert!(answered.iter().filter(|a| !a.is_empty()).count() > 1000);
    same_in_both_shapes(
        &db,
        "conversations",
        &["--from", "2026-09-10", "--to", "2026-09-12"],
    );
    // A work_mem so small that every hash and sort of the set-wise shape spills to disk.
    same_in_both_shapes(&db, "conversations", &["--work-mem", "64kB"]);
}

/// The shape `auto` picks for a `conversations` command line.
async fn auto_shape(db: &TestDb, flags: &[&str]) -> ReadShape {
    let mut argv = vec!["conversations"];
    argv.extend_from_slice(flags);
    #[derive(clap::Parser)]
    struct Line {
        #[command(flatten)]
        args: ConversationsArgs,
    }
    let line = <Line as clap::Parser>::try_parse_from(argv).expect("flags parse");
    let filter = Conversations::filter(&line.args).expect("a valid filter");
    let mut session = Session::open(&db.conn_args(), &[]).await.expect("session");
    let level = session.level::<Conversations>().expect("level");
    let shape = choose_shape(session.db(), level, &filter)
        .await
        .expect("shape");
    session.close().await;
    shape
}

#[tokio::test]
async fn auto_reads_the_whole_history_and_long_windows_set_wise_and_a_day_per_row() {
    // The demo's legs span September 2026.
    let db = TestDb::seeded(3000, 2).await;
    assert_eq!(auto_shape(&db, &[]).await, ReadShape::SetWise);
    let ten_days = ["--from", "2026-09-05", "--to", "2026-09-15"];
    assert_eq!(auto_shape(&db, &ten_days).await, ReadShape::SetWise);
    let day = ["--stored-from", "2026-09-10", "--stored-to", "2026-09-11"];
    assert_eq!(auto_shape(&db, &day).await, ReadShape::PerRow);
    let empty = TestDb::new().await;
    assert_eq!(auto_shape(&empty, &day).await, ReadShape::PerRow);
}

#[tokio::test]
async fn parallel_slices_return_the_rows_of_one_connection_in_its_order() {
    let db = TestDb::seeded(20_000, 5).await;
    let export = |flags: &[&str]| {
        let mut args = vec!["conversations", "--database-url", &db.url, "-f", "csv"];
        args.extend_from_slice(flags);
        let out = run(&args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let summary = String::from_utf8(out.stderr).expect("utf-8 stderr");
        (
            String::from_utf8(out.stdout).expect("utf-8 stdout"),
            summary,
        )
    };
    let (one, summary) = export(&["--parallel", "1"]);
    assert!(!summary.contains("connections"), "{summary}");
    // The whole history, set-wise (auto), in two parts of the roots (by a hash of the id): every
    // conversation once, merged in the order one connection returns them.
    let (two, summary) = export(&["--parallel", "2"]);
    assert!(summary.contains("over 2 connections"), "{summary}");
    assert_eq!(two.lines().count(), one.lines().count());
    assert!(
        two == one,
        "the merged slices differ from one connection's rows or order"
    );
    // A window, or the per-row shape, is read on one connection.
    let (_, summary) = export(&[
        "--parallel",
        "2",
        "--from",
        "2026-09-01",
        "--to",
        "2026-09-29",
    ]);
    assert!(!summary.contains("connections"), "{summary}");
    let (per_row, summary) = export(&["--parallel", "2", "--shape", "per-row"]);
    assert!(!summary.contains("connections"), "{summary}");
    assert!(per_row == one);
}
