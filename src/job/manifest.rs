//! The manifest a run commits with its files: the run, its jobs and every file it wrote.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::archive;
use super::config::Config;
use super::execute::JobReport;
use super::jobs::Done;
use super::parts::FileEntry;
use super::snapshot::Snapshot;

#[derive(Serialize)]
pub(super) struct Manifest<'a> {
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
    pub(super) fn new(snapshot: &'a Snapshot, config: &Config, done: &'a Done) -> Self {
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
