//! RFC 4180 CSV: header row, `"` quoting with doubled quotes, CRLF line ends, UTF-8.
//!
//! NULL is an empty unquoted field and an empty string is `""` (PostgreSQL's own CSV
//! convention), which the `csv` crate's `Writer` cannot express; so records are assembled
//! here and `csv_core` decides quoting and escapes each field.
//!
//! With `excel`, the file starts with a UTF-8 byte-order mark (so Excel does not read it as
//! the local code page) and a text cell Excel would evaluate as a formula gets a leading `'`
//! (OWASP's CSV-injection advice); a number such as `+380501112233` is left alone.

use std::io::Write;

use crate::error::Result;
use crate::record::{Cell, Record};
use crate::view::SharedView;

use super::{Profile, SinkOptions, drain, push_timestamp};

pub struct CsvSink<W: Write> {
    out: W,
    buf: Vec<u8>,
    quoting: csv_core::Writer,
    scratch: Vec<u8>,
    delimiter: u8,
    excel: bool,
    /// Excel profile: numbers Excel would mangle (phones, leading zeros) written as text.
    numbers_as_text: bool,
    view: SharedView,
}

impl<W: Write> CsvSink<W> {
    pub fn new(out: W, options: &SinkOptions, view: SharedView) -> Result<Self> {
        let for_excel = options.profile == Profile::Excel;
        let excel = options.excel || for_excel;
        // Excel in the locales Webitel serves (uk, ru, de…) splits CSV on `;`.
        let delimiter = if for_excel { b';' } else { b',' };
        let mut sink = CsvSink {
            out,
            buf: Vec::with_capacity(super::TEXT_CHUNK * 2),
            quoting: csv_core::WriterBuilder::new().delimiter(delimiter).build(),
            scratch: Vec::new(),
            delimiter,
            excel,
            numbers_as_text: for_excel,
            view: view.clone(),
        };
        if excel {
            sink.buf.extend_from_slice("\u{feff}".as_bytes());
        }
        for (i, column) in view.columns().iter().enumerate() {
            sink.separator(i);
            sink.push_text(column.name);
        }
        sink.buf.extend_from_slice(b"\r\n");
        Ok(sink)
    }

    pub fn write_rows<R: Record>(&mut self, rows: &[R]) -> Result<()> {
        for row in rows {
            let mut i = 0;
            let view = self.view.clone();
            view.cells(row, |cell| {
                self.separator(i);
                self.push_cell(cell);
                i += 1;
            });
            self.buf.extend_from_slice(b"\r\n");
            drain(&mut self.buf, &mut self.out, false, "csv")?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<W> {
        drain(&mut self.buf, &mut self.out, true, "csv")?;
        self.out.flush().map_err(|e| super::io_encode("csv", e))?;
        Ok(self.out)
    }

    fn separator(&mut self, index: usize) {
        if index > 0 {
            self.buf.push(self.delimiter);
        }
    }

    fn push_cell(&mut self, cell: Cell<'_>) {
        let mut digits = itoa::Buffer::new();
        match cell {
            Cell::Null => {}
            Cell::Text(s) if self.numbers_as_text && excel_mangles(s) => {
                // `="…"` is a constant Excel shows as text, exactly as written.
                let mut quoted = std::mem::take(&mut self.scratch);
                quoted.clear();
                quoted.extend_from_slice(b"=\"");
                quoted.extend_from_slice(s.as_bytes());
                quoted.push(b'"');
                self.push_bytes(&quoted);
                self.scratch = quoted;
            }
            Cell::Text(s) if self.excel && is_formula(s) => {
                let mut quoted = std::mem::take(&mut self.scratch);
                quoted.clear();
                quoted.push(b'\'');
                quoted.extend_from_slice(s.as_bytes());
                self.push_bytes(&quoted);
                self.scratch = quoted;
            }
            Cell::Text(s) => self.push_text(s),
            Cell::Int32(v) => self.buf.extend_from_slice(digits.format(v).as_bytes()),
            Cell::Int64(v) => self.buf.extend_from_slice(digits.format(v).as_bytes()),
            Cell::Float64(v) => super::push_float(&mut self.buf, v),
            Cell::Bool(v) => self
                .buf
                .extend_from_slice(if v { b"true" } else { b"false" }),
            Cell::Timestamp(t) => push_timestamp(&mut self.buf, t),
            // Lists are JSON arrays: unambiguous, and every BI tool parses them.
            Cell::Int32List(_) | Cell::Int64List(_) | Cell::TextList(_) => {
                let mut json = std::mem::take(&mut self.scratch);
                json.clear();
                super::jsonl::push_json_list(&mut json, cell);
                self.push_bytes(&json);
                self.scratch = json;
            }
        }
    }

    fn push_text(&mut self, s: &str) {
        if s.is_empty() {
            self.buf.extend_from_slice(b"\"\"");
        } else {
            self.push_bytes(s.as_bytes());
        }
    }

    fn push_bytes(&mut self, bytes: &[u8]) {
        if !self.quoting.should_quote(bytes) {
            self.buf.extend_from_slice(bytes);
            return;
        }
        self.buf.push(b'"');
        // Worst case every byte is a quote and is doubled.
        let start = self.buf.len();
        self.buf.resize(start + bytes.len() * 2, 0);
        let (_, _, written) = csv_core::quote(bytes, &mut self.buf[start..], b'"', b'\\', true);
        self.buf.truncate(start + written);
        self.buf.push(b'"');
    }
}

/// Whether Excel would evaluate `s` as a formula: it starts with `=`, `+`, `-`, `@`, a tab
/// or a carriage return, and is not simply a number (`+380501112233`, `-5`, `+1.5`).
pub fn is_formula(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    match first {
        '=' | '@' | '\t' | '\r' => true,
        '+' | '-' => !is_plain_number(&s[1..]),
        _ => false,
    }
}

/// Whether Excel would turn this text into a different number: a phone number with `+`
/// (+380501112233 → 3.8E+11), digits with a leading zero (0800300 → 800300), or more digits
/// than a double holds exactly.
pub fn excel_mangles(s: &str) -> bool {
    let digits = s.strip_prefix('+').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    s.starts_with('+') || (digits.len() > 1 && digits.starts_with('0')) || digits.len() > 15
}

/// Digits with at most one decimal point, nothing else (no `e`, no `,`, no spaces).
fn is_plain_number(s: &str) -> bool {
    let mut digits = 0;
    let mut points = 0;
    for c in s.chars() {
        match c {
            '0'..='9' => digits += 1,
            '.' => points += 1,
            _ => return false,
        }
    }
    digits > 0 && points <= 1
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::record! {
        /// Test row.
        pub struct Sample {
            /// a
            a: Option<String> => Text,
            /// b
            b: Option<i64> => Int64,
            /// c
            c: Option<Vec<String>> => TextList,
        }
    }

    fn render(rows: &[Sample]) -> String {
        render_with(rows, false)
    }

    fn render_with(rows: &[Sample], excel: bool) -> String {
        let options = SinkOptions {
            excel,
            ..SinkOptions::default()
        };
        let mut sink =
            CsvSink::new(Vec::new(), &options, crate::view::identity_of::<Sample>()).unwrap();
        sink.write_rows(rows).unwrap();
        String::from_utf8(sink.finish().unwrap()).unwrap()
    }

    #[test]
    fn formula_cells_are_recognized_but_signed_numbers_are_not() {
        for formula in [
            "=1+1",
            "=cmd|' /C calc'!A0",
            "@SUM(A1)",
            "+A1",
            "-2+3",
            "\tx",
            "\r=1",
            "+",
            "-",
        ] {
            assert!(is_formula(formula), "{formula:?}");
        }
        for plain in [
            "+380501112233",
            "-5",
            "+1.5",
            "",
            "abc",
            "1=1",
            "a@b.c",
            " =1",
        ] {
            assert!(!is_formula(plain), "{plain:?}");
        }
    }

    #[test]
    fn excel_profile_uses_semicolons_and_keeps_numbers_as_text() {
        let options = SinkOptions {
            profile: Profile::Excel,
            ..SinkOptions::default()
        };
        let mut sink =
            CsvSink::new(Vec::new(), &options, crate::view::identity_of::<Sample>()).unwrap();
        sink.write_rows(&[Sample {
            a: Some("+380501112233".into()),
            b: Some(7),
            c: Some(vec!["a;b".into()]),
        }])
        .unwrap();
        let text = String::from_utf8(sink.finish().unwrap()).unwrap();
        assert_eq!(
            text,
            "\u{feff}a;b;c\r\n\"=\"\"+380501112233\"\"\";7;\"[\"\"a;b\"\"]\"\r\n"
        );
        for mangled in ["+380501112233", "0800300", "1234567890123456"] {
            assert!(excel_mangles(mangled), "{mangled}");
        }
        for kept in ["42", "-5", "0", "+", "12a", "1.5", "380501112233"] {
            assert!(!excel_mangles(kept), "{kept}");
        }
    }

    #[test]
    fn excel_csv_has_a_bom_and_neutralized_formulas() {
        let rows = [Sample {
            a: Some("=HYPERLINK(\"http://x\")".into()),
            b: Some(-5),
            c: Some(vec!["+380501112233".into()]),
        }];
        let text = render_with(&rows, true);
        assert!(text.starts_with('\u{feff}'), "{text:?}");
        let body = text.trim_start_matches('\u{feff}');
        assert_eq!(
            body.lines().nth(1).unwrap(),
            "\"'=HYPERLINK(\"\"http://x\"\")\",-5,\"[\"\"+380501112233\"\"]\""
        );
        assert!(!render(&rows).contains("'="), "only with --excel");
    }

    #[test]
    fn null_empty_and_quoting() {
        let text = render(&[
            Sample {
                a: None,
                b: None,
                c: None,
            },
            Sample {
                a: Some(String::new()),
                b: Some(-5),
                c: Some(vec!["x\"y".into()]),
            },
            Sample {
                a: Some("a,b\n\"c\"".into()),
                b: Some(7),
                c: Some(vec![]),
            },
        ]);
        assert_eq!(
            text,
            "a,b,c\r\n,,\r\n\"\",-5,\"[\"\"x\\\"\"y\"\"]\"\r\n\"a,b\n\"\"c\"\"\",7,[]\r\n"
        );
    }

    proptest::proptest! {
        /// Whatever the text (quotes, separators, line breaks, odd Unicode, NUL), the CSV
        /// parses back to the same cells; with --excel, formula cells gain exactly one `'`.
        #[test]
        fn csv_parses_back_to_the_same_cells(
            rows in proptest::collection::vec(
                (
                    proptest::option::of(proptest::prelude::any::<String>()),
                    proptest::option::of(proptest::prelude::any::<i64>()),
                    proptest::option::of(proptest::collection::vec(
                        proptest::prelude::any::<String>(), 0..4)),
                ),
                0..16,
            ),
            excel in proptest::prelude::any::<bool>(),
        ) {
            let rows: Vec<Sample> = rows.into_iter().map(|(a, b, c)| Sample { a, b, c }).collect();
            let text = render_with(&rows, excel);
            let body = text.strip_prefix('\u{feff}').unwrap_or(&text);
            proptest::prop_assert_eq!(excel, body.len() < text.len());
            let mut reader = csv::ReaderBuilder::new().from_reader(body.as_bytes());
            let parsed: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
            proptest::prop_assert_eq!(parsed.len(), rows.len());
            for (row, record) in rows.iter().zip(&parsed) {
                let a = match &row.a {
                    None => String::new(),
                    Some(s) if excel && is_formula(s) => format!("'{s}"),
                    Some(s) => s.clone(),
                };
                proptest::prop_assert_eq!(&record[0], a.as_str());
                let b = row.b.map(|v| v.to_string()).unwrap_or_default();
                proptest::prop_assert_eq!(&record[1], b.as_str());
                match &row.c {
                    None => proptest::prop_assert_eq!(&record[2], ""),
                    Some(list) => {
                        let back: Vec<String> = serde_json::from_str(&record[2]).unwrap();
                        proptest::prop_assert_eq!(&back, list);
                    }
                }
            }
        }
    }
}
