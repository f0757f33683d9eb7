//! What is at a path the tool was asked to write, and how it may be written there.
//!
//! The tool changes only what it was asked to write:
//! - a regular file, or nothing yet: a temporary file beside it becomes it by an atomic rename;
//!   a new file gets `0666 & ~umask` like any Unix tool's, a replaced one keeps its mode (and,
//!   when root replaces it, its owner);
//! - a symbolic link: the same at the file it points to (followed to the end); the link stays;
//! - a FIFO or a character device (`/dev/null`, a terminal): written through, as
//!   `cat > path` would, never unlinked or replaced;
//! - a directory, a block device or a socket: refused (exit 2);
//! - a path whose directory does not exist: exit 4.
//!
//! Paths inside a tree the tool manages (a `run` root, a `--copy-to` directory) use
//! [`ensure_replaceable`]: anything there but a regular file is left alone and the write fails.

use std::fs::{File, Metadata, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// How many symbolic links are followed before giving up (Linux's own limit).
const MAX_LINKS: usize = 40;

/// A decided output path.
#[derive(Debug)]
pub enum Place {
    /// Written to a temporary file in `dest`'s directory, then renamed over `dest`. `keep` is
    /// the mode and owner of the file being replaced, if there is one.
    Replace { dest: PathBuf, keep: Option<Keep> },
    /// Opened and written in place: a FIFO or a character device.
    Stream(PathBuf),
}

/// The mode and owner a replaced file keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keep {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// Decides how `path` is written (see the module documentation).
pub fn decide(path: &Path) -> Result<Place> {
    let (real, meta) = follow_links(path)?;
    let Some(meta) = meta else {
        let dir = parent_dir(&real);
        return match std::fs::metadata(&dir) {
            Ok(d) if d.is_dir() => Ok(Place::Replace {
                dest: real,
                keep: None,
            }),
            Ok(_) => Err(Error::output(
                &dir,
                io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
            )),
            Err(e) => Err(Error::output(&dir, e)),
        };
    };
    let kind = meta.file_type();
    let refuse = |what: &str| {
        Err(Error::input(format!(
            "output path '{}' is {what}; refusing to write there",
            path.display()
        )))
    };
    if kind.is_file() {
        Ok(Place::Replace {
            dest: real,
            keep: Some(keep_of(&meta)),
        })
    } else if kind.is_fifo() || kind.is_char_device() {
        Ok(Place::Stream(real))
    } else if kind.is_dir() {
        refuse("a directory")
    } else if kind.is_block_device() {
        refuse("a block device")
    } else {
        refuse("a socket")
    }
}

/// `path` with every symbolic link followed, and what is there (`None`: nothing yet).
fn follow_links(path: &Path) -> Result<(PathBuf, Option<Metadata>)> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target =
                    std::fs::read_link(&current).map_err(|e| Error::output(&current, e))?;
                current = parent_dir(&current).join(target);
            }
            Ok(meta) => return Ok((current, Some(meta))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((current, None)),
            Err(e) => return Err(Error::output(&current, e)),
        }
    }
    Err(Error::output(
        path,
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "too many levels of symbolic links",
        ),
    ))
}

/// The directory a path's file is in (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn keep_of(meta: &Metadata) -> Keep {
    Keep {
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
    }
}

/// The start of the name of every temporary file that becomes `name`.
fn temp_prefix(name: &str) -> String {
    format!(".{name}.tmp-")
}

/// The destination a temporary file [`temp_beside`] made is for: `.<dest>.tmp-<6 random
/// letters or digits>` gives `<dest>`; `None` for any other name.
pub fn temp_destination(file_name: &str) -> Option<&str> {
    let (head, random) = file_name.rsplit_once(".tmp-")?;
    let dest = head.strip_prefix('.')?;
    let is_random = random.len() == 6 && random.chars().all(|c| c.is_ascii_alphanumeric());
    (is_random && !dest.is_empty()).then_some(dest)
}

/// Creates the temporary file that will replace `dest`: hidden, beside it, with the mode a
/// new file gets (`0666 & ~umask`) or, through `keep`, the mode and owner of the file it
/// replaces.
pub fn temp_beside(dest: &Path, keep: Option<Keep>) -> Result<tempfile::NamedTempFile> {
    let name = dest.file_name().ok_or_else(|| {
        Error::input(format!("output path '{}' has no file name", dest.display()))
    })?;
    let dir = parent_dir(dest);
    let temp = tempfile::Builder::new()
        .prefix(&temp_prefix(&name.to_string_lossy()))
        // The kernel applies the umask to this, as for any new file.
        .permissions(Permissions::from_mode(0o666))
        .tempfile_in(&dir)
        .map_err(|e| Error::output(&dir, e))?;
    if let Some(keep) = keep {
        apply_keep(temp.as_file(), keep).map_err(|e| Error::output(dest, e))?;
    }
    Ok(temp)
}

/// Gives `file` the mode of the file it replaces, and its owner when we may (as root).
fn apply_keep(file: &File, keep: Keep) -> io::Result<()> {
    let meta = file.metadata()?;
    // A file we just created is owned by the user we run as: only root may give it away.
    let as_root = meta.uid() == 0;
    if as_root && (meta.uid(), meta.gid()) != (keep.uid, keep.gid) {
        std::os::unix::fs::fchown(file, Some(keep.uid), Some(keep.gid))?;
    }
    file.set_permissions(Permissions::from_mode(keep.mode))
}

/// Opens a FIFO or character device for writing, without creating or truncating anything.
pub fn open_stream(path: &Path) -> Result<File> {
    OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| Error::output(path, e))
}

/// For a path in a tree the tool manages: fine when nothing or a regular file is there (it
/// may be replaced); anything else (a link, a FIFO, a device, a directory) is not ours to
/// replace, and the write fails with exit 4 naming it.
pub fn ensure_replaceable(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_file() => Ok(()),
        Ok(_) => Err(Error::output(
            path,
            io::Error::new(
                io::ErrorKind::AlreadyExists,
                "something other than a regular file is there; it is left alone",
            ),
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::output(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_followed_to_the_file_they_name() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.csv");
        std::fs::write(&target, "old").unwrap();
        std::fs::set_permissions(&target, Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink("real.csv", &link).unwrap();
        let Place::Replace { dest, keep } = decide(&link).unwrap() else {
            panic!("a link to a file is replaced at its target");
        };
        assert_eq!(dest, dir.path().join("real.csv"));
        assert_eq!(keep.unwrap().mode, 0o640);
        // A dangling link: the file it names is created.
        let dangling = dir.path().join("dangling.csv");
        std::os::unix::fs::symlink("new.csv", &dangling).unwrap();
        let Place::Replace { dest, keep } = decide(&dangling).unwrap() else {
            panic!("a dangling link names a new file");
        };
        assert_eq!((dest, keep), (dir.path().join("new.csv"), None));
        // A loop never ends.
        let a = dir.path().join("a");
        std::os::unix::fs::symlink("b", &a).unwrap();
        std::os::unix::fs::symlink("a", dir.path().join("b")).unwrap();
        assert_eq!(decide(&a).unwrap_err().exit_code(), 4);
    }

    #[test]
    fn directories_are_refused_and_missing_parents_are_output_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(decide(dir.path()).unwrap_err().exit_code(), 2);
        let missing = dir.path().join("no/such/calls.csv");
        assert_eq!(decide(&missing).unwrap_err().exit_code(), 4);
    }

    #[test]
    fn a_replacing_temp_file_takes_the_old_mode() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("calls.csv");
        let keep = Keep {
            mode: 0o604,
            uid: 0,
            gid: 0,
        };
        let temp = temp_beside(&dest, Some(keep)).unwrap();
        let name = temp.path().file_name().unwrap().to_str().unwrap();
        assert_eq!(temp_destination(name), dest.file_name().unwrap().to_str());
        let mode = temp.as_file().metadata().unwrap().mode() & 0o7777;
        assert_eq!(mode, 0o604);
    }

    #[test]
    fn only_regular_files_are_replaceable_in_a_managed_tree() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("state.json");
        assert!(ensure_replaceable(&file).is_ok());
        std::fs::write(&file, "{}").unwrap();
        assert!(ensure_replaceable(&file).is_ok());
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink("state.json", &link).unwrap();
        assert_eq!(ensure_replaceable(&link).unwrap_err().exit_code(), 4);
        assert_eq!(ensure_replaceable(dir.path()).unwrap_err().exit_code(), 4);
    }
}
