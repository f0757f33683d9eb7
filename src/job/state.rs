//! The watermarks of `run`, kept beside the output in `<root>/_state/state.json`.
//!
//! The state file is the run's commit point: it is replaced atomically (temporary file, fsync,
//! rename, directory fsync) only after every file of the run is in place. A run that fails
//! before that leaves it as it was, so the next run redoes the same windows.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Everything `run` remembers between runs.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// The last run that committed.
    pub last_run: Option<String>,
    /// Per job name: how far its incremental window has been exported.
    pub jobs: BTreeMap<String, Watermark>,
    /// Runs from a hot standby: where each stood in the primary's history.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub standby_marks: Vec<super::standby::Mark>,
}

/// An incremental job's progress: every row with `column < watermark` has been exported.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Watermark {
    pub column: String,
    pub watermark: DateTime<Utc>,
    /// The run that set it.
    pub run: String,
}

pub fn state_dir(root: &Path) -> PathBuf {
    root.join("_state")
}

pub fn state_path(root: &Path) -> PathBuf {
    state_dir(root).join("state.json")
}

impl State {
    /// The state under `root`; a root that has never been run has an empty state.
    pub fn load(root: &Path) -> Result<State> {
        let path = state_path(root);
        // A FIFO there would block the read; a link is not ours to follow.
        crate::sink::place::ensure_replaceable(&path)?;
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::DamagedState {
                path: path.clone(),
                reason: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
            Err(e) => Err(Error::output(&path, e)),
        }
    }

    /// Replaces the state file atomically.
    pub fn save(&self, root: &Path) -> Result<()> {
        write_json_atomic(&state_path(root), self)
    }
}

/// Writes `value` as pretty JSON to `path` through a temporary file in the same directory,
/// fsynced and renamed into place, then fsyncs the directory.
pub fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let dir = path.parent().expect("a file in a directory");
    std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
    let mut temp = crate::sink::place::temp_beside(path, None)?;
    let json = serde_json::to_vec_pretty(value).expect("plain data serializes");
    temp.write_all(&json)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| Error::output(path, e))?;
    crate::sink::place::ensure_replaceable(path)?;
    temp.persist(path)
        .map_err(|e| Error::output(path, e.error))?;
    sync_dir(dir);
    Ok(())
}

/// Makes renames in `dir` durable. Not every filesystem lets a directory be fsynced.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}
