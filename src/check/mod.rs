//! `webitel-export check`: will the exports work against this database, with this role?
//!
//! For every dataset and report, the server prepares (parses and plans, never runs) the same
//! query file the export uses, so a missing table or column is named exactly as PostgreSQL
//! names it. Every schema and table a query reads gets a USAGE / SELECT privilege check, all
//! of them listed when some are missing. The schema level is the newest Webitel release in
//! `migrations-test/` whose added columns are all present, and the query checked is the
//! variant for that level ([`crate::levels`]); the columns it reads as NULL on that release are
//! listed per dataset. The check also reports the server version, TLS, row estimates and
//! whether `cc_calls_history` is partitioned.
//!
//! The read-only role script (`docs/readonly-role.sql`, [`role_script`]) is generated from the
//! same query files, so it grants exactly what the exports read.

use std::collections::BTreeSet;

use serde::Serialize;
use sqlx::postgres::PgConnection;
use sqlx::{Executor, SqlSafeStr};

use crate::error::{Error, Result};
use crate::levels::{self, Level, Schema};

mod retention;
mod role;
use crate::registry;
use crate::session::Session;
use crate::source::ConnArgs;
pub use levels::tables_read;
pub use role::{role_script, tables_needed};

/// Each dataset and report, with the template of the query it runs.
fn queries() -> impl Iterator<Item = (&'static str, &'static str)> {
    registry::all().map(|d| (d.name, d.query))
}

/// The PostgreSQL major versions the test suite runs on (CI).
pub const TESTED_MAJORS: [i32; 3] = [14, 15, 18];

/// Report format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
}

/// `webitel-export check`.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// Only these datasets or reports (default: all).
    #[arg(value_name = "DATASET")]
    pub datasets: Vec<String>,
    /// text for people, json for scripts.
    #[arg(long, value_enum, default_value = "text")]
    pub format: CheckFormat,
    /// Also check a `run` configuration: whether the storage service will delete recordings
    /// before its archiving jobs copy them (storage profile expire_day, file retention_until).
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub conn: ConnArgs,
}

#[derive(Serialize)]
struct Report {
    server_version: String,
    server_version_num: i32,
    /// Whether the server's major version is one the test suite runs on.
    server_tested: bool,
    user: String,
    tls: Tls,
    schema_level: String,
    /// The Webitel releases the detected schema can belong to.
    releases: String,
    calls_partitioned: bool,
    /// A hot standby (in recovery), and the primary's commit time of the last transaction it
    /// replayed.
    hot_standby: bool,
    replayed_to: Option<chrono::DateTime<chrono::Utc>>,
    /// Not failures: what works with reduced guarantees.
    warnings: Vec<String>,
    datasets: Vec<DatasetCheck>,
    ok: bool,
}

#[derive(Serialize)]
struct Tls {
    on: bool,
    version: Option<String>,
    cipher: Option<String>,
}

#[derive(Serialize)]
struct DatasetCheck {
    name: String,
    ok: bool,
    problems: Vec<String>,
    /// Columns this release does not have, read as NULL wherever the query uses them (output
    /// columns and filters): `name (the release that adds it)`.
    degraded: Vec<String>,
    /// Estimated rows of the main table (pg_class.reltuples).
    estimated_rows: Option<i64>,
    /// The release whose variant of the query runs: the newest whose tables and columns the
    /// query reads all exist.
    level: String,
}

impl DatasetCheck {
    fn new(name: &str, level: Level, problems: Vec<String>) -> DatasetCheck {
        DatasetCheck {
            name: name.to_string(),
            ok: problems.is_empty(),
            problems,
            degraded: Vec::new(),
            estimated_rows: None,
            level: level.to_string(),
        }
    }
}

/// Runs the check; `Ok(false)` when something asked for cannot run.
pub async fn run(args: &CheckArgs) -> Result<bool> {
    let wanted = selected(&args.datasets)?;
    args.conn.validate()?;
    if let Some(config) = &args.config {
        // What a run checks before it starts, without the database.
        crate::job::config::Config::load(config)?.metrics.check()?;
    }
    let mut session = Session::open(&args.conn, &[]).await?;
    let server = sqlx::query_file!("queries/check_server.sql")
        .fetch_one(session.db())
        .await
        .map_err(|e| Error::database("reading the server settings", e))?;
    let schema = session.schema().clone();
    let mut datasets = Vec::new();
    for dataset in registry::all().filter(|d| wanted.contains(d.name)) {
        datasets.push(check_dataset(session.db(), &schema, dataset).await?);
    }
    let mut warnings = Vec::new();
    let major = server.server_version_num / 10000;
    let server_tested = TESTED_MAJORS.contains(&major);
    if !server_tested {
        warnings.push(format!(
            "PostgreSQL {major} is not among the versions the tool is tested on ({})",
            TESTED_MAJORS.map(|m| m.to_string()).join(", ")
        ));
    }
    if !server.reads_all_stats {
        warnings.push(format!(
            "{} is not a member of pg_read_all_stats: other roles' open transactions are \
             hidden from it, so run cannot hold back rows of transactions still committing \
             (grant it, as docs/readonly-role.sql does)",
            server.user_name
        ));
    }
    if let Some(config) = &args.config {
        warnings.extend(retention::warnings(session.db(), &schema, config).await?);
    }
    let report = Report {
        server_version: server.server_version,
        server_version_num: server.server_version_num,
        server_tested,
        user: server.user_name,
        tls: Tls {
            on: server.ssl,
            version: server.ssl_version,
            cipher: server.ssl_cipher,
        },
        schema_level: schema.newest().to_string(),
        releases: levels::release_range(schema.newest()),
        warnings,
        calls_partitioned: server.calls_partitioned,
        hot_standby: server.hot_standby,
        replayed_to: server.replayed_to,
        ok: datasets.iter().all(|d| d.ok),
        datasets,
    };
    session.close().await;
    match args.format {
        CheckFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("plain data serializes")
        ),
        CheckFormat::Text => print_text(&report),
    }
    Ok(report.ok)
}

fn selected(names: &[String]) -> Result<BTreeSet<&'static str>> {
    let known: Vec<&'static str> = queries().map(|(n, _)| n).collect();
    if names.is_empty() {
        return Ok(known.into_iter().collect());
    }
    names
        .iter()
        .map(|n| {
            known.iter().copied().find(|k| k == n).ok_or_else(|| {
                Error::input(format!(
                    "unknown dataset '{n}': expected one of {}",
                    known.join(", ")
                ))
            })
        })
        .collect()
}

/// One dataset: what its query lacks here, or whether the server prepares the variant the
/// export would run.
async fn check_dataset(
    db: &mut PgConnection,
    schema: &Schema,
    dataset: &registry::DatasetInfo,
) -> Result<DatasetCheck> {
    let fit = schema.fit(dataset.query)?;
    if !fit.gaps.is_empty() {
        let problems = fit
            .gaps
            .iter()
            .map(|gap| format!("missing {gap}, though later releases' columns are here"))
            .collect();
        return Ok(DatasetCheck::new(dataset.name, fit.level, problems));
    }
    if fit.level < dataset.since {
        return Ok(absent_before(dataset, fit.level));
    }
    let rendered = levels::render(dataset.query, fit.level).map_err(Error::input)?;
    let mut check = check_query(db, dataset.name, rendered).await?;
    check.level = fit.level.to_string();
    check.degraded = levels::degraded_columns(dataset.query, fit.level).map_err(Error::input)?;
    Ok(check)
}

/// A dataset whose table this release does not have yet: it runs, and exports nothing.
fn absent_before(dataset: &registry::DatasetInfo, level: Level) -> DatasetCheck {
    let table = tables_read(dataset.query)
        .into_iter()
        .next()
        .unwrap_or_default();
    let mut check = DatasetCheck::new(dataset.name, level, Vec::new());
    check.degraded = vec![format!(
        "{table} comes with Webitel {}: the export is empty here",
        dataset.since
    )];
    check
}

/// Checks USAGE on every schema and SELECT on every table the query reads, listing each one
/// missing; when all are granted, prepares the query (a missing column fails here, named by
/// the server).
async fn check_query(db: &mut PgConnection, name: &str, sql: String) -> Result<DatasetCheck> {
    let tables: Vec<String> = tables_read(&sql).into_iter().collect();
    let access = sqlx::query_file!("queries/check_tables.sql", &tables)
        .fetch_all(&mut *db)
        .await
        .map_err(|e| Error::database("checking privileges", e))?;
    let mut problems = Vec::new();
    for table in &access {
        let problem = if !table.can_use_schema {
            format!("no USAGE privilege on schema {}", table.schema)
        } else if !table.exists {
            format!("table {} does not exist", table.name)
        } else if !table.can_select {
            format!("no SELECT privilege on {}", table.name)
        } else {
            continue;
        };
        if !problems.contains(&problem) {
            problems.push(problem);
        }
    }
    let estimated_rows = access.first().and_then(|main| main.estimated_rows);
    if problems.is_empty() {
        problems.extend(prepare(db, sql).await?);
    }
    let mut check = DatasetCheck::new(name, levels::BASELINE, problems);
    check.estimated_rows = estimated_rows;
    Ok(check)
}

/// Has the server prepare (parse and plan, never run) `sql`; its error, if any.
async fn prepare(db: &mut PgConnection, sql: String) -> Result<Option<String>> {
    // A savepoint keeps the snapshot usable after a failed prepare.
    db.execute("SAVEPOINT check_query")
        .await
        .map_err(|e| Error::database("checking", e))?;
    // Our own query text, never user input.
    let statement = sqlx::AssertSqlSafe(sql).into_sql_str();
    let problem = (&mut *db)
        .prepare(statement)
        .await
        .err()
        .map(|e| match e.as_database_error() {
            Some(db_error) => db_error.message().to_string(),
            None => e.to_string(),
        });
    db.execute("ROLLBACK TO SAVEPOINT check_query")
        .await
        .map_err(|e| Error::database("checking", e))?;
    Ok(problem)
}

fn print_text(r: &Report) {
    let tls = if r.tls.on {
        format!(
            "on ({}, {})",
            r.tls.version.as_deref().unwrap_or("?"),
            r.tls.cipher.as_deref().unwrap_or("?")
        )
    } else {
        "off".to_string()
    };
    let tested = if r.server_tested {
        "tested"
    } else {
        "untested"
    };
    println!(
        "server: PostgreSQL {} ({}, {tested}), user {}, TLS {tls}",
        r.server_version, r.server_version_num, r.user
    );
    println!("schema level: {} (Webitel {})", r.schema_level, r.releases);
    println!(
        "cc_calls_history partitioned: {}",
        if r.calls_partitioned { "yes" } else { "no" }
    );
    if r.hot_standby {
        let replayed = r
            .replayed_to
            .map_or("no transaction yet".to_string(), |t| t.to_rfc3339());
        println!(
            "hot standby: replayed to {replayed}; run exports what the standby has replayed, \
             each row once (docs/nightly.md)"
        );
    }
    for d in &r.datasets {
        let rows = d
            .estimated_rows
            .map_or(String::new(), |n| format!(" (~{n} rows)"));
        // A dataset whose query misses something reads as an older release's variant.
        let level = if d.level == r.schema_level {
            String::new()
        } else {
            format!(" [reads as {}]", d.level)
        };
        if d.ok {
            println!("ok    {}{rows}{level}", d.name);
        } else {
            println!("FAIL  {}{rows}: {}", d.name, d.problems.join("; "));
        }
        if !d.degraded.is_empty() {
            println!(
                "      read as NULL here (a later release has them): {}",
                d.degraded.join(", ")
            );
        }
    }
    for w in &r.warnings {
        println!("warning: {w}");
    }
}
