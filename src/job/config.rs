//! The `run` configuration file (TOML), checked completely before anything runs.
//!
//! Unknown keys and bad values are errors that name the line and the reason. Each job's
//! `filters` are the same flags as the dataset's subcommand and are parsed by the same clap
//! definitions, so a filter means exactly what it means on the command line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;

use crate::datasets::Incremental;
use crate::error::{Error, Result};
use crate::pseudonym::{Personal, PseudonymKey};
use crate::record::{Column, Kind};
use crate::registry::{self, DatasetInfo, JobFilter};
use crate::sink::{Format, Profile};
use crate::timearg::{parse_duration, parse_instant, parse_tz};
use crate::view::{SharedView, View, ViewRequest};

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    root: PathBuf,
    work_dir: Option<PathBuf>,
    #[serde(default = "default_time_zone")]
    time_zone: String,
    #[serde(default = "default_safety_lag")]
    safety_lag: String,
    #[serde(default = "default_max_file_rows")]
    max_file_rows: u64,
    #[serde(default = "default_max_file_bytes")]
    max_file_bytes: u64,
    #[serde(default)]
    connection: ConnectionConfig,
    #[serde(default)]
    storage: StorageConfig,
    metrics_file: Option<PathBuf>,
    pushgateway: Option<String>,
    metrics_instance: Option<String>,
    #[serde(default)]
    delta: RawDelta,
    /// Classes of personal data pseudonymized in every job (a job's own list replaces it).
    #[serde(default)]
    pseudonymize: Vec<Personal>,
    pseudonym_key_file: Option<PathBuf>,
    jobs: Vec<Spanned<RawJob>>,
}

/// `[delta]`: how the Delta tables of `format = "delta"` jobs are kept.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDelta {
    #[serde(default = "default_checkpoint_interval")]
    checkpoint_interval: u32,
    #[serde(default = "default_retention")]
    retention: String,
}

impl Default for RawDelta {
    fn default() -> Self {
        RawDelta {
            checkpoint_interval: default_checkpoint_interval(),
            retention: default_retention(),
        }
    }
}

fn default_checkpoint_interval() -> u32 {
    10
}
fn default_retention() -> String {
    "7d".into()
}

fn default_time_zone() -> String {
    "UTC".into()
}
fn default_safety_lag() -> String {
    "5m".into()
}
fn default_max_file_rows() -> u64 {
    1_000_000
}
fn default_max_file_bytes() -> u64 {
    256 << 20
}

/// Optional connection settings; the command line and the environment take precedence.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct ConnectionConfig {
    pub url: Option<String>,
    pub sslmode: Option<String>,
    pub sslrootcert: Option<PathBuf>,
    pub statement_timeout: Option<String>,
    pub work_mem: Option<String>,
    pub password_file: Option<PathBuf>,
    pub connect_retries: Option<u32>,
}

pub use crate::sink::object::StorageConfig;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJob {
    name: Option<String>,
    dataset: String,
    mode: Option<Mode>,
    #[serde(default = "default_format")]
    format: JobFormat,
    #[serde(default)]
    profile: Profile,
    partition_by: Option<String>,
    since: Option<String>,
    /// Days re-read and replaced whole every run (`"7d"`).
    restate: Option<String>,
    #[serde(default)]
    filters: Vec<String>,
    /// recordings only: also copy the files into the root.
    archive: Option<ArchiveConfig>,
    /// Only these columns, in this order.
    #[serde(default)]
    columns: Vec<String>,
    #[serde(default)]
    exclude_columns: Vec<String>,
    #[serde(default)]
    variable_columns: Vec<String>,
    /// Replaces the run's `pseudonymize` for this job (`[]`: none).
    pseudonymize: Option<Vec<Personal>>,
}

fn default_format() -> JobFormat {
    JobFormat::Parquet
}

/// How a job chooses its rows each run.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Rows since the job's watermark, up to the run's bound; partitions by a timestamp column.
    Incremental,
    /// Every row, as of the run's snapshot, in the partition of the run's date.
    Full,
}

#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum JobFormat {
    Parquet,
    Csv,
    /// Parquet files in a Delta Lake table.
    Delta,
    /// Excel workbooks.
    Xlsx,
}

/// A checked configuration.
pub struct Config {
    /// The local directory holding the state, the lock and the staging area (and the files,
    /// unless they are published to object storage).
    pub root: PathBuf,
    /// `s3://bucket/prefix` when `root` in the file names object storage.
    pub object_root: Option<String>,
    pub tz: Tz,
    pub safety_lag: Duration,
    pub max_file_rows: u64,
    pub max_file_bytes: u64,
    pub connection: ConnectionConfig,
    pub storage: StorageConfig,
    /// Where every run's metrics go.
    pub metrics: MetricsTarget,
    /// How Delta tables are kept (`[delta]`).
    pub delta: DeltaConfig,
    pub jobs: Vec<Job>,
}

/// `[delta]`, checked.
#[derive(Clone, Copy, Debug)]
pub struct DeltaConfig {
    /// A checkpoint every this many commits.
    pub checkpoint_interval: u32,
    /// Files a commit removed are deleted this long after (time travel reaches this far back).
    pub retention_days: u32,
}

/// How a job's files are published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// Hive-partitioned files; replaced partitions swapped at commit.
    Files,
    /// A Delta Lake table: each run one commit of the job's table.
    Delta,
}

/// A checked job.
pub struct Job {
    /// Directory under the root and key of its watermark.
    pub name: String,
    pub mode: Mode,
    pub format: Format,
    /// The reader the files are shaped for (`profile = "duckdb"`…).
    pub profile: Profile,
    /// The timestamp column whose local date names the partition (incremental jobs).
    pub partition_by: Option<&'static str>,
    /// Where the first incremental run starts (default: the beginning).
    pub since: Option<DateTime<Utc>>,
    /// The last this many days (local dates in the config's time zone, today included) are
    /// re-read and replaced whole every run.
    pub restate: Option<u32>,
    pub table: Table,
    /// The dataset and its parsed filters.
    pub source: JobFilter,
    /// A recordings job's file archive (`[jobs.archive]`).
    pub archive: Option<ArchiveConfig>,
    /// The columns the job writes and how (`None`: the dataset's own, untouched).
    pub view: Option<SharedView>,
}

impl Job {
    /// The columns of the job's files.
    pub fn columns(&self) -> &[Column] {
        match &self.view {
            Some(view) => view.columns(),
            None => self.source.info().columns,
        }
    }
}

impl Config {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::input(format!("cannot read config '{}': {e}", path.display())))?;
        Config::parse(&text, &path.display().to_string())
    }

    /// Parses and checks config text; `origin` names it in messages.
    pub fn parse(text: &str, origin: &str) -> Result<Config> {
        let at = |span: Option<std::ops::Range<usize>>| match span {
            Some(span) => match key_at(text, span.start) {
                Some(key) => format!("{origin} line {} ({key})", line_of(text, span.start)),
                None => format!("{origin} line {}", line_of(text, span.start)),
            },
            None => origin.to_string(),
        };
        let raw: RawConfig = toml::from_str(text)
            .map_err(|e| Error::input(format!("{}: {}", at(e.span()), e.message().trim())))?;
        let general = |message: String| Error::input(format!("{origin}: {message}"));
        let tz = parse_tz(&raw.time_zone).map_err(|e| general(e.one_line()))?;
        let safety_lag =
            parse_duration("safety_lag", &raw.safety_lag).map_err(|e| general(e.one_line()))?;
        if raw.max_file_rows == 0 || raw.max_file_bytes == 0 {
            return Err(general(
                "max_file_rows and max_file_bytes must be positive".into(),
            ));
        }
        if raw.jobs.is_empty() {
            return Err(general("no [[jobs]]: nothing to run".into()));
        }
        let key = pseudonym_key(&raw).map_err(|e| general(e.one_line()))?;
        let mut jobs = Vec::new();
        for spanned in raw.jobs {
            let where_ = at(Some(spanned.span()));
            let job = check_job(spanned.into_inner(), tz, &raw.pseudonymize, key.as_ref())
                .map_err(|message| Error::input(format!("{where_}: {message}")))?;
            if jobs.iter().any(|j: &Job| j.name == job.name) {
                return Err(Error::input(format!(
                    "{where_}: job name '{}' is used twice (set `name`)",
                    job.name
                )));
            }
            jobs.push(job);
        }
        let (root, object_root) = split_root(raw.root, raw.work_dir).map_err(general)?;
        let metrics = metrics_target(
            Some(&root),
            raw.metrics_file,
            raw.pushgateway,
            raw.metrics_instance,
        )
        .map_err(general)?;
        let delta = check_delta(&raw.delta).map_err(general)?;
        if let Some(job) = jobs
            .iter()
            .find(|j| j.table == Table::Delta && j.restate.unwrap_or(0) > delta.retention_days)
        {
            return Err(general(format!(
                "[delta] retention ({}d) is shorter than job {}'s restate window ({}d): a \
                 restated day's previous version would be deleted while still in the window",
                delta.retention_days,
                job.name,
                job.restate.unwrap_or(0)
            )));
        }
        Ok(Config {
            delta,
            metrics,
            root,
            object_root,
            tz,
            safety_lag,
            max_file_rows: raw.max_file_rows,
            max_file_bytes: raw.max_file_bytes,
            connection: raw.connection,
            storage: raw.storage,
            jobs,
        })
    }
}

/// Where a run's metrics go.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricsTarget {
    /// The Prometheus text file every run rewrites.
    pub file: PathBuf,
    /// Whether `file` was named in the config (its directory must then exist); the default
    /// lies in the root's state directory, which the run makes.
    pub named: bool,
    /// A Pushgateway (`http://host:9091`) to push the same metrics to.
    pub pushgateway: Option<String>,
    /// The Pushgateway group's `instance`: the host name unless `metrics_instance` says.
    pub instance: String,
}

impl MetricsTarget {
    /// Fails (exit 2) when the file cannot be written where the config names it: its
    /// directory is missing or not writable, or the path is a directory or a link. Checked
    /// before a run starts (and by `run --dry-run` and `check --config`), as the output root
    /// is; the directory is never created.
    pub fn check(&self) -> Result<()> {
        let bad =
            |why: String| Error::input(format!("metrics_file '{}': {why}", self.file.display()));
        if !self.named {
            return Ok(());
        }
        if let Ok(meta) = std::fs::symlink_metadata(&self.file)
            && !meta.is_file()
        {
            return Err(bad("not a regular file".into()));
        }
        let dir = match self.file.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            return Err(bad(format!(
                "its directory {} does not exist (it is not created)",
                dir.display()
            )));
        }
        // The file is replaced by renaming a temporary beside it: that needs a writable
        // directory, which a probe proves for the run's own user.
        tempfile::Builder::new()
            .prefix(".webitel-export-probe")
            .tempfile_in(dir)
            .map(drop)
            .map_err(|e| {
                bad(format!(
                    "its directory {} is not writable: {e}",
                    dir.display()
                ))
            })
    }
}

/// The metrics keys of a config, read alone: where a run whose config is wrong still reports
/// its failure.
#[derive(Deserialize)]
struct RawMetrics {
    root: Option<PathBuf>,
    work_dir: Option<PathBuf>,
    metrics_file: Option<PathBuf>,
    pushgateway: Option<String>,
    metrics_instance: Option<String>,
}

impl MetricsTarget {
    /// Where the metrics of a run whose config at `path` fails its checks go, if the file
    /// is TOML that says (its metrics keys valid, the rest perhaps not).
    pub fn salvage(path: &Path) -> Option<MetricsTarget> {
        let text = std::fs::read_to_string(path).ok()?;
        let raw: RawMetrics = toml::from_str(&text).ok()?;
        let root = raw
            .root
            .and_then(|root| split_root(root, raw.work_dir).ok())
            .map(|(root, _)| root);
        metrics_target(
            root.as_deref(),
            raw.metrics_file,
            raw.pushgateway,
            raw.metrics_instance,
        )
        .ok()
    }
}

/// The metrics keys, checked; the file defaults to `<root>/_state/metrics.prom`.
fn metrics_target(
    root: Option<&Path>,
    file: Option<PathBuf>,
    pushgateway: Option<String>,
    instance: Option<String>,
) -> std::result::Result<MetricsTarget, String> {
    if let Some(url) = &pushgateway
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(format!(
            "pushgateway '{url}' is not an http:// or https:// URL"
        ));
    }
    let instance = match instance {
        Some(name) if name.trim().is_empty() => {
            return Err("metrics_instance is empty".into());
        }
        Some(name) => name,
        // The host name tells the sites' pushes apart (a root's name is the same on each).
        None => whoami::hostname().unwrap_or_else(|_| "localhost".into()),
    };
    let (file, named) = match (file, root) {
        (Some(file), _) => (file, true),
        (None, Some(root)) => (super::state::state_dir(root).join("metrics.prom"), false),
        (None, None) => return Err("no root and no metrics_file".into()),
    };
    if file.as_os_str().is_empty() {
        return Err("metrics_file is empty".into());
    }
    Ok(MetricsTarget {
        file,
        named,
        pushgateway,
        instance,
    })
}

/// `"7d"`: a whole number of days from 1 to `max`.
fn whole_days(key: &str, value: &str, max: u32) -> std::result::Result<u32, String> {
    value
        .strip_suffix('d')
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| format!("{key} '{value}' is not a number of days from 1d to {max}d"))
}

fn check_delta(raw: &RawDelta) -> std::result::Result<DeltaConfig, String> {
    let retention_days = whole_days("[delta] retention", &raw.retention, 3650)?;
    if raw.checkpoint_interval == 0 {
        return Err("[delta] checkpoint_interval must be positive".to_string());
    }
    Ok(DeltaConfig {
        checkpoint_interval: raw.checkpoint_interval,
        retention_days,
    })
}

/// `root = "s3://bucket/prefix"` publishes to object storage and keeps the state, lock and
/// staging area in `work_dir`; a local root keeps everything under itself.
fn split_root(
    root: PathBuf,
    work_dir: Option<PathBuf>,
) -> std::result::Result<(PathBuf, Option<String>), String> {
    let text = root.to_string_lossy().into_owned();
    match (text.starts_with("s3://"), work_dir) {
        (true, Some(work)) => Ok((work, Some(text))),
        (true, None) => Err(format!(
            "root '{text}' is object storage: set work_dir to a local directory for the state and staging files"
        )),
        (false, Some(_)) => Err("work_dir is only for an s3:// root".to_string()),
        (false, None) => Ok((root, None)),
    }
}

/// The pseudonym key, read when some job pseudonymizes.
fn pseudonym_key(raw: &RawConfig) -> Result<Option<PseudonymKey>> {
    let wanted = !raw.pseudonymize.is_empty()
        || raw.jobs.iter().any(|j| {
            j.get_ref()
                .pseudonymize
                .as_ref()
                .is_some_and(|c| !c.is_empty())
        });
    match (&raw.pseudonym_key_file, wanted) {
        (Some(path), true) => PseudonymKey::load(path).map(Some),
        (None, true) => Err(Error::input(
            "pseudonymize is set but pseudonym_key_file is not",
        )),
        (_, false) => Ok(None),
    }
}

/// A job's view of its dataset's rows, from its `columns`, `exclude_columns`,
/// `variable_columns` and `pseudonymize` (or the run's).
fn job_view(
    raw: &RawJob,
    info: &DatasetInfo,
    run_pseudonymize: &[Personal],
    key: Option<&PseudonymKey>,
) -> std::result::Result<Option<SharedView>, String> {
    let request = ViewRequest {
        columns: raw.columns.clone(),
        exclude: raw.exclude_columns.clone(),
        variables: raw.variable_columns.clone(),
        pseudonymize: raw
            .pseudonymize
            .clone()
            .unwrap_or_else(|| run_pseudonymize.to_vec()),
        key: key.cloned(),
    };
    if request.is_empty() {
        return Ok(None);
    }
    let view = View::resolve(info.name, info.columns, &request).map_err(|e| e.one_line())?;
    Ok(Some(std::sync::Arc::new(view)))
}

fn check_job(
    raw: RawJob,
    tz: Tz,
    run_pseudonymize: &[Personal],
    key: Option<&PseudonymKey>,
) -> std::result::Result<Job, String> {
    let source = JobFilter::parse(&raw.dataset, &raw.filters, tz).ok_or_else(|| {
        format!(
            "unknown dataset '{}': expected one of {}",
            raw.dataset,
            registry::names()
        )
    })??;
    let info = source.info();
    let mode = raw.mode.unwrap_or(if info.incremental.is_some() {
        Mode::Incremental
    } else {
        Mode::Full
    });
    let name = job_name(raw.name.as_deref().unwrap_or(&raw.dataset))?;
    let partition_by = partition_column(info, mode, &raw)?;
    let since = first_start(info, mode, raw.since.as_deref(), tz)?;
    let (format, table) = match raw.format {
        JobFormat::Parquet => (Format::Parquet, Table::Files),
        JobFormat::Csv => (Format::Csv, Table::Files),
        JobFormat::Delta => (Format::Parquet, Table::Delta),
        JobFormat::Xlsx => (Format::Xlsx, Table::Files),
    };
    if table == Table::Delta && raw.profile == Profile::Duckdb {
        return Err(
            "profile = \"duckdb\" writes call ids as the Parquet UUID type, which Delta Lake \
             has no type for: leave profile unset in a delta job"
                .to_string(),
        );
    }
    let restate = restate_days(raw.restate.as_deref(), mode, &raw, info)?;
    if raw.archive.is_some() && !matches!(source, JobFilter::Recordings(_)) {
        return Err(format!(
            "archive applies to recordings jobs, not {}",
            info.name
        ));
    }
    if raw.profile == Profile::Excel && format != Format::Csv {
        return Err("profile = \"excel\" needs format = \"csv\"".to_string());
    }
    let view = job_view(&raw, info, run_pseudonymize, key)?;
    let mut source = source;
    if let Some(view) = &view {
        source.narrow(view);
    }
    Ok(Job {
        name,
        mode,
        format,
        profile: raw.profile,
        partition_by,
        since,
        restate,
        table,
        source,
        archive: raw.archive,
        view,
    })
}

/// `restate = "7d"`: a whole number of days, on an incremental job partitioned by its
/// dataset's own partition column (the column a restated read selects on) whose filters leave
/// that column's window to the run.
fn restate_days(
    value: Option<&str>,
    mode: Mode,
    raw: &RawJob,
    info: &DatasetInfo,
) -> std::result::Result<Option<u32>, String> {
    let Some(value) = value else { return Ok(None) };
    let days = whole_days("restate", value, 366)?;
    let incremental = match (mode, info.incremental) {
        (Mode::Incremental, Some(incremental)) => incremental,
        _ => {
            return Err(
                "restate applies to incremental jobs, whose rows are partitioned by date; a full \
                 job already replaces its snapshot every run"
                    .to_string(),
            );
        }
    };
    if let Some(column) = &raw.partition_by
        && column != incremental.partition_by
    {
        return Err(format!(
            "restate replaces the days of {}'s own partition column: remove partition_by = \"{column}\" \
             (or restate)",
            info.name
        ));
    }
    if raw
        .filters
        .iter()
        .any(|f| f.starts_with("--from") || f.starts_with("--to"))
    {
        return Err(format!(
            "a restated {} job sets --from and --to itself; remove them from filters",
            info.name
        ));
    }
    Ok(Some(days))
}

/// A job's name is a directory under the root and a watermark key.
fn job_name(name: &str) -> std::result::Result<String, String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if name.is_empty() || !name.chars().all(allowed) || name.starts_with(['_', '.', '-']) {
        return Err(format!(
            "job name '{name}' must be letters, digits, '-' or '_' and not start with '_', '.' or '-'"
        ));
    }
    Ok(name.to_string())
}

/// The partition column of an incremental job (`None` for a full one), checked against the
/// dataset; an incremental job's filters must leave its window flags to the run.
fn partition_column(
    info: &DatasetInfo,
    mode: Mode,
    raw: &RawJob,
) -> std::result::Result<Option<&'static str>, String> {
    match (mode, info.incremental) {
        (Mode::Incremental, None) => Err(format!(
            "{} is a snapshot dataset: use mode = \"full\"",
            info.name
        )),
        (
            Mode::Incremental,
            Some(Incremental {
                flags,
                partition_by,
                ..
            }),
        ) => {
            let sets_window = |f: &String| flags.iter().any(|flag| f.starts_with(flag));
            if raw.filters.iter().any(sets_window) {
                return Err(format!(
                    "an incremental {} job sets {} and {} itself; remove them from filters",
                    info.name, flags[0], flags[1]
                ));
            }
            let column = raw.partition_by.as_deref().unwrap_or(partition_by);
            Ok(Some(timestamp_column(info.columns, column)?))
        }
        (Mode::Full, _) if raw.partition_by.is_some() => Err(
            "partition_by applies to incremental jobs; a full job is partitioned by the run's date"
                .into(),
        ),
        (Mode::Full, _) => Ok(None),
    }
}

/// Where an incremental job's first run starts (`since`); reports require it.
fn first_start(
    info: &DatasetInfo,
    mode: Mode,
    since: Option<&str>,
    tz: Tz,
) -> std::result::Result<Option<DateTime<Utc>>, String> {
    if info.needs_since && since.is_none() {
        return Err(format!(
            "a {} job needs `since`: where its first run starts",
            info.name
        ));
    }
    match (since, mode) {
        (Some(_), Mode::Full) => Err("since applies to incremental jobs".into()),
        (Some(v), _) => Ok(Some(
            parse_instant("since", v, tz).map_err(|e| e.one_line())?,
        )),
        (None, _) => Ok(None),
    }
}

fn timestamp_column(
    columns: &'static [Column],
    name: &str,
) -> std::result::Result<&'static str, String> {
    match columns.iter().find(|c| c.name == name) {
        Some(c) if c.kind == Kind::Timestamp => Ok(c.name),
        Some(_) => Err(format!("partition_by '{name}' is not a timestamp column")),
        None => {
            let stamps: Vec<&str> = columns
                .iter()
                .filter(|c| c.kind == Kind::Timestamp)
                .map(|c| c.name)
                .collect();
            Err(format!(
                "partition_by '{name}' is not a column; timestamp columns: {}",
                stamps.join(", ")
            ))
        }
    }
}

/// The key of a `key = value` line holding `offset`, to name it next to a value's error.
fn key_at(text: &str, offset: usize) -> Option<&str> {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then_some(key)
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// `[jobs.archive]` of a recordings job.
#[derive(serde::Deserialize, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct ArchiveConfig {
    /// The local store's root directory on this host (replaces profile directories; the only
    /// way to the storage service's default store).
    pub storage_root: Option<PathBuf>,
}

#[cfg(test)]
mod tests;
