//! One module per dataset: its row type (declared with [`crate::record!`]), its filters and
//! the compile-checked query that reads it.

pub mod agent_states;
pub mod agents;
pub mod attempts;
pub mod calls;
pub mod queues;
pub mod recordings;

use crate::record::{Column, Record};

/// `None` for an empty list: the queries treat a NULL list parameter as "not filtered".
pub(crate) fn list<T>(values: &[T]) -> Option<&[T]> {
    (!values.is_empty()).then_some(values)
}

/// A user's `*` wildcard pattern as an ILIKE pattern, as Webitel's search fields take it.
fn like_pattern(pattern: &str) -> String {
    pattern.replace('*', "%")
}

/// A dataset's name and columns: the registry `docs/datasets.md` and the tests iterate.
pub struct DatasetInfo {
    pub name: &'static str,
    pub source: &'static str,
    pub columns: &'static [Column],
}

/// Every dataset, in the order of `docs/datasets.md`.
pub const DATASETS: &[DatasetInfo] = &[
    DatasetInfo {
        name: "calls",
        source: "call_center.cc_calls_history (one row per call leg)",
        columns: calls::CallRow::COLUMNS,
    },
    DatasetInfo {
        name: "queues",
        source: "call_center.cc_queue (one row per queue), with cc_member counts",
        columns: queues::QueueRow::COLUMNS,
    },
    DatasetInfo {
        name: "agents",
        source: "call_center.cc_agent (one row per agent), with user, team, region and skills",
        columns: agents::AgentRow::COLUMNS,
    },
    DatasetInfo {
        name: "attempts",
        source: "call_center.cc_member_attempt_history (one row per finished attempt), with member state",
        columns: attempts::AttemptRow::COLUMNS,
    },
    DatasetInfo {
        name: "agent-states",
        source: "call_center.cc_agent_state_history (closed intervals), cc_agent and cc_agent_channel (open states)",
        columns: agent_states::AgentStateRow::COLUMNS,
    },
    DatasetInfo {
        name: "recordings",
        source: "storage.files of calls (one row per file), with storage profile and call context",
        columns: recordings::RecordingRow::COLUMNS,
    },
];

/// Renders docs/datasets.md from the registry, so the document cannot drift from the code.
pub fn render_docs() -> String {
    let mut out = String::from(
        "# Datasets\n\n\
         Generated from the row types in `src/datasets/` (`cargo test` fails when this file is \
         stale; regenerate with `UPDATE_DOCS=1 cargo test --test integration docs`).\n\n\
         Types: `timestamp (UTC)` is Parquet `TIMESTAMP(MICROS, isAdjustedToUTC=true)` and RFC 3339 \
         with `Z` in CSV/JSON; `json` is Parquet STRING with the JSON logical type and JSON text in \
         CSV; lists are Parquet LIST and JSON arrays in CSV; `uuid (text)` is the canonical text form.\n",
    );
    for dataset in DATASETS {
        out.push_str(&format!(
            "\n## {}\n\nSource: `{}`.\n\n",
            dataset.name, dataset.source
        ));
        out.push_str(&column_table(dataset.columns));
    }
    out
}

/// A Markdown table of columns: name, type, nullability, meaning.
pub fn column_table(columns: &[Column]) -> String {
    let mut out =
        String::from("| column | type | null | meaning, source and formula |\n|---|---|---|---|\n");
    for c in columns {
        let doc = c.doc.split_whitespace().collect::<Vec<_>>().join(" ");
        let null = if c.nullable { "yes" } else { "no" };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            c.name,
            c.kind.doc_name(),
            null,
            doc.replace('|', "\\|")
        ));
    }
    out
}
