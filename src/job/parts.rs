//! Partitioned part files of one job: `<job>/date=YYYY-MM-DD/part-<run id>-<n>.<ext>`, each
//! bounded in rows (exactly) and bytes (to within a Parquet row group), written under the run's
//! staging directory and hashed (sha256) while they are written.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::export::BatchConsumer;
use crate::record::{Cell, Record};
use crate::sink::{Sink, SinkOptions};

/// Hive's name for the partition of rows whose partition column is NULL.
pub const NULL_PARTITION: &str = "date=__HIVE_DEFAULT_PARTITION__";

/// At most this many parts buffer a row group at once; writing to another partition parks the
/// least recently used one: its row group is closed and its file stays open, holding next to
/// no memory, so rows of that partition arriving later go on into the same file. A restated
/// run's days (up to `MAX_OPEN_PARTS` of them) and a full job's partition are written as few
/// files as `max_file_rows` allows, however their rows interleave. An active part holds its column encoders and a batch of
/// rows (about 8 MiB for a wide dataset): two keep a restated run near 50 MiB (eight took
/// 100). Rows of other partitions wait (`PENDING_BYTES`) so that a parallel scan, whose
/// workers each read another stretch of days, does not park a part for every batch: closing a
/// row group per batch made a 3.5M-row run ten times slower.
const MAX_ACTIVE_PARTS: usize = 2;
/// At most this many part files are open (active or parked); past it the least recently used
/// one is closed, and later rows of its partition start a new part.
const MAX_OPEN_PARTS: usize = 12;
/// Rows of partitions without an active part wait in memory, up to this many bytes of raw
/// values, and the partition with the most waiting goes next: a part is parked only for a
/// stretch of rows worth a row group's turn, not for every batch a scan interleaves.
const PENDING_BYTES: usize = 2 << 20;
/// Each open part's write buffer. Parked parts keep theirs, so it counts `MAX_OPEN_PARTS`
/// times: 256 KiB buffers put 2.4 MiB more on the peak of a first 21-day run, at the same speed.
const PART_BUFFER: usize = 64 << 10;

/// One published file, as the manifest lists it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileEntry {
    /// Relative to the output root, `/`-separated.
    pub path: String,
    /// `date=YYYY-MM-DD`.
    pub partition: String,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// How rows map to partitions.
#[derive(Clone)]
pub enum Partitioning {
    /// By the local date (in `tz`) of the timestamp column at `index`.
    ByColumn { index: usize, tz: Tz },
    /// Every row in one partition (a full snapshot: the run's date).
    Fixed(String),
}

impl Partitioning {
    /// The partition directory of the local date of `t`.
    pub fn date_partition(t: DateTime<Utc>, tz: Tz) -> String {
        format!("date={}", t.with_timezone(&tz).format("%Y-%m-%d"))
    }

    fn key<R: Record>(&self, row: &R) -> String {
        match self {
            Partitioning::Fixed(key) => key.clone(),
            Partitioning::ByColumn { index, tz } => {
                let mut found = None;
                let mut i = 0;
                row.cells(|cell| {
                    if i == *index
                        && let Cell::Timestamp(t) = cell
                    {
                        found = Some(t);
                    }
                    i += 1;
                });
                match found {
                    Some(t) => Partitioning::date_partition(t, *tz),
                    None => NULL_PARTITION.to_string(),
                }
            }
        }
    }
}

/// Which of a read's rows a part writer keeps: a restated job reads twice, once for the days
/// it appends to and once for the days it replaces, and each read may return a few rows of the
/// other's days (its SQL window is a superset).
#[derive(Clone, Debug)]
pub enum Keep {
    All,
    /// Partitions before this one, and the NULL partition (which has no day to restate).
    Before(String),
    /// This partition and later ones.
    From(String),
}

impl Keep {
    fn admits(&self, key: &str) -> bool {
        let dated = key != NULL_PARTITION;
        match self {
            Keep::All => true,
            Keep::Before(first) => !dated || key < first.as_str(),
            Keep::From(first) => dated && key >= first.as_str(),
        }
    }
}

/// A file being written that counts and hashes its bytes. The count is shared, so the part
/// writer can see how large a part has grown while its sink owns the file.
pub struct HashedFile {
    out: BufWriter<File>,
    sha: Sha256,
    bytes: Arc<AtomicU64>,
}

impl Write for HashedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.sha.update(&buf[..n]);
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

struct OpenPart {
    partition: String,
    rel: String,
    path: PathBuf,
    sink: Sink<HashedFile>,
    bytes: Arc<AtomicU64>,
    rows: u64,
    last_used: u64,
    /// Its row group is closed: it holds no rows in memory.
    parked: bool,
}

/// Writes one job's rows into part files under `staging`.
pub struct PartWriter<R> {
    staging: PathBuf,
    job: String,
    run_id: String,
    extension: &'static str,
    sink: SinkOptions,
    partitioning: Partitioning,
    max_rows: u64,
    max_bytes: u64,
    open: Vec<OpenPart>,
    next_part: u32,
    clock: u64,
    files: Vec<FileEntry>,
    keep: Keep,
    /// Rows waiting for their partition's turn, and their raw size in all.
    pending: Vec<Pending<R>>,
    pending_bytes: usize,
}

struct Pending<R> {
    partition: String,
    rows: Vec<R>,
    bytes: usize,
}

/// The file name limits of a job's parts.
pub struct PartLimits {
    pub max_rows: u64,
    pub max_bytes: u64,
}

impl<R: Record> PartWriter<R> {
    pub fn new(
        staging: &Path,
        job: &str,
        run_id: &str,
        sink: SinkOptions,
        partitioning: Partitioning,
        limits: PartLimits,
    ) -> Self {
        PartWriter {
            staging: staging.to_path_buf(),
            job: job.to_string(),
            run_id: run_id.to_string(),
            extension: sink.format.name(),
            sink,
            partitioning,
            max_rows: limits.max_rows,
            max_bytes: limits.max_bytes,
            open: Vec::new(),
            next_part: 0,
            clock: 0,
            files: Vec::new(),
            keep: Keep::All,
            pending: Vec::new(),
            pending_bytes: 0,
        }
    }

    /// Keeps only the rows `keep` admits from now on.
    pub fn keep(&mut self, keep: Keep) {
        self.keep = keep;
    }

    fn part(&mut self, partition: &str) -> Result<usize> {
        self.clock += 1;
        let found = self.open.iter().position(|p| p.partition == partition);
        if found.is_none_or(|i| self.open[i].parked) {
            self.park_one_if_full()?;
        }
        if let Some(i) = self.open.iter().position(|p| p.partition == partition) {
            self.open[i].last_used = self.clock;
            self.open[i].parked = false;
            return Ok(i);
        }
        if self.open.len() >= MAX_OPEN_PARTS {
            let lru = (0..self.open.len())
                .filter(|&i| self.open[i].parked)
                .min_by_key(|&i| self.open[i].last_used)
                .expect("only a few parts are active");
            self.close(lru)?;
        }
        self.next_part += 1;
        let rel = format!(
            "{}/{partition}/part-{}-{:05}.{}",
            self.job, self.run_id, self.next_part, self.extension
        );
        let path = self.staging.join(&rel);
        let dir = path.parent().expect("a part has a directory");
        std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
        let file = File::create(&path).map_err(|e| Error::output(&path, e))?;
        let bytes = Arc::new(AtomicU64::new(0));
        let out = HashedFile {
            out: BufWriter::with_capacity(PART_BUFFER, file),
            sha: Sha256::new(),
            bytes: Arc::clone(&bytes),
        };
        self.open.push(OpenPart {
            partition: partition.to_string(),
            rel,
            path,
            sink: Sink::new::<R>(out, &self.sink)?,
            bytes,
            rows: 0,
            last_used: self.clock,
            parked: false,
        });
        Ok(self.open.len() - 1)
    }

    fn is_active(&self, partition: &str) -> bool {
        self.open
            .iter()
            .any(|p| p.partition == partition && !p.parked)
    }

    fn active_parts(&self) -> usize {
        self.open.iter().filter(|p| !p.parked).count()
    }

    /// Keeps rows of a partition without an active part until it gets its turn.
    fn hold(&mut self, partition: String, rows: Vec<R>) {
        let bytes: usize = rows.iter().map(Record::raw_len).sum();
        self.pending_bytes += bytes;
        match self.pending.iter_mut().find(|p| p.partition == partition) {
            Some(waiting) => {
                waiting.rows.extend(rows);
                waiting.bytes += bytes;
            }
            None => self.pending.push(Pending {
                partition,
                rows,
                bytes,
            }),
        }
    }

    /// Gives the partition with the most rows waiting its turn (parking another if need be).
    fn write_largest_pending(&mut self) -> Result<()> {
        let Some(largest) = (0..self.pending.len()).max_by_key(|&i| self.pending[i].bytes) else {
            return Ok(());
        };
        let waiting = self.pending.swap_remove(largest);
        self.pending_bytes -= waiting.bytes;
        self.write_partition(&waiting.partition, &waiting.rows)
    }

    /// Parks the least recently used active part when `MAX_ACTIVE_PARTS` are active.
    fn park_one_if_full(&mut self) -> Result<()> {
        let active = || self.open.iter().enumerate().filter(|(_, p)| !p.parked);
        if active().count() < MAX_ACTIVE_PARTS {
            return Ok(());
        }
        let (lru, _) = active()
            .min_by_key(|(_, p)| p.last_used)
            .expect("parts are active");
        let part = &mut self.open[lru];
        part.sink.park()?;
        part.parked = true;
        Ok(())
    }

    fn close(&mut self, index: usize) -> Result<()> {
        let part = self.open.swap_remove(index);
        let mut out = part.sink.finish()?;
        out.flush().map_err(|e| Error::output(&part.path, e))?;
        let file = out
            .out
            .into_inner()
            .map_err(|e| Error::output(&part.path, e.into_error()))?;
        file.sync_all().map_err(|e| Error::output(&part.path, e))?;
        self.files.push(FileEntry {
            path: part.rel,
            partition: part.partition,
            rows: part.rows,
            bytes: part.bytes.load(Ordering::Relaxed),
            sha256: hex(&out.sha.finalize()),
        });
        Ok(())
    }

    /// Writes rows that all belong to `partition`, starting new parts at the limits.
    fn write_partition(&mut self, partition: &str, mut rows: &[R]) -> Result<()> {
        while !rows.is_empty() {
            let i = self.part(partition)?;
            let room = usize::try_from(self.max_rows - self.open[i].rows).unwrap_or(usize::MAX);
            let (now, later) = rows.split_at(room.min(rows.len()));
            let part = &mut self.open[i];
            part.sink.write_rows(now)?;
            part.rows += now.len() as u64;
            if part.rows >= self.max_rows || part.bytes.load(Ordering::Relaxed) >= self.max_bytes {
                self.close(i)?;
            }
            rows = later;
        }
        Ok(())
    }
}

impl<R: Record> BatchConsumer<R> for PartWriter<R> {
    type Output = Vec<FileEntry>;

    fn consume(&mut self, batch: &mut Vec<R>) -> Result<()> {
        // Group the batch by partition, keeping row order within each.
        let mut groups: Vec<(String, Vec<R>)> = Vec::new();
        for row in batch.drain(..) {
            let key = self.partitioning.key(&row);
            if !self.keep.admits(&key) {
                continue;
            }
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, rows)) => rows.push(row),
                None => groups.push((key, vec![row])),
            }
        }
        for (partition, rows) in groups {
            let waiting = self.pending.iter().any(|p| p.partition == partition);
            if !waiting && (self.is_active(&partition) || self.active_parts() < MAX_ACTIVE_PARTS) {
                self.write_partition(&partition, &rows)?;
            } else {
                self.hold(partition, rows);
            }
        }
        while self.pending_bytes > PENDING_BYTES {
            self.write_largest_pending()?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<FileEntry>> {
        while !self.pending.is_empty() {
            self.write_largest_pending()?;
        }
        while !self.open.is_empty() {
            self.close(self.open.len() - 1)?;
        }
        self.files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(self.files)
    }
}

/// A part writer that a read leaves open for the next read of the same job.
pub struct Unfinished<R>(pub PartWriter<R>);

impl<R: Record> BatchConsumer<R> for Unfinished<R> {
    type Output = PartWriter<R>;

    fn consume(&mut self, batch: &mut Vec<R>) -> Result<()> {
        self.0.consume(batch)
    }

    fn finish(self) -> Result<PartWriter<R>> {
        Ok(self.0)
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
