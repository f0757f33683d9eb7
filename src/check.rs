//! `webitel-export check`: will the exports work against this database, with this role?
//!
//! For every dataset and report, the server prepares (parses and plans, never runs) the same
//! query file the export uses, so a missing table or column is named exactly as PostgreSQL
//! names it. The tables a query reads get a SELECT privilege check. The schema level is the
//! newest Webitel release in `migrations-test/` whose added columns are all present, and the
//! query checked is the variant for that level ([`crate::levels`]). The check also reports the
//! server version, TLS, row estimates and whether `cc_calls_history` is
//! partitioned.

use std::collections::BTreeSet;

use serde::Serialize;
use sqlx::postgres::PgConnection;
use sqlx::{Executor, SqlSafeStr};

use crate::error::{Error, Result};
use crate::levels;
use crate::source::{self, ConnArgs};

/// Each dataset and report, with the query file it runs.
const QUERIES: &[(&str, &str)] = &[
    ("calls", include_str!("../queries/calls.sql")),
    ("queues", include_str!("../queries/queues.sql")),
    ("agents", include_str!("../queries/agents.sql")),
    ("attempts", include_str!("../queries/attempts.sql")),
    ("agent-states", include_str!("../queries/agent_states.sql")),
    ("recordings", include_str!("../queries/recordings.sql")),
    (
        "agent-activity",
        include_str!("../queries/report_agent_activity.sql"),
    ),
    (
        "queue-activity",
        include_str!("../queries/report_queue_activity.sql"),
    ),
];

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
    user: String,
    tls: Tls,
    schema_level: String,
    calls_partitioned: bool,
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
    for (name, sql) in QUERIES.iter().filter(|(n, _)| wanted.contains(n)) {
        // The variant the export would run at this level (webitel-schema.md §8).
        let sql = levels::render(sql, level).map_err(Error::input)?;
        datasets.push(check_query(&mut tx, name, sql).await?);
    }
    let report = Report {
        server_version: server.server_version,
        server_version_num: server.server_version_num,
        user: server.user_name,
        tls: Tls {
            on: server.ssl,
            version: server.ssl_version,
            cipher: server.ssl_cipher,
        },
        schema_level: level.to_string(),
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
    let known: Vec<&'static str> = QUERIES.iter().map(|(n, _)| *n).collect();
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

/// Prepares the query (a missing table or column fails here, named by the server) and checks
/// SELECT on every table it reads.
async fn check_query(db: &mut PgConnection, name: &str, sql: String) -> Result<DatasetCheck> {
    let mut problems = Vec::new();
    // A savepoint keeps the snapshot usable after a failed prepare.
    db.execute("SAVEPOINT check_query")
        .await
        .map_err(|e| Error::database("checking", e))?;
    let tables: Vec<String> = tables_read(&sql).into_iter().collect();
    // Our own query text, never user input.
    let statement = sqlx::AssertSqlSafe(sql).into_sql_str();
    if let Err(e) = (&mut *db).prepare(statement).await {
        problems.push(match e.as_database_error() {
            Some(db_error) => db_error.message().to_string(),
            None => e.to_string(),
        });
    }
    db.execute("ROLLBACK TO SAVEPOINT check_query")
        .await
        .map_err(|e| Error::database("checking", e))?;
    let access = sqlx::query_file!("queries/check_tables.sql", &tables)
        .fetch_all(&mut *db)
        .await
        .map_err(|e| Error::database("checking table privileges", e))?;
    let mut estimated_rows = None;
    for table in access {
        if !table.exists {
            problems.push(format!("table {} does not exist", table.name));
        } else if !table.can_select {
            problems.push(format!("no SELECT privilege on {}", table.name));
        }
        if estimated_rows.is_none() {
            estimated_rows = table.estimated_rows;
        }
    }
    problems.dedup();
    Ok(DatasetCheck {
        name: name.to_string(),
        ok: problems.is_empty(),
        problems,
        estimated_rows,
    })
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
        if name_len > 0 && !seen.contains(&table) {
            seen.push(table);
        }
    }
    seen
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
    println!(
        "server: PostgreSQL {} ({}), user {}, TLS {tls}",
        r.server_version, r.server_version_num, r.user
    );
    println!("schema level: {}", r.schema_level);
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_read_from_the_query_text_main_table_first() {
        let sql = "-- reads call_center.cc_fake\nSELECT 1 FROM call_center.cc_calls_history c\n\
                   LEFT JOIN storage.files f ON true JOIN call_center.cc_calls_history p ON true";
        assert_eq!(
            tables_read(sql),
            ["call_center.cc_calls_history", "storage.files"]
        );
    }
}
