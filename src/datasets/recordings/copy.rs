//! `recordings --copy-to DIR`: copy recording files into a directory.
//!
//! Each file goes to `DIR/<yyyy>/<mm>/<dd>/<file_id>_<name>` (upload date, UTC), through a
//! temporary file that is renamed into place only after its size and sha256 (when Webitel
//! knows it) match. A file already there and verified is left alone, so a rerun resumes.
//! Files are read where their storage profile keeps them ([`super::stores`]): a local store's
//! directory (or `--storage-root`), or an S3 bucket with the profile's own settings.
//! Encrypted files are never copied (their bytes are useless without the storage key).

use std::fs::File;
use std::path::{Path, PathBuf};

use futures_util::{Stream, StreamExt};

use super::RecordingRow;
use super::stores::{Source, Stores, hash_file, pull};
use crate::error::{Error, Result};

/// Where to copy, and where the store's files are on this host.
#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Copying files")]
pub struct CopyOptions {
    /// Copy the recording files (local stores, and S3 stores with their profiles' settings)
    /// into DIR (<yyyy>/<mm>/<dd>/<file_id>_<name>).
    #[arg(long = "copy-to", value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The store's root directory on this host (replaces the profile's directory; needed for
    /// the default store and when the tool runs on another machine).
    #[arg(long, value_name = "PATH", requires = "dir")]
    pub storage_root: Option<PathBuf>,
}

/// What happened to one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Copied(PathBuf),
    AlreadyCopied(PathBuf),
    Skipped(String),
    Failed(String),
}

impl CopyOptions {
    /// Only meaningful with `--copy-to`.
    pub fn requested(&self) -> Option<&CopyOptions> {
        self.dir.as_ref().map(|_| self)
    }

    /// Checks the directories before the database is read.
    pub fn validate(&self) -> Result<()> {
        if let Some(dir) = &self.dir {
            std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
        }
        if let Some(root) = &self.storage_root
            && !root.is_dir()
        {
            return Err(Error::input(format!(
                "--storage-root '{}' is not a directory",
                root.display()
            )));
        }
        Ok(())
    }
}

/// Copies every row's file; reports each on stderr (unless `quiet`) and fails with exit code 4
/// when any file could not be copied and verified.
pub async fn copy_all(
    rows: impl Stream<Item = Result<RecordingRow>>,
    stores: &Stores,
    dir: &Path,
    quiet: bool,
) -> Result<()> {
    let mut rows = std::pin::pin!(rows);
    let (mut copied, mut present, mut skipped, mut failed) = (0u64, 0u64, 0u64, 0u64);
    while let Some(row) = rows.next().await {
        let row = row?;
        let outcome = copy_one(&row, stores, dir).await;
        let line = match &outcome {
            Outcome::Copied(p) => {
                copied += 1;
                format!("copied {}", p.display())
            }
            Outcome::AlreadyCopied(p) => {
                present += 1;
                format!("already copied {}", p.display())
            }
            Outcome::Skipped(why) => {
                skipped += 1;
                format!("skipped: {why}")
            }
            Outcome::Failed(why) => {
                failed += 1;
                format!("FAILED: {why}")
            }
        };
        if !quiet || matches!(outcome, Outcome::Failed(_)) {
            eprintln!("copy: file {}: {line}", row.file_id);
        }
    }
    if !quiet {
        eprintln!(
            "copy: {copied} copied, {present} already copied, {skipped} skipped, {failed} failed"
        );
    }
    if failed > 0 {
        return Err(Error::output(
            dir,
            std::io::Error::other(format!(
                "{failed} recording(s) could not be copied and verified"
            )),
        ));
    }
    Ok(())
}

/// Copies one file (see the module docs for the rules).
pub async fn copy_one(row: &RecordingRow, stores: &Stores, dir: &Path) -> Outcome {
    let source = match stores.source(row) {
        Ok(source) => source,
        Err(why) => return Outcome::Skipped(why),
    };
    let dest = dir.join(dated_name(row));
    match place_verified(&source, row, &dest).await {
        Ok((true, _)) => Outcome::Copied(dest),
        Ok((false, _)) => Outcome::AlreadyCopied(dest),
        Err(why) => Outcome::Failed(why),
    }
}

/// Where a file goes under a directory, `--copy-to`'s or a run's archive:
/// `<yyyy>/<mm>/<dd>/<file id>_<name>`, by upload date (UTC).
pub(crate) fn dated_name(row: &RecordingRow) -> PathBuf {
    date_dir(row).join(format!("{}_{}", row.file_id, file_name(&row.name)))
}

/// Puts the file at `dest` unless a verified copy is there already: whether it copied, and
/// the sha256 of the bytes at `dest`.
pub(crate) async fn place_verified(
    source: &Source,
    row: &RecordingRow,
    dest: &Path,
) -> std::result::Result<(bool, String), String> {
    if let Ok(sha256) = verify(dest, row) {
        return Ok((false, sha256));
    }
    Ok((true, fetch_verified(source, row, dest).await?))
}

fn date_dir(row: &RecordingRow) -> PathBuf {
    match row.uploaded_at.or(row.call_created_at) {
        Some(t) => PathBuf::from(t.format("%Y/%m/%d").to_string()),
        None => PathBuf::from("undated"),
    }
}

/// The last path component of a stored name, so a name can never climb out of the directory.
fn file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    if last.is_empty() || last == ".." || last == "." {
        "file".into()
    } else {
        last.into()
    }
}

/// Checks that `path` holds the file Webitel describes: its size, and its sha256 when known;
/// returns the file's sha256.
fn verify(path: &Path, row: &RecordingRow) -> std::result::Result<String, String> {
    let mut file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (size, digest) = tokio::task::block_in_place(|| hash_file(&mut file, &mut std::io::sink()))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    check(size, &digest, row)?;
    Ok(digest)
}

pub(crate) fn check(
    size: u64,
    digest: &str,
    row: &RecordingRow,
) -> std::result::Result<(), String> {
    let expected = u64::try_from(row.size_bytes).unwrap_or(0);
    if size != expected {
        return Err(format!(
            "size mismatch: expected {expected} bytes, got {size}"
        ));
    }
    if let Some(sha) = row.sha256.as_deref().filter(|s| !s.is_empty())
        && !sha.eq_ignore_ascii_case(digest)
    {
        return Err(format!("sha256 mismatch: expected {sha}, got {digest}"));
    }
    Ok(())
}

/// Reads the file into a temporary file beside `dest`, checks its size and sha256, and only
/// then renames it to `dest` (never over anything but a regular file). A bad copy is removed
/// (the temporary file is dropped). Returns the copy's sha256.
pub(crate) async fn fetch_verified(
    source: &Source,
    row: &RecordingRow,
    dest: &Path,
) -> std::result::Result<String, String> {
    let parent = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    let mut temp = crate::sink::place::temp_beside(dest, None).map_err(|e| e.one_line())?;
    let (size, digest) = pull(source, temp.as_file_mut()).await?;
    check(size, &digest, row).map_err(|why| format!("{}: {why}", source.describe()))?;
    temp.as_file()
        .sync_all()
        .map_err(|e| format!("{}: {e}", dest.display()))?;
    crate::sink::place::ensure_replaceable(dest).map_err(|e| e.one_line())?;
    temp.persist(dest)
        .map_err(|e| format!("{}: {}", dest.display(), e.error))?;
    Ok(digest)
}
