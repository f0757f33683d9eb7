//! `report agent-activity` and `report queue-activity` on hand-computed fixtures
//! (tests/fixtures/reports.sql): clipping at bucket edges, the state open at the window start,
//! pause causes, DST days in Europe/Kyiv, open states, SL/ASA/AHT; and totals that reconcile
//! with the raw intervals on demo data.

use std::collections::HashMap;

use chrono::{Duration, SecondsFormat, Utc};
use sqlx::Row;

use crate::support::{TestDb, assert_fails, parse_csv, run, run_ok};

type Rows = Vec<HashMap<String, String>>;

async fn fixture() -> TestDb {
    TestDb::with_fixture("reports.sql").await
}

/// Runs `webitel-export report <report> … <args>` to CSV and returns its rows.
fn report(db: &TestDb, report: &str, args: &[&str]) -> Rows {
    let mut all = vec!["report", report, "--database-url", &db.url, "-q"];
    all.extend_from_slice(args);
    let (header, rows) = parse_csv(&run_ok(&all));
    rows.into_iter()
        .map(|r| header.iter().cloned().zip(r).collect())
        .collect()
}

fn num(row: &HashMap<String, String>, column: &str) -> f64 {
    row[column]
        .parse()
        .unwrap_or_else(|_| panic!("{column} = {:?} is not a number", row[column]))
}

fn json(row: &HashMap<String, String>, column: &str) -> serde_json::Value {
    serde_json::from_str(&row[column]).unwrap_or_else(|e| panic!("{column}: {e}"))
}

#[tokio::test]
async fn an_interval_across_midnight_is_split_between_the_two_days() {
    let db = fixture().await;
    let rows = report(
        &db,
        "agent-activity",
        &["--from", "2026-09-30", "--to", "2026-10-02", "--agent", "1"],
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    let (sep30, oct1) = (&rows[0], &rows[1]);
    assert_eq!(sep30["bucket_label"], "2026-09-30");
    assert_eq!(sep30["bucket_start"], "2026-09-30T00:00:00.000000Z");
    assert_eq!(sep30["agent_name"], "Олена Шевченко");
    assert_eq!(sep30["team_name"], "Підтримка");
    // online 08–12 (4 h) + 12:30–13:30 (1 h) + 22–24 (2 h of the night shift)
    assert_eq!(num(sep30, "online_sec"), 7.0 * 3600.0);
    // pause 30 + 15 + 15 min, split by cause; the pause without a cause is ""
    assert_eq!(num(sep30, "pause_sec"), 3600.0);
    assert_eq!(
        json(sep30, "pause_by_cause"),
        serde_json::json!({"Обід": 1800, "Coffee": 900, "": 900})
    );
    assert_eq!(num(sep30, "offline_sec"), 8.0 * 3600.0); // 14–22
    // the call bridged at 23:59:10 for 120 s: 50 s today, 70 s tomorrow
    assert_eq!(num(sep30, "offering_sec"), 40.0); // 10 + 20 + 10
    assert_eq!(num(sep30, "talk_sec"), 350.0); // 300 + 50 (the chat is not counted)
    assert_eq!(num(sep30, "wrap_sec"), 30.0);
    assert_eq!(num(sep30, "hold_sec"), 40.0);
    assert_eq!(num(sep30, "utilization_pct"), 87.5); // 25200 / (25200 + 3600)
    assert_eq!(num(sep30, "occupancy_pct"), 1.46); // 420 / 28800
    assert_eq!(
        (
            &sep30["offered"],
            &sep30["handled"],
            &sep30["missed"],
            &sep30["abandoned"]
        ),
        (&"3".into(), &"2".into(), &"1".into(), &"1".into())
    );
    assert_eq!(num(sep30, "avg_talk_sec"), 210.0); // (300 + 120) / 2
    assert_eq!(num(sep30, "avg_hold_sec"), 20.0); // (40 + 0) / 2
    assert_eq!(sep30["first_login_at"], "2026-09-30T08:00:00.000000Z");
    assert_eq!(sep30["last_logout_at"], "2026-09-30T14:00:00.000000Z");

    assert_eq!(oct1["bucket_label"], "2026-10-01");
    assert_eq!(num(oct1, "online_sec"), 2.0 * 3600.0); // 00–02
    assert_eq!(num(oct1, "offline_sec"), 22.0 * 3600.0);
    assert_eq!(num(oct1, "talk_sec"), 70.0);
    assert_eq!(num(oct1, "wrap_sec"), 20.0);
    assert_eq!(num(oct1, "occupancy_pct"), 1.25); // 90 / 7200
    assert_eq!(oct1["offered"], "0");
    assert_eq!(oct1["first_login_at"], "", "logged in the day before");
    assert_eq!(oct1["last_logout_at"], "2026-10-01T02:00:00.000000Z");

    // The chat channel instead: its hour-long bridged state is the talk time.
    let chat = report(
        &db,
        "agent-activity",
        &[
            "--from",
            "2026-09-30",
            "--to",
            "2026-10-01",
            "--agent",
            "1",
            "--channel",
            "chat",
        ],
    );
    assert_eq!(num(&chat[0], "talk_sec"), 3600.0);
}

#[tokio::test]
async fn the_state_open_at_the_window_start_counts_from_the_start_and_pauses_split_by_hour() {
    let db = fixture().await;
    let rows = report(
        &db,
        "agent-activity",
        &[
            "--from",
            "2026-09-30T10:00:00Z",
            "--to",
            "2026-09-30T11:00:00Z",
            "--bucket",
            "none",
            "--agent",
            "1",
        ],
    );
    assert_eq!(rows.len(), 1);
    // online since 08:00: the whole window counts; so does the offer started at 10:00
    assert_eq!(num(&rows[0], "online_sec"), 3600.0);
    assert_eq!(num(&rows[0], "offering_sec"), 20.0);
    assert_eq!(rows[0]["missed"], "1");
    assert_eq!(rows[0]["first_login_at"], "", "no login inside the window");
    assert_eq!(
        rows[0]["bucket_label"],
        "2026-09-30T10:00:00+00:00/2026-09-30T11:00:00+00:00"
    );

    let hours = report(
        &db,
        "agent-activity",
        &[
            "--from",
            "2026-09-30T12:00:00Z",
            "--to",
            "2026-09-30T14:00:00Z",
            "--bucket",
            "hour",
            "--agent",
            "1",
        ],
    );
    let labels: Vec<&str> = hours.iter().map(|r| r["bucket_label"].as_str()).collect();
    assert_eq!(labels, ["2026-09-30T12:00+00:00", "2026-09-30T13:00+00:00"]);
    // 12–13: pause 30 min (Обід), online 30 min; 13–14: online 30, pause 15 Coffee + 15 none
    assert_eq!(num(&hours[0], "pause_sec"), 1800.0);
    assert_eq!(
        json(&hours[0], "pause_by_cause"),
        serde_json::json!({"Обід": 1800})
    );
    assert_eq!(num(&hours[1], "online_sec"), 1800.0);
    assert_eq!(
        json(&hours[1], "pause_by_cause"),
        serde_json::json!({"Coffee": 900, "": 900})
    );
    assert_eq!(num(&hours[1], "utilization_pct"), 50.0);
}

#[tokio::test]
async fn kyiv_days_have_23_and_25_hours_across_dst_changes() {
    let db = fixture().await;
    let spring = report(
        &db,
        "agent-activity",
        &[
            "--from",
            "2026-03-28",
            "--to",
            "2026-03-31",
            "--tz",
            "Europe/Kyiv",
            "--agent",
            "2",
        ],
    );
    let days: Vec<(&str, f64)> = spring
        .iter()
        .map(|r| (r["bucket_label"].as_str(), num(r, "online_sec") / 3600.0))
        .collect();
    assert_eq!(
        days,
        [
            ("2026-03-28", 24.0),
            ("2026-03-29", 23.0),
            ("2026-03-30", 24.0)
        ]
    );
    assert_eq!(spring[1]["bucket_start"], "2026-03-28T22:00:00.000000Z");
    assert_eq!(spring[1]["bucket_end"], "2026-03-29T21:00:00.000000Z");

    let autumn = report(
        &db,
        "agent-activity",
        &[
            "--from",
            "2026-10-25",
            "--to",
            "2026-10-26",
            "--tz",
            "Europe/Kyiv",
            "--agent",
            "2",
        ],
    );
    assert_eq!(autumn.len(), 1);
    assert_eq!(num(&autumn[0], "online_sec"), 25.0 * 3600.0);
    assert_eq!(autumn[0]["bucket_start"], "2026-10-24T21:00:00.000000Z");
    assert_eq!(autumn[0]["bucket_end"], "2026-10-25T22:00:00.000000Z");
    assert_eq!(autumn[0]["first_login_at"], "2026-10-24T21:00:00.000000Z");
}

#[tokio::test]
async fn a_state_still_open_counts_up_to_the_bucket_end_or_now() {
    let db = fixture().await;
    // Agent 3 has been online since 2026-11-20 10:00 and has no history at all.
    let past = report(
        &db,
        "agent-activity",
        &["--from", "2026-11-20", "--to", "2026-11-22", "--agent", "3"],
    );
    let online: Vec<f64> = past.iter().map(|r| num(r, "online_sec")).collect();
    assert_eq!(online, [14.0 * 3600.0, 24.0 * 3600.0]);
    assert_eq!(past[0]["first_login_at"], "2026-11-20T10:00:00.000000Z");

    // A window reaching into the future: the open state stops at now.
    let now = Utc::now();
    let from = (now - Duration::hours(2)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let to = (now + Duration::days(1)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let live = report(
        &db,
        "agent-activity",
        &[
            "--from", &from, "--to", &to, "--bucket", "none", "--agent", "3",
        ],
    );
    let secs = num(&live[0], "online_sec");
    assert!(
        (7190.0..7300.0).contains(&secs),
        "online_sec {secs}, expected about 2 h"
    );
}

#[tokio::test]
async fn queue_activity_gives_the_exact_sl_asa_aht_and_abandons() {
    let db = fixture().await;
    let rows = report(
        &db,
        "queue-activity",
        &["--from", "2026-09-30", "--to", "2026-10-02"],
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    let q = &rows[0];
    assert_eq!(
        (q["queue_id"].as_str(), q["bucket_label"].as_str()),
        ("21", "2026-09-30")
    );
    assert_eq!(q["queue_name"], "Підтримка 0800");
    let counts: Vec<&str> = [
        "offered",
        "answered",
        "abandoned",
        "short_abandoned",
        "transferred",
    ]
    .iter()
    .map(|c| q[*c].as_str())
    .collect();
    assert_eq!(counts, ["6", "3", "2", "1", "1"]);
    assert_eq!(
        json(q, "results"),
        serde_json::json!({"success": 3, "abandoned": 2, "timeout": 1})
    );
    assert_eq!(num(q, "avg_wait_sec"), 25.0); // ASA (10 + 25 + 40) / 3
    assert_eq!(num(q, "max_wait_sec"), 120.0); // the timeout
    assert_eq!(num(q, "avg_handle_sec"), 213.333); // (330 + 190 + 120) / 3
    assert_eq!(num(q, "total_talk_sec"), 600.0); // 300 + 180 + 120
    assert_eq!(num(q, "avg_wrap_sec"), 20.0); // (30 + 10) / 2
    // SL: answered within T / offered: 1/6 within 20 s, 2/6 within 30 s
    assert_eq!(
        json(q, "service_level_pct"),
        serde_json::json!({"20": 16.67, "30": 33.33})
    );
    assert_eq!(rows[1]["queue_id"], "22");
    assert_eq!(rows[1]["bucket_label"], "2026-10-01");

    let tuned = report(
        &db,
        "queue-activity",
        &[
            "--from",
            "2026-09-30",
            "--to",
            "2026-10-01",
            "--sl",
            "40",
            "--sl",
            "10",
            "--short-abandon",
            "60",
        ],
    );
    assert_eq!(
        json(&tuned[0], "service_level_pct"),
        serde_json::json!({"10": 16.67, "40": 50})
    );
    assert_eq!(tuned[0]["short_abandoned"], "2");

    let by_bucket = report(
        &db,
        "queue-activity",
        &[
            "--from",
            "2026-09-30",
            "--to",
            "2026-10-01",
            "--by-bucket",
            "--queue",
            "21",
        ],
    );
    let split: Vec<(&str, &str, &str)> = by_bucket
        .iter()
        .map(|r| {
            (
                r["member_bucket_name"].as_str(),
                r["offered"].as_str(),
                r["answered"].as_str(),
            )
        })
        .collect();
    assert_eq!(split, [("", "4", "1"), ("VIP", "2", "2")]);

    let predictive = report(
        &db,
        "queue-activity",
        &[
            "--from",
            "2026-09-01",
            "--to",
            "2026-11-01",
            "--type",
            "5",
            "--bucket",
            "month",
        ],
    );
    assert_eq!(predictive.len(), 1);
    assert_eq!(
        (
            predictive[0]["queue_id"].as_str(),
            predictive[0]["bucket_label"].as_str()
        ),
        ("22", "2026-10")
    );
    assert!(
        report(
            &db,
            "queue-activity",
            &["--from", "2026-09-30", "--to", "2026-10-02", "--team", "99"]
        )
        .is_empty()
    );
}

/// Summed over hourly Kyiv buckets, each agent's online time equals the raw intervals clipped
/// to the window, computed here straight from the tables.
#[tokio::test]
async fn online_time_summed_over_buckets_reconciles_with_the_raw_intervals() {
    let db = TestDb::seeded(2000, 3).await;
    let (from, to) = ("2026-09-10T09:30:00+03:00", "2026-09-14T17:45:00+03:00");
    let rows = report(
        &db,
        "agent-activity",
        &[
            "--from",
            from,
            "--to",
            to,
            "--bucket",
            "hour",
            "--tz",
            "Europe/Kyiv",
        ],
    );
    let mut per_agent: HashMap<i32, f64> = HashMap::new();
    for r in &rows {
        *per_agent.entry(r["agent_id"].parse().unwrap()).or_default() += num(r, "online_sec");
    }

    let mut conn = db.connect().await;
    let raw = sqlx::query(
        "WITH w AS (SELECT $1::timestamptz AS f, $2::timestamptz AS t),
              s AS (SELECT agent_id, state, joined_at, joined_at + duration AS left_at
                    FROM call_center.cc_agent_state_history WHERE channel IS NULL
                    UNION ALL
                    SELECT id, status, last_state_change, now() FROM call_center.cc_agent)
         SELECT agent_id, sum(extract(epoch FROM least(left_at, w.t) - greatest(joined_at, w.f)))::float8 AS online
         FROM s, w WHERE state = 'online' AND joined_at < w.t AND left_at > w.f
         GROUP BY agent_id",
    )
    .bind(from)
    .bind(to)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(raw.len() > 5, "the demo has agents online in the window");
    for r in raw {
        let agent: i32 = r.get("agent_id");
        let expected: f64 = r.get("online");
        let got = per_agent.get(&agent).copied().unwrap_or_default();
        assert!(
            (got - expected).abs() < 1e-3,
            "agent {agent}: buckets {got} vs raw {expected}"
        );
    }
}

#[test]
fn bad_report_arguments_fail_before_connecting() {
    let url = "postgres://nobody@127.0.0.1:1/none";
    let cases: [(&[&str], &str); 5] = [
        (&["agent-activity", "--to", "2026-10-01"], "--from"),
        (
            &[
                "agent-activity",
                "--from",
                "2026-10-01",
                "--bucket",
                "fortnight",
            ],
            "fortnight",
        ),
        (
            &[
                "queue-activity",
                "--from",
                "2026-10-01",
                "--tz",
                "Mars/Olympus",
            ],
            "Mars/Olympus",
        ),
        (
            &[
                "queue-activity",
                "--from",
                "2026-10-02",
                "--to",
                "2026-10-01",
            ],
            "must be before",
        ),
        (
            &["queue-activity", "--from", "2026-10-01", "--sl", "-5"],
            "-5",
        ),
    ];
    for (args, needle) in cases {
        let mut all = vec!["report"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--database-url", url]);
        let line = assert_fails(&run(&all), 2);
        assert!(line.contains(needle), "{args:?}: {line}");
    }
}
