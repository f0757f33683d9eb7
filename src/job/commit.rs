//! Publishing a run all at once, and undoing a run that died half-way.
//!
//! Every file of a run is written under `<root>/_staging/<run id>/`, beside its final place
//! (same filesystem, so renames are atomic). Commit order:
//! 1. `_plan.json` (the final paths) and `_manifest.json` into the staging directory;
//! 2. each file renamed into place (undone on the first failure);
//! 3. the state file replaced: the **commit point**;
//! 4. the manifest moved to `<root>/_runs/<run id>.json`, `_SUCCESS` written in each partition,
//!    older parts of a full job's partition removed, the staging directory removed.
//!
//! If the process dies between 2 and 3, the next run finds the staging directory of a run the
//! state does not know, removes the files its plan lists, and redoes the windows. If it dies
//! after 3, the next run finishes step 4. Readers skip `_`-prefixed paths (Hive, Spark, Trino,
//! DuckDB and Polars with Hive partitioning).
//!
//! With an object-storage root the renames of step 2 become uploads ([`super::object_root`]),
//! and step 4 writes its objects there.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::config::DeltaConfig;
use super::delta::{Commit as DeltaCommit, Tables};
use super::object_root::ObjectRoot;
use super::parts::FileEntry;
use super::state::{State, sync_dir, write_json_atomic};
use crate::error::{Error, Result};
use crate::sink::place::ensure_replaceable;

const PLAN: &str = "_plan.json";
const MANIFEST: &str = "_manifest.json";

/// The Delta commits of a run: one per `format = "delta"` job, made after its files are in
/// place and before the state is saved.
pub struct DeltaCommits<'a> {
    pub tables: &'a Tables,
    pub settings: DeltaConfig,
    pub commits: Vec<DeltaCommit<'a>>,
}

impl DeltaCommits<'_> {
    /// Whether `path` (`<job>/…`) lies in one of the Delta tables.
    fn holds(&self, path: &str) -> bool {
        let job = path.split('/').next().unwrap_or_default();
        self.commits.iter().any(|c| c.job.name == job)
    }

    async fn commit_all(self) -> Result<Vec<TableCommit>> {
        let mut done = Vec::new();
        for commit in self.commits {
            let job = commit.job.name.clone();
            let started = std::time::Instant::now();
            let version = self.tables.commit(commit, &self.settings).await?;
            done.push(TableCommit {
                job,
                version,
                seconds: started.elapsed().as_secs_f64(),
            });
        }
        Ok(done)
    }
}

/// One Delta job's commit of a run.
pub struct TableCommit {
    pub job: String,
    pub version: u64,
    pub seconds: f64,
}

/// What a commit must finish, written before any file moves.
#[derive(Serialize, Deserialize)]
struct Plan {
    files: Vec<String>,
    /// Partitions (`<job>/date=…`) that get a `_SUCCESS` marker.
    partitions: Vec<String>,
    /// Partitions of full jobs: their parts from earlier runs are replaced by this run's.
    replaced: Vec<String>,
}

/// Where a run's files end up.
pub enum Publish {
    /// Under the local root, by renames.
    Local,
    /// In object storage, by uploads.
    Object(ObjectRoot),
}

/// The staging directory of one run; removed when dropped (after a commit, or on failure),
/// unless an upload to object storage may have left objects its plan must undo.
pub struct Staging {
    root: PathBuf,
    run_id: String,
    dir: PathBuf,
    keep: bool,
}

pub fn staging_root(root: &Path) -> PathBuf {
    root.join("_staging")
}

pub fn runs_dir(root: &Path) -> PathBuf {
    root.join("_runs")
}

impl Staging {
    pub fn create(root: &Path, run_id: &str) -> Result<Staging> {
        let dir = staging_root(root).join(run_id);
        std::fs::create_dir_all(&dir).map_err(|e| Error::output(&dir, e))?;
        Ok(Staging {
            root: root.to_path_buf(),
            run_id: run_id.to_string(),
            dir,
            keep: false,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Publishes `files`, commits the Delta tables, saves `state` (the commit point), then
    /// files the manifest. Returns each Delta job's new table version.
    pub async fn commit<M: Serialize>(
        mut self,
        files: &[FileEntry],
        replaced: &BTreeSet<String>,
        manifest: &M,
        state: &State,
        publish: &Publish,
        delta: DeltaCommits<'_>,
    ) -> Result<Vec<TableCommit>> {
        // A Delta table's partitions are replaced by its own commit, and get no markers.
        let hive = |path: &String| !delta.holds(path);
        let partitions: BTreeSet<String> = files.iter().map(partition_dir).filter(hive).collect();
        let plan = Plan {
            files: files.iter().map(|f| f.path.clone()).collect(),
            partitions: partitions.iter().cloned().collect(),
            replaced: replaced.iter().filter(|p| hive(p)).cloned().collect(),
        };
        write_json_atomic(&self.dir.join(PLAN), &plan)?;
        write_json_atomic(&self.dir.join(MANIFEST), manifest)?;
        match publish {
            Publish::Local => self.move_into_place(&plan.files)?,
            Publish::Object(object) => {
                // Until the state is saved, a signal or crash leaves the plan for recovery.
                self.keep = true;
                if let Err(e) = object.upload_all(&self.dir, &plan.files).await {
                    self.keep = object.delete_all(&plan.files).await.is_err();
                    return Err(e);
                }
            }
        }
        super::failpoint("after-data-files");
        let versions = delta.commit_all().await?;
        super::failpoint("delta-after-log");
        state.save(&self.root)?;
        self.keep = false;
        finish(&self.root, &self.run_id, &self.dir, &plan, publish).await?;
        Ok(versions)
    }

    /// Renames every staged file to its final path; on a failure, removes the ones moved.
    fn move_into_place(&self, files: &[String]) -> Result<()> {
        let mut moved: Vec<&String> = Vec::new();
        for rel in files {
            if let Err(e) = move_one(&self.dir, &self.root, rel) {
                for done in moved {
                    let _ = std::fs::remove_file(self.root.join(done));
                }
                return Err(e);
            }
            moved.push(rel);
        }
        let dirs: BTreeSet<&Path> = files
            .iter()
            .filter_map(|rel| Path::new(rel).parent())
            .collect();
        for dir in dirs {
            sync_dir(&self.root.join(dir));
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn move_one(staging: &Path, root: &Path, rel: &str) -> Result<()> {
    let to = root.join(rel);
    let dir = to.parent().expect("a part has a directory");
    std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
    ensure_replaceable(&to)?;
    std::fs::rename(staging.join(rel), &to).map_err(|e| Error::output(&to, e))
}

fn partition_dir(file: &FileEntry) -> String {
    match file.path.rsplit_once('/') {
        Some((dir, _)) => dir.to_string(),
        None => String::new(),
    }
}

/// Step 4 of a commit: manifest, markers, replaced parts. Safe to repeat.
async fn finish(
    root: &Path,
    run_id: &str,
    staging: &Path,
    plan: &Plan,
    publish: &Publish,
) -> Result<()> {
    let Publish::Object(object) = publish else {
        return finish_local(root, run_id, staging, plan);
    };
    let manifest = staging.join(MANIFEST);
    if let Ok(bytes) = std::fs::read(&manifest) {
        object.put(&format!("_runs/{run_id}.json"), bytes).await?;
    }
    for partition in &plan.replaced {
        object.remove_older_parts(partition, run_id).await?;
    }
    for partition in &plan.partitions {
        object
            .put(&format!("{partition}/_SUCCESS"), Vec::new())
            .await?;
    }
    Ok(())
}

fn finish_local(root: &Path, run_id: &str, staging: &Path, plan: &Plan) -> Result<()> {
    let runs = runs_dir(root);
    std::fs::create_dir_all(&runs).map_err(|e| Error::output(&runs, e))?;
    let manifest = staging.join(MANIFEST);
    if manifest.exists() {
        let to = runs.join(format!("{run_id}.json"));
        ensure_replaceable(&to)?;
        std::fs::rename(&manifest, &to).map_err(|e| Error::output(&to, e))?;
        sync_dir(&runs);
    }
    for partition in &plan.replaced {
        remove_older_parts(&root.join(partition), run_id)?;
    }
    for partition in &plan.partitions {
        let marker = root.join(partition).join("_SUCCESS");
        ensure_replaceable(&marker)?;
        std::fs::write(&marker, b"").map_err(|e| Error::output(&marker, e))?;
    }
    Ok(())
}

/// Removes the part files of other runs from a full job's partition (regular files only:
/// anything else there is not ours).
fn remove_older_parts(dir: &Path, run_id: &str) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    let ours = format!("part-{run_id}-");
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let regular = entry.file_type().is_ok_and(|t| t.is_file());
        if regular && name.starts_with("part-") && !name.starts_with(&ours) {
            std::fs::remove_file(entry.path()).map_err(|e| Error::output(entry.path(), e))?;
        }
    }
    Ok(())
}

/// Cleans up after runs that died: undoes the files of uncommitted ones, finishes committed
/// ones. Returns a line per run it touched.
///
/// `in_tables` names, per Delta job, the run its table last committed: that run's files of
/// that job are the table's and stay (the table, not the state, is a Delta job's truth).
pub async fn recover(
    root: &Path,
    state: &State,
    publish: &Publish,
    in_tables: &BTreeMap<String, String>,
) -> Result<Vec<String>> {
    let mut report = Vec::new();
    let Ok(entries) = std::fs::read_dir(staging_root(root)) else {
        return Ok(report);
    };
    for entry in entries.flatten() {
        let run_id = entry.file_name().to_string_lossy().into_owned();
        let dir = entry.path();
        let plan: Option<Plan> = std::fs::read(dir.join(PLAN))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        let committed = state.last_run.as_deref() == Some(run_id.as_str())
            || state.jobs.values().any(|w| w.run == run_id);
        match plan {
            Some(plan) if committed => {
                finish(root, &run_id, &dir, &plan, publish).await?;
                report.push(format!("run {run_id}: finished its interrupted commit"));
            }
            Some(mut plan) => {
                let committed_by_table = |rel: &String| {
                    let job = rel.split('/').next().unwrap_or_default();
                    in_tables.get(job) == Some(&run_id)
                };
                plan.files.retain(|rel| !committed_by_table(rel));
                if let Publish::Object(object) = publish {
                    object.delete_all(&plan.files).await?;
                }
                for rel in &plan.files {
                    let path = root.join(rel);
                    // Only the regular file the run moved there; never what a link names.
                    if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
                        std::fs::remove_file(&path).map_err(|e| Error::output(&path, e))?;
                    }
                }
                report.push(format!(
                    "run {run_id}: removed the files of its unfinished commit"
                ));
            }
            None => report.push(format!("run {run_id}: removed its unfinished files")),
        }
        std::fs::remove_dir_all(&dir).map_err(|e| Error::output(&dir, e))?;
    }
    Ok(report)
}
