//! JSON Lines: one object per row, keys in column order, NULL as `null`.
//!
//! Timestamps are RFC 3339 UTC strings; jsonb columns are embedded as JSON (not as strings);
//! lists are arrays.

use std::io::Write;

use crate::error::Result;
use crate::record::{Cell, Kind, Record};
use crate::view::SharedView;

use super::{drain, push_timestamp};

pub struct JsonlSink<W: Write> {
    out: W,
    buf: Vec<u8>,
    /// `"name":` for every column, encoded once.
    keys: Vec<Vec<u8>>,
    kinds: Vec<Kind>,
    view: SharedView,
}

impl<W: Write> JsonlSink<W> {
    pub fn new(out: W, view: SharedView) -> Self {
        let keys = view
            .columns()
            .iter()
            .map(|c| {
                let mut key = Vec::new();
                push_json_string(&mut key, c.name);
                key.push(b':');
                key
            })
            .collect();
        JsonlSink {
            out,
            buf: Vec::with_capacity(super::TEXT_CHUNK * 2),
            keys,
            kinds: view.columns().iter().map(|c| c.kind).collect(),
            view,
        }
    }

    pub fn write_rows<R: Record>(&mut self, rows: &[R]) -> Result<()> {
        for row in rows {
            self.buf.push(b'{');
            let mut i = 0;
            let view = self.view.clone();
            view.cells(row, |cell| {
                if i > 0 {
                    self.buf.push(b',');
                }
                self.buf.extend_from_slice(&self.keys[i]);
                push_json_cell(&mut self.buf, cell, self.kinds[i]);
                i += 1;
            });
            self.buf.extend_from_slice(b"}\n");
            drain(&mut self.buf, &mut self.out, false, "jsonl")?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<W> {
        drain(&mut self.buf, &mut self.out, true, "jsonl")?;
        self.out.flush().map_err(|e| super::io_encode("jsonl", e))?;
        Ok(self.out)
    }
}

fn push_json_cell(buf: &mut Vec<u8>, cell: Cell<'_>, kind: Kind) {
    let mut digits = itoa::Buffer::new();
    match cell {
        Cell::Null => buf.extend_from_slice(b"null"),
        // jsonb text from the server is valid JSON: embed it as is.
        Cell::Text(s) if kind == Kind::Json => buf.extend_from_slice(s.as_bytes()),
        Cell::Text(s) => push_json_string(buf, s),
        Cell::Int32(v) => buf.extend_from_slice(digits.format(v).as_bytes()),
        Cell::Int64(v) => buf.extend_from_slice(digits.format(v).as_bytes()),
        Cell::Float64(v) => super::push_float(buf, v),
        Cell::Bool(v) => buf.extend_from_slice(if v { b"true" } else { b"false" }),
        Cell::Timestamp(t) => {
            buf.push(b'"');
            push_timestamp(buf, t);
            buf.push(b'"');
        }
        Cell::Int32List(_) | Cell::Int64List(_) | Cell::TextList(_) => push_json_list(buf, cell),
    }
}

/// Appends a list cell as a JSON array (`[1,2]`, `["a","b"]`); other cells append nothing.
pub fn push_json_list(buf: &mut Vec<u8>, cell: Cell<'_>) {
    fn list<T>(buf: &mut Vec<u8>, items: &[T], mut push: impl FnMut(&mut Vec<u8>, &T)) {
        buf.push(b'[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            push(buf, item);
        }
        buf.push(b']');
    }
    let mut digits = itoa::Buffer::new();
    match cell {
        Cell::Int32List(v) => list(buf, v, |b, x| {
            b.extend_from_slice(digits.format(*x).as_bytes())
        }),
        Cell::Int64List(v) => list(buf, v, |b, x| {
            b.extend_from_slice(digits.format(*x).as_bytes())
        }),
        Cell::TextList(v) => list(buf, v, |b, s| push_json_string(b, s)),
        _ => {}
    }
}

fn push_json_string(buf: &mut Vec<u8>, s: &str) {
    // serde_json's escaping is the reference; writing into a Vec cannot fail.
    serde_json::to_writer(&mut *buf, s).expect("writing JSON into a Vec cannot fail");
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::record! {
        /// Test row.
        pub struct Sample {
            /// id
            id: String => Uuid,
            /// payload
            payload: Option<String> => Json,
            /// ids
            ids: Option<Vec<i64>> => Int64List,
            /// flag
            flag: bool => Bool,
        }
    }

    #[test]
    fn rows_parse_back_as_json() {
        let mut sink = JsonlSink::new(Vec::new(), crate::view::identity_of::<Sample>());
        sink.write_rows(&[
            Sample {
                id: "a\"b".into(),
                payload: Some(r#"{"k": "Привіт"}"#.into()),
                ids: Some(vec![1, 2]),
                flag: true,
            },
            Sample {
                id: "c".into(),
                payload: None,
                ids: None,
                flag: false,
            },
        ])
        .unwrap();
        let text = String::from_utf8(sink.finish().unwrap()).unwrap();
        let rows: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows[0]["id"], "a\"b");
        assert_eq!(rows[0]["payload"]["k"], "Привіт");
        assert_eq!(rows[0]["ids"], serde_json::json!([1, 2]));
        assert_eq!(rows[1]["payload"], serde_json::Value::Null);
        assert_eq!(rows[1]["flag"], false);
    }
}
