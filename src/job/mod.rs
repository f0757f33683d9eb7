//! `webitel-export run --config export.toml`: the nightly job. Every job of a run reads one
//! snapshot; incremental jobs export `[watermark, bound)` of their column; files are published
//! all at once, then the watermarks move. See docs/nightly.md.

pub mod commit;
pub mod config;
pub mod object_root;
pub mod parts;
pub mod state;

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::Stream;
use futures_util::future::LocalBoxFuture;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use crate::datasets::Dataset;
use crate::error::{Error, Result};
use crate::export::{Progress, pump};
use crate::levels::Level;
use crate::record::{Column, Record};
use crate::registry::JobVisitor;
use crate::sink::SinkOptions;
use crate::source::{self, ConnArgs};
use crate::timearg::Window;
use commit::{Publish, Staging};
use config::{Config, Job, Mode};
use object_root::ObjectRoot;
use parts::{FileEntry, PartLimits, PartWriter, Partitioning};
use state::{State, Watermark};

/// `webitel-export run`.
#[derive(clap::Args)]
pub struct RunArgs {
    /// The run configuration (TOML; see docs/nightly.md).
    #[arg(short, long, value_name = "FILE")]
    pub config: PathBuf,
    /// Print the plan (jobs and windows) and exit without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// No per-job lines on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// What one job of a run is to export.
struct Planned<'a> {
    job: &'a Job,
    /// The incremental window `[from, to)`, or `None` for a full job.
    window: Option<Window>,
}

/// A job's line in the manifest.
#[derive(Serialize)]
struct JobReport {
    name: String,
    dataset: &'static str,
    mode: &'static str,
    format: &'static str,
    column: Option<&'static str>,
    window_from: Option<DateTime<Utc>>,
    window_to: Option<DateTime<Utc>>,
    rows: u64,
    bytes: u64,
    files: usize,
    seconds: f64,
    schema_fingerprint: String,
}

#[derive(Serialize)]
struct Manifest<'a> {
    run_id: &'a str,
    tool_version: &'static str,
    snapshot_at: DateTime<Utc>,
    bound: DateTime<Utc>,
    time_zone: String,
    jobs: &'a [JobReport],
    files: Vec<ManifestFile<'a>>,
}

#[derive(Serialize)]
struct ManifestFile<'a> {
    job: &'a str,
    #[serde(flatten)]
    file: &'a FileEntry,
}

/// Runs every job of the configuration in one snapshot and publishes the result.
pub async fn run(args: &RunArgs) -> Result<()> {
    let config = Config::load(&args.config)?;
    let conn = connection(&args.conn, &config)?;
    let root = &config.root;
    // A dry run only reads: no output root, lock or recovery.
    let _lock = if args.dry_run {
        None
    } else {
        std::fs::create_dir_all(root).map_err(|e| Error::output(root, e))?;
        Some(RunLock::acquire(root)?)
    };
    let publish = match &config.object_root {
        Some(url) => Publish::Object(ObjectRoot::parse(url, &config.storage)?),
        None => Publish::Local,
    };
    let mut state = State::load(root)?;
    if !args.dry_run {
        for line in commit::recover(root, &state, &publish).await? {
            log(args.quiet, &format!("recovery: {line}"));
        }
    }

    let mut db = conn.connect().await?;
    let domains: Vec<i64> = config
        .jobs
        .iter()
        .flat_map(|j| j.source.domains().iter().copied())
        .collect();
    let mut tx = source::begin_snapshot(&mut db, &conn, &domains).await?;
    let snapshot = sqlx::query_file!("queries/run_snapshot.sql")
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| Error::database("reading the snapshot time", e))?;
    let lagged =
        snapshot.snapshot_at - chrono::Duration::from_std(config.safety_lag).unwrap_or_default();
    let bound = snapshot
        .oldest_writer_start
        .map_or(lagged, |t| t.min(lagged));
    let run_id = format!(
        "{}-{:05x}",
        snapshot.snapshot_at.format("%Y%m%dT%H%M%SZ"),
        std::process::id() & 0xfffff
    );
    let plan: Vec<Planned> = config
        .jobs
        .iter()
        .map(|job| Planned {
            job,
            window: plan_window(job, &state, bound),
        })
        .collect();
    if args.dry_run {
        print_plan(&run_id, snapshot.snapshot_at, bound, &plan);
        return Ok(());
    }

    let staging = Staging::create(root, &run_id)?;
    let context = RunContext {
        staging: staging.dir(),
        run_id: &run_id,
        config: &config,
        snapshot_partition: Partitioning::date_partition(snapshot.snapshot_at, config.tz),
        level: crate::levels::detect(&mut tx).await?,
        stall_timeout: conn.stall_timeout()?,
        quiet: args.quiet,
    };
    let mut reports = Vec::new();
    let mut files = Vec::new();
    let mut full_partitions = BTreeSet::new();
    for planned in &plan {
        if planned.job.partition_by.is_none() {
            full_partitions.insert(format!(
                "{}/{}",
                planned.job.name, context.snapshot_partition
            ));
        }
        let (report, job_files) = run_job(&mut tx, planned, &context).await?;
        log(
            args.quiet,
            &format!(
                "job {}: {} rows, {} files, {} bytes, {:.2} s",
                report.name, report.rows, report.files, report.bytes, report.seconds
            ),
        );
        reports.push(report);
        files.extend(job_files.into_iter().map(|f| (planned.job.name.clone(), f)));
    }
    tx.rollback().await.ok();

    advance_watermarks(&mut state, &plan, &run_id);
    let manifest = Manifest {
        run_id: &run_id,
        tool_version: env!("CARGO_PKG_VERSION"),
        snapshot_at: snapshot.snapshot_at,
        bound,
        time_zone: config.tz.name().to_string(),
        jobs: &reports,
        files: files
            .iter()
            .map(|(job, file)| ManifestFile { job, file })
            .collect(),
    };
    let entries: Vec<FileEntry> = files.iter().map(|(_, f)| f.clone()).collect();
    staging
        .commit(&entries, &full_partitions, &manifest, &state, &publish)
        .await?;
    log(
        args.quiet,
        &format!(
            "run {run_id}: {} jobs, {} files committed",
            reports.len(),
            entries.len()
        ),
    );
    Ok(())
}

/// What every job of a run shares.
struct RunContext<'a> {
    staging: &'a Path,
    run_id: &'a str,
    config: &'a Config,
    /// `date=<the snapshot's local date>`: where full jobs write.
    snapshot_partition: String,
    /// The schema level detected in the snapshot: which query variants run.
    level: Level,
    stall_timeout: Option<Duration>,
    quiet: bool,
}

/// Exports one job into the staging directory; returns its manifest line and files.
async fn run_job(
    db: &mut PgConnection,
    planned: &Planned<'_>,
    context: &RunContext<'_>,
) -> Result<(JobReport, Vec<FileEntry>)> {
    let started = Instant::now();
    let job = planned.job;
    let partitioning = match job.partition_by {
        Some(column) => Partitioning::ByColumn {
            index: column_index(job.source.info().columns, column),
            tz: context.config.tz,
        },
        None => Partitioning::Fixed(context.snapshot_partition.clone()),
    };
    let target = Target {
        staging: context.staging,
        run_id: context.run_id,
        config: context.config,
        partitioning,
        stall_timeout: context.stall_timeout,
        quiet: context.quiet,
    };
    let (files, rows) = execute(db, context.level, planned, target).await?;
    let report = JobReport {
        name: job.name.clone(),
        dataset: job.source.info().name,
        mode: match job.mode {
            Mode::Incremental => "incremental",
            Mode::Full => "full",
        },
        format: job.format.name(),
        column: job
            .source
            .info()
            .incremental
            .map(|i| i.column)
            .filter(|_| planned.window.is_some()),
        window_from: planned.window.and_then(|w| w.from),
        window_to: planned.window.and_then(|w| w.to),
        rows,
        bytes: files.iter().map(|f| f.bytes).sum(),
        files: files.len(),
        seconds: started.elapsed().as_secs_f64(),
        schema_fingerprint: fingerprint(job.source.info().columns),
    };
    Ok((report, files))
}

/// Moves each incremental job's watermark to the end of its window (saved at commit).
fn advance_watermarks(state: &mut State, plan: &[Planned], run_id: &str) {
    for planned in plan {
        if let (Some(window), Some(incremental)) =
            (planned.window, planned.job.source.info().incremental)
        {
            state.jobs.insert(
                planned.job.name.clone(),
                Watermark {
                    column: incremental.column.to_string(),
                    watermark: window.to.expect("incremental windows have an end"),
                    run: run_id.to_string(),
                },
            );
        }
    }
    state.last_run = Some(run_id.to_string());
}

/// `[watermark (or since), bound)` for an incremental job; `None` for a full one.
fn plan_window(job: &Job, state: &State, bound: DateTime<Utc>) -> Option<Window> {
    if job.mode == Mode::Full {
        return None;
    }
    let from = state.jobs.get(&job.name).map(|w| w.watermark).or(job.since);
    // Reports export complete buckets only.
    let bound = job.source.complete_until(bound);
    // A watermark past the bound (a larger safety lag than last time) exports nothing new.
    let to = match from {
        Some(from) if from > bound => from,
        _ => bound,
    };
    Some(Window { from, to: Some(to) })
}

fn print_plan(run_id: &str, snapshot_at: DateTime<Utc>, bound: DateTime<Utc>, plan: &[Planned]) {
    let time = |t: Option<DateTime<Utc>>| {
        t.map_or("the beginning".to_string(), |t| {
            t.to_rfc3339_opts(SecondsFormat::Micros, true)
        })
    };
    println!(
        "run {run_id} (dry run): snapshot {}, bound {}",
        time(Some(snapshot_at)),
        time(Some(bound))
    );
    for p in plan {
        let info = p.job.source.info();
        match (p.window, info.incremental) {
            (Some(w), Some(incremental)) => println!(
                "job {} ({}, incremental, {}): {} from {} to {}",
                p.job.name,
                info.name,
                p.job.format.name(),
                incremental.column,
                time(w.from),
                time(w.to)
            ),
            _ => println!(
                "job {} ({}, full snapshot, {})",
                p.job.name,
                info.name,
                p.job.format.name()
            ),
        }
    }
}

/// Where one job's files go.
struct Target<'a> {
    staging: &'a Path,
    run_id: &'a str,
    config: &'a Config,
    partitioning: Partitioning,
    stall_timeout: Option<Duration>,
    quiet: bool,
}

/// Reads one job's rows in the run's snapshot and writes its part files.
async fn execute(
    db: &mut PgConnection,
    level: Level,
    planned: &Planned<'_>,
    target: Target<'_>,
) -> Result<(Vec<FileEntry>, u64)> {
    let job = RunJob {
        db,
        level,
        window: planned.window,
        job: planned.job,
        target,
    };
    planned.job.source.visit(job).await
}

/// One job of a run, given its dataset's type by `JobFilter::visit`.
struct RunJob<'a> {
    db: &'a mut PgConnection,
    level: Level,
    /// The incremental window, `None` for a full job.
    window: Option<Window>,
    job: &'a Job,
    target: Target<'a>,
}

impl<'a> JobVisitor for RunJob<'a> {
    type Output = LocalBoxFuture<'a, Result<(Vec<FileEntry>, u64)>>;
    fn visit<D: Dataset>(self, filter: &D::Filter) -> Self::Output {
        let mut filter = filter.clone();
        Box::pin(async move {
            if let Some(window) = self.window {
                D::set_window(&mut filter, window)?;
            }
            D::prepare(self.db, &filter).await?;
            let rows = D::rows(self.db, self.level, &filter);
            write_parts(rows, self.job, self.target).await
        })
    }
}

async fn write_parts<R: Record>(
    rows: impl Stream<Item = Result<R>>,
    job: &Job,
    target: Target<'_>,
) -> Result<(Vec<FileEntry>, u64)> {
    let sink = SinkOptions {
        format: job.format,
        profile: job.profile,
        // A part's size is known only as row groups reach its file, so `max_file_bytes` holds
        // to within one group: groups of 16 MiB of raw values (a few MiB on disk) keep it close.
        row_group_bytes: 16 << 20,
        // Parts are staged on the root's disk (or the work_dir): their pages spill there too.
        spill_dir: Some(target.staging.to_path_buf()),
        ..SinkOptions::default()
    };
    let writer = PartWriter::<R>::new(
        target.staging,
        &job.name,
        target.run_id,
        sink,
        target.partitioning,
        PartLimits {
            max_rows: target.config.max_file_rows,
            max_bytes: target.config.max_file_bytes,
        },
    );
    let progress = Progress::new(
        job.source.info().name,
        !target.quiet && std::io::stderr().is_terminal(),
    );
    pump(rows, writer, progress, target.stall_timeout).await
}

fn column_index(columns: &[Column], name: &str) -> usize {
    columns
        .iter()
        .position(|c| c.name == name)
        .expect("the config checked the partition column")
}

/// A short hash of the column names, kinds and nullability: equal fingerprints mean files that
/// line up.
fn fingerprint(columns: &[Column]) -> String {
    let mut sha = Sha256::new();
    for c in columns {
        sha.update(format!("{}:{:?}:{};", c.name, c.kind, c.nullable).as_bytes());
    }
    parts::hex(&sha.finalize()[..8])
}

/// The CLI's connection flags, completed by the config's `[connection]` where the command line
/// and the environment say nothing.
fn connection(cli: &ConnArgs, config: &Config) -> Result<ConnArgs> {
    let mut conn = cli.clone();
    let from_file = &config.connection;
    if conn.database_url.is_none() {
        conn.database_url = from_file.url.clone();
    }
    if conn.sslmode.is_none()
        && let Some(mode) = &from_file.sslmode
    {
        conn.sslmode = Some(mode.parse().map_err(|_| {
            Error::input(format!(
                "config [connection] sslmode '{mode}' is not a TLS mode"
            ))
        })?);
    }
    if conn.sslrootcert.is_none() {
        conn.sslrootcert = from_file.sslrootcert.clone();
    }
    if conn.statement_timeout == "0"
        && let Some(timeout) = &from_file.statement_timeout
    {
        conn.statement_timeout = timeout.clone();
    }
    if conn.password_file.is_none() {
        conn.password_file = from_file.password_file.clone();
    }
    if conn.connect_retries == 0 {
        conn.connect_retries = from_file.connect_retries.unwrap_or(0);
    }
    conn.validate()?;
    Ok(conn)
}

fn log(quiet: bool, line: &str) {
    if !quiet {
        eprintln!("{line}");
    }
}

/// One run at a time per output root: an exclusive `flock` on `<root>/_state/lock`, released
/// when the process ends, however it ends.
struct RunLock {
    _file: std::fs::File,
}

impl RunLock {
    fn acquire(root: &Path) -> Result<RunLock> {
        let dir = state::state_dir(root);
        std::fs::create_dir_all(&dir).map_err(|e| Error::output(&dir, e))?;
        let path = dir.join("lock");
        // A link or a FIFO put there is not ours to open.
        crate::sink::place::ensure_replaceable(&path)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::output(&path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(RunLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::Other(format!(
                "another run is using {} (lock {})",
                root.display(),
                path.display()
            ))),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::output(&path, e)),
        }
    }
}
