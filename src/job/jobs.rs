//! Running the planned jobs of a run, one after the other, in the run's session.

use std::collections::BTreeSet;

use super::archive;
use super::commit::Publish;
use super::execute::{JobReport, RunContext, run_job};
use super::log::Log;
use super::parts::FileEntry;
use super::plan::Planned;
use crate::error::Result;
use crate::session::Session;

/// What the jobs of a run wrote.
pub(super) struct Done {
    pub(super) reports: Vec<JobReport>,
    /// Each file with its job's name.
    pub(super) files: Vec<(String, FileEntry)>,
    /// `<job>/date=…` partitions replaced as a whole at commit: a full job's snapshot date,
    /// a restated job's restated days (also those that now hold no row).
    pub(super) replaced: BTreeSet<String>,
    /// The recording files of archiving jobs.
    pub(super) archive: archive::ArchiveReport,
}

/// Runs each planned job in turn, in the session's snapshot.
pub(super) async fn run_jobs(
    session: &mut Session,
    plan: &[Planned<'_>],
    context: &RunContext<'_>,
    publish: &Publish,
    log: Log,
) -> Result<Done> {
    let mut done = Done {
        reports: Vec::new(),
        files: Vec::new(),
        replaced: BTreeSet::new(),
        archive: archive::ArchiveReport::default(),
    };
    for planned in plan {
        let job = planned.job;
        if job.partition_by.is_none() {
            let partition = format!("{}/{}", job.name, context.snapshot_partition);
            done.replaced.insert(partition);
        }
        if let Some(restate) = &planned.restate {
            let days = restate.partitions.iter();
            done.replaced
                .extend(days.map(|day| format!("{}/{day}", job.name)));
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
