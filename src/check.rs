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
use crate::levels;
use crate::registry;
use crate::source::{self, ConnArgs};

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
}

/// Runs the check; `Ok(false)` when something asked for cannot run.
pub async fn run(args: &CheckArgs) -> Result<bool> {
    let wanted = selected(&args.datasets)?;
    args.conn.validate()?;
    let mut db = args.conn.connect().await?;
    let mut tx = source::begin_snapshot(&mut db, &args.conn, &[]).await?;
    let server = sqlx::query_file!("queries/check_server.sql")
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| Error::database("reading the server settings", e))?;
    let level = levels::detect(&mut tx).await?;
    let mut datasets = Vec::new();
    for (name, sql) in queries().filter(|(n, _)| wanted.contains(n)) {
        // The variant the export would run at this level.
        let rendered = levels::render(sql, level).map_err(Error::input)?;
        let mut check = check_query(&mut tx, name, rendered).await?;
        check.degraded = levels::degraded_columns(sql, level).map_err(Error::input)?;
        datasets.push(check);
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
        schema_level: level.to_string(),
        releases: levels::release_range(level),
        warnings,
        calls_partitioned: server.calls_partitioned,
        ok: datasets.iter().all(|d| d.ok),
        datasets,
    };
    tx.rollback().await.ok();
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
    Ok(DatasetCheck {
        name: name.to_string(),
        ok: problems.is_empty(),
        problems,
        degraded: Vec::new(),
        estimated_rows,
    })
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

/// Every table any export, report or `run` reads, at any schema level, main tables first:
/// what the read-only role needs SELECT on.
pub fn tables_needed() -> Vec<String> {
    let mut tables: Vec<String> = Vec::new();
    let mut texts: Vec<String> = queries()
        .map(|(_, sql)| levels::expand_includes(sql).expect("the templates' parts exist"))
        .collect();
    // `--domain` is checked against the domain list.
    texts.push(include_str!("../queries/unknown_domains.sql").to_string());
    for table in texts.iter().flat_map(|sql| tables_read(sql)) {
        if !tables.contains(&table) {
            tables.push(table);
        }
    }
    tables
}

/// The SQL an administrator runs (as a superuser) to create the read-only role the tool needs:
/// USAGE on each schema and SELECT on each table the queries read (those a release lacks are
/// skipped), and pg_read_all_stats so that `run` sees the transactions still committing.
pub fn role_script() -> String {
    let tables = tables_needed();
    let mut schemas: Vec<&str> = tables
        .iter()
        .filter_map(|t| t.split_once('.').map(|(schema, _)| schema))
        .collect();
    schemas.sort_unstable();
    schemas.dedup();
    let table_list = tables
        .iter()
        .map(|t| format!("        '{t}'"))
        .collect::<Vec<_>>()
        .join(",\n");
    format!(
        "-- GENERATED by webitel-export from the queries it runs (cargo test keeps it current).\n\
         -- The read-only role webitel-export needs. Run as a superuser in the Webitel database,\n\
         -- after replacing the password. The tool only ever SELECTs, inside a READ ONLY\n\
         -- transaction; the role makes that a server-enforced guarantee as well.\n\
         DO $$\n\
         BEGIN\n    CREATE ROLE webitel_export LOGIN PASSWORD 'change-me';\n\
         EXCEPTION WHEN duplicate_object THEN\n    RAISE NOTICE 'role webitel_export already exists';\n\
         END $$;\n\n\
         ALTER ROLE webitel_export SET default_transaction_read_only = on;\n\n\
         GRANT USAGE ON SCHEMA {schemas} TO webitel_export;\n\n\
         -- Tables a release does not have yet (cc_agent_status_log before v23.07) are skipped.\n\
         DO $$\nDECLARE\n    t text;\nBEGIN\n    FOREACH t IN ARRAY ARRAY[\n{table_list}\n    ] LOOP\n\
         \x20       IF to_regclass(t) IS NOT NULL THEN\n\
         \x20           EXECUTE format('GRANT SELECT ON %s TO webitel_export', t);\n\
         \x20       END IF;\n    END LOOP;\nEND $$;\n\n\
         -- run holds back rows of transactions still committing; seeing them in\n\
         -- pg_stat_activity needs this predefined role.\n\
         GRANT pg_read_all_stats TO webitel_export;\n",
        schemas = schemas.join(", "),
    )
}

/// The schema-qualified tables a query text names (`call_center.cc_calls_history`…), in the
/// order they first appear: the first is the query's main table.
pub fn tables_read(sql: &str) -> Vec<String> {
    const SCHEMAS: [&str; 4] = ["call_center.", "directory.", "storage.", "flow."];
    let mut seen = Vec::new();
    let code: String = sql
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    for (i, _) in code.char_indices() {
        let rest = &code[i..];
        let Some(schema) = SCHEMAS.iter().find(|s| rest.starts_with(**s)) else {
            continue;
        };
        // Only at a word start, so `x.call_center.y` cannot match in the middle.
        if i > 0 && code[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let name_len = rest[schema.len()..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len() - schema.len());
        let table = rest[..schema.len() + name_len].to_string();
        if is_function_call(&rest[schema.len() + name_len..]) {
            continue;
        }
        if name_len > 0 && !seen.contains(&table) {
            seen.push(table);
        }
    }
    seen
}

/// Whether the text after a name opens an argument list (a level marker may stand between):
/// `call_center.cc_array_to_string/*v23.12|array_to_string*/(…)` is a function, not a table.
fn is_function_call(after: &str) -> bool {
    let mut rest = after.trim_start();
    if let Some(comment) = rest.strip_prefix("/*") {
        rest = comment.split_once("*/").map_or("", |(_, r)| r).trim_start();
    }
    rest.starts_with('(')
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
    for d in &r.datasets {
        let rows = d
            .estimated_rows
            .map_or(String::new(), |n| format!(" (~{n} rows)"));
        if d.ok {
            println!("ok    {}{rows}", d.name);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_read_from_the_query_text_main_table_first() {
        let sql = "-- reads call_center.cc_fake\nSELECT 1 FROM call_center.cc_calls_history c\n\
                   LEFT JOIN storage.files f ON true JOIN call_center.cc_calls_history p ON true\n\
                   WHERE call_center.cc_fn/*v23.12|f*/(1) AND call_center.cc_g (2)";
        assert_eq!(
            tables_read(sql),
            ["call_center.cc_calls_history", "storage.files"]
        );
    }
}
