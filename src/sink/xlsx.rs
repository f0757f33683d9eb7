//! Excel workbooks through `rust_xlsxwriter` in its constant-memory mode: each worksheet's rows
//! go to a temporary file as they are written, and the workbook (a zip of XML parts) is
//! streamed to the output at the end, so memory does not grow with the row count.
//!
//! What a supervisor opening the file gets: a bold header row that stays in view (frozen) with
//! an autofilter, column widths by kind, timestamps as Excel date-times in the export's time
//! zone (Excel has no time zones), counts and durations as numbers, ids as text (Excel would
//! show a 64-bit id as 1.23E+17 and lose its last digits), lists and JSON as their JSON text.
//! Past Excel's 1,048,576 rows a sheet is continued on the next one (`Sheet2`…), each with its
//! own header.

use std::io::Write;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_xlsxwriter::{ColNum, ExcelDateTime, Format as CellFormat, RowNum, Workbook, Worksheet};

use crate::error::{Error, Result};
use crate::record::{Cell, Column, Kind, Record};
use crate::view::SharedView;

use super::SinkOptions;

/// Rows of a worksheet, the header included: Excel's limit.
pub const MAX_SHEET_ROWS: u32 = 1_048_576;
/// The most characters Excel keeps in a cell.
const MAX_CELL_CHARS: usize = 32_767;
/// Integers up to this magnitude are exact in Excel's doubles.
const EXACT_INTEGER: u64 = 1 << 53;

pub struct XlsxSink<W: Write + Send> {
    out: W,
    workbook: Workbook,
    view: SharedView,
    tz: Tz,
    /// How many worksheets so far, and the next row of the last one.
    sheets: usize,
    row: RowNum,
    sheet_rows: u32,
    header: CellFormat,
    datetime: CellFormat,
    scratch: String,
}

impl<W: Write + Send> XlsxSink<W> {
    pub fn new(out: W, options: &SinkOptions, view: SharedView) -> Result<Self> {
        let mut workbook = Workbook::new();
        if let Some(dir) = &options.spill_dir {
            workbook.set_tempdir(dir).map_err(xlsx_error)?;
        }
        let mut sink = XlsxSink {
            out,
            workbook,
            view,
            tz: options.tz,
            sheets: 0,
            row: 0,
            sheet_rows: options.sheet_rows.clamp(2, MAX_SHEET_ROWS),
            header: CellFormat::new().set_bold(),
            datetime: CellFormat::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            scratch: String::new(),
        };
        sink.start_sheet()?;
        Ok(sink)
    }

    pub fn write_rows<R: Record>(&mut self, rows: &[R]) -> Result<()> {
        let view = self.view.clone();
        for row in rows {
            if self.row >= self.sheet_rows {
                self.finish_sheet()?;
                self.start_sheet()?;
            }
            let at = self.row;
            let sheet = self
                .workbook
                .worksheet_from_index(self.sheets - 1)
                .map_err(xlsx_error)?;
            let mut col: ColNum = 0;
            let mut failed = None;
            view.cells(row, |cell| {
                let column = &view.columns()[usize::from(col)];
                let written = write_cell(
                    sheet,
                    (at, col),
                    column,
                    cell,
                    self.tz,
                    &self.datetime,
                    &mut self.scratch,
                );
                if let Err(e) = written {
                    failed.get_or_insert(e);
                }
                col += 1;
            });
            if let Some(e) = failed {
                return Err(xlsx_error(e));
            }
            self.row += 1;
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<W> {
        self.finish_sheet()?;
        self.workbook
            .save_to_writer(&mut self.out)
            .map_err(xlsx_error)?;
        self.out.flush().map_err(|e| super::io_encode("xlsx", e))?;
        Ok(self.out)
    }

    /// A new worksheet with its header row, frozen, and its column widths.
    fn start_sheet(&mut self) -> Result<()> {
        let columns = self.view.columns();
        let sheet = self
            .workbook
            .add_worksheet_with_constant_memory()
            .map_err(xlsx_error)?;
        for (i, column) in columns.iter().enumerate() {
            let col = col_num(i)?;
            sheet
                .set_column_width(col, width(column))
                .map_err(xlsx_error)?;
            sheet
                .write_string_with_format(0, col, column.name, &self.header)
                .map_err(xlsx_error)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
        self.sheets += 1;
        self.row = 1;
        Ok(())
    }

    /// The autofilter over the sheet's header and rows.
    fn finish_sheet(&mut self) -> Result<()> {
        let last_col = col_num(self.view.columns().len().saturating_sub(1))?;
        let last_row = self.row.saturating_sub(1);
        let sheet = self
            .workbook
            .worksheet_from_index(self.sheets - 1)
            .map_err(xlsx_error)?;
        sheet
            .autofilter(0, 0, last_row, last_col)
            .map_err(xlsx_error)?;
        Ok(())
    }
}

fn col_num(index: usize) -> Result<ColNum> {
    ColNum::try_from(index).map_err(|_| Error::Other(format!("column {index} past Excel's")))
}

/// A column's width in characters, by what it holds.
fn width(column: &Column) -> f64 {
    let by_kind: f64 = match column.kind {
        Kind::Uuid => 38.0,
        Kind::Timestamp => 20.0,
        Kind::Json | Kind::TextList | Kind::Int32List | Kind::Int64List => 30.0,
        Kind::Text => 20.0,
        Kind::Int32 | Kind::Int64 | Kind::Float64 | Kind::Bool => 12.0,
    };
    // Wide enough for the header and its filter button.
    let name = column.name.chars().count() as f64 + 3.0;
    by_kind.max(name).min(60.0)
}

/// Whether an integer column holds identifiers, written as text.
fn is_id(column: &Column) -> bool {
    column.name == "id" || column.name.ends_with("_id")
}

fn write_cell(
    sheet: &mut Worksheet,
    (row, col): (RowNum, ColNum),
    column: &Column,
    cell: Cell<'_>,
    tz: Tz,
    datetime: &CellFormat,
    scratch: &mut String,
) -> std::result::Result<(), rust_xlsxwriter::XlsxError> {
    match cell {
        Cell::Null => {}
        Cell::Text(s) => {
            sheet.write_string(row, col, cell_text(s))?;
        }
        Cell::Int32(v) if is_id(column) => {
            sheet.write_string(row, col, v.to_string())?;
        }
        Cell::Int64(v) if is_id(column) || v.unsigned_abs() > EXACT_INTEGER => {
            sheet.write_string(row, col, v.to_string())?;
        }
        Cell::Int32(v) => {
            sheet.write_number(row, col, v)?;
        }
        Cell::Int64(v) => {
            // Exact: |v| ≤ 2^53 was checked above.
            #[allow(clippy::cast_precision_loss)]
            sheet.write_number(row, col, v as f64)?;
        }
        Cell::Float64(v) => {
            sheet.write_number(row, col, v)?;
        }
        Cell::Bool(v) => {
            sheet.write_boolean(row, col, v)?;
        }
        Cell::Timestamp(t) => {
            let serial = ExcelDateTime::from_serial_datetime(excel_serial(t, tz))?;
            sheet.write_datetime_with_format(row, col, &serial, datetime)?;
        }
        Cell::Int32List(items) => {
            list_text(scratch, items.iter());
            sheet.write_string(row, col, scratch.as_str())?;
        }
        Cell::Int64List(items) => {
            list_text(scratch, items.iter());
            sheet.write_string(row, col, scratch.as_str())?;
        }
        Cell::TextList(items) => {
            scratch.clear();
            scratch.push_str(&serde_json::to_string(items).unwrap_or_default());
            sheet.write_string(row, col, cell_text(scratch))?;
        }
    }
    Ok(())
}

/// Text as Excel keeps it: at most 32,767 characters (a longer value is cut there).
fn cell_text(s: &str) -> &str {
    if s.len() <= MAX_CELL_CHARS {
        return s;
    }
    match s.char_indices().nth(MAX_CELL_CHARS) {
        Some((end, _)) => &s[..end],
        None => s,
    }
}

fn list_text<T: std::fmt::Display>(out: &mut String, items: impl Iterator<Item = T>) {
    use std::fmt::Write as _;
    out.clear();
    out.push('[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{item}");
    }
    out.push(']');
}

/// Excel's serial date-time of `t` shown in `tz`: days since 1899-12-30, the fraction the time
/// of day.
pub fn excel_serial(t: DateTime<Utc>, tz: Tz) -> f64 {
    let local = t.with_timezone(&tz).naive_local();
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("a valid date");
    let micros = (local - epoch).num_microseconds().unwrap_or(0);
    #[allow(clippy::cast_precision_loss)]
    let micros = micros as f64;
    micros / 86_400_000_000.0
}

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> Error {
    let io = match &e {
        rust_xlsxwriter::XlsxError::IoError(inner) => Some(inner.kind()),
        _ => None,
    };
    Error::Encode {
        format: "xlsx",
        message: e.to_string(),
        io,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn serial_dates_are_local_days_since_1899_12_30() {
        let t = Utc.with_ymd_and_hms(2026, 9, 1, 6, 0, 0).unwrap();
        // 2026-09-01 is serial 46266; 06:00 UTC is 09:00 in Kyiv (summer time): 0.375 of a day.
        assert_eq!(excel_serial(t, chrono_tz::UTC), 46266.25);
        assert_eq!(excel_serial(t, chrono_tz::Europe::Kyiv), 46266.375);
    }

    crate::record! {
        /// Test row.
        pub struct Sample {
            /// An id.
            call_id: i64 => Int64,
            /// A count.
            legs: Option<i64> => Int64,
            /// A name.
            name: Option<String> => Text,
            /// When.
            at: DateTime<Utc> => Timestamp,
        }
    }

    /// Five rows into sheets of a header and two rows: three sheets, read back by openpyxl
    /// (CI sets WEBITEL_TEST_LAKE_PYTHON to a Python that has it) and compared with the CSV.
    #[test]
    fn rows_past_a_sheets_limit_continue_on_the_next_sheet() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<Sample> = (0..5)
            .map(|i| Sample {
                call_id: 9_007_199_254_740_993 + i,
                legs: (i % 2 == 0).then_some(i),
                name: Some(format!("Олена {i}")),
                at: Utc.with_ymd_and_hms(2026, 9, 1, 6, 0, 0).unwrap()
                    + chrono::Duration::minutes(i),
            })
            .collect();
        let options = SinkOptions {
            format: super::super::Format::Xlsx,
            tz: chrono_tz::Europe::Kyiv,
            sheet_rows: 3,
            spill_dir: Some(dir.path().to_path_buf()),
            ..SinkOptions::default()
        };
        let view = crate::view::identity_of::<Sample>();
        let mut sink = XlsxSink::new(Vec::new(), &options, view.clone()).unwrap();
        sink.write_rows(&rows).unwrap();
        let workbook = sink.finish().unwrap();
        assert_eq!(&workbook[..2], b"PK", "a zip container");
        // The zip's file names are stored uncompressed.
        let names = String::from_utf8_lossy(&workbook);
        assert!(names.contains("xl/worksheets/sheet3.xml"), "a third sheet");
        assert!(
            !names.contains("xl/worksheets/sheet4.xml"),
            "no fourth sheet"
        );

        let Ok(python) = std::env::var("WEBITEL_TEST_LAKE_PYTHON") else {
            eprintln!("skipped the openpyxl check (set WEBITEL_TEST_LAKE_PYTHON)");
            return;
        };
        let xlsx = dir.path().join("rows.xlsx");
        std::fs::write(&xlsx, &workbook).unwrap();
        let mut csv =
            super::super::csv::CsvSink::new(Vec::new(), &SinkOptions::default(), view).unwrap();
        csv.write_rows(&rows).unwrap();
        let csv_path = dir.path().join("rows.csv");
        std::fs::write(&csv_path, csv.finish().unwrap()).unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/datalake/xlsx_check.py");
        let out = std::process::Command::new(python)
            .args([
                script,
                xlsx.to_str().unwrap(),
                csv_path.to_str().unwrap(),
                "Europe/Kyiv",
                "call_id",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "ok 5 rows in 3 sheets"
        );
    }

    #[test]
    fn long_text_is_cut_at_excels_limit() {
        let long = "я".repeat(40_000);
        assert_eq!(cell_text(&long).chars().count(), MAX_CELL_CHARS);
        assert_eq!(cell_text("short"), "short");
    }
}
