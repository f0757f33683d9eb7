//! `recordings --copy-to DIR`: copy recording files from local storage into a directory.
//!
//! Each file goes to `DIR/<yyyy>/<mm>/<dd>/<file_id>_<name>` (upload date, UTC), through a
//! temporary file that is renamed into place only after its size and sha256 (when Webitel
//! knows it) match. A file already there and verified is left alone, so a rerun resumes.
//! Encrypted files are never copied (their bytes are useless without the storage key);
//! S3 files are not on this host; the default store is copied only with `--storage-root`.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};

use super::RecordingRow;
use crate::error::{Error, Result};

/// Where to copy, and where the store's files are on this host.
#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Copying files")]
pub struct CopyOptions {
    /// Copy the recordings of local stores into DIR (<yyyy>/<mm>/<dd>/<file_id>_<name>).
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
    options: &CopyOptions,
    quiet: bool,
) -> Result<()> {
    let Some(dir) = &options.dir else {
        return Ok(());
    };
    let mut rows = std::pin::pin!(rows);
    let (mut copied, mut present, mut skipped, mut failed) = (0u64, 0u64, 0u64, 0u64);
    while let Some(row) = rows.next().await {
        let row = row?;
        // File I/O blocks; keep it off the async workers.
        let outcome =
            tokio::task::block_in_place(|| copy_one(&row, dir, options.storage_root.as_deref()));
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
pub fn copy_one(row: &RecordingRow, dir: &Path, storage_root: Option<&Path>) -> Outcome {
    if row.encrypted {
        return Outcome::Skipped("stored encrypted".into());
    }
    let Some(source) = source_path(row, storage_root) else {
        return Outcome::Skipped(format!("not on this host ({} store)", row.profile_type));
    };
    let dest = dir
        .join(date_dir(row))
        .join(format!("{}_{}", row.file_id, file_name(&row.name)));
    if verify(&dest, row).is_ok() {
        return Outcome::AlreadyCopied(dest);
    }
    match copy_verified(&source, &dest, row) {
        Ok(()) => Outcome::Copied(dest),
        Err(why) => Outcome::Failed(why),
    }
}

/// The file's path on this host: `--storage-root` (or the profile's directory) + storage_path.
fn source_path(row: &RecordingRow, storage_root: Option<&Path>) -> Option<PathBuf> {
    match (row.profile_type.as_str(), storage_root) {
        ("local" | "default", Some(root)) => Some(root.join(&row.storage_path)),
        ("local", None) => Some(PathBuf::from(&row.location)),
        _ => None,
    }
}

pub(crate) fn date_dir(row: &RecordingRow) -> PathBuf {
    match row.uploaded_at.or(row.call_created_at) {
        Some(t) => PathBuf::from(t.format("%Y/%m/%d").to_string()),
        None => PathBuf::from("undated"),
    }
}

/// The last path component of a stored name, so a name can never climb out of the directory.
pub(crate) fn file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    if last.is_empty() || last == ".." || last == "." {
        "file".into()
    } else {
        last.into()
    }
}

/// Checks that `path` holds the file Webitel describes: its size, and its sha256 when known.
pub(crate) fn verify(path: &Path, row: &RecordingRow) -> std::result::Result<(), String> {
    let mut file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (size, digest) =
        hash(&mut file, &mut std::io::sink()).map_err(|e| format!("{}: {e}", path.display()))?;
    check(size, &digest, row)
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

/// Copies `source` to `dest` through a temporary file, hashing on the way; renames it into
/// place only when it verifies. A bad copy is removed (the temporary file is dropped).
fn copy_verified(
    source: &Path,
    dest: &Path,
    row: &RecordingRow,
) -> std::result::Result<(), String> {
    let mut input = File::open(source).map_err(|e| format!("{}: {e}", source.display()))?;
    let parent = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    let mut temp = crate::sink::place::temp_beside(dest, None).map_err(|e| e.to_string())?;
    let (size, digest) =
        hash(&mut input, temp.as_file_mut()).map_err(|e| format!("{}: {e}", source.display()))?;
    check(size, &digest, row).map_err(|why| format!("{}: {why}", source.display()))?;
    temp.as_file()
        .sync_all()
        .map_err(|e| format!("{}: {e}", dest.display()))?;
    crate::sink::place::ensure_replaceable(dest).map_err(|e| e.to_string())?;
    temp.persist(dest)
        .map_err(|e| format!("{}: {}", dest.display(), e.error))?;
    Ok(())
}

/// Streams `input` into `output`; returns the byte count and the hex sha256.
fn hash(input: &mut impl Read, output: &mut impl Write) -> std::io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        output.write_all(&buf[..n])?;
        size += n as u64;
    }
    let digest = hasher.finalize();
    Ok((size, digest.iter().map(|b| format!("{b:02x}")).collect()))
}
