//! `conversations`: call families stitched into one row each, every column checked.

use std::collections::{BTreeMap, HashMap};

use crate::support::{TestDb, export_rows};

fn by_id(rows: &[HashMap<String, String>]) -> BTreeMap<String, HashMap<String, String>> {
    rows.iter()
        .map(|r| (r["conversation_id"][..1].to_string(), r.clone()))
        .collect()
}

#[tokio::test]
async fn call_families_become_one_conversation_each() {
    let db = TestDb::with_fixture("conversations.sql").await;
    let rows = export_rows(&db, "conversations", &[]);
    let c = by_id(&rows);
    // Roots only: legs continuing a transfer (b…3) or redialing (d…2) are not conversations.
    assert_eq!(c.keys().cloned().collect::<String>(), "7abcdef");

    let a = &c["a"];
    assert_eq!(a["legs"], "3");
    assert_eq!(a["customer_number"], "+380501110001");
    assert_eq!(a["first_queue_id"], "11");
    assert_eq!(a["first_queue_name"], "Підтримка");
    assert_eq!(a["answered_at"], "2026-09-01T10:00:20.000000Z");
    assert_eq!(a["answered_by_user_id"], "1001");
    assert_eq!(a["answered_by_user_name"], "Олена Шевченко");
    assert_eq!(a["answered_by_agent_id"], "1");
    assert_eq!(a["wait_sec"], "20");
    assert_eq!(a["talk_sec"], "580", "the customer's leg");
    assert_eq!(a["hold_sec"], "15");
    assert_eq!(a["transfers"], "1", "the blind transfer");
    assert_eq!(a["answered"], "true");
    assert_eq!(a["missed"], "false");
    assert_eq!(a["disposition"], "client_dropped");
    assert_eq!(a["ended_at"], "2026-09-01T10:10:00.000000Z");
    assert_eq!(a["qa_score"], "70");
    assert_eq!(a["has_transcript"], "true");
    assert_eq!(a["recording_file_ids"], "[7]");
    assert_eq!(a["mos_min"], "2.9");

    let b = &c["b"];
    assert_eq!(
        b["legs"], "4",
        "the consultation and its leg come with the transfer"
    );
    assert_eq!(
        b["talk_sec"], "1195",
        "the customer's, not the consultation's"
    );
    assert_eq!(b["transfers"], "1");
    assert_eq!(b["answered_by_user_id"], "1001");
    assert_eq!(
        b["recording_file_ids"], "[8]",
        "recorded on the consultation leg"
    );
    assert_eq!(b["disposition"], "agent_dropped");
    assert_eq!(b["has_transcript"], "false");
    assert_eq!(b["qa_score"], "");

    let consultation = &c["c"];
    assert_eq!(consultation["legs"], "2");
    assert_eq!(consultation["talk_sec"], "56");
    assert_eq!(consultation["direction"], "outbound");
    assert_eq!(consultation["transfers"], "0");

    let d = &c["d"];
    assert_eq!(d["legs"], "2");
    assert_eq!(d["redials"], "1");
    assert_eq!(d["talk_sec"], "290", "the callback's talk");
    assert_eq!(d["answered"], "true", "the callback reached the customer");
    assert_eq!(d["answered_by_user_name"], "ivan");
    assert_eq!(d["wait_sec"], "3610");
    assert_eq!(d["missed"], "false");
    assert_eq!(d["disposition"], "cancelled");
    assert_eq!(d["final_cause"], "NORMAL_CLEARING");

    // One attended transfer marked on two legs, and one blind transfer: two events; the
    // 20 s consultation between the agents is not the customer's talk.
    let g = &c["7"];
    assert_eq!(g["legs"], "4");
    assert_eq!(g["transfers"], "2");
    assert_eq!(g["talk_sec"], "340");
    assert_eq!(g["answered_by_user_id"], "1001");

    let e = &c["e"];
    assert_eq!(e["answered"], "false");
    assert_eq!(e["missed"], "true");
    assert_eq!(e["wait_sec"], "30");
    assert_eq!(e["talk_sec"], "0");
    assert_eq!(e["first_queue_id"], "11");
    assert_eq!(e["recording_file_ids"], "");
}

#[tokio::test]
async fn conversation_filters() {
    let db = TestDb::with_fixture("conversations.sql").await;
    let ids = |filters: &[&str]| -> String {
        by_id(&export_rows(&db, "conversations", filters))
            .keys()
            .cloned()
            .collect()
    };
    assert_eq!(ids(&["--domain", "2"]), "f");
    assert_eq!(ids(&["--answered"]), "7abcd");
    assert_eq!(ids(&["--unanswered"]), "ef");
    assert_eq!(ids(&["--direction", "outbound"]), "c");
    assert_eq!(
        ids(&["--from", "2026-09-01T12:00:00Z", "--to", "2026-09-02"]),
        "cde"
    );
    assert_eq!(ids(&["--stored-from", "2026-09-01T14:00:00Z"]), "ef");
}

/// Before v24.02 there is no redial_id: the callback is a conversation of its own.
#[tokio::test]
async fn before_v24_02_a_callback_is_its_own_conversation() {
    let db = TestDb::at_level("v23.12").await;
    db.execute(
        "INSERT INTO call_center.cc_calls_history (id, domain_id, app_id, direction, created_at, \
         hangup_at, user_id, bridged_at) VALUES \
         ('d0000000-0000-0000-0000-000000000001', 1, 'fs', 'inbound', '2026-09-01 12:00+00', \
          '2026-09-01 12:01+00', NULL, NULL), \
         ('d0000000-0000-0000-0000-000000000002', 1, 'fs', 'outbound', '2026-09-01 13:00+00', \
          '2026-09-01 13:05+00', 1002, '2026-09-01 13:00:10+00')",
    )
    .await;
    let rows = export_rows(&db, "conversations", &[]);
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|r| r["redials"] == "0" && r["qa_score"].is_empty() && r["mos_min"].is_empty())
    );
}
