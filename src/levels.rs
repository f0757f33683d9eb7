//! Webitel schema levels: which release's tables and columns a database has, and the query
//! variant that reads it.
//!
//! Webitel adds columns release by release (its release branches' schema dumps show which) and
//! changed the call ids from varchar to uuid in v23.05. The query files in `queries/` are
//! written for the newest schema; where one reads something an older release lacks, it
//! carries a marker right after that expression:
//!
//! ```sql
//! COALESCE(c.amd_result, c.amd_ai_result/*v22.12|NULL::varchar*/)::text AS "amd_result?",
//! ```
//!
//! meaning "before v22.12, read `NULL::varchar` in place of `c.amd_ai_result`". The expression
//! replaced is the dotted name just before the marker. From each marked query the variants for
//! older levels are generated into `queries/levels/` (committed, kept current by a test), so
//! every variant is still compiled against the newest schema by sqlx's `query_file_as!`: an
//! absent column reads as a typed NULL and the output schema is the same at every level.
//! [`leveled_query_as!`] picks the variant for the level detected in the export's snapshot.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use sqlx::postgres::PgConnection;

use crate::error::{Error, Result};

/// Webitel's schema history of the tables the tool reads, one migration per release (the
/// levels are read from it; the demo and the tests build databases with it: the tool never
/// writes to a customer's database).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations-test");

/// A Webitel release, `vYY.MM`, ordered by date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Level {
    year: u8,
    month: u8,
}

/// The oldest schema the tool reads: the v22.05 baseline of `migrations-test/`.
pub const BASELINE: Level = Level { year: 22, month: 5 };

impl FromStr for Level {
    type Err = String;

    /// `v22.05` (as in the markers) or `v22_05` (as in file names).
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || format!("'{s}' is not a Webitel release like v22.05");
        let digits = s.strip_prefix('v').ok_or_else(bad)?;
        let (year, month) = digits.split_once(['.', '_']).ok_or_else(bad)?;
        let year: u8 = year.parse().map_err(|_| bad())?;
        let month: u8 = month.parse().map_err(|_| bad())?;
        if year < 10 || !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Level { year, month })
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{:02}", self.year, self.month)
    }
}

impl Level {
    /// The release a migration of `migrations-test/` brings the schema to: its description
    /// reads `v24 02` (from `240200_v24_02.sql`) or `v22 05 baseline`.
    pub fn of_migration(description: &str) -> Option<Level> {
        let mut words = description.split_whitespace();
        format!("{}.{}", words.next()?, words.next()?).parse().ok()
    }

    /// `v22_05`, for file names.
    pub fn file_tag(&self) -> String {
        format!("v{}_{:02}", self.year, self.month)
    }
}

/// The query files written for the newest schema that carry level markers: file stem, the
/// source file that runs them, the query text.
pub const LEVELED_QUERIES: &[(&str, &str, &str)] = &[
    (
        "calls",
        "src/datasets/calls.rs",
        include_str!("../queries/calls.sql"),
    ),
    (
        "recordings",
        "src/datasets/recordings.rs",
        include_str!("../queries/recordings.sql"),
    ),
    (
        "queues",
        "src/datasets/queues.rs",
        include_str!("../queries/queues.sql"),
    ),
    (
        "attempts",
        "src/datasets/attempts.rs",
        include_str!("../queries/attempts.sql"),
    ),
    (
        "agent_states",
        "src/datasets/agent_states.rs",
        include_str!("../queries/agent_states.sql"),
    ),
    (
        "report_agent_activity",
        "src/reports/agent_activity.rs",
        include_str!("../queries/report_agent_activity.sql"),
    ),
];

/// One `expr/*vYY.MM|replacement*/` marker: where the replaced expression starts, where the
/// marker starts and ends (byte offsets), the level that has the expression, and what older levels read instead.
struct Marker<'a> {
    expr_start: usize,
    start: usize,
    end: usize,
    since: Level,
    older: &'a str,
}

/// Every marker in `sql`, in order. A malformed marker is a bug in a query file, reported with
/// its text.
fn markers(sql: &str) -> std::result::Result<Vec<Marker<'_>>, String> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = sql[from..].find("/*v").map(|i| from + i) {
        let close = sql[at..]
            .find("*/")
            .map(|i| at + i)
            .ok_or_else(|| format!("unclosed level marker at byte {at}"))?;
        let body = &sql[at + 2..close];
        let (since, older) = body
            .split_once('|')
            .ok_or_else(|| format!("level marker '{body}' lacks '|replacement'"))?;
        let expr_start = sql[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .map_or(0, |i| i + 1);
        if expr_start == at {
            return Err(format!("level marker '{body}' follows no column name"));
        }
        found.push(Marker {
            expr_start,
            start: at,
            end: close + 2,
            since: since.trim().parse()?,
            older: older.trim(),
        });
        from = close + 2;
    }
    Ok(found)
}

/// `sql` as it must read at `level`: markers of newer releases swap their expression for the
/// replacement; the others just disappear.
pub fn render(sql: &str, level: Level) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(sql.len());
    let mut copied = 0;
    for m in markers(sql)? {
        if m.since > level {
            out.push_str(&sql[copied..m.expr_start]);
            out.push_str(m.older);
        } else {
            // Keep the expression, drop the marker.
            out.push_str(&sql[copied..m.start]);
        }
        copied = m.end;
    }
    out.push_str(&sql[copied..]);
    Ok(out)
}

/// The levels at which a marked query needs its own variant: the baseline and every release
/// a marker names, except the newest, where the query file itself is used.
pub fn variant_levels(sql: &str) -> std::result::Result<Vec<Level>, String> {
    let since: BTreeSet<Level> = markers(sql)?.iter().map(|m| m.since).collect();
    let Some(newest) = since.last().copied() else {
        return Ok(Vec::new());
    };
    let mut levels = vec![BASELINE];
    levels.extend(since.into_iter().filter(|l| *l != newest && *l > BASELINE));
    Ok(levels)
}

/// What a marked query reads as NULL at `level` because a later release added it: each such
/// column once, with the release that has it (`amd_ai_result (v22.12)`). Markers that only
/// adapt a type or a function name change no value and are left out.
pub fn degraded_columns(sql: &str, level: Level) -> std::result::Result<Vec<String>, String> {
    let mut found: Vec<String> = Vec::new();
    for m in markers(sql)? {
        if m.since <= level || !m.older.starts_with("NULL") {
            continue;
        }
        let expr = &sql[m.expr_start..m.start];
        let column = expr.rsplit('.').next().unwrap_or(expr);
        let entry = format!("{column} ({})", m.since);
        if !found.contains(&entry) {
            found.push(entry);
        }
    }
    Ok(found)
}

/// The Webitel releases a database detected at `level` can be: from `level` up to the next
/// release in `migrations-test/` that changes what the tool reads.
pub fn release_range(level: Level) -> String {
    match release_columns().keys().find(|l| **l > level) {
        Some(next) => format!("{level} up to {next} (not included)"),
        None => format!("{level} or newer"),
    }
}

/// For a server error about a missing column or table, which Webitel release brings it:
/// `amd_ai_positive came with Webitel v23.02`, or, for what every supported release has,
/// that the database does not look like Webitel's. `None` for any other error.
pub fn missing_object_hint(err: &Error) -> Option<String> {
    let Error::Database { source, .. } = err else {
        return None;
    };
    let db = source.as_database_error()?;
    if !matches!(db.code().as_deref(), Some("42703" | "42P01")) {
        return None;
    }
    // `column c.name does not exist`, `column "name" does not exist`,
    // `relation "schema.table" does not exist`.
    let quoted = db.message().split(' ').nth(1)?.trim_matches('"');
    let name = quoted.rsplit('.').next().unwrap_or(quoted);
    // The newest release that added such a name: `attempt_id` is in the baseline's
    // cc_calls_history, but v23.05 added it to cc_agent_state_history and cc_agent_channel.
    let since = MIGRATOR.iter().rev().find_map(|m| {
        let level = Level::of_migration(&m.description)?;
        added_columns(m.sql.as_str())
            .iter()
            .any(|(table, column)| column == name || table.ends_with(&format!(".{name}")))
            .then_some(level)
    });
    Some(match since {
        Some(level) if level > BASELINE => {
            format!("{name} came with Webitel {level}; this database's schema lacks it")
        }
        Some(_) => format!(
            "every Webitel release since {BASELINE} has {name}: is this a Webitel database?"
        ),
        None => format!("{name} is not part of Webitel's schema as this tool knows it"),
    })
}

/// Every generated variant: (path under the crate root, contents).
pub fn generated_variants() -> std::result::Result<Vec<(String, String)>, String> {
    let mut files = Vec::new();
    for (stem, _, sql) in LEVELED_QUERIES {
        let levels = variant_levels(sql)?;
        let since: BTreeSet<Level> = markers(sql)?.iter().map(|m| m.since).collect();
        for (i, level) in levels.iter().enumerate() {
            let until = levels.get(i + 1).or(since.last()).expect("a marked query");
            let header = format!(
                "-- GENERATED from queries/{stem}.sql for Webitel schemas from {level} up to \
                 {until}; do not edit.\n-- Regenerate: UPDATE_QUERIES=1 cargo test --lib levels\n"
            );
            files.push((
                format!("queries/levels/{stem}.{}.sql", level.file_tag()),
                header + &render(sql, *level)?,
            ));
        }
    }
    Ok(files)
}

/// Index of the variant to run at `level`, given the ascending levels each variant starts at
/// (the first is the baseline, the last the query file itself).
pub fn pick(level: Level, starts: &[&str]) -> usize {
    starts
        .iter()
        .rposition(|s| s.parse::<Level>().is_ok_and(|start| start <= level))
        .unwrap_or(0)
}

/// Runs `query_file_as!` on the variant of a marked query for the detected level.
///
/// ```ignore
/// leveled_query_as!(db, level, QueueRow, (arg1, arg2), {
///     "v22.05" => "queries/levels/queues.v22_05.sql",
///     "v24.02" => "queries/queues.sql",
/// })
/// ```
/// Arms are ascending; each starts at its level. Every arm is a separate compile-checked
/// query; a test checks the arms against the generated files.
#[macro_export]
macro_rules! leveled_query_as {
    ($db:expr, $level:expr, $row:ident, $args:tt, { $($start:literal => $file:tt),+ $(,)? }) => {{
        let chosen = $crate::levels::pick($level, &[$($start),+]);
        $crate::leveled_query_as!(@arm $db, chosen, 0usize, $row, $args, $($file),+)
    }};
    (@arm $db:expr, $chosen:ident, $n:expr, $row:ident, $args:tt, $file:tt) => {
        $crate::leveled_query_as!(@query $db, $row, $file, $args)
    };
    (@arm $db:expr, $chosen:ident, $n:expr, $row:ident, $args:tt, $file:tt, $($rest:tt),+) => {
        if $chosen == $n {
            $crate::leveled_query_as!(@query $db, $row, $file, $args)
        } else {
            $crate::leveled_query_as!(@arm $db, $chosen, $n + 1usize, $row, $args, $($rest),+)
        }
    };
    (@query $db:expr, $row:ident, $file:tt, ($($arg:expr),* $(,)?)) => {
        ::futures_util::StreamExt::boxed(sqlx::query_file_as!($row, $file, $($arg),*).fetch($db))
    };
}

/// The schema level of the connected database: the newest release in `migrations-test/` whose
/// added columns all exist (the baseline when none does).
pub async fn detect(db: &mut PgConnection) -> Result<Level> {
    let releases = release_columns();
    let (tables, columns): (Vec<String>, Vec<String>) = releases
        .values()
        .flat_map(|cols| cols.iter().cloned())
        .unzip();
    let present = sqlx::query_file!("queries/check_columns.sql", &tables, &columns)
        .fetch_all(&mut *db)
        .await
        .map_err(|e| Error::database("detecting the schema level", e))?;
    let present: BTreeSet<(String, String)> = present
        .into_iter()
        .filter(|c| c.present)
        .map(|c| (c.table_name, c.column_name))
        .collect();
    let mut level = BASELINE;
    for (release, cols) in &releases {
        if !cols.iter().all(|c| present.contains(c)) {
            break;
        }
        level = level.max(*release);
    }
    Ok(level)
}

/// Each release after the baseline in `migrations-test/` with the `(table, column)` pairs it
/// adds (the baseline is what every supported database has, so it tells no release apart).
pub fn release_columns() -> BTreeMap<Level, Vec<(String, String)>> {
    MIGRATOR
        .iter()
        .filter_map(|m| {
            let level = Level::of_migration(&m.description)?;
            (level > BASELINE).then(|| (level, added_columns(m.sql.as_str())))
        })
        .collect()
}

/// `(table, column)` of every `ALTER TABLE t … ADD COLUMN c` and of every column of a
/// `CREATE TABLE t (…)` in a migration: what a database of that release has and an older one
/// lacks.
pub fn added_columns(sql: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    // Comments first: one may hold a ';'.
    let code: String = sql
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    for code in code.split(';') {
        let words: Vec<&str> = code.split_whitespace().collect();
        let starts_with = |a: &str, b: &str| {
            words.len() > 2 && words[0].eq_ignore_ascii_case(a) && words[1].eq_ignore_ascii_case(b)
        };
        if starts_with("ALTER", "TABLE") {
            let table = words[2];
            for w in words.windows(3) {
                if w[0].eq_ignore_ascii_case("ADD") && w[1].eq_ignore_ascii_case("COLUMN") {
                    found.push((table.to_string(), w[2].trim_end_matches(',').to_string()));
                }
            }
        } else if starts_with("CREATE", "TABLE") {
            let table = words[2].trim_end_matches('(');
            found.extend(created_columns(code).map(|c| (table.to_string(), c)));
        }
    }
    found
}

/// The column names in a `CREATE TABLE t (…)` statement: the first word of each definition
/// line inside the parentheses, constraints left out.
fn created_columns(statement: &str) -> impl Iterator<Item = String> + '_ {
    let body = statement.split_once('(').map_or("", |(_, rest)| {
        rest.rsplit_once(')').map_or(rest, |(b, _)| b)
    });
    body.lines().filter_map(|line| {
        let first = line.split_whitespace().next()?;
        let is_name = first.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        // Table constraints and the continuation lines of a long column definition.
        const NOT_COLUMNS: [&str; 8] = [
            "CONSTRAINT",
            "PRIMARY",
            "UNIQUE",
            "FOREIGN",
            "CHECK",
            "EXCLUDE",
            "REFERENCES",
            "GENERATED",
        ];
        let keyword = NOT_COLUMNS.iter().any(|k| first.eq_ignore_ascii_case(k));
        (is_name && !keyword).then(|| first.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "SELECT c.a/*v23.09|NULL::int8*/ AS a, x.b/*v22.12|NULL::text*/ AS b\n";

    #[test]
    fn added_columns_are_found_in_migrations() {
        let sql = "-- gains a; b\nALTER TABLE call_center.cc_calls_history\n    ADD COLUMN hide_missed boolean, -- why\n    ADD COLUMN redial_id uuid;\nCREATE INDEX x ON y (z);\n\
                   CREATE TABLE call_center.cc_log (\n    id bigint NOT NULL,\n    \
                   joined_at timestamptz DEFAULT now(), -- (why)\n    \
                   CONSTRAINT pk PRIMARY KEY (id, joined_at)\n);";
        assert_eq!(
            added_columns(sql),
            [
                (
                    "call_center.cc_calls_history".to_string(),
                    "hide_missed".to_string()
                ),
                (
                    "call_center.cc_calls_history".to_string(),
                    "redial_id".to_string()
                ),
                ("call_center.cc_log".to_string(), "id".to_string()),
                ("call_center.cc_log".to_string(), "joined_at".to_string()),
            ]
        );
    }

    #[test]
    fn levels_parse_and_order() {
        let a: Level = "v22.12".parse().unwrap();
        let b: Level = "v23_05".parse().unwrap();
        assert!(BASELINE < a && a < b);
        assert_eq!(b.to_string(), "v23.05");
        assert_eq!(b.file_tag(), "v23_05");
        assert!("22.12".parse::<Level>().is_err());
        assert!("v22.13".parse::<Level>().is_err());
    }

    #[test]
    fn render_replaces_only_newer_expressions() {
        let old = render(SAMPLE, BASELINE).unwrap();
        assert_eq!(old, "SELECT NULL::int8 AS a, NULL::text AS b\n");
        let mid = render(SAMPLE, "v23.05".parse().unwrap()).unwrap();
        assert_eq!(mid, "SELECT NULL::int8 AS a, x.b AS b\n");
        let new = render(SAMPLE, "v26.04".parse().unwrap()).unwrap();
        assert_eq!(new, "SELECT c.a AS a, x.b AS b\n");
    }

    #[test]
    fn degraded_columns_name_only_values_a_later_release_fills() {
        let sql = "SELECT c.a/*v23.09|NULL::int8*/, c.id/*v23.05|c.id::uuid*/ FROM t\n\
                   WHERE c.a/*v23.09|NULL::int8*/ = 1";
        assert_eq!(degraded_columns(sql, BASELINE).unwrap(), ["a (v23.09)"]);
        let newest: Level = "v23.09".parse().unwrap();
        assert!(degraded_columns(sql, newest).unwrap().is_empty());
    }

    #[test]
    fn malformed_markers_are_reported() {
        assert!(render("SELECT a/*v22.12 NULL*/", BASELINE).is_err());
        assert!(render("SELECT (/*v22.12|NULL*/", BASELINE).is_err());
        assert!(render("SELECT a/*v22.12|NULL", BASELINE).is_err());
    }

    #[test]
    fn variant_levels_and_pick() {
        assert_eq!(
            variant_levels(SAMPLE).unwrap(),
            vec![BASELINE, "v22.12".parse().unwrap()]
        );
        let starts = ["v22.05", "v22.12", "v23.09"];
        assert_eq!(pick(BASELINE, &starts), 0);
        assert_eq!(pick("v23.05".parse().unwrap(), &starts), 1);
        assert_eq!(pick("v26.04".parse().unwrap(), &starts), 2);
    }

    /// The files in queries/levels/ are what the marked queries generate; with
    /// UPDATE_QUERIES=1 this rewrites them.
    #[test]
    fn level_variants_are_current() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let files = generated_variants().unwrap();
        let update = std::env::var_os("UPDATE_QUERIES").is_some();
        let dir = root.join("queries/levels");
        let mut expected: Vec<String> = files.iter().map(|(p, _)| p.clone()).collect();
        for (path, text) in &files {
            let on_disk = std::fs::read_to_string(root.join(path)).unwrap_or_default();
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(root.join(path), text).unwrap();
            } else {
                assert_eq!(
                    &on_disk, text,
                    "{path} is stale: UPDATE_QUERIES=1 cargo test --lib levels"
                );
            }
        }
        let mut present: Vec<String> = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| format!("queries/levels/{}", e.file_name().to_string_lossy()))
                    .collect()
            })
            .unwrap_or_default();
        present.sort();
        expected.sort();
        assert_eq!(
            present, expected,
            "queries/levels/ holds files no query generates"
        );
    }

    /// Each `leveled_query_as!` arm list in src/ names exactly the generated variants of its
    /// query, in ascending order, ending with the query file itself.
    #[test]
    fn dispatch_arms_match_the_variants() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for (stem, source, sql) in LEVELED_QUERIES {
            let mut expected: Vec<String> = variant_levels(sql)
                .unwrap()
                .iter()
                .map(|l| format!("\"{l}\" => \"queries/levels/{stem}.{}.sql\"", l.file_tag()))
                .collect();
            let newest = markers(sql).unwrap().iter().map(|m| m.since).max().unwrap();
            expected.push(format!("\"{newest}\" => \"queries/{stem}.sql\""));
            let text = std::fs::read_to_string(root.join(source)).unwrap();
            let arms: Vec<String> = text
                .lines()
                .map(str::trim)
                .filter(|l| l.starts_with("\"v") && l.contains(" => \"queries/"))
                .map(|l| l.trim_end_matches(',').to_string())
                .collect();
            assert_eq!(arms, expected, "leveled_query_as! arms in {source}");
        }
    }
}
