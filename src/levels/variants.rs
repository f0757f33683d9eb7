//! Query templates and the files generated from them.
//!
//! A template in `queries/` may carry two kinds of annotation:
//! - a level marker right after an expression a release lacks,
//!   `c.amd_ai_result/*v22.12|NULL::varchar*/`: "before v22.12, read `NULL::varchar` in place of
//!   `c.amd_ai_result`" (the expression replaced is the dotted name just before the marker);
//! - an include line, `--@include parts/calls_filter.sql`: the lines of that part, indented
//!   like the directive, so text two queries share is written once.
//!
//! From each annotated template, build.rs generates the variant of every level it distinguishes
//! into `queries/levels/` (committed, so reviews and `cargo sqlx prepare` see them; CI fails
//! when a build changes them) and a `query_<stem>!` dispatch macro per template. This file is
//! shared with build.rs, so it uses only `std`. Every variant is compiled against the newest schema by sqlx's
//! `query_file_as!`: an absent column reads as a typed NULL and the output schema is the same at
//! every level.

use std::collections::BTreeSet;

use super::level::{BASELINE, Level};

/// The shared parts an include line can name, by path under `queries/`.
const PARTS: &[(&str, &str)] = &[
    (
        "parts/hangup_disposition.sql",
        include_str!("../../queries/parts/hangup_disposition.sql"),
    ),
    (
        "parts/history_domain_scan.sql",
        include_str!("../../queries/parts/history_domain_scan.sql"),
    ),
    (
        "parts/history_domains.sql",
        include_str!("../../queries/parts/history_domains.sql"),
    ),
    (
        "parts/calls_filter.sql",
        include_str!("../../queries/parts/calls_filter.sql"),
    ),
    (
        "parts/leg_recordings.sql",
        include_str!("../../queries/parts/leg_recordings.sql"),
    ),
    (
        "parts/conversation_roots.sql",
        include_str!("../../queries/parts/conversation_roots.sql"),
    ),
    (
        "parts/conversation_legs.sql",
        include_str!("../../queries/parts/conversation_legs.sql"),
    ),
    (
        "parts/recording_columns.sql",
        include_str!("../../queries/parts/recording_columns.sql"),
    ),
    (
        "parts/recording_joins.sql",
        include_str!("../../queries/parts/recording_joins.sql"),
    ),
    (
        "parts/recording_file_filter.sql",
        include_str!("../../queries/parts/recording_file_filter.sql"),
    ),
    (
        "parts/conversation_leg_columns.sql",
        include_str!("../../queries/parts/conversation_leg_columns.sql"),
    ),
    (
        "parts/conversation_columns.sql",
        include_str!("../../queries/parts/conversation_columns.sql"),
    ),
    (
        "parts/conversation_figures.sql",
        include_str!("../../queries/parts/conversation_figures.sql"),
    ),
    (
        "parts/conversation_firsts.sql",
        include_str!("../../queries/parts/conversation_firsts.sql"),
    ),
    (
        "parts/conversation_joins.sql",
        include_str!("../../queries/parts/conversation_joins.sql"),
    ),
    (
        "parts/call_recording_file.sql",
        include_str!("../../queries/parts/call_recording_file.sql"),
    ),
    (
        "parts/calls_columns.sql",
        include_str!("../../queries/parts/calls_columns.sql"),
    ),
    (
        "parts/calls_joins.sql",
        include_str!("../../queries/parts/calls_joins.sql"),
    ),
    (
        "parts/agent_call_figures.sql",
        include_str!("../../queries/parts/agent_call_figures.sql"),
    ),
];

const INCLUDE: &str = "--@include ";

/// `sql` with every include line replaced by its part (the part's leading comment, which
/// describes it, left out), each line indented like the directive.
pub fn expand_includes(sql: &str) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(sql.len());
    for line in sql.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let Some(name) = trimmed.strip_prefix(INCLUDE) else {
            out.push_str(line);
            continue;
        };
        let name = name.trim();
        let (_, part) = PARTS
            .iter()
            .find(|(path, _)| *path == name)
            .ok_or_else(|| format!("--@include names '{name}', which is not a part"))?;
        let indent = &line[..line.len() - trimmed.len()];
        // A part may include other parts (the columns include the disposition).
        let body: String = part
            .lines()
            .skip_while(|l| l.starts_with("--"))
            .map(|l| format!("{l}\n"))
            .collect();
        let body = expand_includes(&body)?;
        for part_line in body.lines() {
            if !part_line.is_empty() {
                out.push_str(indent);
            }
            out.push_str(part_line);
            out.push('\n');
        }
    }
    Ok(out)
}

/// Whether a template needs generated variants: it has markers or includes.
#[allow(dead_code)] // build.rs uses it
pub fn is_template(sql: &str) -> bool {
    sql.contains("/*v") || sql.contains(INCLUDE)
}

/// One `expr/*vYY.MM|replacement*/` marker: where the replaced expression starts, where the
/// marker starts and ends (byte offsets), the level that has the expression, and what older
/// levels read instead.
struct Marker<'a> {
    expr_start: usize,
    start: usize,
    end: usize,
    since: Level,
    older: &'a str,
}

/// Every marker in `sql` (includes expanded), in order. A malformed marker is a bug in a query
/// file, reported with its text.
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
        let expr_start = expression_start(&sql[..at])
            .ok_or_else(|| format!("level marker '{body}' closes a parenthesis never opened"))?;
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

/// Where the expression that ends `before` starts: a dotted name (`c.amd_ai_result`), or a
/// parenthesized expression (`(SELECT … FROM a_newer_table …)`) back to its opening
/// parenthesis, so a marker can stand for a whole subquery over a table a release lacks.
fn expression_start(before: &str) -> Option<usize> {
    if !before.ends_with(')') {
        return Some(
            before
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                .map_or(0, |i| i + 1),
        );
    }
    let mut depth = 0usize;
    for (i, c) in before.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The template as it must read at `level`: parts included, markers of newer releases swap
/// their expression for the replacement, the others just disappear.
pub fn render(template: &str, level: Level) -> std::result::Result<String, String> {
    let sql = expand_includes(template)?;
    let mut out = String::with_capacity(sql.len());
    let mut copied = 0;
    for m in markers(&sql)? {
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

/// The levels at which a template has a variant: the baseline and every release a marker
/// names, ascending; each variant runs from its level up to the next one.
pub fn variant_levels(template: &str) -> std::result::Result<Vec<Level>, String> {
    let sql = expand_includes(template)?;
    let since: BTreeSet<Level> = markers(&sql)?.iter().map(|m| m.since).collect();
    let mut levels = vec![BASELINE];
    levels.extend(since.into_iter().filter(|l| *l > BASELINE));
    Ok(levels)
}

/// What a template reads as NULL at `level` because a later release added it: each such
/// column once, with the release that has it (`amd_ai_result (v22.12)`). Markers that only
/// adapt a type or a function name change no value and are left out.
pub fn degraded_columns(template: &str, level: Level) -> std::result::Result<Vec<String>, String> {
    let sql = expand_includes(template)?;
    let mut found: Vec<String> = Vec::new();
    for m in markers(&sql)? {
        if m.since <= level || !m.older.starts_with("NULL") {
            continue;
        }
        let expr = &sql[m.expr_start..m.start];
        // A subquery is named by the table it reads (`cc_audit_rate`).
        let named = match expr.strip_prefix('(') {
            Some(subquery) => subquery
                .split_once("FROM ")
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .unwrap_or(expr),
            None => expr,
        };
        let column = named.rsplit('.').next().unwrap_or(named);
        let entry = format!("{column} ({})", m.since);
        if !found.contains(&entry) {
            found.push(entry);
        }
    }
    Ok(found)
}

/// `(release, column name)` of every marker that stands for a column (`c.amd_ai_result`
/// gives `amd_ai_result`); markers over a table or a subquery name none, the tables they
/// read are found in the query text.
pub fn marked_names(sql: &str) -> std::result::Result<Vec<(Level, String)>, String> {
    Ok(markers(sql)?
        .iter()
        .filter_map(|m| {
            let expr = &sql[m.expr_start..m.start];
            let column = expr.rsplit('.').next().unwrap_or(expr);
            (!expr.starts_with('(') && !column.is_empty()).then(|| (m.since, column.to_string()))
        })
        .collect())
}

/// The path of `stem`'s variant that starts at `level`.
#[cfg_attr(not(test), allow(dead_code))] // build.rs uses it
fn variant_path(stem: &str, level: Level) -> String {
    format!("queries/levels/{stem}.{}.sql", level.file_tag())
}

/// What the queries `(stem, text)` generate: each variant of a template `(path under the
/// crate root, contents)`, and the Rust source of the dispatch macros and of `mod sql`, one
/// module per query (its text and its macro, so a dataset names its query once).
#[cfg_attr(not(test), allow(dead_code))] // build.rs uses it
pub fn generate(
    queries: &[(String, String)],
) -> std::result::Result<(Vec<(String, String)>, String), String> {
    let mut files = Vec::new();
    let mut dispatch = String::from(DISPATCH_HEADER);
    let mut modules = String::from(SQL_HEADER);
    for (stem, template) in queries {
        modules.push_str(&sql_module(stem));
        if !is_template(template) {
            // One arm: the query file itself.
            let path = format!("queries/{stem}.sql");
            dispatch.push_str(&dispatch_macro(stem, &[(BASELINE, path)]));
            continue;
        }
        let levels = variant_levels(template)?;
        for (i, level) in levels.iter().enumerate() {
            let range = match levels.get(i + 1) {
                Some(until) => format!("from {level} up to {until}"),
                None => format!("from {level} on"),
            };
            let header = format!(
                "-- GENERATED by build.rs from queries/{stem}.sql for Webitel schemas {range}; \
                 do not edit.\n"
            );
            files.push((
                variant_path(stem, *level),
                header + &render(template, *level)?,
            ));
        }
        let arms: Vec<(Level, String)> = levels
            .iter()
            .map(|l| (*l, variant_path(stem, *l)))
            .collect();
        dispatch.push_str(&dispatch_macro(stem, &arms));
    }
    modules.push_str("}\n");
    Ok((files, dispatch + &modules))
}

#[cfg_attr(not(test), allow(dead_code))] // build.rs uses it
const SQL_HEADER: &str = "
/// One module per query file of `queries/`: `TEMPLATE`, its text (a template's markers and
/// include lines unexpanded), and `query!`, which runs the variant for a level.
pub mod sql {
";

#[cfg_attr(not(test), allow(dead_code))] // build.rs uses it
fn sql_module(stem: &str) -> String {
    format!(
        "    /// `queries/{stem}.sql`.\n    \
         #[allow(unused_imports)]\n    \
         pub mod {stem} {{\n        \
             pub const TEMPLATE: &str = \
             include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/queries/{stem}.sql\"));\n        \
             pub(crate) use super::super::query_{stem} as query;\n    \
         }}\n"
    )
}

#[cfg_attr(not(test), allow(dead_code))] // build.rs uses it
const DISPATCH_HEADER: &str = "\
// GENERATED by build.rs from the query files in `queries/`.
// One macro per query: `query_<stem>!(db, level, Row, (args…))` runs, with
// `query_file_as!`, the variant of `queries/<stem>.sql` for the level (a query without level
// markers has one).
";

#[cfg_attr(not(test), allow(dead_code))] // build.rs uses it
fn dispatch_macro(stem: &str, arms_by_level: &[(Level, String)]) -> String {
    let mut arms = String::new();
    for (level, path) in arms_by_level {
        arms.push_str(&format!("            \"{level}\" => \"{path}\",\n"));
    }
    format!(
        "\n/// `queries/{stem}.sql` at the detected level.\n\
         #[allow(unused_macros)]\n\
         macro_rules! query_{stem} {{\n    \
             ($db:expr, $level:expr, $row:ident, $args:tt) => {{\n        \
                 $crate::leveled_query_as!($db, $level, $row, $args, {{\n\
         {arms}        }})\n    \
             }};\n\
         }}\n\
         #[allow(unused_imports)]\n\
         pub(crate) use query_{stem};\n"
    )
}

/// Index of the variant to run at `level`, given the ascending levels each variant starts at
/// (the first is the baseline).
pub fn pick(level: Level, starts: &[&str]) -> usize {
    starts
        .iter()
        .rposition(|s| s.parse::<Level>().is_ok_and(|start| start <= level))
        .unwrap_or(0)
}

/// Runs `query_file_as!` on the variant of a template for the detected level; the generated
/// `query_<stem>!` macros call it with the arm list of their template.
///
/// ```ignore
/// leveled_query_as!(db, level, QueueRow, (arg1, arg2), {
///     "v22.05" => "queries/levels/queues.v22_05.sql",
///     "v24.02" => "queries/levels/queues.v24_02.sql",
/// })
/// ```
/// Arms are ascending; each starts at its level. Every arm is a separate compile-checked query.
#[macro_export]
macro_rules! leveled_query_as {
    // One variant: nothing to choose (the level is only evaluated).
    ($db:expr, $level:expr, $row:ident, $args:tt, { $start:literal => $file:tt $(,)? }) => {{
        let _ = $level;
        $crate::leveled_query_as!(@query $db, $row, $file, $args)
    }};
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const SAMPLE: &str = "SELECT c.a/*v23.09|NULL::int8*/ AS a, x.b/*v22.12|NULL::text*/ AS b\n";

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
    fn includes_are_expanded_with_the_directive_indent() {
        let sql = "SELECT 1\nFROM t c\n    --@include parts/leg_recordings.sql\nWHERE true\n";
        let expanded = expand_includes(sql).unwrap();
        assert!(
            expanded.contains("\n    CROSS JOIN LATERAL (\n"),
            "{expanded}"
        );
        assert!(expanded.ends_with("    ) rec\nWHERE true\n"), "{expanded}");
        assert!(!expanded.contains("--@include"));
        assert!(expand_includes("--@include parts/nothing.sql\n").is_err());
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
    fn a_marker_after_a_parenthesis_replaces_the_whole_subquery() {
        let sql = "SELECT (SELECT max(x.a) FROM (VALUES (1)) x(a))/*v26.02|NULL::int4*/ AS m";
        assert_eq!(render(sql, BASELINE).unwrap(), "SELECT NULL::int4 AS m");
        let new = render(sql, "v26.02".parse().unwrap()).unwrap();
        assert_eq!(new, "SELECT (SELECT max(x.a) FROM (VALUES (1)) x(a)) AS m");
        assert!(render("SELECT a)/*v26.02|NULL*/", BASELINE).is_err());
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
            vec![
                BASELINE,
                "v22.12".parse().unwrap(),
                "v23.09".parse().unwrap()
            ]
        );
        let starts = ["v22.05", "v22.12", "v23.09"];
        assert_eq!(pick(BASELINE, &starts), 0);
        assert_eq!(pick("v23.05".parse().unwrap(), &starts), 1);
        assert_eq!(pick("v26.04".parse().unwrap(), &starts), 2);
    }

    #[test]
    fn generate_writes_a_variant_per_level_and_their_dispatch() {
        let templates = [("sample".to_string(), SAMPLE.to_string())];
        let (files, dispatch) = generate(&templates).unwrap();
        let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "queries/levels/sample.v22_05.sql",
                "queries/levels/sample.v22_12.sql",
                "queries/levels/sample.v23_09.sql"
            ]
        );
        assert!(
            files[0]
                .1
                .ends_with("SELECT NULL::int8 AS a, NULL::text AS b\n")
        );
        assert!(files[0].1.contains("from v22.05 up to v22.12"));
        assert!(files[2].1.contains("from v23.09 on"));
        assert!(dispatch.contains("macro_rules! query_sample"), "{dispatch}");
        assert!(dispatch.contains("\"v22.12\" => \"queries/levels/sample.v22_12.sql\","));
        assert!(dispatch.contains("pub(crate) use query_sample;"));
    }

    /// Every file in queries/parts/ is a part an include line can name.
    #[test]
    fn every_part_is_registered() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut on_disk: Vec<String> = std::fs::read_dir(root.join("queries/parts"))
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| format!("parts/{}", e.file_name().to_string_lossy()))
            .collect();
        on_disk.sort();
        let mut known: Vec<String> = PARTS.iter().map(|(p, _)| p.to_string()).collect();
        known.sort();
        assert_eq!(on_disk, known);
        for (path, text) in PARTS {
            let file = std::fs::read_to_string(root.join("queries").join(path)).unwrap();
            assert_eq!(&file, text);
        }
    }
}
