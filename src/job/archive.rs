//! A `recordings` job's archive: each file of the job's window copied from its store (local,
//! or S3 with the profile's credentials) to `<root>/<job>-files/<yyyy>/<mm>/<dd>/<id>_<name>`,
//! verified by size and sha256 before it becomes visible.
//!
//! Files go straight to their final place, not through the run's staging: an archive can be
//! large, and a run that fails half-way must not copy the same gigabytes again. Each file is
//! complete and verified or absent (a temporary file renamed into place; an S3 upload that
//! completes only after the bytes checked out), so the next run, which covers the same window
//! because the watermark did not move, finds the files already there and goes on. Files that
//! cannot be read here (encrypted, an unsupported store) are listed with the reason in the
//! manifest and the log; a file that cannot be copied or does not verify fails the run.

use std::path::Path;

use futures_util::StreamExt;
use serde::Serialize;

use super::commit::Publish;
use super::config::ArchiveConfig;
use super::execute::RunContext;
use super::log::Log;
use super::plan::Planned;
use crate::datasets::recordings::copy::{dated_name, fetch_verified, place_verified};
use crate::datasets::recordings::stores::{Source, Stores};
use crate::datasets::recordings::{RecordingRow, Recordings};
use crate::error::{Error, Result};
use crate::registry::JobFilter;
use crate::session::Session;

/// A file in the archive, for the manifest.
#[derive(Serialize, Clone, Debug)]
pub struct Archived {
    pub job: String,
    pub file_id: i64,
    /// Relative to the root.
    pub path: String,
    pub bytes: u64,
    /// Of the archived bytes (computed when this run copied or re-verified the file; for an
    /// object already in an `s3://` root, the sha256 Webitel recorded, if any).
    pub sha256: Option<String>,
    /// Copied by this run (false: a verified copy was already there).
    pub copied: bool,
}

/// A file the archive cannot hold, and why.
#[derive(Serialize, Clone, Debug)]
pub struct NotArchived {
    pub job: String,
    pub file_id: i64,
    pub reason: String,
}

#[derive(Default)]
pub struct ArchiveReport {
    pub files: Vec<Archived>,
    pub skipped: Vec<NotArchived>,
}

impl ArchiveReport {
    pub(super) fn counts(&self) -> super::execute::ArchiveCounts {
        let copied = self.files.iter().filter(|f| f.copied);
        super::execute::ArchiveCounts {
            copied: copied.clone().count(),
            copied_bytes: copied.map(|f| f.bytes).sum(),
            already_there: self.files.iter().filter(|f| !f.copied).count(),
            not_archivable: self.skipped.len(),
        }
    }
}

/// Where archived files go.
enum Destination<'a> {
    Local(&'a Path),
    /// Uploaded from a temporary file in the staging directory.
    Object(&'a super::object_root::ObjectRoot, &'a Path),
}

/// Archives the files of `planned`'s window, read in the run's snapshot.
pub(super) async fn run(
    session: &mut Session,
    planned: &Planned<'_>,
    config: &ArchiveConfig,
    context: &RunContext<'_>,
    publish: &Publish,
    log: Log,
) -> Result<ArchiveReport> {
    let JobFilter::Recordings(filter) = &planned.job.source else {
        unreachable!("the config allows an archive on recordings jobs only");
    };
    let mut filter = (**filter).clone();
    if let Some(window) = planned.window {
        crate::datasets::set_window::<Recordings>(&mut filter, window)?;
    }
    let stores = Stores::load(session.db(), config.storage_root.clone()).await?;
    let destination = match publish {
        Publish::Local => Destination::Local(&context.config.root),
        Publish::Object(object) => Destination::Object(object, context.staging),
    };
    let job = &planned.job.name;
    let mut report = ArchiveReport::default();
    let mut failures = Vec::new();
    let mut rows = session.read::<Recordings>(&filter).await?;
    while let Some(row) = rows.next().await {
        let row = row?;
        let source = match stores.source(&row) {
            Ok(source) => source,
            Err(reason) => {
                log.warn(&format!(
                    "archive {job}: file {} not archived: {reason}",
                    row.file_id
                ));
                report.skipped.push(NotArchived {
                    job: job.clone(),
                    file_id: row.file_id,
                    reason,
                });
                continue;
            }
        };
        let rel = archive_path(job, &row);
        match archive_one(&source, &row, &rel, &destination).await {
            Ok((copied, sha256)) => report.files.push(Archived {
                job: job.clone(),
                file_id: row.file_id,
                path: rel,
                bytes: u64::try_from(row.size_bytes).unwrap_or(0),
                sha256: sha256.or_else(|| row.sha256.clone().filter(|s| !s.is_empty())),
                copied,
            }),
            Err(why) => {
                log.warn(&format!("archive {job}: file {}: {why}", row.file_id));
                failures.push(format!("file {}: {why}", row.file_id));
            }
        }
    }
    if let Some(first) = failures.first() {
        return Err(Error::output(
            format!("{job}-files"),
            std::io::Error::other(format!(
                "{} recording(s) could not be archived and verified (first: {first}); the next \
                 run retries them",
                failures.len()
            )),
        ));
    }
    Ok(report)
}

/// `<job>-files/<yyyy>/<mm>/<dd>/<file id>_<name>`, by upload date (UTC).
fn archive_path(job: &str, row: &RecordingRow) -> String {
    format!("{job}-files/{}", dated_name(row).display())
}

/// Copies one file unless a verified copy is there: whether it copied, and the sha256 of
/// the archived bytes when it read them.
async fn archive_one(
    source: &Source,
    row: &RecordingRow,
    rel: &str,
    destination: &Destination<'_>,
) -> std::result::Result<(bool, Option<String>), String> {
    match destination {
        Destination::Local(root) => {
            let (copied, sha256) = place_verified(source, row, &root.join(rel)).await?;
            Ok((copied, Some(sha256)))
        }
        Destination::Object(object, staging) => {
            // Only verified bytes are ever uploaded, so an object of the right size is one.
            let expected = u64::try_from(row.size_bytes).unwrap_or(0);
            if object.size_of(rel).await.map_err(|e| e.one_line())? == Some(expected) {
                return Ok((false, None));
            }
            let staged = staging.join(rel);
            let sha256 = fetch_verified(source, row, &staged).await?;
            let uploaded = object.upload_all(staging, &[rel.to_string()]).await;
            let _ = std::fs::remove_file(&staged);
            uploaded.map_err(|e| e.one_line())?;
            Ok((true, Some(sha256)))
        }
    }
}
