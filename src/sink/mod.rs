//! Output formats behind one type, all fed the same typed rows.
//!
//! A sink encodes rows of one [`Record`] type into a byte stream; it neither opens nor
//! publishes files (that is [`publish`]). Text formats buffer into one reused `Vec<u8>` and
//! hand the writer large chunks, so the hot loop allocates nothing per row.

pub mod csv;
pub mod jsonl;
pub mod object;
pub mod parquet;
pub mod place;
pub mod publish;
pub mod xlsx;

use std::io::Write;
use std::path::PathBuf;

use chrono::{DateTime, Datelike, Timelike, Utc};

use crate::error::{Error, Result};
use crate::record::Record;
use crate::view::SharedView;

/// Output file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// RFC 4180 CSV with a header row; NULL is an empty field, an empty string is `""`.
    Csv,
    /// Apache Parquet, typed columns (UTC-micro timestamps, JSON, LIST), one file.
    Parquet,
    /// One JSON object per line, keys = column names.
    Jsonl,
    /// Excel workbook: header row frozen with an autofilter, date-times in --tz, ids as text.
    Xlsx,
}

impl Format {
    /// The format implied by a file name's extension, if any.
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "parquet" | "pq" => Some(Format::Parquet),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
            Format::Jsonl => "jsonl",
            Format::Xlsx => "xlsx",
        }
    }
}

/// Which reader the file is shaped for, where readers disagree (docs/datalake.md).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Read as is by every engine: call ids as strings, jsonb with the JSON logical type,
    /// UTC-micro timestamps (default).
    #[default]
    Plain,
    /// Spark, Athena, Hive: the plain types, which Spark 4 reads (it rejects Parquet UUID).
    Spark,
    /// DuckDB, Polars, pyarrow: call ids as the Parquet UUID type (16 bytes, shown as UUID).
    Duckdb,
    /// Excel CSV: UTF-8 BOM, `;` separator, formula cells neutralized, phone numbers and
    /// leading-zero numbers kept as text.
    Excel,
}

/// Parquet compression codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Compression {
    /// zstd: small files, read by every current engine (default).
    Zstd,
    /// Snappy: the most widely supported codec.
    Snappy,
    /// No compression.
    None,
}

/// How rows are encoded: everything a sink needs besides the writer.
#[derive(Clone, Debug)]
pub struct SinkOptions {
    pub format: Format,
    pub compression: Compression,
    /// Upper bound on rows per Parquet row group.
    pub row_group_rows: usize,
    /// Upper bound on the raw value bytes of a Parquet row group (see sink/parquet.rs).
    pub row_group_bytes: usize,
    /// Where Parquet keeps a row group's pages until the group is closed (`None`: the
    /// system's temporary directory).
    pub spill_dir: Option<PathBuf>,
    /// CSV for Excel (`--excel`): byte-order mark, formula cells neutralized.
    pub excel: bool,
    pub profile: Profile,
    /// The columns written and how (`None`: the dataset's own, untouched).
    pub view: Option<SharedView>,
    /// The time zone Excel date-times are shown in (Excel has none).
    pub tz: chrono_tz::Tz,
    /// Rows per worksheet, the header included (Excel's limit; lower in tests).
    pub sheet_rows: u32,
}

impl Default for SinkOptions {
    fn default() -> Self {
        SinkOptions {
            format: Format::Csv,
            compression: Compression::Zstd,
            // pyarrow's default row-group length. Pages spill to disk, so the size costs no
            // memory; engines still get several groups to scan in parallel from a large file.
            row_group_rows: 1 << 20,
            row_group_bytes: 512 << 20,
            spill_dir: None,
            excel: false,
            profile: Profile::Plain,
            view: None,
            tz: chrono_tz::UTC,
            sheet_rows: xlsx::MAX_SHEET_ROWS,
        }
    }
}

/// One of the format encoders, writing to `W`.
// One sink exists per export; the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Sink<W: Write + Send> {
    Csv(csv::CsvSink<W>),
    Jsonl(jsonl::JsonlSink<W>),
    Parquet(parquet::ParquetSink<W>),
    Xlsx(xlsx::XlsxSink<W>),
}

impl<W: Write + Send> Sink<W> {
    /// Starts a sink for rows of `R` (writes the CSV header or the Parquet magic).
    pub fn new<R: Record>(writer: W, options: &SinkOptions) -> Result<Self> {
        let view = match &options.view {
            Some(view) if view.fits::<R>() => view.clone(),
            Some(_) => {
                return Err(Error::Other(
                    "a column view was applied to another dataset's rows".into(),
                ));
            }
            None => crate::view::identity_of::<R>(),
        };
        Ok(match options.format {
            Format::Csv => Sink::Csv(csv::CsvSink::new(writer, options, view)?),
            Format::Jsonl => Sink::Jsonl(jsonl::JsonlSink::new(writer, view)),
            Format::Parquet => Sink::Parquet(parquet::ParquetSink::new(writer, options, view)?),
            Format::Xlsx => Sink::Xlsx(xlsx::XlsxSink::new(writer, options, view)?),
        })
    }

    pub fn write_rows<R: Record>(&mut self, rows: &[R]) -> Result<()> {
        match self {
            Sink::Csv(s) => s.write_rows(rows),
            Sink::Jsonl(s) => s.write_rows(rows),
            Sink::Parquet(s) => s.write_rows(rows),
            Sink::Xlsx(s) => s.write_rows(rows),
        }
    }

    /// Writes out what is buffered (a Parquet sink closes its row group), so the sink can wait
    /// for its next rows holding next to no memory.
    pub fn park(&mut self) -> Result<()> {
        match self {
            Sink::Parquet(s) => s.park(),
            Sink::Csv(_) | Sink::Jsonl(_) | Sink::Xlsx(_) => Ok(()),
        }
    }

    /// Flushes everything (Parquet footer included) and returns the writer.
    pub fn finish(self) -> Result<W> {
        match self {
            Sink::Csv(s) => s.finish(),
            Sink::Jsonl(s) => s.finish(),
            Sink::Parquet(s) => s.finish(),
            Sink::Xlsx(s) => s.finish(),
        }
    }
}

/// Text sinks hand the writer chunks of about this size.
const TEXT_CHUNK: usize = 256 * 1024;

/// Writes `buf` to `out` once it is large enough (or always, when `force`), then clears it.
fn drain(buf: &mut Vec<u8>, out: &mut impl Write, force: bool, format: &'static str) -> Result<()> {
    if force || buf.len() >= TEXT_CHUNK {
        out.write_all(buf).map_err(|e| io_encode(format, e))?;
        buf.clear();
    }
    Ok(())
}

/// An I/O failure while encoding; the caller knows the path and rewraps it.
fn io_encode(format: &'static str, e: std::io::Error) -> Error {
    Error::Encode {
        format,
        message: e.to_string(),
        io: Some(e.kind()),
    }
}

/// Appends `t` as RFC 3339 UTC with microseconds: `2026-09-01T08:00:00.000000Z`.
/// Hand-rolled because chrono's formatter costs seconds per million rows.
pub fn push_timestamp(buf: &mut Vec<u8>, t: DateTime<Utc>) {
    let year = t.year();
    if !(0..=9999).contains(&year) {
        // Outside the four-digit range RFC 3339 has no fixed form; let chrono write it.
        buf.extend_from_slice(
            t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                .as_bytes(),
        );
        return;
    }
    let year = year.unsigned_abs();
    push_padded(buf, year, 4);
    buf.push(b'-');
    push_padded(buf, t.month(), 2);
    buf.push(b'-');
    push_padded(buf, t.day(), 2);
    buf.push(b'T');
    push_padded(buf, t.hour(), 2);
    buf.push(b':');
    push_padded(buf, t.minute(), 2);
    buf.push(b':');
    push_padded(buf, t.second(), 2);
    buf.push(b'.');
    // Leap-second nanos (>= 1e9) are folded into the last microsecond of the second.
    push_padded(buf, (t.nanosecond() / 1000).min(999_999), 6);
    buf.push(b'Z');
}

fn push_padded(buf: &mut Vec<u8>, value: u32, width: usize) {
    let mut digits = itoa::Buffer::new();
    let text = digits.format(value);
    buf.extend(std::iter::repeat_n(b'0', width.saturating_sub(text.len())));
    buf.extend_from_slice(text.as_bytes());
}

/// Appends a finite float in its shortest round-trip decimal form, never in exponent notation
/// (`86400`, `0.5`, `33.33`), which Excel, DuckDB and JSON parsers all read as a number.
pub fn push_float(buf: &mut Vec<u8>, value: f64) {
    // Writing into a Vec cannot fail.
    let _ = write!(buf, "{value}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn floats_are_plain_decimals_that_read_back_exactly() {
        for (value, text) in [
            (86400.0, "86400"),
            (0.5, "0.5"),
            (33.33, "33.33"),
            (1e-7, "0.0000001"),
            (-2.25, "-2.25"),
        ] {
            let mut buf = Vec::new();
            push_float(&mut buf, value);
            assert_eq!(String::from_utf8(buf).unwrap(), text);
            assert_eq!(text.parse::<f64>().unwrap(), value);
        }
    }

    #[test]
    fn timestamp_text_matches_chrono() {
        for t in [
            Utc.with_ymd_and_hms(2026, 9, 1, 8, 0, 0).unwrap(),
            Utc.timestamp_micros(1_790_000_123_456_789).unwrap(),
            Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
        ] {
            let mut buf = Vec::new();
            push_timestamp(&mut buf, t);
            let expected = t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            assert_eq!(String::from_utf8(buf).unwrap(), expected);
        }
    }

    #[test]
    fn format_from_extension() {
        use std::path::Path;
        assert_eq!(
            Format::from_path(Path::new("a/calls.PARQUET")),
            Some(Format::Parquet)
        );
        assert_eq!(Format::from_path(Path::new("calls.csv")), Some(Format::Csv));
        assert_eq!(
            Format::from_path(Path::new("calls.jsonl")),
            Some(Format::Jsonl)
        );
        assert_eq!(Format::from_path(Path::new("calls")), None);
    }
}
