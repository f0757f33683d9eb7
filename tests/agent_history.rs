//! Agent status history as each Webitel release wrote it (checked against the release
//! branches' schema dumps):
//! - v22.05–v23.05: cc_agent_channel is one row per agent with no attempt_id, and a waiting
//!   channel state is written to cc_agent_state_history with channel NULL, like a status row;
//! - v23.07: status changes are written to cc_agent_status_log only;
//! - v23.09 on: to both tables.
//!
//! agent-states and the agent-activity report must read each of these right.

use std::collections::HashMap;

use crate::support::{TestDb, export_rows, parse_csv, run_ok};

type Row = HashMap<String, String>;

fn activity(db: &TestDb, from: &str, to: &str, bucket: &str) -> Vec<Row> {
    let args = [
        "report",
        "agent-activity",
        "--database-url",
        &db.url,
        "-q",
        "--from",
        from,
        "--to",
        to,
        "--bucket",
        bucket,
        "--tz",
        "UTC",
    ];
    let (header, rows) = parse_csv(&run_ok(&args));
    rows.into_iter()
        .map(|r| header.iter().cloned().zip(r).collect())
        .collect()
}

fn seconds(row: &Row, column: &str) -> f64 {
    row[column].parse().unwrap()
}

const AGENT: &str = "
    INSERT INTO directory.wbt_domain (dc, name) VALUES (1, 'one.example');
    INSERT INTO directory.wbt_user (id, dc, name, username) VALUES (1001, 1, 'Olena', 'olena');
    INSERT INTO call_center.cc_agent (id, user_id, domain_id, status, last_state_change) VALUES
        (1, 1001, 1, 'offline', '2026-10-01 18:00:00+00');";

/// v22.05: an online day with waiting channel states (channel NULL) written after the status
/// change, and the agent's open channel row, which has no attempt_id before v23.05.
#[tokio::test]
async fn before_v23_07_waiting_rows_without_a_channel_are_not_statuses() {
    let db = TestDb::at_level("v22.05").await;
    db.execute(AGENT).await;
    db.execute(
        "INSERT INTO call_center.cc_agent_channel (agent_id, channel, state, joined_at) VALUES
             (1, NULL, 'waiting', '2026-10-01 17:00:00+00');
         INSERT INTO call_center.cc_agent_state_history (agent_id, joined_at, state, channel, duration, payload) VALUES
             (1, '2026-10-01 08:00:00+00', 'online',   NULL,   '10 hours',   NULL),
             (1, '2026-10-01 09:00:00+00', 'waiting',  NULL,   '5 minutes',  NULL),
             (1, '2026-10-01 09:05:00+00', 'offering', 'call', '10 seconds', NULL),
             (1, '2026-10-01 09:05:10+00', 'bridged',  'call', '5 minutes',  NULL),
             (1, '2026-10-01 09:10:10+00', 'waiting',  NULL,   '20 minutes', NULL);",
    )
    .await;

    // A window after the last status change: the status open at its start is the online
    // row of 08:00, not the waiting row of 09:10.
    let noon = activity(&db, "2026-10-01T12:00:00Z", "2026-10-01T13:00:00Z", "hour");
    assert_eq!(noon.len(), 1, "{noon:?}");
    assert_eq!(seconds(&noon[0], "online_sec"), 3600.0);

    let day = activity(&db, "2026-10-01", "2026-10-02", "day");
    assert_eq!(seconds(&day[0], "online_sec"), 36000.0);
    assert_eq!(seconds(&day[0], "offline_sec"), 6.0 * 3600.0);
    assert_eq!(seconds(&day[0], "talk_sec"), 300.0);

    // The open channel row reads without attempt_id (v23.05+), and waiting rows are channel
    // states.
    let states = export_rows(&db, "agent-states", &["--include-open"]);
    let kind_of = |state: &str| -> Vec<&str> {
        states
            .iter()
            .filter(|r| r["state"] == state)
            .map(|r| r["kind"].as_str())
            .collect()
    };
    assert_eq!(kind_of("waiting"), ["channel", "channel", "channel"]);
    assert_eq!(kind_of("online"), ["status"]);
    assert_eq!(kind_of("offline"), ["status"], "the open status");
    let open_channel = states
        .iter()
        .find(|r| r["state"] == "waiting" && r["left_at"].is_empty())
        .expect("the open channel state");
    assert_eq!(open_channel["attempt_id"], "");
}

/// A site that ran v23.07 has that period's status changes only in cc_agent_status_log;
/// later periods are in both tables and must count once.
#[tokio::test]
async fn status_changes_of_v23_07_are_read_from_the_status_log_once() {
    let db = TestDb::new().await;
    db.execute(AGENT).await;
    db.execute(
        "-- 2026-09-30, under v23.07: the status log only.
         INSERT INTO call_center.cc_agent_status_log (agent_id, joined_at, status, duration, payload) VALUES
             (1, '2026-09-30 08:00:00+00', 'online',  '4 hours',  NULL),
             (1, '2026-09-30 12:00:00+00', 'pause',   '1 hour',   'Lunch'),
             (1, '2026-09-30 13:00:00+00', 'online',  '5 hours',  NULL),
             (1, '2026-09-30 18:00:00+00', 'offline', '14 hours', NULL);
         -- 2026-10-01, after the upgrade to v23.09: both tables.
         INSERT INTO call_center.cc_agent_status_log (agent_id, joined_at, status, duration, payload) VALUES
             (1, '2026-10-01 08:00:00+00', 'online',  '10 hours', NULL);
         INSERT INTO call_center.cc_agent_state_history (agent_id, joined_at, state, channel, duration, payload) VALUES
             (1, '2026-10-01 08:00:00+00', 'online',  NULL, '10 hours', NULL);",
    )
    .await;

    let days = activity(&db, "2026-09-30", "2026-10-02", "day");
    assert_eq!(days.len(), 2, "{days:?}");
    let (sep30, oct1) = (&days[0], &days[1]);
    assert_eq!(sep30["bucket_label"], "2026-09-30");
    assert_eq!(seconds(sep30, "online_sec"), 9.0 * 3600.0);
    assert_eq!(seconds(sep30, "pause_sec"), 3600.0);
    assert_eq!(seconds(sep30, "offline_sec"), 6.0 * 3600.0);
    assert_eq!(seconds(oct1, "online_sec"), 10.0 * 3600.0, "counted once");
    // 00:00–08:00 from the log's offline row; 18:00–24:00 from the open status.
    assert_eq!(seconds(oct1, "offline_sec"), 14.0 * 3600.0);

    // A window starting inside the v23.07 period: the status open at its start is in the log.
    let lunch = activity(&db, "2026-09-30T12:30:00Z", "2026-09-30T13:30:00Z", "hour");
    assert_eq!(lunch.len(), 2, "12:30–13:00 and 13:00–13:30: {lunch:?}");
    assert_eq!(seconds(&lunch[0], "pause_sec"), 1800.0);
    assert_eq!(seconds(&lunch[1], "online_sec"), 1800.0);

    let states = export_rows(&db, "agent-states", &["--kind", "status"]);
    let mut starts: Vec<&str> = states.iter().map(|r| r["joined_at"].as_str()).collect();
    starts.sort_unstable();
    assert_eq!(
        starts,
        [
            "2026-09-30T08:00:00.000000Z",
            "2026-09-30T12:00:00.000000Z",
            "2026-09-30T13:00:00.000000Z",
            "2026-09-30T18:00:00.000000Z",
            "2026-10-01T08:00:00.000000Z",
        ],
        "each status change once"
    );
    let lunch_row = states.iter().find(|r| r["state"] == "pause").unwrap();
    assert_eq!(lunch_row["pause_cause"], "Lunch");
}
