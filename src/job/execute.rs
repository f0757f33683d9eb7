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
use super::parts::{self, FileEntry, PartLimits, PartWriter, Partitioning};
use super::plan::Planned;
use crate::datasets::Dataset;
use crate::error::Result;
use crate::export::{Progress, pump};
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
        rows,
        bytes: files.iter().map(|f| f.bytes).sum(),
        files: files.len(),
        seconds: started.elapsed().as_secs_f64(),
        schema_fingerprint: fingerprint(job.source.info().columns),
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
    job: &'a Job,
    target: Target<'a>,
}

impl<'a> JobVisitor for RunJob<'a> {
    type Output = LocalBoxFuture<'a, Result<(Vec<FileEntry>, u64)>>;
    fn visit<D: Dataset>(self, filter: &D::Filter) -> Self::Output {
        let mut filter = filter.clone();
        Box::pin(async move {
            if let Some(window) = self.window {
                crate::datasets::set_window::<D>(&mut filter, window)?;
            }
            let rows = self.session.read::<D>(&filter).await?;
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
