//! The queries use Webitel's real indexes (the definitions in migrations-test/ are Webitel's
//! own): on tables with statistics, the server plans each filter below through its index
//! instead of reading the whole table. Each plan is the server's EXPLAIN of the query file the
//! export runs, with the parameters an export binds.

use sqlx::{Connection, Executor};

use crate::support::TestDb;

/// A history big enough that a full scan of it is not the cheap plan: legs of 3 domains over
/// 200 days, attempts of 20 queues (and some without a queue), status and channel rows of 50
/// agents.
const HISTORY: &str = "
    INSERT INTO directory.wbt_domain (dc, name) SELECT d, 'd' || d FROM generate_series(1, 3) d;
    INSERT INTO directory.wbt_user (id, dc, username) SELECT u, 1, 'u' || u FROM generate_series(1, 50) u;
    INSERT INTO call_center.cc_agent (id, user_id, domain_id) SELECT a, a, 1 FROM generate_series(1, 50) a;
    INSERT INTO call_center.cc_calls_history
        (id, domain_id, app_id, created_at, stored_at, direction, from_number, to_number, destination)
    SELECT gen_random_uuid(), 1 + g % 3, 'app', t, t + interval '1 minute', 'inbound',
           '38050' || (1000000 + g % 9000000), '1' || (g % 1000), '1' || (g % 1000)
    FROM generate_series(1, 60000) g,
         LATERAL (SELECT timestamptz '2026-01-01' + g * interval '288 seconds' AS t) x;
    INSERT INTO call_center.cc_member_attempt_history (domain_id, joined_at, leaving_at, result, queue_id)
    SELECT 1, t, t + interval '3 minutes', 'success', CASE WHEN g % 50 = 0 THEN NULL ELSE g % 20 END
    FROM generate_series(1, 60000) g,
         LATERAL (SELECT timestamptz '2026-01-01' + g * interval '288 seconds' AS t) x;
    INSERT INTO call_center.cc_agent_state_history (agent_id, joined_at, state, channel, duration)
    SELECT 1 + g % 50, timestamptz '2026-01-01' + g * interval '288 seconds',
           (ARRAY['online', 'pause', 'offline', 'offering', 'bridged', 'wrap_time'])[1 + g % 6],
           CASE WHEN g % 6 < 3 THEN NULL ELSE 'call' END, interval '4 minutes'
    FROM generate_series(1, 60000) g;
    ANALYZE;";

/// The server's plan for `query` with `params` (SQL literals, one per `$n`).
/// A template as the newest release runs it: its parts included (its level markers are
/// comments, and keep what they mark).
fn template(sql: &str) -> String {
    webitel_export::levels::expand_includes(sql).unwrap()
}

async fn plan(db: &TestDb, query: &str, params: &[&str]) -> String {
    let mut conn = db.connect().await;
    conn.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "PREPARE q AS {query}"
    ))))
    .await
    .unwrap();
    let explain = format!("EXPLAIN (COSTS OFF) EXECUTE q({})", params.join(", "));
    let lines: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(explain))
        .fetch_all(&mut conn)
        .await
        .unwrap();
    conn.close().await.ok();
    lines.join("\n")
}

/// The 39 parameters of calls.sql, all "not filtered", every column read, with `set` ones
/// replaced.
fn calls_params<'a>(set: &[(usize, &'a str)]) -> Vec<&'a str> {
    let mut params = vec!["NULL"; 39];
    // The flag parameters: top-level only ($23) and missed only ($31).
    params[22] = "false";
    params[30] = "false";
    // What the export writes ($37..$39): recordings, children, the attempt.
    params[36..39].fill("true");
    for (n, value) in set {
        params[n - 1] = value;
    }
    params
}

fn assert_uses(plan: &str, index: &str, table: &str) {
    assert!(plan.contains(index), "{index} is not used:\n{plan}");
    assert!(
        !plan.contains(&format!("Seq Scan on {table} ")),
        "{table} is read whole:\n{plan}"
    );
}

#[tokio::test]
async fn every_windowed_or_searched_export_reads_through_an_index() {
    let db = TestDb::new().await;
    db.execute(HISTORY).await;
    let calls = &template(include_str!("../queries/calls.sql"));

    // A nightly calls job: a one-day stored_at window, no --domain.
    let stored = calls_params(&[(4, "'2026-03-01'"), (5, "'2026-03-02'")]);
    let p = plan(&db, calls, &stored).await;
    assert_uses(
        &p,
        "cc_calls_history_domain_id_store_at_index",
        "cc_calls_history",
    );
    assert!(p.contains("domain_id = ANY"), "{p}");
    // Nothing in the query keeps it off parallel workers (a function not marked parallel
    // safe would): on a big window the server may split the scan.
    let mut conn = db.connect().await;
    let unsafe_functions: Vec<String> = sqlx::query_scalar(
        "SELECT p.proname::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = 'call_center' AND p.proparallel = 'u'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let code: String = calls
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .collect();
    for name in unsafe_functions {
        assert!(
            !code.contains(&name),
            "calls.sql calls {name}, not parallel safe"
        );
    }

    // The same by created_at.
    let created = calls_params(&[(2, "'2026-03-01'"), (3, "'2026-03-02'")]);
    let p = plan(&db, calls, &created).await;
    assert_uses(
        &p,
        "cc_calls_history_domain_id_created_at_index",
        "cc_calls_history",
    );

    // --number: Webitel's trigram index on coalesce(search_number, destination|from|to).
    let number = calls_params(&[(8, "'^3805012'")]);
    let p = plan(&db, calls, &number).await;
    assert_uses(&p, "cc_calls_history_sn_ops_idx2", "cc_calls_history");

    // attempts --leaving-from/--leaving-to (run's attempts job): (queue_id, leaving_at) for
    // every queue, and the attempts without a queue.
    let attempts = &template(include_str!("../queries/attempts.sql"));
    let leaving = [
        "NULL",
        "NULL",
        "NULL",
        "'2026-03-01'",
        "'2026-03-02'",
        "NULL",
        "NULL",
        "NULL",
        "NULL",
        "NULL",
    ];
    let p = plan(&db, attempts, &leaving).await;
    assert_uses(
        &p,
        "cc_member_attempt_history_queue_id_leaving_at_index",
        "cc_member_attempt_history",
    );
    assert!(p.contains("queue_id IS NULL"), "{p}");

    // attempts --from/--to without --domain: Webitel's (joined_at, agent_id) index (or, on
    // PostgreSQL 18, a skip scan of (domain_id, joined_at): either reads only the window).
    let mut joined = ["NULL"; 10];
    joined[1] = "'2026-03-01'";
    joined[2] = "'2026-03-02'";
    let p = plan(&db, attempts, &joined).await;
    let index = ["joined_at_agent_id_index", "domain_id_joined_at_index"]
        .into_iter()
        .map(|i| format!("cc_member_attempt_history_{i} on cc_member_attempt_history a"))
        .find(|scan| p.contains(scan))
        .unwrap_or_else(|| "cc_member_attempt_history_joined_at_agent_id_index".into());
    assert_uses(&p, &index, "cc_member_attempt_history");

    // agent-activity: the status open at the window start, through Webitel's partial index
    // of status rows.
    let report = &template(include_str!("../queries/report_agent_activity.sql"));
    let day = [
        "ARRAY['2026-03-01 00:00+00']::timestamptz[]",
        "ARRAY['2026-03-02 00:00+00']::timestamptz[]",
        "ARRAY['2026-03-01']::text[]",
        "NULL",
        "NULL",
        "NULL",
        "'call'",
    ];
    let p = plan(&db, report, &day).await;
    assert!(p.contains("cc_agent_state_history_dev_g"), "{p}");
    assert!(
        !p.contains("Seq Scan on cc_agent_state_history "),
        "cc_agent_state_history is read whole:\n{p}"
    );
}

/// call-quality finds each statistics row's leg through (domain_id, created_at), also for a
/// row stored with domain 0 (then in every domain), never by reading the history whole, and
/// by one probe per domain: with the domains as one `ANY` list the index cannot give the legs
/// newest first, and every probe read the whole two days (90 ms a row on 5M legs; on a big
/// history the planner now reads the legs newest first and stops at the first match).
#[tokio::test]
async fn call_quality_finds_legs_through_the_domain_and_time_index() {
    let db = TestDb::new().await;
    db.execute(HISTORY).await;
    db.execute(
        "INSERT INTO call_center.cc_calls_media_stats (created_at, sip_id, domain_id, mos_avg)
         SELECT timestamptz '2026-03-01' + g * interval '1 hour', 'sip-' || g, g % 2, 4.0
         FROM generate_series(1, 50) g;
         ANALYZE call_center.cc_calls_media_stats;",
    )
    .await;
    let query = template(include_str!("../queries/call_quality.sql"));
    let p = plan(&db, &query, &["NULL", "NULL", "NULL", "NULL"]).await;
    assert_uses(
        &p,
        "cc_calls_history_domain_id_created_at_index",
        "cc_calls_history",
    );
    assert!(
        p.contains("Index Cond: ((domain_id = dom.id) AND (created_at <= ms.created_at)"),
        "a probe searches more than one domain:\n{p}"
    );
}

/// JIT compilation is off inside every export's snapshot (it cost the agent-activity report
/// seconds and gains nothing for streaming reads).
#[tokio::test]
async fn the_export_snapshot_runs_without_jit() {
    let db = TestDb::new().await;
    let conn = db.conn_args();
    let raw = conn.connect().await.unwrap();
    let mut session = webitel_export::session::Session::begin(raw, &conn, &[])
        .await
        .unwrap();
    let tx = session.db();
    let jit: String = sqlx::query_scalar("SELECT current_setting('jit')")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(jit, "off");
}
