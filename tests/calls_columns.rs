//! Derived `calls` columns match hand-computed values (Webitel's cc_calls_history_list view).

use std::collections::HashMap;

use crate::support::{TestDb, parse_csv, run_ok};

/// Every leg of the fixture as `NN → column → CSV cell`.
fn export(db: &TestDb) -> HashMap<u32, HashMap<String, String>> {
    let text = run_ok(&["calls", "--database-url", &db.url, "-q"]);
    let (header, rows) = parse_csv(&text);
    rows.into_iter()
        .map(|row| {
            let cells: HashMap<String, String> = header.iter().cloned().zip(row).collect();
            let nn = cells["id"].rsplit('-').next().unwrap().parse().unwrap();
            (nn, cells)
        })
        .collect()
}

fn check(legs: &HashMap<u32, HashMap<String, String>>, leg: u32, expected: &[(&str, &str)]) {
    for (column, value) in expected {
        assert_eq!(legs[&leg][*column], *value, "leg {leg}, column {column}");
    }
}

#[tokio::test]
async fn derived_columns_match_hand_computed_values() {
    let db = TestDb::with_fixture("calls.sql").await;
    let legs = export(&db);
    assert_eq!(legs.len(), 16);

    // Answered and bridged inbound queue call: agent and team come from the attempt.
    check(
        &legs,
        1,
        &[
            ("duration_sec", "322"), // 10:00:00 → 10:05:22
            ("wait_sec", "1"),       // answered by the queue after 1 s
            ("bill_sec", "321"),
            ("talk_sec", "300"),
            ("hold_sec", "15"),
            ("hangup_disposition", "agent_dropped"), // inbound, hung up by B after bridge
            ("user_id", "1001"),                     // no leg user: the attempt agent's user
            ("user_name", "Олена Шевченко"),
            ("agent_id", "1001"),
            ("agent_name", "Олена Шевченко"),
            ("team_id", "11"),
            ("team_name", "Підтримка"),
            ("queue_name", "Inbound support"),
            ("queue_type", "1"),
            ("attempt_result", "success"),
            ("gateway_name", "Trunk \"A\", main"),
            ("has_children", "true"),
            ("recording_file_ids", "[1]"), // file 4 has the same uuid in another domain
            ("queue_wait_sec", "20"),      // attempt bridged 10:00:21 − joined 10:00:01
            ("agent_description", "Клієнт задоволений"), // trimmed
            ("tags", "[\"vip\"]"),
            ("created_at", "2026-09-01T10:00:00.000000Z"),
            ("hangup_at", "2026-09-01T10:05:22.000000Z"),
        ],
    );
    // Child (agent) leg: no disposition, recording through the parent, it is the parent's
    // bridged leg so transfer_to stays empty.
    check(
        &legs,
        2,
        &[
            ("hangup_disposition", ""),
            ("transfer_to", ""),
            ("recording_file_ids", "[1]"),
            ("has_children", "false"),
            ("user_name", "Олена Шевченко"),
            ("duration_sec", "307"),
        ],
    );
    // Unanswered: wait = whole duration, nothing billed.
    check(
        &legs,
        3,
        &[
            ("duration_sec", "30"),
            ("wait_sec", "30"),
            ("bill_sec", "0"),
            ("answered_at", ""),
            ("hangup_disposition", "cancelled"),
            ("recording_file_ids", ""),
            ("agent_id", ""),
            ("queue_wait_sec", ""),
        ],
    );
    check(&legs, 4, &[("hangup_disposition", "not_answered")]);
    // A child leg that is not its parent's bridged leg points at that bridged leg.
    check(
        &legs,
        5,
        &[
            ("transfer_to", "00000000-0000-0000-0000-000000000002"),
            ("user_name", "ivan"),
        ],
    );
    // Manual outbound hung up by the calling user.
    check(
        &legs,
        6,
        &[
            ("hangup_disposition", "agent_dropped"),
            ("user_name", "Bob Smith"),
            ("recording_file_ids", ""), // its only recording is removed
            ("tags", "[]"),
        ],
    );
    check(
        &legs,
        7,
        &[
            ("hangup_disposition", "agent_dropped"),
            ("amd_result", "HUMAN"),
            ("queue_wait_sec", "34"),
        ],
    );
    check(
        &legs,
        8,
        &[
            ("hangup_disposition", "cancelled"),
            ("amd_result", "cancelled"),
        ],
    );
    check(
        &legs,
        9,
        &[("hangup_disposition", "ended"), ("amd_result", "MACHINE")],
    );
    // A leg without hangup_at.
    check(
        &legs,
        10,
        &[
            ("hangup_at", ""),
            ("duration_sec", ""),
            ("wait_sec", "0"),
            ("bill_sec", "0"),
            ("hangup_disposition", "error"),
        ],
    );
    // Attended transfer: own transfer_to, transfer_from, derived transfer_to.
    check(
        &legs,
        11,
        &[
            ("has_children", "true"),
            ("recording_file_ids", "[2]"),
            ("queue_wait_sec", "9"),
        ],
    );
    check(
        &legs,
        12,
        &[
            ("transfer_to", "00000000-0000-0000-0000-000000000013"),
            ("recording_file_ids", "[2]"),
        ],
    );
    check(
        &legs,
        13,
        &[
            ("transfer_from", "00000000-0000-0000-0000-000000000012"),
            ("transfer_to", "00000000-0000-0000-0000-000000000012"),
            ("has_children", "false"), // children count only for top-level or blind-transferred legs
        ],
    );
    check(
        &legs,
        15,
        &[("blind_transfer", "1002"), ("has_children", "false")],
    );
}
