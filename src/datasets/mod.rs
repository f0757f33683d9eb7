//! One module per dataset: its row type (declared with [`crate::record!`]), its filters, the
//! compile-checked query that reads it, and its [`Dataset`] implementation, which is all the
//! registry (`crate::registry`) needs to give it a subcommand, `run` jobs, `check` and docs.

pub mod agent_states;
pub mod agents;
pub mod annotations;
pub mod attempts;
pub mod call_quality;
pub mod calls;
pub mod conversations;
pub mod members;
pub mod qa_scores;
pub mod queues;
pub mod recordings;
pub mod shape;
pub mod transcripts;

use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use sqlx::PgConnection;

use crate::error::Result;
use crate::levels::Level;
use crate::pseudonym::Personal;
use crate::record::{Column, Kind, Record};
use crate::timearg::{Window, Zone};

/// A call's direction, as `cc_calls_history.direction` holds it (the only values Webitel's
/// SQL uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    /// The value in `cc_calls_history.direction`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// `None` for an empty list: the queries treat a NULL list parameter as "not filtered".
pub(crate) fn list<T>(values: &[T]) -> Option<&[T]> {
    (!values.is_empty()).then_some(values)
}

/// A user's `*` wildcard pattern as an ILIKE pattern, as Webitel's search fields take it.
fn like_pattern(pattern: &str) -> String {
    pattern.replace('*', "%")
}

/// How `run` exports a dataset incrementally: the timestamp column its windows cut on, the
/// two flags that set that window (a job's filters leave them to the run), and the column
/// whose local date names a partition by default.
#[derive(Clone, Copy, Debug)]
pub struct Incremental {
    pub column: &'static str,
    pub flags: [&'static str; 2],
    pub partition_by: &'static str,
    /// What the column's window means, for docs/nightly.md.
    pub window: &'static str,
    /// The column moves when a row is edited (`updated_at`): a restated job selects such rows
    /// by their partition column instead, so an edited row replaces its old version rather
    /// than joining it.
    pub revised: bool,
}

/// An incremental dataset's window: what it is, and how a run sets it on the dataset's filter
/// (a dataset cannot declare one without the other).
pub struct Windowed<F> {
    pub incremental: Incremental,
    /// Restricts the filter to `[from, to)` of the incremental column.
    pub set: fn(&mut F, Window) -> Result<()>,
    /// Restricts the filter to rows whose partition column may lie in `[from, to)`: a
    /// restated job's read of its restated days. A superset is fine (a run keeps only the
    /// rows of the partitions it writes).
    pub set_partition: fn(&mut F, Window) -> Result<()>,
}

/// Restricts `D`'s filter to a run's window of its incremental column.
pub fn set_window<D: Dataset>(filter: &mut D::Filter, window: Window) -> Result<()> {
    apply_window::<D>(filter, window, |w| w.set)
}

/// Restricts `D`'s filter to a window of its partition column (see [`Windowed::set_partition`]).
pub fn set_partition_window<D: Dataset>(filter: &mut D::Filter, window: Window) -> Result<()> {
    apply_window::<D>(filter, window, |w| w.set_partition)
}

type WindowSetter<F> = fn(&mut F, Window) -> Result<()>;

fn apply_window<D: Dataset>(
    filter: &mut D::Filter,
    window: Window,
    setter: fn(&Windowed<D::Filter>) -> WindowSetter<D::Filter>,
) -> Result<()> {
    match &D::INCREMENTAL {
        Some(windowed) => setter(windowed)(filter, window),
        None => Err(crate::error::Error::Other(format!(
            "{} has no incremental column to window",
            D::NAME
        ))),
    }
}

/// No flags beyond the filters.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct NoFlags {}

/// What a dataset (or report) is: everything the registry derives its subcommand, its `run`
/// jobs, its `check`, its docs and its role grants from.
// `async fn` here: the futures are only ever awaited on the runtime's own thread (block_on),
// so no `Send` bound is needed on them.
#[allow(async_fn_in_trait)]
pub trait Dataset: Sized + 'static {
    /// The subcommand and the `dataset = "…"` of a run job.
    const NAME: &'static str;
    /// The subcommand's one-line help.
    const ABOUT: &'static str;
    /// Where the rows come from, for docs/datasets.md.
    const SOURCE: &'static str;
    /// The main query's template (`check` prepares it, the role script grants its tables).
    const QUERY: &'static str;
    /// `None`: a snapshot dataset, exported whole by `mode = "full"` jobs.
    const INCREMENTAL: Option<Windowed<Self::Filter>> = None;
    /// Whether a run job must say where its first run starts (`since`).
    const NEEDS_SINCE: bool = false;
    /// The Webitel release that created the dataset's table: on an older one the export is
    /// empty (same columns) and `check` says why.
    const SINCE: Level = crate::levels::BASELINE;

    /// The filter flags, shared by the subcommand and a run job's `filters`.
    type Args: clap::Args + Clone + Send + Sync + 'static;
    /// Flags only the subcommand has (`--parallel`, `--copy-to`).
    type Extra: clap::Args + Default;
    /// The flags, parsed and checked.
    type Filter: Clone + Send + Sync + 'static;
    type Row: Record;

    /// Checks every filter that can be checked without the database.
    fn filter(args: &Self::Args) -> Result<Self::Filter>;
    /// The `--domain` values (checked against the database's domains).
    fn domains(filter: &Self::Filter) -> &[i64];
    /// The `--tz` of the command, which an Excel workbook shows date-times in (UTC for a
    /// dataset without one).
    fn time_zone(_args: &Self::Args) -> chrono_tz::Tz {
        chrono_tz::UTC
    }
    /// Leaves out of the read what the export does not write (`view`: its columns), where
    /// that saves the server work.
    fn narrow(_filter: &mut Self::Filter, _view: &crate::view::View) {}
    /// The rows matching `filter`, streamed from `db` inside the caller's snapshot.
    fn rows<'c>(
        db: &'c mut PgConnection,
        level: Level,
        filter: &Self::Filter,
    ) -> BoxStream<'c, Result<Self::Row>>;

    /// What only the server can check, in the snapshot, before the rows are read.
    async fn prepare(_db: &mut PgConnection, _filter: &Self::Filter) -> Result<()> {
        Ok(())
    }

    /// Where an incremental run may end: the bound itself, or for a report the end of its last
    /// complete bucket.
    fn complete_until(_filter: &Self::Filter, bound: DateTime<Utc>) -> DateTime<Utc> {
        bound
    }

    /// A run job's `filters`, parsed by the same clap definition as the subcommand's flags;
    /// `tz` is the config's time zone.
    fn job_args(filters: &[String], _tz: chrono_tz::Tz) -> std::result::Result<Self::Args, String> {
        parse_flags(Self::NAME, filters)
    }

    /// The slices the subcommand reads the rows in, each on a connection of its own joining
    /// the same snapshot: the whole table by default (`calls` cuts a bulk export into block
    /// ranges with `--parallel`).
    async fn slices(
        _db: &mut PgConnection,
        _filter: &Self::Filter,
        _extra: &Self::Extra,
    ) -> Result<Vec<BlockSlice>> {
        Ok(vec![BlockSlice::default()])
    }

    /// How the rows of several slices are put together: in this order, each slice's rows
    /// being in it already (a merge), or `None`, as they arrive.
    const SLICE_ORDER: Option<crate::merge::RowOrder<Self::Row>> = None;

    /// The rows of one slice ([`Self::rows`] for the whole table).
    fn slice_rows<'c>(
        db: &'c mut PgConnection,
        level: Level,
        filter: &Self::Filter,
        _slice: &BlockSlice,
    ) -> BoxStream<'c, Result<Self::Row>> {
        Self::rows(db, level, filter)
    }

    /// Checks the subcommand-only flags before the database is contacted.
    fn check_extra(_extra: &Self::Extra) -> Result<()> {
        Ok(())
    }

    /// What the subcommand does after the rows are written, in the same snapshot at the same
    /// level (`recordings --copy-to` copies the files).
    async fn after(
        _db: &mut PgConnection,
        _level: Level,
        _filter: &Self::Filter,
        _extra: &Self::Extra,
        _quiet: bool,
    ) -> Result<()> {
        Ok(())
    }
}

/// What one connection of an export reads: a range of the table's blocks, `ctid` in
/// `['(from,0)', '(to,0)')` (`None` is open), or `part` `(k, n)`: part k (0-based) of n of
/// the rows, by a hash of their id. The default is the whole table. With the shape its query
/// reads it in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockSlice {
    pub from: Option<String>,
    pub to: Option<String>,
    pub part: Option<(i32, i32)>,
    pub shape: ReadShape,
}

/// Slices smaller than this many blocks (8 KiB each, so 4 MiB) are not worth another connection.
const MIN_SLICE_BLOCKS: i64 = 512;

/// Into how many slices call_center.cc_calls_history is read over up to `parallel`
/// connections: one, the whole table, when it is partitioned (its parent has no blocks) or
/// too small to pay for another connection.
pub async fn history_slice_count(db: &mut PgConnection, parallel: u16) -> Result<u16> {
    Ok(history_slicing(db, parallel).await?.count)
}

/// Cuts call_center.cc_calls_history into [`history_slice_count`] block slices of about the
/// same size, each read in `shape`.
pub async fn history_block_slices(
    db: &mut PgConnection,
    parallel: u16,
    shape: ReadShape,
) -> Result<Vec<BlockSlice>> {
    let HistorySlicing { blocks, count } = history_slicing(db, parallel).await?;
    let n = i64::from(count);
    let bound = |i: i64| (i > 0 && i < n).then(|| format!("({},0)", blocks * i / n));
    Ok((0..n)
        .map(|i| BlockSlice {
            from: bound(i),
            to: bound(i + 1),
            part: None,
            shape,
        })
        .collect())
}

/// The history's size in blocks, and the number of slices it is read in.
struct HistorySlicing {
    blocks: i64,
    count: u16,
}

async fn history_slicing(db: &mut PgConnection, parallel: u16) -> Result<HistorySlicing> {
    let table = sqlx::query_file!("queries/calls_table_blocks.sql")
        .fetch_one(&mut *db)
        .await
        .map_err(|e| crate::error::Error::database("reading the size of cc_calls_history", e))?;
    let by_size = u16::try_from(table.blocks / MIN_SLICE_BLOCKS).unwrap_or(u16::MAX);
    let count = if table.partitioned {
        1
    } else {
        parallel.min(by_size).max(1)
    };
    Ok(HistorySlicing {
        blocks: table.blocks,
        count,
    })
}

/// How a derived dataset's query finds what it joins to each row: by probing an index per row,
/// which a narrow export (a day, a domain, a few ids) wants, or set-wise, by hash joins over
/// sets built once, which a bulk export (the whole table, long windows) wants. Both shapes
/// return the same rows (tests/calls_shapes.rs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ReadShape {
    /// Chosen by what the export reads: set-wise for the whole table or windows that cover a
    /// large share of it, per row otherwise.
    #[default]
    Auto,
    /// Index probes per row.
    PerRow,
    /// Hash joins over sets built once.
    SetWise,
}

/// The flags every dataset shares: a window on when its rows happened (each dataset's `SOURCE`
/// and docs/datasets.md say which time that is), the time zone of dates without an offset
/// (also for the dataset's other window flags), and the domains.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct WindowArgs {
    /// Rows from this instant on (RFC 3339, or YYYY-MM-DD in --tz).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Rows before this instant (exclusive).
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Time zone for dates without an offset.
    #[arg(long, value_name = "IANA", default_value = "UTC")]
    pub tz: Zone,
    /// Only these domains (repeatable; default: all).
    #[arg(long = "domain", value_name = "ID")]
    pub domains: Vec<i64>,
}

impl WindowArgs {
    /// `--from`/`--to` read in `--tz`.
    pub fn window(&self) -> Result<Window> {
        self.other(("--from", &self.from), ("--to", &self.to))
    }

    /// Another pair of window flags of the same command (`--stored-from`/`--stored-to`),
    /// read in `--tz`.
    pub fn other(
        &self,
        from: (&'static str, &Option<String>),
        to: (&'static str, &Option<String>),
    ) -> Result<Window> {
        Window::parse(
            (from.0, from.1.as_deref()),
            (to.0, to.1.as_deref()),
            self.tz.0,
        )
    }
}

/// [`WindowArgs`] and a second window on the last change, for datasets whose rows are edited
/// (a run exports an edited row again, by `updated_at`).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct EditedWindowArgs {
    #[command(flatten)]
    pub base: WindowArgs,
    /// Rows last changed at or after this instant.
    #[arg(long, value_name = "TIME")]
    pub updated_from: Option<String>,
    /// Rows last changed before this instant (exclusive).
    #[arg(long, value_name = "TIME")]
    pub updated_to: Option<String>,
}

impl EditedWindowArgs {
    /// `(--from/--to, --updated-from/--updated-to)`, both read in `--tz`.
    pub fn windows(&self) -> Result<(Window, Window)> {
        let updated = self.base.other(
            ("--updated-from", &self.updated_from),
            ("--updated-to", &self.updated_to),
        )?;
        Ok((self.base.window()?, updated))
    }
}

/// Parses flags with `A`'s clap definition, as if given after the subcommand `name`.
pub fn parse_flags<A: clap::Args>(name: &str, flags: &[String]) -> std::result::Result<A, String> {
    #[derive(clap::Parser)]
    #[command(no_binary_name = true, disable_help_flag = true)]
    struct Flags<A: clap::Args> {
        #[command(flatten)]
        args: A,
    }
    <Flags<A> as clap::Parser>::try_parse_from(flags)
        .map(|f| f.args)
        .map_err(|e| format!("{name} filters: {}", crate::error::clap_one_line(&e)))
}

/// A Markdown table of columns: name, type, nullability, the Webitel release that fills it
/// (`releases`, one per column), meaning.
pub fn column_table(columns: &[Column], releases: &[Level]) -> String {
    let mut out = String::from(
        "| column | type | null | since | meaning, source and formula |\n|---|---|---|---|---|\n",
    );
    for (c, release) in columns.iter().zip(releases) {
        let doc = format!("{}{}", c.description(), personal_note(c));
        let null = if c.nullable { "yes" } else { "no" };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            c.name,
            c.kind.doc_name(),
            null,
            release,
            doc.replace('|', "\\|")
        ));
    }
    out
}

/// What `--pseudonymize` does to a column, as a sentence for the docs (empty for none).
pub fn personal_note(c: &Column) -> &'static str {
    match (c.personal, c.kind) {
        (Some(Personal::Text), Kind::Json) => {
            " *`--pseudonymize`: dropped under `text`; numbers and `name` members tokenized \
             under `numbers`, `names`.*"
        }
        (Some(Personal::Text), _) => " *`--pseudonymize text` drops it.*",
        (Some(Personal::Numbers), Kind::Json) => {
            " *`--pseudonymize`: numbers and `name` members tokenized under `numbers`, `names`.*"
        }
        (Some(Personal::Numbers), _) => " *`--pseudonymize numbers` tokenizes it.*",
        (Some(Personal::Names), _) => " *`--pseudonymize names` tokenizes it.*",
        (None, _) => "",
    }
}
