//! `run` against a hot standby streaming from a primary, both real servers on loopback: rows
//! the standby has not replayed yet, and rows of a transaction still open on the primary, are
//! exported once, by a later run.

use std::time::{Duration, Instant};

use sqlx::{Connection, Executor, PgConnection};
use webitel_export::pg_server::LocalPostgres;

use super::{CALLS_CSV, Lake, ids, leg_sql};
use crate::support::{run, run_ok};

async fn exec(db: &mut PgConnection, sql: &str) {
    db.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A primary with the Webitel schema and the calls fixture, and its streaming standby.
struct Pair {
    primary: LocalPostgres,
    standby: LocalPostgres,
}

impl Pair {
    async fn start() -> Pair {
        let primary = LocalPostgres::start_default().await.expect("primary");
        let mut admin = PgConnection::connect(&primary.url("postgres"))
            .await
            .unwrap();
        admin.execute("CREATE DATABASE webitel").await.unwrap();
        let mut db = PgConnection::connect(&primary.url("webitel"))
            .await
            .unwrap();
        for migration in webitel_export::levels::MIGRATOR.iter() {
            let sql = migration.sql.as_str().to_string();
            db.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(sql)))
                .await
                .unwrap();
        }
        let fixture = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/calls.sql"),
        )
        .unwrap();
        db.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(fixture)))
            .await
            .unwrap();
        db.execute("CREATE TABLE public.replayed (n int)")
            .await
            .unwrap();
        let standby = primary.start_standby().await.expect("standby");
        let pair = Pair { primary, standby };
        pair.wait_replayed().await;
        pair
    }

    fn standby_url(&self) -> String {
        self.standby.url("webitel")
    }

    async fn primary(&self) -> PgConnection {
        PgConnection::connect(&self.primary.url("webitel"))
            .await
            .unwrap()
    }

    async fn on_standby(&self, sql: &str) {
        let mut db = PgConnection::connect(&self.standby_url()).await.unwrap();
        exec(&mut db, sql).await;
    }

    /// Commits a marker on the primary and waits until the standby has replayed it.
    async fn wait_replayed(&self) {
        let n: i32 = sqlx::query_scalar(
            "INSERT INTO public.replayed SELECT count(*) + 1 FROM public.replayed RETURNING n",
        )
        .fetch_one(&mut self.primary().await)
        .await
        .unwrap();
        let mut standby = PgConnection::connect(&self.standby_url()).await.unwrap();
        let started = Instant::now();
        loop {
            let seen: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT FROM public.replayed WHERE n = $1)")
                    .bind(n)
                    .fetch_one(&mut standby)
                    .await
                    .unwrap();
            if seen {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the standby replays"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn all_leg_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> =
            sqlx::query_scalar("SELECT id::text FROM call_center.cc_calls_history")
                .fetch_all(&mut self.primary().await)
                .await
                .unwrap();
        ids.sort();
        ids
    }
}

/// Replay is paused while a leg commits on the primary; the standby's clock has passed the
/// leg's time, its snapshot has not: the run must not move the watermark past the leg.
#[tokio::test]
async fn rows_not_yet_replayed_are_exported_by_a_later_run() {
    let pair = Pair::start().await;
    let url = pair.standby_url();
    let lake = Lake::new("safety_lag = \"0s\"", CALLS_CSV);
    run_ok(&lake.args_for(&url));
    let manifest = lake.manifests().pop().unwrap();
    assert!(manifest["standby_replayed_to"].is_string(), "{manifest}");
    let check = run_ok(&["check", "--database-url", &url, "--format", "json"]);
    let check: serde_json::Value = serde_json::from_str(&check).unwrap();
    assert_eq!(check["hot_standby"], true);
    assert!(check["replayed_to"].is_string());
    let check = run_ok(&["check", "--database-url", &pair.primary.url("webitel")]);
    assert!(!check.contains("hot standby"), "{check}");

    pair.on_standby("SELECT pg_wal_replay_pause()").await;
    exec(
        &mut pair.primary().await,
        &leg_sql(901, "2026-10-05 10:00:00+00", "now()"),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    run_ok(&lake.args_for(&url));
    assert!(
        !ids(&lake.csv_rows("calls"))
            .iter()
            .any(|id| id.ends_with("901")),
        "the standby has not replayed leg 901"
    );

    pair.on_standby("SELECT pg_wal_replay_resume()").await;
    pair.wait_replayed().await;
    run_ok(&lake.args_for(&url));
    let exported = ids(&lake.csv_rows("calls"));
    assert_eq!(exported, pair.all_leg_ids().await, "every leg exactly once");
}

/// A transaction open on the primary has written a leg stamped with its start; a later one
/// commits and is replayed. The standby cannot see when the open one began: the run bounds
/// its window by the position of the run before, and a root with no earlier position holds.
#[tokio::test]
async fn rows_of_a_transaction_open_on_the_primary_are_exported_once_it_commits() {
    let pair = Pair::start().await;
    let url = pair.standby_url();
    let lake = Lake::new("safety_lag = \"0s\"", CALLS_CSV);
    run_ok(&lake.args_for(&url));
    tokio::time::sleep(Duration::from_millis(50)).await;

    let mut open = pair.primary().await;
    exec(&mut open, "BEGIN").await;
    exec(&mut open, &leg_sql(902, "2026-10-05 11:00:00+00", "now()")).await;
    exec(
        &mut pair.primary().await,
        &leg_sql(903, "2026-10-05 11:00:00+00", "now()"),
    )
    .await;
    pair.wait_replayed().await;

    // The root that ran before places the open transaction after its run.
    run_ok(&lake.args_for(&url));
    // A new root has no earlier position: it holds, and says why (a warning: even with -q).
    let fresh = Lake::new("safety_lag = \"0s\"", CALLS_CSV);
    let out = run(&fresh.args_for(&url));
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("watermarks held"), "{said}");
    assert!(fresh.csv_rows("calls").is_empty());

    exec(&mut open, "COMMIT").await;
    pair.wait_replayed().await;
    run_ok(&lake.args_for(&url));
    run_ok(&fresh.args_for(&url));
    let everything = pair.all_leg_ids().await;
    assert_eq!(
        ids(&lake.csv_rows("calls")),
        everything,
        "every leg exactly once"
    );
    assert_eq!(ids(&fresh.csv_rows("calls")), everything);
}

/// A root's first run finds a transaction open on the primary: it probes until the
/// transaction ends (within the wait, min(safety lag, 30 s)) and places the window by its
/// first probe instead of holding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_run_waits_for_the_open_transactions_instead_of_holding() {
    let pair = Pair::start().await;
    let url = pair.standby_url();
    let mut open = pair.primary().await;
    exec(&mut open, "BEGIN").await;
    exec(&mut open, &leg_sql(904, "2026-10-05 12:00:00+00", "now()")).await;
    pair.wait_replayed().await;
    let committer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        exec(&mut open, "COMMIT").await;
    });

    let lake = Lake::new("safety_lag = \"3s\"", CALLS_CSV);
    let args: Vec<&str> = lake
        .args_for(&url)
        .into_iter()
        .filter(|a| *a != "-q")
        .collect();
    let started = Instant::now();
    let out = run(&args);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(!said.contains("watermarks held"), "{said}");
    assert!(said.contains("hot standby (replayed to"), "{said}");
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "it waited"
    );
    committer.await.unwrap();

    // The standby knows the primary's time only from what it replays: a commit after the
    // safety lag has passed moves it on.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    pair.wait_replayed().await;
    run_ok(&lake.args_for(&url));
    assert_eq!(
        ids(&lake.csv_rows("calls")),
        pair.all_leg_ids().await,
        "every leg exactly once"
    );
}

/// With `restate = "7d"` on a standby: a leg of a restated day not yet replayed is in neither
/// read of the run (both are bounded by the replayed snapshot), and the next run after replay
/// exports it once; the restated days then hold every leg once.
#[tokio::test]
async fn a_restated_run_on_a_standby_exports_a_late_replayed_leg_once() {
    let pair = Pair::start().await;
    let url = pair.standby_url();
    let jobs = "[[jobs]]\ndataset = \"calls\"\nformat = \"csv\"\nrestate = \"7d\"\n";
    let lake = Lake::new("safety_lag = \"0s\"", jobs);
    let yesterday = (chrono::Utc::now() - chrono::Duration::hours(20)).to_rfc3339();
    exec(
        &mut pair.primary().await,
        &leg_sql(911, &yesterday, "now()"),
    )
    .await;
    pair.wait_replayed().await;
    run_ok(&lake.args_for(&url));
    assert!(
        ids(&lake.csv_rows("calls"))
            .iter()
            .any(|id| id.ends_with("911"))
    );

    pair.on_standby("SELECT pg_wal_replay_pause()").await;
    exec(
        &mut pair.primary().await,
        &leg_sql(912, &yesterday, "now()"),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    run_ok(&lake.args_for(&url));
    let exported = ids(&lake.csv_rows("calls"));
    assert!(
        !exported.iter().any(|id| id.ends_with("912")),
        "not replayed yet"
    );
    assert!(
        exported.iter().any(|id| id.ends_with("911")),
        "its day restated, still there"
    );

    pair.on_standby("SELECT pg_wal_replay_resume()").await;
    pair.wait_replayed().await;
    run_ok(&lake.args_for(&url));
    let manifest = lake.manifests().pop().unwrap();
    assert!(
        manifest["jobs"][0]["restated"]
            .as_array()
            .is_some_and(|d| !d.is_empty()),
        "{manifest}"
    );
    assert_eq!(
        ids(&lake.csv_rows("calls")),
        pair.all_leg_ids().await,
        "every leg exactly once"
    );
}
