//! From the declared columns to Arrow: the schema (with the JSON and UUID extension types) and
//! one builder per column that the rows are appended to.

use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_array::builder::{
    BooleanBuilder, FixedSizeBinaryBuilder, Float64Builder, Int32Builder, Int64Builder,
    ListBuilder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_schema::extension::{Json, Uuid};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::record::{Cell, Column, Kind};

use super::super::Profile;

/// How uuid columns (call ids) are stored.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum UuidsAs {
    /// STRING: every engine reads it; Spark 4 rejects the UUID type.
    Text,
    /// FIXED_LEN_BYTE_ARRAY(16) with the UUID logical type (DuckDB shows UUID).
    Logical,
}

impl UuidsAs {
    pub(super) fn for_profile(profile: Profile) -> Self {
        match profile {
            Profile::Duckdb => UuidsAs::Logical,
            Profile::Plain | Profile::Spark | Profile::Excel => UuidsAs::Text,
        }
    }
}

/// The key of a column's description in its Arrow field metadata.
pub(super) const DESCRIPTION: &str = "description";

/// The Arrow schema of a dataset; the Parquet schema follows from it:
/// Text/Uuid → STRING (Uuid → UUID with the duckdb profile), Json → STRING + JSON logical
/// type, Timestamp → TIMESTAMP(MICROS, UTC), lists → LIST. Columns are OPTIONAL or REQUIRED
/// as the row type says.
pub(super) fn arrow_schema_of(columns: &[Column], uuids: UuidsAs) -> SchemaRef {
    let fields: Vec<Field> = columns
        .iter()
        .map(|c| {
            let field = match c.kind {
                Kind::Json => Field::new(c.name, DataType::Utf8, c.nullable)
                    .with_extension_type(Json::default()),
                Kind::Uuid if uuids == UuidsAs::Logical => {
                    Field::new(c.name, DataType::FixedSizeBinary(16), c.nullable)
                        .with_extension_type(Uuid)
                }
                kind => Field::new(c.name, data_type(kind), c.nullable),
            };
            // Arrow readers (pyarrow, Polars) show it as the field's metadata, beside the
            // extension type's keys.
            let mut metadata = field.metadata().clone();
            metadata.insert(DESCRIPTION.to_string(), c.description());
            field.with_metadata(metadata)
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

pub(super) enum ColumnBuilder {
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
    pub(super) fn new(kind: Kind, uuids: UuidsAs) -> Self {
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
    pub(super) fn append(&mut self, cell: Cell<'_>) {
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

    pub(super) fn append_null(&mut self) {
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

    pub(super) fn finish(&mut self) -> ArrayRef {
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
