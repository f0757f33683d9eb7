//! `webitel-export run --config export.toml`: the nightly job. Every job of a run reads one
//! snapshot; incremental jobs export `[watermark, bound)` of their column; files are published
//! all at once, then the watermarks move. See docs/nightly.md.

mod archive;
pub mod commit;
pub mod config;
mod execute;
mod metrics;
pub mod object_root;
pub mod parts;
mod plan;
mod setup;
mod standby;
pub mod state;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

use crate::error::{Error, Result};
use crate::session::Session;
use crate::source::ConnArgs;
use commit::{Publish, Staging};
use config::Config;
use execute::{JobReport, RunContext, run_job};
use object_root::ObjectRoot;
use parts::{FileEntry, Partitioning};
use plan::{Planned, advance_watermarks, plan, print_plan};
use setup::{RunLock, connection};
use state::State;

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
    /// text: lines for people; json: one JSON object per line (journald, ELK), errors included.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// How `run` writes its lines on stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// The run's lines on stderr.
#[derive(Clone, Copy)]
pub(crate) struct Log {
    quiet: bool,
    format: LogFormat,
}

impl Log {
    fn info(&self, line: &str) {
        if !self.quiet {
            self.write("info", line);
        }
    }

    fn warn(&self, line: &str) {
        self.write("warn", line);
    }

    fn write(&self, level: &str, line: &str) {
        match self.format {
            LogFormat::Text => eprintln!("{line}"),
            LogFormat::Json => eprintln!("{}", json_line(level, line)),
        }
    }
}

/// One log record as JSON: time, level, message.
pub fn json_line(level: &str, message: &str) -> String {
    serde_json::json!({
        "ts": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "level": level,
        "msg": message,
    })
    .to_string()
}

#[derive(Serialize)]
struct Manifest<'a> {
    run_id: &'a str,
    tool_version: &'static str,
    snapshot_at: DateTime<Utc>,
    bound: DateTime<Utc>,
    /// Read from a hot standby: the primary's time it had replayed to (see docs/nightly.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    standby_replayed_to: Option<DateTime<Utc>>,
    time_zone: String,
    jobs: &'a [JobReport],
    files: Vec<ManifestFile<'a>>,
    /// Recording files archived by recordings jobs (copied by this run or already there).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    archived: &'a [archive::Archived],
    /// Recording files the archive cannot hold, each with the reason.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    not_archived: &'a [archive::NotArchived],
}

impl<'a> Manifest<'a> {
    fn new(snapshot: &'a Snapshot, config: &Config, done: &'a Done) -> Self {
        Manifest {
            run_id: &snapshot.run_id,
            tool_version: env!("CARGO_PKG_VERSION"),
            snapshot_at: snapshot.at,
            bound: snapshot.bound,
            standby_replayed_to: snapshot.standby.and_then(|p| p.replayed_to),
            time_zone: config.tz.name().to_string(),
            jobs: &done.reports,
            files: done
                .files
                .iter()
                .map(|(job, file)| ManifestFile { job, file })
                .collect(),
            archived: &done.archive.files,
            not_archived: &done.archive.skipped,
        }
    }
}

#[derive(Serialize)]
struct ManifestFile<'a> {
    job: &'a str,
    #[serde(flatten)]
    file: &'a FileEntry,
}

/// Runs every job of the configuration in one snapshot and publishes the result; then, for a
/// run that held the lock, writes (and pushes) its metrics, whether it committed or failed.
pub async fn run(args: &RunArgs) -> Result<()> {
    let config = Config::load(&args.config)?;
    let log = Log {
        quiet: args.quiet,
        format: args.log_format,
    };
    if args.dry_run {
        // A dry run only reads: no output root, lock, recovery or metrics.
        return execute(args, &config, log).await.map(drop);
    }
    let root = &config.root;
    std::fs::create_dir_all(root).map_err(|e| Error::output(root, e))?;
    let _lock = RunLock::acquire(root)?;
    let started = Instant::now();
    let result = execute(args, &config, log).await;
    let outcome = match &result {
        Ok(Some(done)) => metrics::Outcome::Success {
            jobs: &done.reports,
            state: &done.state,
        },
        Ok(None) => return Ok(()),
        Err(e) => metrics::Outcome::Failure {
            exit_code: e.exit_code(),
        },
    };
    record_metrics(&config, &outcome, started, log).await;
    result.map(drop)
}

/// Writes the metrics file and pushes it; a failure here is a warning, not the run's outcome.
async fn record_metrics(
    config: &Config,
    outcome: &metrics::Outcome<'_>,
    started: Instant,
    log: Log,
) {
    let path = &config.metrics_file;
    let previous = std::fs::read_to_string(path).unwrap_or_default();
    let seconds = started.elapsed().as_secs_f64();
    let text = metrics::render(&previous, outcome, Utc::now(), seconds);
    if let Err(e) = metrics::write(path, &text) {
        log.warn(&format!("metrics: {}", e.one_line()));
    }
    if let Some(url) = &config.pushgateway {
        let instance: String = config
            .root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if let Err(e) = metrics::push(url, &instance, &text).await {
            log.warn(&format!("metrics: {}", e.one_line()));
        }
    }
}

/// What a committed run leaves for its metrics.
struct Committed {
    reports: Vec<JobReport>,
    state: State,
}

/// The run itself, under the lock (or a dry run); `None` for a dry run.
async fn execute(args: &RunArgs, config: &Config, log: Log) -> Result<Option<Committed>> {
    let conn = connection(&args.conn, config)?;
    let root = &config.root;
    let publish = match &config.object_root {
        Some(url) => Publish::Object(ObjectRoot::parse(url, &config.storage)?),
        None => Publish::Local,
    };
    let mut state = State::load(root)?;
    if !args.dry_run {
        for line in commit::recover(root, &state, &publish).await? {
            log.info(&format!("recovery: {line}"));
        }
    }

    let mut db = conn.connect().await?;
    let domains: Vec<i64> = config
        .jobs
        .iter()
        .flat_map(|j| j.source.domains().iter().copied())
        .collect();
    let marks = standby::settle(&mut db, &state.standby_marks, config.safety_lag).await?;
    let mut session = Session::begin(db, &conn, &domains).await?;
    let snapshot = Snapshot::read(session.db(), config, &marks).await?;
    match (snapshot.standby_line(), snapshot.held) {
        // A run that exports nothing new is worth a warning even with --quiet.
        (Some(line), Some(_)) => log.warn(&line),
        (Some(line), None) => log.info(&line),
        (None, _) => {}
    }
    let plan = plan(&config.jobs, &state, snapshot.bound);
    if args.dry_run {
        print_plan(&snapshot.run_id, snapshot.at, snapshot.bound, &plan);
        return Ok(None);
    }

    let staging = Staging::create(root, &snapshot.run_id)?;
    let context = RunContext {
        staging: staging.dir(),
        run_id: &snapshot.run_id,
        config,
        snapshot_partition: Partitioning::date_partition(snapshot.at, config.tz),
        stall_timeout: conn.stall_timeout(),
        quiet: args.quiet,
    };
    let done = run_jobs(&mut session, &plan, &context, &publish, log).await?;
    session.close().await;

    advance_watermarks(&mut state, &plan, &snapshot.run_id);
    if let Some(position) = &snapshot.standby {
        state.standby_marks = standby::keep(marks, position);
    }
    let manifest = Manifest::new(&snapshot, config, &done);
    let entries: Vec<FileEntry> = done.files.iter().map(|(_, f)| f.clone()).collect();
    staging
        .commit(&entries, &done.full_partitions, &manifest, &state, &publish)
        .await?;
    let line = format!(
        "run {}: {} jobs, {} files committed",
        snapshot.run_id,
        done.reports.len(),
        entries.len()
    );
    log.info(&line);
    Ok(Some(Committed {
        reports: done.reports,
        state,
    }))
}

/// The run's snapshot: when it was taken, the bound no late commit can cross, the run's id.
struct Snapshot {
    at: DateTime<Utc>,
    bound: DateTime<Utc>,
    run_id: String,
    /// On a hot standby: where the snapshot stands in the primary's history.
    standby: Option<standby::Position>,
    held: Option<&'static str>,
}

impl Snapshot {
    /// On a primary, the bound is the snapshot time less the safety lag, and never later than
    /// the start of the oldest transaction still writing: rows it commits later are still
    /// before the bound. On a standby it is what [`standby`] can place (see there).
    async fn read(
        db: &mut PgConnection,
        config: &Config,
        marks: &[standby::Mark],
    ) -> Result<Snapshot> {
        let snapshot = sqlx::query_file!("queries/run_snapshot.sql")
            .fetch_one(&mut *db)
            .await
            .map_err(|e| Error::database("reading the snapshot time", e))?;
        let position = standby::Position::read(db).await?;
        let lag = chrono::Duration::from_std(config.safety_lag).unwrap_or_default();
        let on_primary = || {
            let lagged = snapshot.snapshot_at - lag;
            snapshot
                .oldest_writer_start
                .map_or(lagged, |t| t.min(lagged))
        };
        let (bound, held) = match position.in_recovery.then(|| position.bound(marks, lag)) {
            None => (on_primary(), None),
            Some(standby::Bound::At(t)) => (t, None),
            // Before every watermark: each job exports nothing and keeps its place.
            Some(standby::Bound::Held(why)) => (DateTime::<Utc>::UNIX_EPOCH, Some(why)),
        };
        Ok(Snapshot {
            at: snapshot.snapshot_at,
            bound,
            run_id: format!(
                "{}-{:05x}",
                snapshot.snapshot_at.format("%Y%m%dT%H%M%SZ"),
                std::process::id() & 0xfffff
            ),
            standby: position.in_recovery.then_some(position),
            held,
        })
    }

    /// What a run on a standby says about its bound.
    fn standby_line(&self) -> Option<String> {
        let position = self.standby.as_ref()?;
        let replayed = position
            .replayed_to
            .map_or("nothing".to_string(), |t| t.to_rfc3339());
        Some(match self.held {
            Some(why) => format!(
                "hot standby (replayed to {replayed}): watermarks held, {why}; the next run \
                 exports what this one leaves"
            ),
            None => format!(
                "hot standby (replayed to {replayed}): exporting up to {}",
                self.bound.to_rfc3339()
            ),
        })
    }
}

/// What the jobs of a run wrote.
struct Done {
    reports: Vec<JobReport>,
    /// Each file with its job's name.
    files: Vec<(String, FileEntry)>,
    /// `<job>/date=<snapshot date>` of every full job: replaced as a whole at commit.
    full_partitions: BTreeSet<String>,
    /// The recording files of archiving jobs.
    archive: archive::ArchiveReport,
}

/// Runs each planned job in turn, in the session's snapshot.
async fn run_jobs(
    session: &mut Session,
    plan: &[Planned<'_>],
    context: &RunContext<'_>,
    publish: &Publish,
    log: Log,
) -> Result<Done> {
    let mut done = Done {
        reports: Vec::new(),
        files: Vec::new(),
        full_partitions: BTreeSet::new(),
        archive: archive::ArchiveReport::default(),
    };
    for planned in plan {
        let job = planned.job;
        if job.partition_by.is_none() {
            let partition = format!("{}/{}", job.name, context.snapshot_partition);
            done.full_partitions.insert(partition);
        }
        let (report, files) = run_job(session, planned, context).await?;
        let line = format!(
            "job {}: {} rows, {} files, {} bytes, {:.2} s",
            report.name, report.rows, report.files, report.bytes, report.seconds
        );
        log.info(&line);
        let mut report = report;
        if let Some(config) = &job.archive {
            let archived = archive::run(session, planned, config, context, publish, log).await?;
            let counts = archived.counts();
            log.info(&format!(
                "job {}: archive: {} files copied ({} bytes), {} already there, {} not archivable",
                job.name,
                counts.copied,
                counts.copied_bytes,
                counts.already_there,
                counts.not_archivable
            ));
            report.archive = Some(counts);
            done.archive.files.extend(archived.files);
            done.archive.skipped.extend(archived.skipped);
        }
        done.reports.push(report);
        done.files
            .extend(files.into_iter().map(|f| (job.name.clone(), f)));
    }
    Ok(done)
}
