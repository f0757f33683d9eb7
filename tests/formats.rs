//! Output formats: Parquet read back with the parquet crate, CSV round-tripped through the csv
//! crate, JSON Lines, stdout, and the atomic publish.

use std::fs::File;

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, TimestampMicrosecondType};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{LogicalType, Repetition, TimeUnit, TimestampType, Type as Physical};

use crate::support::{TestDb, out_dir, parse_csv, path_str, run_ok};

#[tokio::test]
async fn parquet_has_typed_columns_and_the_same_values_as_csv() {
    let db = TestDb::with_fixture("calls.sql").await;
    let dir = out_dir();
    let parquet = dir.path().join("calls.parquet");
    let csv = dir.path().join("calls.csv");
    run_ok(&[
        "calls",
        "--database-url",
        &db.url,
        "-q",
        "-o",
        path_str(&parquet),
    ]);
    run_ok(&[
        "calls",
        "--database-url",
        &db.url,
        "-q",
        "-o",
        path_str(&csv),
    ]);

    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(&parquet).unwrap()).unwrap();
    let schema = builder.metadata().file_metadata().schema_descr_ptr();
    let column = |name: &str| {
        schema
            .columns()
            .iter()
            .find(|c| c.name() == name || c.path().string() == format!("{name}.list.item"))
            .unwrap_or_else(|| panic!("no column {name}"))
            .clone()
    };
    let id = column("id");
    assert_eq!(id.physical_type(), Physical::BYTE_ARRAY);
    assert_eq!(id.logical_type_ref(), Some(&LogicalType::String));
    assert_eq!(
        id.self_type().get_basic_info().repetition(),
        Repetition::REQUIRED
    );
    let created = column("created_at");
    assert_eq!(created.physical_type(), Physical::INT64);
    assert_eq!(
        created.logical_type_ref(),
        Some(&LogicalType::Timestamp(TimestampType {
            is_adjusted_to_u_t_c: true,
            unit: TimeUnit::MICROS
        }))
    );
    assert_eq!(
        column("answered_at")
            .self_type()
            .get_basic_info()
            .repetition(),
        Repetition::OPTIONAL
    );
    assert_eq!(column("domain_id").physical_type(), Physical::INT64);
    assert_eq!(column("talk_sec").physical_type(), Physical::INT32);
    assert_eq!(column("has_children").physical_type(), Physical::BOOLEAN);
    assert_eq!(
        column("variables").logical_type_ref(),
        Some(&LogicalType::Json)
    );
    let files = schema
        .columns()
        .iter()
        .find(|c| c.path().string().starts_with("recording_file_ids."))
        .unwrap();
    assert_eq!(files.physical_type(), Physical::INT64);
    assert_eq!(files.max_rep_level(), 1, "recording_file_ids is a LIST");
    let root = schema.root_schema();
    let tags = root
        .get_fields()
        .iter()
        .find(|f| f.name() == "tags")
        .unwrap();
    assert_eq!(
        tags.get_basic_info().logical_type_ref(),
        Some(&LogicalType::List)
    );
    assert!(
        builder
            .metadata()
            .file_metadata()
            .created_by()
            .unwrap()
            .starts_with("webitel-export"),
        "created_by names the tool"
    );

    // Values: the same as the CSV for every leg.
    let (header, csv_rows) = parse_csv(&std::fs::read_to_string(&csv).unwrap());
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let batches: Vec<_> = builder.build().unwrap().map(|b| b.unwrap()).collect();
    let mut seen = 0;
    for batch in &batches {
        let ids = batch.column_by_name("id").unwrap().as_string::<i32>();
        let created = batch
            .column_by_name("created_at")
            .unwrap()
            .as_primitive::<TimestampMicrosecondType>();
        let duration = batch
            .column_by_name("duration_sec")
            .unwrap()
            .as_primitive::<Int64Type>();
        let files = batch
            .column_by_name("recording_file_ids")
            .unwrap()
            .as_list::<i32>();
        let variables = batch
            .column_by_name("variables")
            .unwrap()
            .as_string::<i32>();
        for i in 0..batch.num_rows() {
            let row = csv_rows
                .iter()
                .find(|r| r[col("id")] == ids.value(i))
                .expect("same legs");
            let ts = chrono::DateTime::from_timestamp_micros(created.value(i)).unwrap();
            assert_eq!(
                ts.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                row[col("created_at")]
            );
            let d = if duration.is_null(i) {
                String::new()
            } else {
                duration.value(i).to_string()
            };
            assert_eq!(d, row[col("duration_sec")]);
            let f = if files.is_null(i) {
                String::new()
            } else {
                let v = files.value(i);
                let v = v.as_primitive::<Int64Type>();
                format!(
                    "[{}]",
                    v.values()
                        .iter()
                        .map(|x| x.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                )
            };
            assert_eq!(f, row[col("recording_file_ids")]);
            if !variables.is_null(i) {
                let a: serde_json::Value = serde_json::from_str(variables.value(i)).unwrap();
                let b: serde_json::Value = serde_json::from_str(&row[col("variables")]).unwrap();
                assert_eq!(a, b);
            }
            seen += 1;
        }
    }
    assert_eq!(seen, 16);
}

#[tokio::test]
async fn csv_round_trips_quotes_newlines_cyrillic_and_null_versus_empty() {
    let db = TestDb::with_fixture("calls.sql").await;
    let text = run_ok(&[
        "calls",
        "--database-url",
        &db.url,
        "-q",
        "--id",
        "00000000-0000-0000-0000-000000000001",
    ]);
    let (header, rows) = parse_csv(&text);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row[col("from_name")], "Caller \"One\", Ltd");
    assert_eq!(row[col("agent_name")], "Олена Шевченко");
    let vars: serde_json::Value = serde_json::from_str(&row[col("variables")]).unwrap();
    assert_eq!(vars["note"], "line1\nline2, \"quoted\"");
    assert_eq!(vars["city"], "Київ");
    // to_name is '' in the database and parent_id is NULL: the raw CSV keeps them apart.
    let raw_record = text.split("\r\n").nth(1).unwrap();
    assert!(
        raw_record.starts_with("00000000-0000-0000-0000-000000000001,,"),
        "NULL parent_id is an empty field"
    );
    assert!(
        raw_record.contains(",queue,0800300,\"\",0800300,"),
        "empty to_name is \"\": {raw_record}"
    );
    assert!(text.starts_with("id,parent_id,bridged_id,"));
}

#[tokio::test]
async fn jsonl_rows_are_json_objects_with_typed_values() {
    let db = TestDb::with_fixture("calls.sql").await;
    let text = run_ok(&[
        "calls",
        "--database-url",
        &db.url,
        "-q",
        "-f",
        "jsonl",
        "--domain",
        "1",
        "--top-level",
    ]);
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 5);
    let first = rows
        .iter()
        .find(|r| r["id"] == "00000000-0000-0000-0000-000000000001")
        .unwrap();
    assert_eq!(first["duration_sec"], 322);
    assert_eq!(first["variables"]["city"], "Київ");
    assert_eq!(first["recording_file_ids"], serde_json::json!([1]));
    assert_eq!(first["parent_id"], serde_json::Value::Null);
    assert_eq!(first["created_at"], "2026-09-01T10:00:00.000000Z");
}

#[tokio::test]
async fn output_replaces_the_destination_atomically_and_leaves_no_temporary_file() {
    let db = TestDb::with_fixture("calls.sql").await;
    let dir = out_dir();
    let dest = dir.path().join("calls.csv");
    std::fs::write(&dest, "old").unwrap();
    run_ok(&[
        "calls",
        "--database-url",
        &db.url,
        "-q",
        "-o",
        path_str(&dest),
        "--domain",
        "3",
    ]);
    let text = std::fs::read_to_string(&dest).unwrap();
    assert_eq!(text.lines().count(), 2, "header and one leg: {text}");
    assert_eq!(crate::support::files_in(dir.path()), vec!["calls.csv"]);
}

#[tokio::test]
async fn an_empty_result_is_a_valid_file_with_header_and_schema() {
    let db = TestDb::with_fixture("calls.sql").await;
    let dir = out_dir();
    let csv = dir.path().join("none.csv");
    let parquet = dir.path().join("none.parquet");
    let jsonl = dir.path().join("none.jsonl");
    for path in [&csv, &parquet, &jsonl] {
        run_ok(&[
            "calls",
            "--database-url",
            &db.url,
            "-q",
            "--domain",
            "2",
            "--missed",
            "-o",
            path_str(path),
        ]);
    }
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("id,parent_id,") && text.ends_with("\r\n"));
    assert_eq!(text.lines().count(), 1, "header only");
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&parquet).unwrap()).unwrap();
    assert_eq!(reader.metadata().file_metadata().num_rows(), 0);
    assert_eq!(
        reader.schema().fields().len(),
        webitel_export::registry::DATASETS[0].columns.len(),
        "every column is in the schema"
    );
    assert_eq!(std::fs::read_to_string(&jsonl).unwrap(), "");
}

/// A bulk export read over several connections (block slices of one shared snapshot, in the
/// per-row shape) gives exactly the rows and values of the one-connection export, in CSV and
/// in Parquet.
#[tokio::test]
async fn parallel_block_slices_give_the_same_rows_as_one_connection() {
    let db = TestDb::seeded(20_000, 11).await;
    let dir = out_dir();
    let export = |parallel: &str, file: &str| {
        let path = dir.path().join(file);
        let out = crate::support::run(&[
            "calls",
            "--database-url",
            &db.url,
            "--shape",
            "per-row",
            "--parallel",
            parallel,
            "-o",
            path_str(&path),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (path, String::from_utf8_lossy(&out.stderr).to_string())
    };
    let (one_csv, _) = export("1", "one.csv");
    let (many_csv, summary) = export("4", "many.csv");
    assert!(
        summary.contains("over 2 connections")
            || summary.contains("over 3 connections")
            || summary.contains("over 4 connections"),
        "{summary}"
    );
    let sorted_lines = |p: &std::path::Path| {
        let mut lines: Vec<String> = std::fs::read_to_string(p)
            .unwrap()
            .split("\r\n")
            .map(str::to_string)
            .collect();
        lines.sort();
        lines
    };
    let one = sorted_lines(&one_csv);
    assert!(one.len() > 20_000);
    assert!(one == sorted_lines(&many_csv), "parallel CSV differs");

    let (one_pq, _) = export("1", "one.parquet");
    let (many_pq, _) = export("4", "many.parquet");
    let rows = |p: &std::path::Path| {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let reader = SerializedFileReader::new(std::fs::File::open(p).unwrap()).unwrap();
        let mut rows: Vec<String> = reader
            .get_row_iter(None)
            .unwrap()
            .map(|r| r.unwrap().to_string())
            .collect();
        rows.sort();
        rows
    };
    assert!(rows(&one_pq) == rows(&many_pq), "parallel Parquet differs");
}
