//! Running one job of a run: its dataset's rows, read in the run's snapshot, into part files
//! in the staging directory, and its line in the manifest.

use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::Stream;
use futures_util::future::LocalBoxFuture;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::config::{Config, Job, Mode};
use super::parts::{self, FileEntry, Keep, PartLimits, PartWriter, Partitioning, Unfinished};
use super::plan::{Planned, Restated};
use crate::datasets::{Dataset, set_partition_window, set_window};
use crate::error::Result;
use crate::export::{BatchConsumer, Progress, pump};
use crate::record::{Column, Record};
use crate::registry::JobVisitor;
use crate::session::Session;
use crate::sink::SinkOptions;
use crate::timearg::Window;

/// A job's line in the manifest.
#[derive(Serialize)]
pub(super) struct JobReport {
    pub name: String,
    pub dataset: &'static str,
    pub mode: &'static str,
    pub format: &'static str,
    pub column: Option<&'static str>,
    pub window_from: Option<DateTime<Utc>>,
    pub window_to: Option<DateTime<Utc>>,
    /// A restated job: the first instant of the days it replaced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restated_from: Option<DateTime<Utc>>,
    /// A restated job: the partitions it replaced (`date=…`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub restated: Vec<String>,
    pub rows: u64,
    pub bytes: u64,
    pub files: usize,
    pub seconds: f64,
    pub schema_fingerprint: String,
    /// A recordings job's archive: what it did with the window's files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive: Option<ArchiveCounts>,
}

/// The files of an archiving job's window, by what became of them.
#[derive(Serialize, Clone, Copy, Debug, Default)]
pub(super) struct ArchiveCounts {
    pub copied: usize,
    pub copied_bytes: u64,
    pub already_there: usize,
    pub not_archivable: usize,
}

/// What every job of a run shares.
pub(super) struct RunContext<'a> {
    pub staging: &'a Path,
    pub run_id: &'a str,
    pub config: &'a Config,
    /// `date=<the snapshot's local date>`: where full jobs write.
    pub snapshot_partition: String,
    pub stall_timeout: Option<Duration>,
    pub quiet: bool,
}

/// Exports one job into the staging directory; returns its manifest line and files.
pub(super) async fn run_job(
    session: &mut Session,
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
    let (files, rows) = execute(session, planned, target).await?;
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
        restated_from: planned.restate.as_ref().map(|r| r.from),
        restated: planned
            .restate
            .as_ref()
            .map(|r| r.partitions.clone())
            .unwrap_or_default(),
        rows,
        bytes: files.iter().map(|f| f.bytes).sum(),
        files: files.len(),
        seconds: started.elapsed().as_secs_f64(),
        schema_fingerprint: fingerprint(job.columns()),
        archive: None,
    };
    Ok((report, files))
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
    session: &mut Session,
    planned: &Planned<'_>,
    target: Target<'_>,
) -> Result<(Vec<FileEntry>, u64)> {
    let job = RunJob {
        session,
        window: planned.window,
        restate: planned.restate.as_ref(),
        job: planned.job,
        target,
    };
    planned.job.source.visit(job).await
}

/// One job of a run, given its dataset's type by `JobFilter::visit`.
struct RunJob<'a> {
    session: &'a mut Session,
    /// The incremental window, `None` for a full job.
    window: Option<Window>,
    restate: Option<&'a Restated>,
    job: &'a Job,
    target: Target<'a>,
}

impl<'a> JobVisitor for RunJob<'a> {
    type Output = LocalBoxFuture<'a, Result<(Vec<FileEntry>, u64)>>;
    fn visit<D: Dataset>(self, filter: &D::Filter) -> Self::Output {
        let filter = filter.clone();
        Box::pin(async move {
            let reads = reads::<D>(filter, self.window, self.restate)?;
            let mut writer = part_writer::<D::Row>(self.job, &self.target);
            for (filter, keep) in reads {
                writer.keep(keep);
                let rows = self.session.read::<D>(&filter).await?;
                writer = pump_into(rows, writer, self.job, &self.target).await?;
            }
            let files = writer.finish()?;
            let rows = files.iter().map(|f| f.rows).sum();
            Ok((files, rows))
        })
    }
}

/// The reads of one job, each with the partitions it writes. A restated job reads twice:
/// - the days before the restated ones get what the incremental window adds (appended);
/// - the restated days get every row up to the window's end (replaced whole). A dataset whose
///   incremental column moves on an edit (`revised`) selects both by its partition column, so
///   an edited row of an older day is not appended a second time.
fn reads<D: Dataset>(
    filter: D::Filter,
    window: Option<Window>,
    restate: Option<&Restated>,
) -> Result<Vec<(D::Filter, Keep)>> {
    let Some(window) = window else {
        return Ok(vec![(filter, Keep::All)]);
    };
    let Some(restate) = restate else {
        let mut all = filter;
        set_window::<D>(&mut all, window)?;
        return Ok(vec![(all, Keep::All)]);
    };
    let first = restate.partitions.first().cloned().unwrap_or_default();
    let revised = D::INCREMENTAL.is_some_and(|w| w.incremental.revised);
    let mut reads = Vec::new();
    let mut older = filter.clone();
    let mut restated = filter;
    if revised {
        if window.from.is_none_or(|from| from < restate.from) {
            let days = Window {
                from: window.from,
                to: Some(restate.from),
            };
            set_partition_window::<D>(&mut older, days)?;
            reads.push((older, Keep::Before(first.clone())));
        }
        let days = Window {
            from: Some(restate.from),
            to: window.to,
        };
        set_partition_window::<D>(&mut restated, days)?;
    } else {
        set_window::<D>(&mut older, window)?;
        reads.push((older, Keep::Before(first.clone())));
        let partitioned_by_it =
            D::INCREMENTAL.is_some_and(|w| w.incremental.column == w.incremental.partition_by);
        if partitioned_by_it {
            // One column, one window: the restated days up to the window's end.
            let days = Window {
                from: Some(restate.from),
                to: window.to,
            };
            set_window::<D>(&mut restated, days)?;
        } else {
            // Every dataset's incremental column is a later event than its partition column
            // (stored after created, left after joined), so the restated days' rows were
            // written from their first day on; a day's margin covers the two clocks (the call
            // engine's, the database's) disagreeing. This lower bound lets the read go through
            // the incremental column's index range: 8 days, not the history.
            let written = Window {
                from: Some(restate.from - chrono::Duration::days(1)),
                to: window.to,
            };
            set_window::<D>(&mut restated, written)?;
            let days = Window {
                from: Some(restate.from),
                to: None,
            };
            set_partition_window::<D>(&mut restated, days)?;
        }
    }
    reads.push((restated, Keep::From(first)));
    Ok(reads)
}

fn part_writer<R: Record>(job: &Job, target: &Target<'_>) -> PartWriter<R> {
    let sink = SinkOptions {
        format: job.format,
        profile: job.profile,
        // A part's size is known only as row groups reach its file, so `max_file_bytes` holds
        // to within one group: groups of 16 MiB of raw values (a few MiB on disk) keep it close.
        row_group_bytes: 16 << 20,
        // Parts are staged on the root's disk (or the work_dir): their pages spill there too.
        spill_dir: Some(target.staging.to_path_buf()),
        view: job.view.clone(),
        tz: target.config.tz,
        ..SinkOptions::default()
    };
    PartWriter::<R>::new(
        target.staging,
        &job.name,
        target.run_id,
        sink,
        target.partitioning.clone(),
        PartLimits {
            max_rows: target.config.max_file_rows,
            max_bytes: target.config.max_file_bytes,
        },
    )
}

/// Streams one read's rows into the job's part writer, which stays open for the next read.
async fn pump_into<R: Record>(
    rows: impl Stream<Item = Result<R>>,
    writer: PartWriter<R>,
    job: &Job,
    target: &Target<'_>,
) -> Result<PartWriter<R>> {
    let progress = Progress::new(
        job.source.info().name,
        !target.quiet && std::io::stderr().is_terminal(),
    );
    let (writer, _read) = pump(rows, Unfinished(writer), progress, target.stall_timeout).await?;
    Ok(writer)
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
