//! `webitel-export demo`: the whole tool on an embedded database, no Webitel needed.
//!
//! Starts a throwaway PostgreSQL ([`crate::pg_server`]), applies `migrations-test/` (the Webitel
//! schema subset the tool reads), fills it with synthetic but realistic Webitel data generated
//! server-side, exports calls to Parquet and CSV, prints a summary and removes the server.
//! The same [`seed`] feeds the test suite and the benchmark.

use std::path::PathBuf;
use std::time::Instant;

use sqlx::postgres::PgConnection;
use sqlx::{Connection, Executor};

use crate::datasets::calls::{self, CallsFilter};
use crate::error::{Error, Result};
use crate::export::ExportOptions;
use crate::pg_server::LocalPostgres;
use crate::sink::{Format, SinkOptions};
use crate::source::ConnArgs;

/// The Webitel schema subset, as numbered migrations (test and demo material only: the tool
/// never writes to a customer's database).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations-test");

#[derive(clap::Args, Clone, Debug)]
pub struct DemoArgs {
    /// Number of call legs to generate.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub calls: u64,
    /// Generator seed: the same seed gives the same data.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: i64,
    /// Leave the server running and print its URL, to try every other command against it.
    #[arg(long)]
    pub keep: bool,
    /// Where to write calls.parquet and calls.csv.
    #[arg(long, value_name = "DIR", default_value = "demo-out")]
    pub out_dir: PathBuf,
    /// No progress lines.
    #[arg(short, long)]
    pub quiet: bool,
}

/// What [`seed`] inserted.
#[derive(Clone, Copy, Debug)]
pub struct SeedSummary {
    pub call_legs: u64,
    pub other_rows: u64,
}

/// Creates database `name` on `server` with the Webitel schema applied; returns its URL.
pub async fn create_webitel_database(server: &LocalPostgres, name: &str) -> Result<String> {
    let mut admin = PgConnection::connect(&server.url("postgres"))
        .await
        .map_err(|e| Error::database("connecting to the demo server", e))?;
    // `name` is ours (a constant or a test-generated identifier), never user input.
    let create = format!("CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0");
    admin
        .execute(sqlx::raw_sql(sqlx::AssertSqlSafe(create)))
        .await
        .map_err(|e| Error::database("creating the demo database", e))?;
    let url = server.url(name);
    let mut conn = PgConnection::connect(&url)
        .await
        .map_err(|e| Error::database("connecting to the demo database", e))?;
    MIGRATOR
        .run(&mut conn)
        .await
        .map_err(|e| Error::Other(format!("applying migrations-test: {e}")))?;
    Ok(url)
}

/// Fills a database that has the Webitel schema with `legs` call legs and everything they
/// refer to. Deterministic for a given `seed`. Generation runs inside the server
/// (`generate_series`), so a million legs take seconds, not minutes.
pub async fn seed(conn: &mut PgConnection, legs: u64, seed: i64) -> Result<SeedSummary> {
    let legs = i64::try_from(legs).map_err(|_| Error::input("--calls is too large"))?;
    // About 1.83 legs per call family (see demo_calls.sql); a margin so LIMIT always bites.
    let families = legs * 6 / 10 + 100;
    let mut tx = conn.begin().await.map_err(|e| Error::database("seeding", e))?;
    sqlx::query_file_scalar!("queries/demo_session.sql")
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| Error::database("seeding", e))?;
    let reference = sqlx::query_file_scalar!("queries/demo_reference.sql")
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| Error::database("seeding reference data", e))?;
    let calls = sqlx::query_file!("queries/demo_calls.sql", seed, families, legs)
        .execute(&mut *tx)
        .await
        .map_err(|e| Error::database("seeding call legs", e))?;
    let attempts = sqlx::query_file_scalar!("queries/demo_attempts.sql", seed)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| Error::database("seeding attempts", e))?;
    let files = sqlx::query_file_scalar!("queries/demo_files.sql", seed)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| Error::database("seeding recordings", e))?;
    tx.commit().await.map_err(|e| Error::database("seeding", e))?;
    // Planner statistics, so the exports get the plans a real database would.
    conn.execute(sqlx::raw_sql("ANALYZE"))
        .await
        .map_err(|e| Error::database("analyzing the demo database", e))?;
    Ok(SeedSummary {
        call_legs: calls.rows_affected(),
        other_rows: u64::try_from(reference + attempts + files).unwrap_or(0),
    })
}

/// Runs the demo end to end.
pub async fn run(args: &DemoArgs) -> Result<()> {
    let started = Instant::now();
    let server = LocalPostgres::start_default().await?;
    let url = create_webitel_database(&server, "webitel").await?;
    let mut conn = PgConnection::connect(&url)
        .await
        .map_err(|e| Error::database("connecting to the demo database", e))?;
    let seeded = seed(&mut conn, args.calls, args.seed).await?;
    conn.close().await.ok();
    println!(
        "demo: PostgreSQL from {}, seeded {} call legs and {} related rows in {:.1} s",
        server.bin_dir().display(),
        seeded.call_legs,
        seeded.other_rows,
        started.elapsed().as_secs_f64()
    );

    std::fs::create_dir_all(&args.out_dir).map_err(|e| Error::output(&args.out_dir, e))?;
    let conn_args = ConnArgs {
        database_url: Some(url.clone()),
        statement_timeout: "0".into(),
        connect_timeout: "15s".into(),
        ..ConnArgs::default()
    };
    for format in [Format::Parquet, Format::Csv] {
        let options = ExportOptions {
            output: Some(args.out_dir.join(format!("calls.{}", format.name()))),
            sink: SinkOptions {
                format,
                ..SinkOptions::default()
            },
            quiet: args.quiet,
        };
        let summary = calls::export(&conn_args, &CallsFilter::default(), options).await?;
        println!("{}", summary.line());
    }

    if args.keep {
        let data = server.keep();
        println!("demo: server left running at {url}");
        println!("demo: try  webitel-export calls --database-url {url} --top-level -o calls.csv");
        println!(
            "demo: stop it with  kill -INT $(head -1 {}/postmaster.pid)",
            data.display()
        );
    } else {
        drop(server);
        println!("demo: server removed");
    }
    Ok(())
}
