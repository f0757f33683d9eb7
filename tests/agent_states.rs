//! `agent-states`: interval filters (overlap with the window), incremental ids, open states.

use crate::support::{TestDb, export_ids, export_rows};

async fn fixture() -> TestDb {
    TestDb::with_fixtures(&["agents.sql", "agent_states.sql"]).await
}

#[tokio::test]
async fn every_agent_state_filter_selects_exactly_the_matching_intervals() {
    let db = fixture().await;
    let cases: Vec<(Vec<&str>, Vec<u32>)> = vec![
        (vec![], vec![1, 2, 3, 4, 5, 6, 7]),
        // intervals overlapping the window; one ending exactly at --from does not
        (
            vec![
                "--from",
                "2026-09-30T12:30:00Z",
                "--to",
                "2026-09-30T13:00:00Z",
            ],
            vec![2, 3],
        ),
        (vec!["--from", "2026-10-01", "--to", "2026-10-02"], vec![4]),
        (
            vec!["--from", "2026-10-01T10:00", "--tz", "Europe/Kyiv"],
            vec![4],
        ),
        (vec!["--agent", "2"], vec![6]),
        (vec!["--team", "21"], vec![7]),
        (vec!["--domain", "2"], vec![7]),
        (vec!["--kind", "channel"], vec![5]),
        (vec!["--kind", "status", "--agent", "1"], vec![1, 2, 3, 4]),
        (vec!["--state", "pause"], vec![2]),
        (
            vec!["--state", "online", "--state", "bridged", "--agent", "1"],
            vec![1, 3, 5],
        ),
        (vec!["--after-id", "4"], vec![5, 6, 7]),
        // closed intervals that ended in [12:00, 13:00): 1 ends 12:00, 2 12:45, 6 12:30
        (
            vec![
                "--ended-from",
                "2026-09-30T12:00:00Z",
                "--ended-to",
                "2026-09-30T13:00:00Z",
                "--include-open",
            ],
            vec![1, 2, 6],
        ),
        (vec!["--after-id", "4", "--include-open"], vec![5, 6, 7]),
    ];
    for (filters, expected) in cases {
        assert_eq!(
            export_ids(&db, "agent-states", "id", &filters),
            expected,
            "filters {filters:?}"
        );
    }
}

#[tokio::test]
async fn agent_state_columns_and_open_states() {
    let db = fixture().await;
    let rows = export_rows(&db, "agent-states", &["--include-open"]);
    assert_eq!(
        rows.len(),
        7 + 4 + 2,
        "closed intervals, four open statuses, two open channels"
    );
    let closed = |id: &str| rows.iter().find(|r| r["id"] == id).unwrap();
    let lunch = closed("2");
    assert_eq!(lunch["kind"], "status");
    assert_eq!(lunch["channel"], "");
    assert_eq!(lunch["pause_cause"], "Обід");
    assert_eq!(lunch["duration_sec"], "2700");
    assert_eq!(lunch["left_at"], "2026-09-30T12:45:00.000000Z");
    assert_eq!(lunch["agent_name"], "Олена Шевченко");
    let call = closed("5");
    assert_eq!(call["kind"], "channel");
    assert_eq!(call["queue_name"], "Inbound support");
    assert_eq!(call["attempt_id"], "101");
    assert_eq!(call["duration_sec"], "300");
    assert_eq!(closed("4")["left_at"], "2026-10-01T08:00:00.000000Z");
    let open: Vec<_> = rows.iter().filter(|r| r["id"].is_empty()).collect();
    assert_eq!(open.len(), 6);
    assert!(
        open.iter()
            .all(|r| r["left_at"].is_empty() && r["duration_sec"].is_empty())
    );
    let paused = open
        .iter()
        .find(|r| r["agent_id"] == "2" && r["kind"] == "status")
        .unwrap();
    assert_eq!(paused["state"], "pause");
    assert_eq!(paused["pause_cause"], "Обід");
    assert_eq!(paused["joined_at"], "2026-10-01T12:30:00.000000Z");
    let waiting = open
        .iter()
        .find(|r| r["agent_id"] == "1" && r["kind"] == "channel")
        .unwrap();
    assert_eq!(waiting["state"], "waiting");
    assert_eq!(waiting["channel"], "call");
}
