//! Temporary files a killed run left outside its staging directory: the state file's, the
//! metrics file's, and those of recording files being archived into a local root. Only a run
//! holding the root's lock sweeps (no other run can be writing them), and only files named as
//! this tool names its temporaries, where it writes them.

use std::path::{Path, PathBuf};

use super::config::Config;
use super::state::state_path;
use crate::error::{Error, Result};
use crate::sink::place::temp_destination;

/// Removes the stale temporaries of `config`'s root; returns how many.
pub fn stale_temporaries(config: &Config) -> Result<usize> {
    let mut removed = 0;
    let state = state_path(&config.root);
    removed += remove_temps_in(parent(&state), |dest| {
        Some(dest) == file_name(&state).as_deref()
    })?;
    let metrics = &config.metrics.file;
    removed += remove_temps_in(parent(metrics), |dest| {
        Some(dest) == file_name(metrics).as_deref()
    })?;
    if config.object_root.is_none() {
        for job in config.jobs.iter().filter(|j| j.archive.is_some()) {
            removed += remove_temps_below(&config.root.join(format!("{}-files", job.name)))?;
        }
    }
    Ok(removed)
}

fn parent(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("."))
}

fn file_name(path: &Path) -> Option<String> {
    Some(path.file_name()?.to_string_lossy().into_owned())
}

/// The archive's files are named `<file id>_<name>`: the temporaries of such names.
fn remove_temps_below(dir: &Path) -> Result<usize> {
    let archived = |dest: &str| {
        dest.split_once('_')
            .is_some_and(|(id, _)| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
    };
    let mut removed = remove_temps_in(dir, archived)?;
    for sub in subdirectories(dir) {
        removed += remove_temps_below(&sub)?;
    }
    Ok(removed)
}

/// Removes the regular files of `dir` (not what a link names) that are temporaries for a
/// destination `ours` accepts.
fn remove_temps_in(dir: &Path, ours: impl Fn(&str) -> bool) -> Result<usize> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(0);
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_file && temp_destination(&name).is_some_and(&ours) {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(|e| Error::output(&path, e))?;
            removed += 1;
        }
    }
    Ok(removed)
}

fn subdirectories(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect()
}
