//! What the connected database has of the schema the tool reads, and what each query makes of
//! it.
//!
//! [`Schema::detect`] reads, once per session, which `(table, column)` pairs of
//! `migrations-test/` exist. Each query template then gets its own level ([`Schema::fit`]):
//! the newest release all of whose tables and columns *that template reads* exist. So a table
//! missing for one dataset leaves every other dataset whole.
//!
//! A missing table or column is one of two things:
//! - **an older release**: it came with a release newer than anything the database has (no
//!   table or column of that release or a later one exists). The template's variant for the
//!   older release runs: the documented NULLs, or an empty export before the dataset's release.
//! - **a gap**: the database has columns of that release or a later one, yet not this one (a
//!   table dropped by hand, a migration applied in part, a restore of some schemas). The
//!   export refuses ([`Fit::require_whole`]) and `check` names it: reading it as NULL would
//!   silently change the rows, and the variants are cut by release, so one missing column would
//!   turn every later release's column of the dataset to NULL too.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::postgres::PgConnection;

use super::level::{BASELINE, Level};
use super::variants::{expand_includes, marked_names, render};
use super::{MIGRATOR, added_columns};
use crate::error::{Error, Result};

/// A `(schema.table, column)` pair.
type Pair = (String, String);

/// The tables and columns of `migrations-test/` that the connected database has.
#[derive(Clone, Debug)]
pub struct Schema {
    present: BTreeSet<Pair>,
    /// The newest release any of whose tables or columns exist: every release up to it is
    /// expected whole, so what it lacks from them is a gap.
    newest: Level,
}

/// A table or column a query reads, with the release that brings it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    pub table: String,
    /// `None`: the whole table.
    pub column: Option<String>,
    /// The Webitel release that brings it.
    pub release: Level,
}

impl std::fmt::Display for Piece {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(column) => write!(f, "column {}.{column}", self.table)?,
            None => write!(f, "table {}", self.table)?,
        }
        if self.release == BASELINE {
            write!(f, " (every Webitel release has it)")
        } else {
            write!(f, " (Webitel {} has it)", self.release)
        }
    }
}

/// How one query template reads this database.
#[derive(Clone, Debug)]
pub struct Fit {
    /// The variant to run: the newest release of the database up to which the tables and
    /// columns the template reads all exist.
    pub level: Level,
    /// What the template reads that an older release lacks and this database has later
    /// releases' columns for: refused.
    pub gaps: Vec<Piece>,
}

impl Fit {
    /// The level, or for a gap an error naming each missing table or column (exit 1).
    pub fn require_whole(&self, what: &str) -> Result<Level> {
        if self.gaps.is_empty() {
            return Ok(self.level);
        }
        let list: Vec<String> = self.gaps.iter().map(Piece::to_string).collect();
        Err(Error::SchemaGap(format!(
            "{what} cannot be read: this database has later Webitel releases' tables and \
             columns, but lacks {} (a table dropped, a migration applied in part or a partial \
             restore?); `webitel-export check` lists what is missing",
            list.join(", ")
        )))
    }
}

impl Schema {
    /// Reads which tables and columns of `migrations-test/` exist (from the catalogs: no
    /// privilege on the tables is needed).
    pub async fn detect(db: &mut PgConnection) -> Result<Schema> {
        let releases = release_pairs();
        let (tables, columns): (Vec<String>, Vec<String>) =
            releases.values().flatten().cloned().unzip();
        let rows = sqlx::query_file!("queries/check_columns.sql", &tables, &columns)
            .fetch_all(&mut *db)
            .await
            .map_err(|e| Error::database("detecting the schema level", e))?;
        let present: BTreeSet<Pair> = rows
            .into_iter()
            .filter(|c| c.present)
            .map(|c| (c.table_name, c.column_name))
            .collect();
        Ok(Schema::from_present(present))
    }

    /// The schema of a database that has exactly `present`.
    pub fn from_present(present: BTreeSet<Pair>) -> Schema {
        let newest = release_pairs()
            .iter()
            .filter(|(_, pairs)| pairs.iter().any(|p| present.contains(p)))
            .map(|(level, _)| *level)
            .max()
            .unwrap_or(BASELINE);
        Schema { present, newest }
    }

    /// The newest Webitel release this database has anything of.
    pub fn newest(&self) -> Level {
        self.newest
    }

    /// How `template` reads this database: its level, and its gaps.
    pub fn fit(&self, template: &str) -> Result<Fit> {
        let needs = requirements(template).map_err(Error::Other)?;
        let missing: Vec<Piece> = needs.into_iter().filter(|m| !self.has(m)).collect();
        // The newest release the database has, or the one before the first release whose
        // tables or columns this template misses.
        let level = match missing.iter().map(|m| m.release).min() {
            Some(first) => release_pairs()
                .into_keys()
                .filter(|l| *l < first && *l <= self.newest)
                .max()
                .unwrap_or(BASELINE),
            None => self.newest,
        };
        let gaps = missing
            .into_iter()
            .filter(|m| m.release <= self.newest)
            .collect();
        Ok(Fit { level, gaps })
    }

    fn has(&self, m: &Piece) -> bool {
        match &m.column {
            Some(column) => self.present.contains(&(m.table.clone(), column.clone())),
            None => self
                .present
                .range((m.table.clone(), String::new())..)
                .next()
                .is_some_and(|(t, _)| *t == m.table),
        }
    }
}

/// The releases of `migrations-test/`, ascending (the baseline first).
pub(super) fn releases() -> Vec<Level> {
    release_pairs().into_keys().collect()
}

/// Each release of `migrations-test/` (the baseline included) with the `(table, column)`
/// pairs it adds.
fn release_pairs() -> BTreeMap<Level, Vec<Pair>> {
    MIGRATOR
        .iter()
        .filter_map(|m| {
            let level = Level::of_migration(&m.description)?;
            Some((level, added_columns(m.sql.as_str())))
        })
        .collect()
}

/// What `template` reads that some release brings: every table it names (with the release
/// that created it), and every column a level marker stands for (with the marker's release).
pub fn requirements(template: &str) -> std::result::Result<Vec<Piece>, String> {
    let releases = release_pairs();
    let newest = releases.keys().next_back().copied().unwrap_or(BASELINE);
    let tables = tables_read(&render(template, newest)?);
    let mut needs = Vec::new();
    for table in &tables {
        let created = releases
            .iter()
            .find(|(_, pairs)| pairs.iter().any(|(t, _)| t == table));
        if let Some((release, _)) = created {
            needs.push(Piece {
                table: table.clone(),
                column: None,
                release: *release,
            });
        }
    }
    for (release, name) in marked_names(&expand_includes(template)?)? {
        let added = releases.get(&release).map(Vec::as_slice).unwrap_or(&[]);
        for (table, column) in added {
            let need = Piece {
                table: table.clone(),
                column: Some(column.clone()),
                release,
            };
            if *column == name && tables.contains(table) && !needs.contains(&need) {
                needs.push(need);
            }
        }
    }
    Ok(needs)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_without(dropped: &[(&str, Option<&str>)]) -> Schema {
        let present = release_pairs()
            .into_values()
            .flatten()
            .filter(|(t, c)| {
                !dropped
                    .iter()
                    .any(|(dt, dc)| t == dt && dc.is_none_or(|dc| dc == c))
            })
            .collect();
        Schema::from_present(present)
    }

    fn schema_at(level: &str) -> Schema {
        let level: Level = level.parse().unwrap();
        let present = release_pairs()
            .into_iter()
            .filter(|(l, _)| *l <= level)
            .flat_map(|(_, pairs)| pairs)
            .collect();
        Schema::from_present(present)
    }

    const QA: &str = include_str!("../../queries/qa_scores.sql");
    const CALLS: &str = include_str!("../../queries/calls.sql");
    const QUEUES: &str = include_str!("../../queries/queues.sql");

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

    #[test]
    fn an_older_release_reads_its_variant_without_gaps() {
        let schema = schema_at("v23.02");
        assert_eq!(schema.newest().to_string(), "v23.02");
        let calls = schema.fit(CALLS).unwrap();
        assert_eq!(calls.level.to_string(), "v23.02");
        assert!(calls.gaps.is_empty());
        // qa-scores' tables come with v23.05: not a gap here, an older release.
        let qa = schema.fit(QA).unwrap();
        assert!(qa.level < "v23.05".parse().unwrap());
        assert!(qa.gaps.is_empty());
    }

    #[test]
    fn a_missing_table_affects_only_the_queries_that_read_it() {
        let schema = schema_without(&[("call_center.cc_audit_form", None)]);
        let newest = schema_at("v26.04").fit(CALLS).unwrap().level;
        assert_eq!(newest.to_string(), "v26.04");
        let calls = schema.fit(CALLS).unwrap();
        assert_eq!(calls.level, newest);
        assert!(calls.gaps.is_empty());
        assert_eq!(schema.fit(QUEUES).unwrap().level, newest);
        let qa = schema.fit(QA).unwrap();
        assert_eq!(
            qa.gaps,
            [Piece {
                table: "call_center.cc_audit_form".into(),
                column: None,
                release: "v23.05".parse().unwrap()
            }]
        );
        let err = qa.require_whole("qa-scores").unwrap_err().to_string();
        assert!(
            err.contains("table call_center.cc_audit_form (Webitel v23.05 has it)"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_column_of_an_older_release_is_a_gap() {
        let schema = schema_without(&[("call_center.cc_calls_history", Some("search_number"))]);
        let calls = schema.fit(CALLS).unwrap();
        assert_eq!(calls.gaps.len(), 1, "{:?}", calls.gaps);
        assert_eq!(calls.gaps[0].column.as_deref(), Some("search_number"));
        assert_eq!(calls.gaps[0].release.to_string(), "v23.12");
        // The queues query does not read it.
        assert!(schema.fit(QUEUES).unwrap().gaps.is_empty());
    }
}
