//! Atomic publishing of an output file.
//!
//! The export writes into a hidden temporary file beside the destination
//! (`.<name>.tmp-XXXXXX`, same directory so the final rename is atomic and never crosses a
//! filesystem). Only after the last byte is written and fsynced is it renamed over the
//! destination, and the directory fsynced. On any error, or when the export is dropped
//! mid-way (a signal), the temporary file is removed and an older file at the destination is
//! left exactly as it was. A FIFO or a character device is written through instead, and a
//! symbolic link is published at the file it names ([`super::place`]). An `s3://` destination
//! gets the same guarantee from a multipart upload completed only at the end
//! ([`super::object`]).

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

use super::object::{ObjectWriter, is_object_url};
use super::place::{self, Keep, Place};

/// The write buffer in front of an output file. The sinks write large pieces already (the CSV
/// and JSONL writers chunks of 256 KiB, which pass straight through; Parquet whole pages), so this only
/// gathers small writes. It is kept small because its pages become resident the first time it
/// fills: a 1 MiB buffer first filled when a Parquet export closed its first row group, mid-run,
/// raised the peak RSS of every export longer than one row group by 1 MiB.
const FILE_BUFFER_BYTES: usize = 64 << 10;

/// Where the rows go: standard output, a file published atomically, or a FIFO or character
/// device written through.
pub enum Destination {
    Stdout,
    File(PendingFile),
    Stream(PathBuf),
    /// An object in S3-compatible storage; the writer holds the upload.
    Object(String),
}

/// A temporary file that becomes `dest` on [`PendingFile::publish`]. Dropping it unpublished
/// deletes it.
pub struct PendingFile {
    dest: PathBuf,
    temp: tempfile::TempPath,
}

impl Destination {
    /// Prepares the destination before anything is read from the database, so an unwritable
    /// path fails fast. `None` or `-` means standard output.
    pub fn open(path: Option<&Path>) -> Result<(Destination, OutputWriter)> {
        match path {
            Some(p) if is_object_url(p) => {
                let object = ObjectWriter::create(&p.to_string_lossy())?;
                let url = object.url().to_string();
                Ok((
                    Destination::Object(url),
                    OutputWriter::new(Target::Object(Box::new(object))),
                ))
            }
            Some(p) if p.as_os_str() != "-" => {
                let (destination, file) = match place::decide(p)? {
                    Place::Replace { dest, keep } => {
                        let (pending, file) = PendingFile::create(dest, keep)?;
                        (Destination::File(pending), file)
                    }
                    Place::Stream(path) => {
                        let file = place::open_stream(&path)?;
                        (Destination::Stream(path), file)
                    }
                };
                let writer = OutputWriter::new(Target::File(io::BufWriter::with_capacity(
                    FILE_BUFFER_BYTES,
                    file,
                )));
                Ok((destination, writer))
            }
            _ => Ok((
                Destination::Stdout,
                OutputWriter::new(Target::Stdout(io::stdout())),
            )),
        }
    }

    /// Makes the written bytes visible: renames the temporary file into place (stdout needs
    /// only a flush). Returns the number of bytes written.
    pub async fn publish(self, writer: OutputWriter) -> Result<u64> {
        let bytes = writer.bytes;
        match (self, writer.target) {
            (Destination::Object(_), Target::Object(object)) => object.complete().await?,
            (Destination::File(pending), Target::File(buffered)) => {
                let file = buffered
                    .into_inner()
                    .map_err(|e| Error::output(&pending.dest, e.into_error()))?;
                pending.publish(&file)?;
            }
            (Destination::Stream(path), mut target) => {
                target.flush().map_err(|e| Error::output(&path, e))?
            }
            (_, mut target) => target.flush().map_err(|e| Error::output("stdout", e))?,
        }
        Ok(bytes)
    }

    /// The directory where the output is staged, if it is a local file: Parquet spills its
    /// pages next to it, on the disk that must hold the output anyway.
    pub fn staging_dir(&self) -> Option<PathBuf> {
        match self {
            Destination::File(p) => p.temp.parent().map(Path::to_path_buf),
            Destination::Stdout | Destination::Stream(_) | Destination::Object(_) => None,
        }
    }

    /// The path shown in messages.
    pub fn display(&self) -> String {
        match self {
            Destination::Stdout => "stdout".to_string(),
            Destination::File(p) => p.dest.display().to_string(),
            Destination::Stream(path) => path.display().to_string(),
            Destination::Object(url) => url.clone(),
        }
    }
}

/// The byte stream a sink writes into; counts what it writes.
pub struct OutputWriter {
    target: Target,
    bytes: u64,
}

enum Target {
    Stdout(io::Stdout),
    File(io::BufWriter<File>),
    Object(Box<ObjectWriter>),
}

impl OutputWriter {
    fn new(target: Target) -> Self {
        OutputWriter { target, bytes: 0 }
    }
}

impl Write for OutputWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.target.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.target.flush()
    }
}

impl Write for Target {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Target::Stdout(s) => s.write(buf),
            Target::File(f) => f.write(buf),
            Target::Object(o) => o.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Target::Stdout(s) => s.flush(),
            Target::File(f) => f.flush(),
            Target::Object(o) => o.flush(),
        }
    }
}

impl PendingFile {
    /// A temporary file beside `dest` ([`place::temp_beside`]), to become it.
    fn create(dest: PathBuf, keep: Option<Keep>) -> Result<(PendingFile, File)> {
        let (file, temp) = place::temp_beside(&dest, keep)?.into_parts();
        Ok((PendingFile { dest, temp }, file))
    }

    /// fsyncs `file` (the writer's handle to the temporary file), renames it over the
    /// destination and fsyncs the directory so the rename survives a crash.
    fn publish(self, file: &File) -> Result<PathBuf> {
        file.sync_all().map_err(|e| Error::output(&self.dest, e))?;
        let dest = self.dest;
        self.temp
            .persist(&dest)
            .map_err(|e| Error::output(&dest, e.error))?;
        if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Not every filesystem lets a directory be opened for fsync; the rename is done.
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(dest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpublished_file_leaves_no_trace_and_keeps_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("calls.csv");
        std::fs::write(&dest, "old").unwrap();
        {
            let (pending, mut file) = PendingFile::create(dest.clone(), None).unwrap();
            file.write_all(b"half").unwrap();
            drop(pending);
        }
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("calls.csv")]);
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "old");
    }

    #[test]
    fn publish_replaces_the_destination() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("calls.csv");
        std::fs::write(&dest, "old").unwrap();
        let (pending, mut file) = PendingFile::create(dest.clone(), None).unwrap();
        file.write_all(b"new").unwrap();
        pending.publish(&file).unwrap();
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn missing_directory_is_an_output_error() {
        let err = Destination::open(Some(Path::new("/nonexistent-dir/x/calls.csv")))
            .err()
            .unwrap();
        assert_eq!(err.exit_code(), 4);
    }
}
