//! The registry: every dataset and report, in one list ([`registry!`] at the bottom).
//!
//! Each entry is a type implementing [`Dataset`]; from the list follow the subcommands
//! (`webitel-export calls`, `webitel-export report agent-activity`), the datasets a `run` job
//! can name and how it runs them ([`JobFilter`]), what `check` prepares, the tables the
//! read-only role is granted, and docs/datasets.md. Adding a dataset is adding its module
//! and one line here (docs/ARCHITECTURE.md has the checklist).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::datasets::{
    self, Dataset, Incremental, agent_states, agents, annotations, attempts, call_quality, calls,
    conversations, members, qa_scores, queues, recordings, transcripts,
};
use crate::error::Result;
use crate::export::{OutputArgs, Summary};
use crate::levels::Level;
use crate::record::{Column, Record};
use crate::reports::{agent_activity, queue_activity};
use crate::source::ConnArgs;

/// One export subcommand: connection, output and the dataset's own flags.
#[derive(clap::Args)]
pub struct ExportCommand<D: Dataset> {
    #[command(flatten)]
    pub conn: ConnArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub filters: D::Args,
    #[command(flatten)]
    pub extra: D::Extra,
}

impl<D: Dataset> ExportCommand<D> {
    /// Checks everything that can be checked offline, then exports.
    pub async fn run(&self) -> Result<Summary> {
        let mut filter = D::filter(&self.filters)?;
        self.conn.validate()?;
        let mut options = self.output.to_options::<D::Row>(&self.conn, D::NAME)?;
        options.sink.tz = D::time_zone(&self.filters);
        if let Some(view) = &options.sink.view {
            D::narrow(&mut filter, view);
        }
        crate::session::export::<D>(&self.conn, &filter, &self.extra, options).await
    }
}

/// What the rest of the program knows of a dataset without its types.
#[derive(Debug)]
pub struct DatasetInfo {
    pub name: &'static str,
    /// The subcommand's help line.
    pub about: &'static str,
    pub source: &'static str,
    pub query: &'static str,
    pub columns: &'static [Column],
    pub incremental: Option<Incremental>,
    pub needs_since: bool,
    /// The release that created the dataset's table.
    pub since: Level,
}

impl DatasetInfo {
    const fn of<D: Dataset>() -> DatasetInfo {
        DatasetInfo {
            name: D::NAME,
            about: D::ABOUT,
            source: D::SOURCE,
            query: D::QUERY,
            columns: <D::Row as Record>::COLUMNS,
            incremental: match D::INCREMENTAL {
                Some(windowed) => Some(windowed.incremental),
                None => None,
            },
            needs_since: D::NEEDS_SINCE,
            since: D::SINCE,
        }
    }
}

/// Something to do with a job's dataset, given its type: `run` reads and writes its rows.
pub trait JobVisitor {
    type Output;
    fn visit<D: Dataset>(self, filter: &D::Filter) -> Self::Output;
}

/// Every dataset and report that [`find`] can name.
pub fn all() -> impl Iterator<Item = &'static DatasetInfo> {
    DATASETS.iter().chain(REPORTS)
}

/// The dataset or report called `name`.
pub fn find(name: &str) -> Option<&'static DatasetInfo> {
    all().find(|d| d.name == name)
}

/// The names of every dataset and report, for messages.
pub fn names() -> String {
    all().map(|d| d.name).collect::<Vec<_>>().join(", ")
}

/// Generates, from the list of datasets and reports, the subcommand enums, the parsed filter
/// of a run job and the info tables.
macro_rules! registry {
    (
        datasets: [$($dv:ident => $dt:path),+ $(,)?],
        reports: [$($rv:ident => $rt:path),+ $(,)?] $(,)?
    ) => {
        /// One subcommand per dataset.
        #[derive(clap::Subcommand)]
        pub enum DatasetCommand {
            $(
                #[command(about = <$dt as Dataset>::ABOUT)]
                $dv(Box<ExportCommand<$dt>>),
            )+
        }

        impl DatasetCommand {
            pub async fn run(&self) -> Result<Summary> {
                match self {
                    $(DatasetCommand::$dv(cmd) => cmd.run().await,)+
                }
            }
        }

        /// One `report` subcommand per report.
        #[derive(clap::Subcommand)]
        pub enum ReportCommand {
            $(
                #[command(about = <$rt as Dataset>::ABOUT)]
                $rv(Box<ExportCommand<$rt>>),
            )+
        }

        impl ReportCommand {
            pub async fn run(&self) -> Result<Summary> {
                match self {
                    $(ReportCommand::$rv(cmd) => cmd.run().await,)+
                }
            }
        }

        /// A run job's dataset with its parsed filters.
        #[derive(Clone)]
        pub enum JobFilter {
            $($dv(Box<<$dt as Dataset>::Filter>),)+
            $($rv(Box<<$rt as Dataset>::Filter>),)+
        }

        impl JobFilter {
            /// Parses a job's `filters` for `dataset`; `None` for an unknown dataset.
            pub fn parse(
                dataset: &str,
                filters: &[String],
                tz: Tz,
            ) -> Option<std::result::Result<JobFilter, String>> {
                $(
                    if dataset == <$dt as Dataset>::NAME {
                        return Some(job_filter::<$dt>(filters, tz).map(|f| JobFilter::$dv(Box::new(f))));
                    }
                )+
                $(
                    if dataset == <$rt as Dataset>::NAME {
                        return Some(job_filter::<$rt>(filters, tz).map(|f| JobFilter::$rv(Box::new(f))));
                    }
                )+
                None
            }

            /// Leaves out of the job's read what its files do not hold ([`Dataset::narrow`]).
            pub fn narrow(&mut self, view: &crate::view::View) {
                match self {
                    $(JobFilter::$dv(f) => <$dt as Dataset>::narrow(f, view),)+
                    $(JobFilter::$rv(f) => <$rt as Dataset>::narrow(f, view),)+
                }
            }

            /// Runs `visitor` with the job's dataset type and filter.
            pub fn visit<V: JobVisitor>(&self, visitor: V) -> V::Output {
                match self {
                    $(JobFilter::$dv(f) => visitor.visit::<$dt>(f),)+
                    $(JobFilter::$rv(f) => visitor.visit::<$rt>(f),)+
                }
            }

            pub fn info(&self) -> &'static DatasetInfo {
                match self {
                    $(JobFilter::$dv(_) => &const { DatasetInfo::of::<$dt>() },)+
                    $(JobFilter::$rv(_) => &const { DatasetInfo::of::<$rt>() },)+
                }
            }

            /// Where a run whose bound is `bound` may end (reports: complete buckets only).
            pub fn complete_until(&self, bound: DateTime<Utc>) -> DateTime<Utc> {
                match self {
                    $(JobFilter::$dv(f) => <$dt as Dataset>::complete_until(f, bound),)+
                    $(JobFilter::$rv(f) => <$rt as Dataset>::complete_until(f, bound),)+
                }
            }

            /// The `--domain` values of the job's filters.
            pub fn domains(&self) -> &[i64] {
                match self {
                    $(JobFilter::$dv(f) => <$dt as Dataset>::domains(f),)+
                    $(JobFilter::$rv(f) => <$rt as Dataset>::domains(f),)+
                }
            }
        }

        /// Every dataset, in the order of docs/datasets.md.
        pub static DATASETS: &[DatasetInfo] = &[$(DatasetInfo::of::<$dt>(),)+];
        /// Every report, in the order of docs/reports.md.
        pub static REPORTS: &[DatasetInfo] = &[$(DatasetInfo::of::<$rt>(),)+];
    };
}

/// A job's filters, parsed and checked as the subcommand's flags are.
fn job_filter<D: Dataset>(filters: &[String], tz: Tz) -> std::result::Result<D::Filter, String> {
    let args = D::job_args(filters, tz)?;
    D::filter(&args).map_err(|e| e.one_line())
}

registry! {
    datasets: [
        Calls => calls::Calls,
        Queues => queues::Queues,
        Agents => agents::Agents,
        Attempts => attempts::Attempts,
        AgentStates => agent_states::AgentStates,
        Recordings => recordings::Recordings,
        Annotations => annotations::Annotations,
        QaScores => qa_scores::QaScores,
        Transcripts => transcripts::Transcripts,
        Members => members::Members,
        CallQuality => call_quality::CallQuality,
        Conversations => conversations::Conversations,
    ],
    reports: [
        AgentActivity => agent_activity::AgentActivity,
        QueueActivity => queue_activity::QueueActivity,
    ],
}

/// Renders docs/datasets.md from the registry, so the document cannot drift from the code.
pub fn render_dataset_docs() -> String {
    let mut out = String::from(
        "# Datasets\n\n\
         Generated from the row types in `src/datasets/` (`cargo test` fails when this file is \
         stale; regenerate with `UPDATE_DOCS=1 cargo test --test integration docs`).\n\n\
         Types: `timestamp (UTC)` is Parquet `TIMESTAMP(MICROS, isAdjustedToUTC=true)` and RFC 3339 \
         with `Z` in CSV/JSON; `json` is Parquet STRING with the JSON logical type and JSON text in \
         CSV; lists are Parquet LIST and JSON arrays in CSV; `uuid (text)` is the canonical text form.\n",
    );
    for dataset in DATASETS {
        out.push('\n');
        out.push_str(&schema_markdown(dataset));
    }
    out
}

/// The Webitel release from which a column of `info` has values: the release the column names
/// (`since` in its declaration), else the release whose query marker reads a column of that
/// name (older releases read NULL there), else the release of the dataset's table.
pub fn column_release(info: &DatasetInfo, column: &Column) -> Level {
    if let Some(release) = column.since {
        return release.parse().unwrap_or(info.since);
    }
    let degraded = crate::levels::degraded_columns(info.query, info.since).unwrap_or_default();
    degraded
        .iter()
        .filter_map(|entry| {
            // `amd_ai_result (v22.12)`
            let (name, release) = entry.split_once(" (")?;
            (name == column.name).then(|| release.trim_end_matches(')').parse().ok())?
        })
        .max()
        .unwrap_or(info.since)
        .max(info.since)
}

fn releases(info: &DatasetInfo) -> Vec<Level> {
    info.columns
        .iter()
        .map(|c| column_release(info, c))
        .collect()
}

/// `webitel-export schema DATASET`: the dataset's heading, source and column table (the
/// sections of docs/datasets.md).
pub fn schema_markdown(info: &DatasetInfo) -> String {
    format!(
        "## {}\n\nSource: `{}`.\n\n{}",
        info.name,
        info.source,
        datasets::column_table(info.columns, &releases(info))
    )
}

/// `webitel-export schema DATASET --format json`: one object per column.
pub fn schema_json(info: &DatasetInfo) -> String {
    let columns: Vec<serde_json::Value> = info
        .columns
        .iter()
        .zip(releases(info))
        .map(|(c, release)| {
            serde_json::json!({
                "name": c.name,
                "type": c.kind.doc_name(),
                "nullable": c.nullable,
                "since": release.to_string(),
                "personal": c.personal.map(crate::pseudonym::Personal::name),
                "description": c.description(),
            })
        })
        .collect();
    let schema = serde_json::json!({
        "dataset": info.name,
        "source": info.source,
        "since": info.since.to_string(),
        "columns": columns,
    });
    serde_json::to_string_pretty(&schema).expect("JSON values serialize")
}

/// Replaces each generated column table of docs/reports.md (between `<!-- columns: NAME -->`
/// and `<!-- end columns -->`) with the table rendered from the row type, so the document's
/// column definitions cannot drift from the code while its prose stays hand-written.
pub fn render_report_docs(current: &str) -> String {
    let mut out = current.to_string();
    for report in REPORTS {
        let open = format!("<!-- columns: {} -->", report.name);
        let table = format!(
            "\n{}",
            datasets::column_table(report.columns, &releases(report))
        );
        out = fill_between(&out, &open, "<!-- end columns -->", &table);
    }
    out
}

/// `current` with the text between `open` and the next `close` replaced by `content` (as it
/// was when `open` is absent).
pub fn fill_between(current: &str, open: &str, close: &str, content: &str) -> String {
    let mut out = current.to_string();
    let Some(start) = out.find(open) else {
        return out;
    };
    let body_start = start + open.len();
    if let Some(len) = out[body_start..].find(close) {
        out.replace_range(body_start..body_start + len, content);
    }
    out
}

/// The README's list of datasets and reports (between `<!-- datasets -->` and
/// `<!-- end datasets -->`), from the registry.
pub fn render_readme_datasets(current: &str) -> String {
    let mut table = String::from("\n| dataset | what it exports | since |\n|---|---|---|\n");
    for d in DATASETS {
        table.push_str(&format!(
            "| **{}** | {} | {} |\n",
            d.name,
            what(d.about),
            d.since
        ));
    }
    for r in REPORTS {
        let name = format!("report {}", r.name);
        table.push_str(&format!(
            "| **{name}** | {} | {} |\n",
            what(r.about),
            r.since
        ));
    }
    fill_between(
        current,
        "<!-- datasets -->",
        "<!-- end datasets -->",
        &table,
    )
}

/// A subcommand's help line as a table cell: without the leading "Export ".
fn what(about: &str) -> String {
    let text = about.strip_prefix("Export ").unwrap_or(about);
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// docs/nightly.md's table of incremental columns (between `<!-- incremental -->` and
/// `<!-- end incremental -->`), from the registry.
pub fn render_incremental_table(current: &str) -> String {
    let mut table = String::from(
        "\n| dataset | incremental column (window) | default partition column |\n|---|---|---|\n",
    );
    for d in all() {
        let row = match d.incremental {
            Some(i) => format!(
                "| {} | `{}` ({}) | `{}` |\n",
                d.name, i.column, i.window, i.partition_by
            ),
            None => format!(
                "| {} | snapshot only (`mode = \"full\"`) | the run's date |\n",
                d.name
            ),
        };
        table.push_str(&row);
    }
    fill_between(
        current,
        "<!-- incremental -->",
        "<!-- end incremental -->",
        &table,
    )
}
