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

use futures_util::future::LocalBoxFuture;

use crate::datasets::Dataset;
use crate::error::{Error, Result};
use crate::export::{ExportOptions, Summary};
use crate::pg_server::LocalPostgres;
use crate::registry::{self, JobFilter, JobVisitor};
use crate::sink::{Format, SinkOptions};
use crate::source::ConnArgs;

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
    /// Only start and seed the server (with --keep: a database to try commands against).
    #[arg(long)]
    pub no_export: bool,
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
    crate::levels::MIGRATOR
        .run(&mut conn)
        .await
        .map_err(|e| Error::Other(format!("applying migrations-test: {e}")))?;
    Ok(url)
}

/// Tables the generator bulk-loads (their secondary indexes are rebuilt after the load).
const SEEDED_TABLES: [&str; 5] = [
    "call_center.cc_agent_state_history",
    "call_center.cc_calls_history",
    "call_center.cc_member",
    "call_center.cc_member_attempt_history",
    "storage.files",
];

/// Fills the database at `url` (which has the Webitel schema) with `legs` call legs and
/// everything they refer to. Deterministic for a given `seed`. Generation runs inside the
/// server (`generate_series`), on two connections where steps are independent, so a million
/// legs take well under a minute on two cores.
pub async fn seed(url: &str, legs: u64, seed: i64) -> Result<SeedSummary> {
    let legs = i64::try_from(legs).map_err(|_| Error::input("--calls is too large"))?;
    // About 1.83 legs per call family (see demo_calls.sql); a margin so LIMIT always bites.
    let families = legs * 6 / 10 + 100;
    let mut first = connect(url).await?;
    let mut second = connect(url).await?;

    let indexes = drop_secondary_indexes(&mut first).await?;
    let mut tx = begin_seeding(&mut first).await?;
    let reference = sqlx::query_file_scalar!("queries/demo_reference.sql")
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| Error::database("seeding reference data", e))?;
    let calls = sqlx::query_file!("queries/demo_calls.sql", seed, families, legs)
        .execute(&mut *tx)
        .await
        .map_err(|e| Error::database("seeding call legs", e))?;
    let states = sqlx::query_file_scalar!("queries/demo_agent_states.sql", seed)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| Error::database("seeding agent states", e))?;
    tx.commit()
        .await
        .map_err(|e| Error::database("seeding", e))?;

    // Attempts and recordings both derive from the legs, not from each other.
    let (attempts, files) = tokio::try_join!(
        seed_step(&mut first, "seeding attempts", |tx| Box::pin(async move {
            sqlx::query_file_scalar!("queries/demo_attempts.sql", seed)
                .fetch_one(&mut **tx)
                .await
        })),
        seed_step(&mut second, "seeding recordings", |tx| Box::pin(
            async move {
                sqlx::query_file_scalar!("queries/demo_files.sql", seed)
                    .fetch_one(&mut **tx)
                    .await
            }
        )),
    )?;

    // Notes, ratings, transcripts and media statistics derive from the legs and the files.
    let beside = seed_step(&mut first, "seeding the data beside the calls", |tx| {
        Box::pin(async move {
            sqlx::query_file_scalar!("queries/demo_call_data.sql", seed)
                .fetch_one(&mut **tx)
                .await
        })
    })
    .await?;

    let (even, odd): (Vec<_>, Vec<_>) = indexes.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    tokio::try_join!(
        create_indexes(&mut first, even.into_iter().map(|(_, d)| d)),
        create_indexes(&mut second, odd.into_iter().map(|(_, d)| d)),
    )?;
    // Planner statistics, so exports get the plans a real database would.
    first
        .execute(sqlx::raw_sql("ANALYZE"))
        .await
        .map_err(|e| Error::database("analyzing the demo database", e))?;
    Ok(SeedSummary {
        call_legs: calls.rows_affected(),
        other_rows: u64::try_from(reference + states + attempts + files + beside).unwrap_or(0),
    })
}

async fn connect(url: &str) -> Result<PgConnection> {
    PgConnection::connect(url)
        .await
        .map_err(|e| Error::database("connecting to the demo database", e))
}

async fn begin_seeding(conn: &mut PgConnection) -> Result<sqlx::Transaction<'_, sqlx::Postgres>> {
    let mut tx = conn
        .begin()
        .await
        .map_err(|e| Error::database("seeding", e))?;
    sqlx::query_file!("queries/demo_session.sql")
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| Error::database("seeding", e))?;
    Ok(tx)
}

type StepFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<i64, sqlx::Error>> + Send + 'a>>;

/// Runs one generator statement in its own transaction.
async fn seed_step(
    conn: &mut PgConnection,
    what: &'static str,
    step: impl for<'t> FnOnce(&'t mut sqlx::Transaction<'_, sqlx::Postgres>) -> StepFuture<'t>,
) -> Result<i64> {
    let mut tx = begin_seeding(conn).await?;
    let rows = step(&mut tx).await.map_err(|e| Error::database(what, e))?;
    tx.commit().await.map_err(|e| Error::database(what, e))?;
    Ok(rows)
}

/// Drops the secondary indexes of [`SEEDED_TABLES`]; returns their definitions.
async fn drop_secondary_indexes(conn: &mut PgConnection) -> Result<Vec<String>> {
    let tables: Vec<String> = SEEDED_TABLES.iter().map(|t| t.to_string()).collect();
    let indexes = sqlx::query_file!("queries/demo_secondary_indexes.sql", &tables)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| Error::database("listing indexes", e))?;
    for index in &indexes {
        // DDL cannot be a prepared statement; the name comes from the catalog, quoted by format('%I').
        let drop = format!("DROP INDEX {}", index.name);
        conn.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(drop)))
            .await
            .map_err(|e| Error::database("dropping an index before the bulk load", e))?;
    }
    Ok(indexes.into_iter().map(|i| i.definition).collect())
}

async fn create_indexes<'a>(
    conn: &mut PgConnection,
    definitions: impl Iterator<Item = &'a String>,
) -> Result<()> {
    let mut tx = begin_seeding(conn).await?;
    for definition in definitions {
        // pg_get_indexdef output: the server's own DDL for the index it had.
        tx.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(definition.clone())))
            .await
            .map_err(|e| Error::database("rebuilding an index after the bulk load", e))?;
    }
    tx.commit()
        .await
        .map_err(|e| Error::database("rebuilding indexes", e))
}

/// The window of the demo's reports.
const DEMO_MONTH: [&str; 6] = [
    "--from",
    "2026-09-01",
    "--to",
    "2026-10-01",
    "--tz",
    "Europe/Kyiv",
];

/// Exports one dataset of the demo, as its subcommand would with default flags.
struct DemoExport<'a> {
    conn: &'a ConnArgs,
    options: ExportOptions,
}

impl<'a> JobVisitor for DemoExport<'a> {
    type Output = LocalBoxFuture<'a, Result<Summary>>;
    fn visit<D: Dataset>(self, filter: &D::Filter) -> Self::Output {
        let filter = filter.clone();
        Box::pin(async move {
            crate::session::export::<D>(self.conn, &filter, &D::Extra::default(), self.options)
                .await
        })
    }
}

/// Runs the demo end to end.
pub async fn run(args: &DemoArgs) -> Result<()> {
    let started = Instant::now();
    let server = LocalPostgres::start_default().await?;
    let url = create_webitel_database(&server, "webitel").await?;
    let seeded = seed(&url, args.calls, args.seed).await?;
    println!(
        "demo: PostgreSQL from {}, seeded {} call legs and {} related rows in {:.1} s",
        server.bin_dir().display(),
        seeded.call_legs,
        seeded.other_rows,
        started.elapsed().as_secs_f64()
    );

    std::fs::create_dir_all(&args.out_dir).map_err(|e| Error::output(&args.out_dir, e))?;
    let conn_args = ConnArgs::for_url(&url);
    let formats: &[Format] = if args.no_export {
        &[]
    } else {
        &[Format::Parquet, Format::Csv]
    };
    for &format in formats {
        for dataset in registry::all() {
            // Reports cover the demo's month of activity, per local day in Kyiv.
            let (file, flags) = if dataset.needs_since {
                (format!("report-{}", dataset.name), DEMO_MONTH.to_vec())
            } else {
                (dataset.name.to_string(), Vec::new())
            };
            let flags: Vec<String> = flags.into_iter().map(String::from).collect();
            let filter = JobFilter::parse(dataset.name, &flags, chrono_tz::UTC)
                .expect("a registered dataset")
                .map_err(Error::input)?;
            let options = ExportOptions {
                output: Some(args.out_dir.join(format!("{file}.{}", format.name()))),
                sink: SinkOptions {
                    format,
                    ..SinkOptions::default()
                },
                quiet: args.quiet,
                stall_timeout: None,
            };
            let export = DemoExport {
                conn: &conn_args,
                options,
            };
            println!("{}", filter.visit(export).await?.line());
        }
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
