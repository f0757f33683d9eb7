//! The one line every dataset goes down: typed row stream → batches → sink → atomic publish.
//!
//! The database side (decoding rows) runs on the async task; encoding runs on a blocking
//! thread, so the two overlap on two cores. They meet in a bounded channel of row batches:
//! memory is capped at `CHANNEL_BATCHES` batches of at most `BATCH_ROWS` rows or `BATCH_BYTES`
//! of values in flight, whatever the row count.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{Stream, StreamExt};

use crate::error::{Error, Result};
use crate::pseudonym::{Personal, PseudonymKey};
use crate::record::Record;
use crate::sink::publish::{Destination, OutputWriter};
use crate::sink::{Compression, Format, Profile, Sink, SinkOptions};
use crate::source::ConnArgs;
use crate::view::{View, ViewRequest};

/// A batch of rows between the reader and the encoder holds at most this many rows or this
/// many raw value bytes, whichever comes first, and at most `CHANNEL_BATCHES` wait: rows in
/// flight stay under a fixed ceiling even when some rows are large (calls with big variables).
/// Small batches and two waiting ones are enough to keep both sides busy (the reader waits on
/// the server far more often than on the encoder) and keep the rows in flight under ~1 MiB:
/// when the encoder stalls (a disk flush) the channel fills, and what it holds then counts
/// in the peak RSS. 256 KiB batches and four waiting put 2.5 MiB more on the CSV peak, at
/// the same speed.
const BATCH_ROWS: usize = 1024;
const BATCH_BYTES: usize = 64 << 10;
const CHANNEL_BATCHES: usize = 2;

/// Output flags shared by every dataset.
#[derive(clap::Args, Clone, Debug)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Output file; `-` or nothing writes to stdout. Written atomically (temp file + rename).
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Output format [default: from the extension, else csv].
    #[arg(short, long, value_enum)]
    pub format: Option<Format>,
    /// Parquet compression.
    #[arg(long, value_enum, default_value = "zstd")]
    pub compression: Compression,
    /// Shape the file for a reader where readers disagree: plain (default, read as is
    /// everywhere), spark, duckdb (call ids as Parquet UUID), excel (CSV with BOM and `;`).
    #[arg(long, value_enum, default_value = "plain")]
    pub profile: Profile,
    /// CSV for Excel: a UTF-8 byte-order mark, and cells that Excel would run as a formula
    /// (starting with =, +, -, @, tab or carriage return) prefixed with ' , except numbers
    /// such as +380501112233 or -5.
    #[arg(long)]
    pub excel: bool,
    /// No progress line and no summary on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub view: ViewArgs,
}

/// What of each row is written: columns, variables, pseudonyms (docs/privacy.md).
#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Columns and personal data")]
pub struct ViewArgs {
    /// Only these columns, in this order (comma-separated; `var_<name>` places a variable
    /// column). `webitel-export schema DATASET` lists a dataset's columns.
    #[arg(long, value_name = "A,B,…", value_delimiter = ',')]
    pub columns: Vec<String>,
    /// Leave these columns out (comma-separated).
    #[arg(long, value_name = "A,B,…", value_delimiter = ',')]
    pub exclude_columns: Vec<String>,
    /// Add one text column per call variable, named `var_<name>` (comma-separated names as
    /// stored, e.g. "Ціль,paid"); NULL where a row has no such variable.
    #[arg(long, value_name = "NAME,…", value_delimiter = ',')]
    pub variable_columns: Vec<String>,
    /// Replace phone numbers and SIP addresses (numbers) and customers' names (names) by keyed
    /// tokens, and drop free text (text): transcripts, notes, comments, variables.
    #[arg(long, value_enum, value_name = "CLASS,…", value_delimiter = ',')]
    pub pseudonymize: Vec<Personal>,
    /// The pseudonym key: a file of at least 32 random bytes, readable by its owner only.
    #[arg(long, value_name = "PATH")]
    pub pseudonym_key_file: Option<PathBuf>,
}

impl ViewArgs {
    /// The request, with the key read when pseudonyms are asked for.
    pub fn to_request(&self) -> Result<ViewRequest> {
        let key = match (&self.pseudonym_key_file, self.pseudonymize.is_empty()) {
            (Some(path), false) => Some(PseudonymKey::load(path)?),
            (Some(_), true) => {
                return Err(Error::input(
                    "--pseudonym-key-file is given but --pseudonymize names no class",
                ));
            }
            (None, _) => None,
        };
        Ok(ViewRequest {
            columns: self.columns.clone(),
            exclude: self.exclude_columns.clone(),
            variables: self.variable_columns.clone(),
            pseudonymize: self.pseudonymize.clone(),
            key,
        })
    }
}

/// Where and how to write one export.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    pub output: Option<PathBuf>,
    pub sink: SinkOptions,
    pub quiet: bool,
    /// Fail when no row arrives for this long (`--stall-timeout`).
    pub stall_timeout: Option<Duration>,
}

impl OutputArgs {
    /// The options of one export of rows of `R` (the dataset `dataset`); `conn` gives the
    /// stall timeout.
    pub fn to_options<R: Record>(&self, conn: &ConnArgs, dataset: &str) -> Result<ExportOptions> {
        let format = self
            .format
            .or_else(|| self.output.as_deref().and_then(Format::from_path))
            .unwrap_or(Format::Csv);
        if (self.excel || self.profile == Profile::Excel) && format != Format::Csv {
            return Err(Error::input(format!(
                "--excel and --profile excel apply to CSV output, not {}",
                format.name()
            )));
        }
        Ok(ExportOptions {
            output: self.output.clone(),
            sink: SinkOptions {
                format,
                compression: self.compression,
                excel: self.excel,
                profile: self.profile,
                view: Some(Arc::new(View::resolve(
                    dataset,
                    R::COLUMNS,
                    &self.view.to_request()?,
                )?)),
                ..SinkOptions::default()
            },
            quiet: self.quiet,
            stall_timeout: conn.stall_timeout(),
        })
    }
}

/// What an export did.
#[derive(Clone, Debug)]
pub struct Summary {
    pub dataset: &'static str,
    pub rows: u64,
    pub bytes: u64,
    pub elapsed: Duration,
    pub destination: String,
    /// Whether the user asked for silence (--quiet).
    pub quiet: bool,
    /// Database connections that read the rows (more than one: parallel block slices).
    pub connections: usize,
}

impl Summary {
    pub fn line(&self) -> String {
        let secs = self.elapsed.as_secs_f64();
        let rate = if secs > 0.0 {
            self.rows as f64 / secs
        } else {
            0.0
        };
        let over = if self.connections > 1 {
            format!(" over {} connections", self.connections)
        } else {
            String::new()
        };
        format!(
            "{}: {} rows, {} bytes, {:.2} s ({:.0} rows/s{over}) -> {}",
            self.dataset, self.rows, self.bytes, secs, rate, self.destination
        )
    }
}

/// Opens the destination; done before connecting, so a bad path fails before the database is
/// contacted.
pub fn open_destination(options: &ExportOptions) -> Result<(Destination, OutputWriter)> {
    Destination::open(options.output.as_deref())
}

/// Streams every row into the sink, then publishes. On any error nothing is published.
pub async fn write_all<R, S>(
    dataset: &'static str,
    rows: S,
    destination: Destination,
    writer: OutputWriter,
    options: &ExportOptions,
) -> Result<Summary>
where
    R: Record,
    S: Stream<Item = Result<R>>,
{
    let started = Instant::now();
    let shown = destination.display();
    let progress = Progress::new(dataset, !options.quiet && std::io::stderr().is_terminal());
    let sink_options = SinkOptions {
        spill_dir: destination.staging_dir(),
        ..options.sink.clone()
    };
    let sink = SinkConsumer {
        sink: Sink::new::<R>(writer, &sink_options)?,
    };
    let (writer, rows) = pump(rows, sink, progress, options.stall_timeout)
        .await
        .map_err(|e| with_path(e, &shown))?;
    let bytes = destination.publish(writer).await?;
    Ok(Summary {
        dataset,
        rows,
        bytes,
        elapsed: started.elapsed(),
        destination: shown,
        quiet: options.quiet,
        connections: 1,
    })
}

/// Where batches of rows go, on the encoder thread: one sink, or a partitioned set of files.
pub trait BatchConsumer<R>: Send + 'static {
    type Output: Send + 'static;
    /// Takes the rows of `batch`; whatever it leaves there is dropped, and the emptied vector
    /// goes back to the reader for the next batch.
    fn consume(&mut self, batch: &mut Vec<R>) -> Result<()>;
    fn finish(self) -> Result<Self::Output>;
}

/// One sink writing into one output.
struct SinkConsumer {
    sink: Sink<OutputWriter>,
}

impl<R: Record> BatchConsumer<R> for SinkConsumer {
    type Output = OutputWriter;
    fn consume(&mut self, batch: &mut Vec<R>) -> Result<()> {
        self.sink.write_rows(batch)
    }
    fn finish(self) -> Result<OutputWriter> {
        self.sink.finish()
    }
}

/// Reads `rows` on this task and feeds them, in batches through a bounded channel, to
/// `consumer` on a blocking thread. Returns the consumer's output and the row count.
pub async fn pump<R, S, C>(
    rows: S,
    consumer: C,
    progress: Progress,
    stall_timeout: Option<Duration>,
) -> Result<(C::Output, u64)>
where
    R: Record,
    S: Stream<Item = Result<R>>,
    C: BatchConsumer<R>,
{
    let (batches_tx, batches_rx) = tokio::sync::mpsc::channel::<Vec<R>>(CHANNEL_BATCHES);
    let (spare_tx, spare_rx) = tokio::sync::mpsc::unbounded_channel::<Vec<R>>();
    let encoder =
        tokio::task::spawn_blocking(move || encode(consumer, batches_rx, spare_tx, progress));
    let read = read_batches(rows, batches_tx, spare_rx, stall_timeout).await;
    let encoded = encoder
        .await
        .map_err(|e| Error::Other(format!("encoder thread failed: {e}")))?;
    // A read error is the cause; an encode error after it is only its consequence.
    read?;
    encoded
}

/// Reads rows into batches. The vectors the encoder has emptied come back through `spare`
/// and are filled again: a batch of wide rows (a call row is ~1 KiB) in fresh memory would
/// fault its pages in on every batch.
async fn read_batches<R: Record, S>(
    rows: S,
    batches: tokio::sync::mpsc::Sender<Vec<R>>,
    mut spare: tokio::sync::mpsc::UnboundedReceiver<Vec<R>>,
    stall_timeout: Option<Duration>,
) -> Result<()>
where
    S: Stream<Item = Result<R>>,
{
    let mut rows = std::pin::pin!(rows);
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let mut batch_bytes = 0;
    while let Some(row) = next_or_stall(&mut rows, stall_timeout).await? {
        let row = row?;
        batch_bytes += row.raw_len();
        batch.push(row);
        if batch.len() == BATCH_ROWS || batch_bytes >= BATCH_BYTES {
            batch_bytes = 0;
            let next = spare
                .try_recv()
                .unwrap_or_else(|_| Vec::with_capacity(BATCH_ROWS));
            let full = std::mem::replace(&mut batch, next);
            if batches.send(full).await.is_err() {
                // The encoder stopped: its own error is reported by the caller.
                return Ok(());
            }
        }
    }
    if !batch.is_empty() {
        let _ = batches.send(batch).await;
    }
    Ok(())
}

/// The next row, or an error when none arrives within `limit`: a connection that stalls
/// (a dead peer behind a NAT, a hung proxy) must fail the export, not hang it.
async fn next_or_stall<S: Stream + Unpin>(
    rows: &mut S,
    limit: Option<Duration>,
) -> Result<Option<S::Item>> {
    let Some(limit) = limit else {
        return Ok(rows.next().await);
    };
    tokio::time::timeout(limit, rows.next()).await.map_err(|_| {
        let stalled = std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!(
                "nothing received for {} s (--stall-timeout)",
                limit.as_secs()
            ),
        );
        Error::database("reading rows", sqlx::Error::Io(stalled))
    })
}

fn encode<R, C: BatchConsumer<R>>(
    mut consumer: C,
    mut batches: tokio::sync::mpsc::Receiver<Vec<R>>,
    spare: tokio::sync::mpsc::UnboundedSender<Vec<R>>,
    mut progress: Progress,
) -> Result<(C::Output, u64)> {
    let mut rows = 0u64;
    while let Some(mut batch) = batches.blocking_recv() {
        let n = batch.len() as u64;
        consumer.consume(&mut batch)?;
        batch.clear();
        // The reader may be done and gone; then the vector is simply dropped.
        let _ = spare.send(batch);
        rows += n;
        progress.tick(rows);
    }
    progress.done();
    Ok((consumer.finish()?, rows))
}

/// Encoding errors are raised below the layer that knows the path; name it here.
fn with_path(e: Error, shown: &str) -> Error {
    match e {
        Error::Encode {
            format,
            message,
            io,
        } => Error::Encode {
            format,
            message: format!("{shown}: {message}"),
            io,
        },
        other => other,
    }
}

/// A one-line progress display on stderr, only when stderr is a terminal.
pub struct Progress {
    dataset: &'static str,
    enabled: bool,
    started: Instant,
    last: Instant,
}

impl Progress {
    pub fn new(dataset: &'static str, enabled: bool) -> Self {
        let now = Instant::now();
        Progress {
            dataset,
            enabled,
            started: now,
            last: now,
        }
    }

    fn tick(&mut self, rows: u64) {
        if !self.enabled || self.last.elapsed() < Duration::from_millis(300) {
            return;
        }
        self.last = Instant::now();
        let rate = rows as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
        eprint!("\r{}: {rows} rows, {rate:.0} rows/s   ", self.dataset);
    }

    fn done(&self) {
        if self.enabled {
            eprint!("\r\x1b[2K");
        }
    }
}
