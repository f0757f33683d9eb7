//! The column schema of a dataset, declared once.
//!
//! Every dataset row type is declared with [`record!`]: the struct that `query_file_as!` fills,
//! its column names (the field names, in order), each column's export kind, nullability and
//! documentation. CSV headers, the Parquet schema, JSON Lines keys and `docs/datasets.md` are all
//! derived from that one declaration, so they cannot drift apart.

use chrono::{DateTime, Utc};

/// How a column is exported. The same kind drives every output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// UTF-8 text.
    Text,
    /// A call or object id in canonical text form (uuid, or varchar on old schemas).
    Uuid,
    /// 32-bit signed integer.
    Int32,
    /// 64-bit signed integer.
    Int64,
    /// 64-bit floating point (durations in seconds with fractions, percentages, averages).
    Float64,
    /// true / false.
    Bool,
    /// An instant, exported in UTC with microsecond precision.
    Timestamp,
    /// A JSON document (jsonb in the source), kept as JSON text.
    Json,
    /// A list of 32-bit integers.
    Int32List,
    /// A list of 64-bit integers.
    Int64List,
    /// A list of text values.
    TextList,
}

impl Kind {
    /// The type name shown in `docs/datasets.md` and `--help`.
    pub fn doc_name(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Uuid => "uuid (text)",
            Kind::Int32 => "int32",
            Kind::Int64 => "int64",
            Kind::Float64 => "float64",
            Kind::Bool => "bool",
            Kind::Timestamp => "timestamp (UTC)",
            Kind::Json => "json",
            Kind::Int32List => "list<int32>",
            Kind::Int64List => "list<int64>",
            Kind::TextList => "list<text>",
        }
    }
}

/// One exported column.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub nullable: bool,
    /// Meaning, source column and formula (Markdown).
    pub doc: &'static str,
    /// The personal data the column holds, which `--pseudonymize` replaces or drops.
    pub personal: Option<crate::pseudonym::Personal>,
    /// The Webitel release whose tables first fill the column, where that is later than the
    /// dataset's table and not a column of the same name (`"v26.02"`; see
    /// `registry::column_release`).
    pub since: Option<&'static str>,
}

impl Column {
    /// The column's documentation on one line: what the files carry as its description.
    pub fn description(&self) -> String {
        self.doc.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// One cell of a row, borrowed from the row it belongs to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell<'a> {
    Null,
    Text(&'a str),
    Int32(i32),
    Int64(i64),
    Float64(f64),
    Bool(bool),
    Timestamp(DateTime<Utc>),
    Int32List(&'a [i32]),
    Int64List(&'a [i64]),
    TextList(&'a [String]),
}

impl Cell<'_> {
    /// The bytes of the value itself (string bytes, 8 per timestamp…): what a Parquet row
    /// group buffers, before encoding, per cell.
    pub fn raw_len(&self) -> usize {
        match self {
            Cell::Null => 0,
            Cell::Text(s) => s.len(),
            Cell::Int32(_) => 4,
            Cell::Int64(_) | Cell::Float64(_) | Cell::Timestamp(_) => 8,
            Cell::Bool(_) => 1,
            Cell::Int32List(l) => 4 * l.len(),
            Cell::Int64List(l) => 8 * l.len(),
            Cell::TextList(l) => l.iter().map(String::len).sum(),
        }
    }

    /// Whether this cell may stand in a column of `kind`.
    pub fn fits(&self, kind: Kind) -> bool {
        matches!(
            (self, kind),
            (Cell::Null, _)
                | (Cell::Text(_), Kind::Text | Kind::Uuid | Kind::Json)
                | (Cell::Int32(_), Kind::Int32)
                | (Cell::Int64(_), Kind::Int64)
                | (Cell::Float64(_), Kind::Float64)
                | (Cell::Bool(_), Kind::Bool)
                | (Cell::Timestamp(_), Kind::Timestamp)
                | (Cell::Int32List(_), Kind::Int32List)
                | (Cell::Int64List(_), Kind::Int64List)
                | (Cell::TextList(_), Kind::TextList)
        )
    }
}

/// A Rust field type that can be exported as a cell.
pub trait AsCell {
    /// `Option<T>` fields are nullable columns; everything else is required.
    const NULLABLE: bool = false;
    fn as_cell(&self) -> Cell<'_>;
}

impl AsCell for String {
    fn as_cell(&self) -> Cell<'_> {
        Cell::Text(self)
    }
}
impl AsCell for i32 {
    fn as_cell(&self) -> Cell<'_> {
        Cell::Int32(*self)
    }
}
impl AsCell for i64 {
    fn as_cell(&self) -> Cell<'_> {
        Cell::Int64(*self)
    }
}
impl AsCell for f64 {
    fn as_cell(&self) -> Cell<'_> {
        // NaN and infinities have no CSV/JSON form that every reader accepts: export NULL.
        if self.is_finite() {
            Cell::Float64(*self)
        } else {
            Cell::Null
        }
    }
}
impl AsCell for bool {
    fn as_cell(&self) -> Cell<'_> {
        Cell::Bool(*self)
    }
}
impl AsCell for DateTime<Utc> {
    fn as_cell(&self) -> Cell<'_> {
        Cell::Timestamp(*self)
    }
}
impl AsCell for Vec<i32> {
    fn as_cell(&self) -> Cell<'_> {
        Cell::Int32List(self)
    }
}
impl AsCell for Vec<i64> {
    fn as_cell(&self) -> Cell<'_> {
        Cell::Int64List(self)
    }
}
impl AsCell for Vec<String> {
    fn as_cell(&self) -> Cell<'_> {
        Cell::TextList(self)
    }
}
impl<T: AsCell> AsCell for Option<T> {
    const NULLABLE: bool = true;
    fn as_cell(&self) -> Cell<'_> {
        self.as_ref().map_or(Cell::Null, AsCell::as_cell)
    }
}

/// The column name of a field: its identifier, without the `r#` of a raw identifier (so a
/// field `r#type` is the column `type`).
pub const fn column_name(field: &'static str) -> &'static str {
    match field.as_bytes() {
        [b'r', b'#', rest @ ..] => match std::str::from_utf8(rest) {
            Ok(name) => name,
            Err(_) => field,
        },
        _ => field,
    }
}

/// A typed row of a dataset.
pub trait Record: Send + 'static {
    /// The dataset's columns, in output order.
    const COLUMNS: &'static [Column];
    /// Calls `f` once per column, in [`Record::COLUMNS`] order.
    fn cells<'a, F: FnMut(Cell<'a>)>(&'a self, f: F);

    /// The raw bytes of the row's values ([`Cell::raw_len`] summed).
    fn raw_len(&self) -> usize {
        let mut total = 0;
        self.cells(|cell| total += cell.raw_len());
        total
    }
}

/// Declares a dataset row: the struct `query_file_as!` fills and its [`Record`] impl.
///
/// Each field is `/// doc` lines, then `name: RustType => Kind,` or, for a column holding
/// personal data, `name: RustType => Kind as Numbers,` (or `Names`, `Text`: see
/// [`crate::pseudonym::Personal`]); a derived column that a later Webitel release fills adds
/// `since "v26.02"` at the end. The doc lines document the column in `docs/datasets.md`;
/// the field order is the output column order.
#[macro_export]
macro_rules! record {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[doc = $doc:literal])+ $field:ident : $ty:ty => $kind:ident $(as $personal:ident)? $(since $since:literal)?, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            $( $(#[doc = $doc])+ pub $field: $ty, )+
        }

        impl $crate::record::Record for $name {
            const COLUMNS: &'static [$crate::record::Column] = &[
                $( $crate::record::Column {
                    name: $crate::record::column_name(stringify!($field)),
                    kind: $crate::record::Kind::$kind,
                    nullable: <$ty as $crate::record::AsCell>::NULLABLE,
                    doc: concat!($($doc, "\n"),+),
                    personal: $crate::record!(@personal $($personal)?),
                    since: $crate::record!(@since $($since)?),
                }, )+
            ];

            fn cells<'a, F: FnMut($crate::record::Cell<'a>)>(&'a self, mut f: F) {
                $( f($crate::record::AsCell::as_cell(&self.$field)); )+
            }
        }
    };
    (@personal) => { None };
    (@personal $class:ident) => { Some($crate::pseudonym::Personal::$class) };
    (@since) => { None };
    (@since $release:literal) => { Some($release) };
}
