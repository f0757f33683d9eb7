//! Parquet through arrow-rs: typed columns, large row groups, zstd by default.
//!
//! Rows are appended to Arrow builders; every `BATCH_ROWS` rows the builders become one
//! `RecordBatch` handed to `ArrowWriter`. A Parquet column chunk must be contiguous, so the
//! writer holds every finished page of a row group until the group is closed. Those pages go
//! to anonymous spill files ([`SpillPages`]), not the heap: memory is then the per-column
//! encoders only, whatever the row-group size. That allows large row groups (`row_group_rows`
//! rows or `row_group_bytes` of raw values, whichever comes first), which readers prefer, and
//! keeps small the one thing that grows with the row count: parquet-rs keeps the metadata of
//! every closed row group (~40 KB here) until it writes the footer. With 1Mi-row groups that
//! is one entry per million rows, so memory stays flat whatever the row count.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, FixedSizeBinaryBuilder, Float64Builder, Int32Builder, Int64Builder,
    ListBuilder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::extension::{Json, Uuid};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{
    ArrowWriterOptions, PageKey, PageStore, PageStoreArgs, PageStoreFactory,
};
use parquet::basic::{Compression as Codec, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use crate::error::{Error, Result};
use crate::record::{Cell, Column, Kind, Record};

use super::{Compression, Profile, SinkOptions};

/// Rows per Arrow batch: large enough to amortize per-batch work, small enough to stay in cache.
const BATCH_ROWS: usize = 8192;

pub struct ParquetSink<W: Write + Send> {
    writer: ArrowWriter<W>,
    schema: SchemaRef,
    builders: Vec<ColumnBuilder>,
    pending: usize,
    /// Rows and raw value bytes in the row group being written.
    group_rows: usize,
    group_bytes: usize,
    row_group_rows: usize,
    row_group_bytes: usize,
}

impl<W: Write + Send> ParquetSink<W> {
    pub fn new<R: Record>(out: W, options: &SinkOptions) -> Result<Self> {
        let uuids = UuidsAs::for_profile(options.profile);
        let schema = arrow_schema_of(R::COLUMNS, uuids);
        let mut props = WriterProperties::builder()
            .set_compression(codec(options.compression))
            // Each column buffers up to one dictionary page plus one data page: with ~50
            // columns the defaults (1 MiB each) alone would hold ~100 MiB.
            .set_dictionary_page_size_limit(256 * 1024)
            .set_data_page_size_limit(512 * 1024)
            // Every column closes its page at the end of each Arrow batch, so no page buffer
            // is left half full between batches. With the default (20,000 rows, out of step
            // with the batch) the columns' half-full pages added up differently from batch to
            // batch, and the peak met a higher sum the longer the export ran. It also lowers
            // the peak by ~10 MiB.
            .set_data_page_row_count_limit(BATCH_ROWS)
            .set_max_row_group_row_count(Some(options.row_group_rows))
            // Row-group statistics only: a page index (min/max of every page of every column)
            // stays in memory until the footer, so memory would grow with the row count.
            // Readers prune by row group.
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_offset_index_disabled(true)
            .set_created_by(concat!("webitel-export ", env!("CARGO_PKG_VERSION")).to_string())
            .set_key_value_metadata(Some(vec![KeyValue::new(
                "webitel_export.version".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            )]));
        for column in R::COLUMNS {
            // Ids, instants and JSON documents are nearly unique: a dictionary only costs memory
            // before the writer gives up on it. Names, causes, directions keep theirs.
            if matches!(column.kind, Kind::Uuid | Kind::Json | Kind::Timestamp) {
                props = props.set_column_dictionary_enabled(column.name.into(), false);
            }
        }
        let spill_dir = options.spill_dir.clone().unwrap_or_else(std::env::temp_dir);
        let writer_options = ArrowWriterOptions::new()
            .with_properties(props.build())
            .with_page_store_factory(Arc::new(SpillPages { dir: spill_dir }));
        let writer = ArrowWriter::try_new_with_options(out, schema.clone(), writer_options)
            .map_err(encode_error)?;
        Ok(ParquetSink {
            writer,
            builders: R::COLUMNS
                .iter()
                .map(|c| ColumnBuilder::new(c.kind, uuids))
                .collect(),
            schema,
            pending: 0,
            group_rows: 0,
            group_bytes: 0,
            row_group_rows: options.row_group_rows,
            row_group_bytes: options.row_group_bytes,
        })
    }

    pub fn write_rows<R: Record>(&mut self, rows: &[R]) -> Result<()> {
        for row in rows {
            let mut i = 0;
            row.cells(|cell| {
                // A row type whose field does not match its declared kind is a bug; every test
                // export (debug build) checks it.
                debug_assert!(
                    cell.fits(R::COLUMNS[i].kind),
                    "column {}",
                    R::COLUMNS[i].name
                );
                self.group_bytes += cell.raw_len();
                self.builders[i].append(cell);
                i += 1;
            });
            self.pending += 1;
            self.group_rows += 1;
            if self.group_rows >= self.row_group_rows || self.group_bytes >= self.row_group_bytes {
                self.flush_batch()?;
                self.writer.flush().map_err(encode_error)?;
                self.group_rows = 0;
                self.group_bytes = 0;
            } else if self.pending == BATCH_ROWS {
                self.flush_batch()?;
            }
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<W> {
        self.flush_batch()?;
        self.writer.into_inner().map_err(encode_error)
    }

    fn flush_batch(&mut self) -> Result<()> {
        if self.pending == 0 {
            return Ok(());
        }
        let arrays: Vec<ArrayRef> = self
            .builders
            .iter_mut()
            .map(ColumnBuilder::finish)
            .collect();
        let batch =
            RecordBatch::try_new(self.schema.clone(), arrays).map_err(|e| Error::Encode {
                format: "parquet",
                message: e.to_string(),
                io: None,
            })?;
        self.pending = 0;
        self.writer.write(&batch).map_err(encode_error)
    }
}

/// Keeps the finished pages of each column chunk in an anonymous file in `dir` until the row
/// group is closed. The file has no name (it is unlinked at creation), so nothing is left behind
/// even if the process is killed; `dir` is the output's own directory when there is one, so the
/// spill lands on the disk that has to hold the output anyway, not on a RAM-backed /tmp.
#[derive(Debug)]
struct SpillPages {
    dir: PathBuf,
}

impl PageStoreFactory for SpillPages {
    fn create(&self, _column: &PageStoreArgs<'_>) -> parquet::errors::Result<Box<dyn PageStore>> {
        Ok(Box::new(SpillFile::create(&self.dir)?))
    }
}

/// One column chunk's pages, appended to a file and read back once, in order, when the row
/// group is written out.
struct SpillFile {
    file: File,
    end: u64,
    /// Offset and length of each page, indexed by its key.
    pages: Vec<(u64, usize)>,
}

impl SpillFile {
    fn create(dir: &Path) -> std::io::Result<Self> {
        Ok(SpillFile {
            file: tempfile::tempfile_in(dir)?,
            end: 0,
            pages: Vec::new(),
        })
    }
}

impl PageStore for SpillFile {
    fn put(&mut self, page: Bytes) -> parquet::errors::Result<PageKey> {
        // Positioned writes and reads: no shared cursor to keep in step.
        self.file.write_all_at(&page, self.end)?;
        self.pages.push((self.end, page.len()));
        self.end += page.len() as u64;
        Ok(PageKey::new(self.pages.len() as u64 - 1))
    }

    fn take(&mut self, key: PageKey) -> parquet::errors::Result<Bytes> {
        let (offset, len) = *usize::try_from(key.get())
            .ok()
            .and_then(|i| self.pages.get(i))
            .ok_or_else(|| {
                parquet::errors::ParquetError::General(format!("no spilled page {}", key.get()))
            })?;
        let mut page = vec![0; len];
        self.file.read_exact_at(&mut page, offset)?;
        Ok(Bytes::from(page))
    }
}

fn codec(compression: Compression) -> Codec {
    match compression {
        // Level 1: most of zstd's size gain at a fraction of level 3's CPU.
        Compression::Zstd => Codec::ZSTD(ZstdLevel::try_new(1).expect("1 is a valid zstd level")),
        Compression::Snappy => Codec::SNAPPY,
        Compression::None => Codec::UNCOMPRESSED,
    }
}

fn encode_error(e: parquet::errors::ParquetError) -> Error {
    // An I/O failure underneath (disk full, a closed pipe) surfaces here as an external error.
    let io = match &e {
        parquet::errors::ParquetError::External(inner) => {
            inner.downcast_ref::<std::io::Error>().map(|e| e.kind())
        }
        _ => None,
    };
    Error::Encode {
        format: "parquet",
        message: e.to_string(),
        io,
    }
}

/// How uuid columns (call ids) are stored.
#[derive(Clone, Copy, PartialEq, Eq)]
enum UuidsAs {
    /// STRING: every engine reads it; Spark 4 rejects the UUID type.
    Text,
    /// FIXED_LEN_BYTE_ARRAY(16) with the UUID logical type (DuckDB shows UUID).
    Logical,
}

impl UuidsAs {
    fn for_profile(profile: Profile) -> Self {
        match profile {
            Profile::Duckdb => UuidsAs::Logical,
            Profile::Plain | Profile::Spark | Profile::Excel => UuidsAs::Text,
        }
    }
}

/// The Arrow schema of a dataset; the Parquet schema follows from it:
/// Text/Uuid → STRING (Uuid → UUID with the duckdb profile), Json → STRING + JSON logical
/// type, Timestamp → TIMESTAMP(MICROS, UTC), lists → LIST. Columns are OPTIONAL or REQUIRED
/// as the row type says.
fn arrow_schema_of(columns: &[Column], uuids: UuidsAs) -> SchemaRef {
    let fields: Vec<Field> = columns
        .iter()
        .map(|c| match c.kind {
            Kind::Json => {
                Field::new(c.name, DataType::Utf8, c.nullable).with_extension_type(Json::default())
            }
            Kind::Uuid if uuids == UuidsAs::Logical => {
                Field::new(c.name, DataType::FixedSizeBinary(16), c.nullable)
                    .with_extension_type(Uuid)
            }
            kind => Field::new(c.name, data_type(kind), c.nullable),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

fn data_type(kind: Kind) -> DataType {
    let item = |t: DataType| DataType::List(Arc::new(Field::new_list_field(t, true)));
    match kind {
        Kind::Text | Kind::Uuid | Kind::Json => DataType::Utf8,
        Kind::Int32 => DataType::Int32,
        Kind::Int64 => DataType::Int64,
        Kind::Float64 => DataType::Float64,
        Kind::Bool => DataType::Boolean,
        Kind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        Kind::Int32List => item(DataType::Int32),
        Kind::Int64List => item(DataType::Int64),
        Kind::TextList => item(DataType::Utf8),
    }
}

enum ColumnBuilder {
    Text(StringBuilder),
    Uuid(FixedSizeBinaryBuilder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    Float64(Float64Builder),
    Bool(BooleanBuilder),
    Timestamp(TimestampMicrosecondBuilder),
    Int32List(ListBuilder<Int32Builder>),
    Int64List(ListBuilder<Int64Builder>),
    TextList(ListBuilder<StringBuilder>),
}

impl ColumnBuilder {
    fn new(kind: Kind, uuids: UuidsAs) -> Self {
        match kind {
            Kind::Uuid if uuids == UuidsAs::Logical => {
                ColumnBuilder::Uuid(FixedSizeBinaryBuilder::new(16))
            }
            Kind::Text | Kind::Uuid | Kind::Json => ColumnBuilder::Text(StringBuilder::new()),
            Kind::Int32 => ColumnBuilder::Int32(Int32Builder::new()),
            Kind::Int64 => ColumnBuilder::Int64(Int64Builder::new()),
            Kind::Float64 => ColumnBuilder::Float64(Float64Builder::new()),
            Kind::Bool => ColumnBuilder::Bool(BooleanBuilder::new()),
            Kind::Timestamp => {
                ColumnBuilder::Timestamp(TimestampMicrosecondBuilder::new().with_timezone("UTC"))
            }
            Kind::Int32List => ColumnBuilder::Int32List(ListBuilder::new(Int32Builder::new())),
            Kind::Int64List => ColumnBuilder::Int64List(ListBuilder::new(Int64Builder::new())),
            Kind::TextList => ColumnBuilder::TextList(ListBuilder::new(StringBuilder::new())),
        }
    }

    /// Appends one cell. A cell whose shape does not fit the column (a bug in a row type, which
    /// the `record` tests rule out) is stored as NULL rather than aborting an export.
    fn append(&mut self, cell: Cell<'_>) {
        match (self, cell) {
            (ColumnBuilder::Text(b), Cell::Text(v)) => b.append_value(v),
            // Webitel's ids are uuids (varchar ones before v23.05 held uuid text too); text
            // that is not one cannot be stored as UUID: NULL, or an error in a required column.
            (ColumnBuilder::Uuid(b), Cell::Text(v)) => match uuid::Uuid::parse_str(v) {
                Ok(id) => b
                    .append_value(id.as_bytes())
                    .expect("16 bytes fit FixedSizeBinary(16)"),
                Err(_) => b.append_null(),
            },
            (ColumnBuilder::Int32(b), Cell::Int32(v)) => b.append_value(v),
            (ColumnBuilder::Int64(b), Cell::Int64(v)) => b.append_value(v),
            (ColumnBuilder::Float64(b), Cell::Float64(v)) => b.append_value(v),
            (ColumnBuilder::Bool(b), Cell::Bool(v)) => b.append_value(v),
            (ColumnBuilder::Timestamp(b), Cell::Timestamp(v)) => {
                b.append_value(v.timestamp_micros())
            }
            (ColumnBuilder::Int32List(b), Cell::Int32List(v)) => {
                b.values().append_slice(v);
                b.append(true);
            }
            (ColumnBuilder::Int64List(b), Cell::Int64List(v)) => {
                b.values().append_slice(v);
                b.append(true);
            }
            (ColumnBuilder::TextList(b), Cell::TextList(v)) => {
                for s in v {
                    b.values().append_value(s);
                }
                b.append(true);
            }
            (builder, _) => builder.append_null(),
        }
    }

    fn append_null(&mut self) {
        match self {
            ColumnBuilder::Text(b) => b.append_null(),
            ColumnBuilder::Uuid(b) => b.append_null(),
            ColumnBuilder::Int32(b) => b.append_null(),
            ColumnBuilder::Int64(b) => b.append_null(),
            ColumnBuilder::Float64(b) => b.append_null(),
            ColumnBuilder::Bool(b) => b.append_null(),
            ColumnBuilder::Timestamp(b) => b.append_null(),
            ColumnBuilder::Int32List(b) => b.append(false),
            ColumnBuilder::Int64List(b) => b.append(false),
            ColumnBuilder::TextList(b) => b.append(false),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Text(b) => Arc::new(b.finish()),
            ColumnBuilder::Uuid(b) => Arc::new(b.finish()),
            ColumnBuilder::Int32(b) => Arc::new(b.finish()),
            ColumnBuilder::Int64(b) => Arc::new(b.finish()),
            ColumnBuilder::Float64(b) => Arc::new(b.finish()),
            ColumnBuilder::Bool(b) => Arc::new(b.finish()),
            ColumnBuilder::Timestamp(b) => Arc::new(b.finish()),
            ColumnBuilder::Int32List(b) => Arc::new(b.finish()),
            ColumnBuilder::Int64List(b) => Arc::new(b.finish()),
            ColumnBuilder::TextList(b) => Arc::new(b.finish()),
        }
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;
    use crate::sink::Format;

    crate::record! {
        /// Test row.
        pub struct Sample {
            /// a
            a: Option<String> => Text,
            /// b
            b: Option<i64> => Int64,
        }
    }

    fn options(row_group_rows: usize, spill_dir: &Path) -> SinkOptions {
        SinkOptions {
            format: Format::Parquet,
            row_group_rows,
            spill_dir: Some(spill_dir.to_path_buf()),
            ..SinkOptions::default()
        }
    }

    fn sample(n: i64) -> Sample {
        Sample {
            a: (n % 3 != 0).then(|| format!("row {n}")),
            b: Some(n),
        }
    }

    #[test]
    fn spilled_pages_come_back_whole_in_any_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SpillFile::create(dir.path()).unwrap();
        let pages = [&b"first page"[..], b"", b"third, a little longer"];
        let keys: Vec<PageKey> = pages
            .iter()
            .map(|p| store.put(Bytes::copy_from_slice(p)).unwrap())
            .collect();
        assert_eq!(&store.take(keys[2]).unwrap()[..], pages[2]);
        assert_eq!(&store.take(keys[0]).unwrap()[..], pages[0]);
        assert_eq!(&store.take(keys[1]).unwrap()[..], pages[1]);
        assert!(store.take(PageKey::new(7)).is_err());
        // The spill file is anonymous: nothing appears in the directory.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn several_spilled_row_groups_read_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<Sample> = (0..10_000).map(sample).collect();
        let mut sink = ParquetSink::new::<Sample>(Vec::new(), &options(3_000, dir.path())).unwrap();
        for chunk in rows.chunks(700) {
            sink.write_rows(chunk).unwrap();
        }
        let file = Bytes::from(sink.finish().unwrap());

        let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        assert_eq!(reader.metadata().num_row_groups(), 4, "3,000-row groups");
        let mut read = Vec::new();
        for batch in reader.build().unwrap() {
            let batch = batch.unwrap();
            let a = batch.column(0).as_string::<i32>();
            let b = batch.column(1).as_primitive::<Int64Type>();
            for i in 0..batch.num_rows() {
                read.push(Sample {
                    a: a.is_valid(i).then(|| a.value(i).to_string()),
                    b: b.is_valid(i).then(|| b.value(i)),
                });
            }
        }
        assert!(read == rows, "rows differ after the round trip");
    }

    #[test]
    fn an_unusable_spill_directory_fails_the_write() {
        let missing = Path::new("/nonexistent/webitel-export-spill");
        let rows: Vec<Sample> = (0..100).map(sample).collect();
        let mut sink = ParquetSink::new::<Sample>(Vec::new(), &options(10, missing)).unwrap();
        let written = sink
            .write_rows(&rows)
            .and_then(|()| sink.finish().map(drop));
        let message = written
            .expect_err("pages must go through the spill directory")
            .to_string();
        assert!(message.contains("No such file"), "{message}");
    }
}
